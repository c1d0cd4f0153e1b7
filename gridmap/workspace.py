"""A GeoPackage workspace holding the units, other layers and named, dated plan versions.

Layout of the file (an ordinary GeoPackage any GIS opens):

``units``
    The units (polygons) with a ``unit_id`` column and their attributes.
any other layer
    Saved with :meth:`Workspace.write_layer` (grids, communities, roads...).
``gridmap_versions``
    One row per version: ``name``, ``created_at`` (ISO date-time), ``note``,
    ``n_grids``, ``n_units``, ``locked`` (comma-separated grid ids).
``gridmap_assignments``
    The plans, long form: ``version``, ``unit_id``, ``grid_id``.

Versions are saved, listed, loaded, deleted and diffed by name.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from ._errors import DataError, ReadError, SchemaError
from ._validate import require_crs, require_nonempty
from .metrics import dissolve_plan, units_moved

__all__ = ["ASSIGNMENTS", "UNITS", "VERSIONS", "Workspace"]

UNITS = "units"
VERSIONS = "gridmap_versions"
ASSIGNMENTS = "gridmap_assignments"
_VERSION_COLUMNS = ["name", "created_at", "note", "n_grids", "n_units", "locked"]


class Workspace:
    """A GeoPackage file with units, layers and plan versions.

    Parameters
    ----------
    path
        The ``.gpkg`` file; it must exist (see :meth:`create`).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise ReadError(self.path, "no such workspace", "create it with Workspace.create(path, units)")
        if UNITS not in self.layers():
            raise ReadError(self.path, f"not a gridmap workspace: no {UNITS!r} layer",
                            "create it with Workspace.create(path, units)")

    @classmethod
    def create(
        cls,
        path: str | Path,
        units: gpd.GeoDataFrame,
        *,
        unit_id: str | None = None,
        overwrite: bool = False,
    ) -> Workspace:
        """Create a workspace from units.

        Parameters
        ----------
        path
            ``.gpkg`` file to write.
        units
            Polygon units.
        unit_id
            Column with unique unit ids (default: the index, as text).
        overwrite
            Replace an existing file.
        """
        path = Path(path)
        if path.suffix.lower() != ".gpkg":
            raise SchemaError(f"{path}: a workspace is a GeoPackage; use a .gpkg file name.")
        if path.exists() and not overwrite:
            raise DataError(f"{path} exists; pass overwrite=True to replace it.")
        require_nonempty(units, layer="units")
        require_crs(units, layer="units")
        ids = units[unit_id] if unit_id else pd.Series(units.index, index=units.index)
        ids = ids.astype(str)
        if ids.duplicated().any():
            raise SchemaError(f"unit ids are not unique, e.g. {list(ids[ids.duplicated()][:5])}.")
        out = units.drop(columns=[unit_id] if unit_id else []).copy()
        out.insert(0, "unit_id", ids.to_numpy())
        if path.exists():
            path.unlink()
        path.parent.mkdir(parents=True, exist_ok=True)
        pyogrio.write_dataframe(out.reset_index(drop=True), path, layer=UNITS, driver="GPKG")
        return cls(path)

    # layers ---------------------------------------------------------------
    def layers(self) -> list[str]:
        """Names of the layers and tables in the file."""
        return [str(name) for name, _ in pyogrio.list_layers(self.path)]

    def units(self) -> gpd.GeoDataFrame:
        """The units, indexed by ``unit_id``."""
        return gpd.read_file(self.path, layer=UNITS).set_index("unit_id")

    def write_layer(self, name: str, layer: gpd.GeoDataFrame | pd.DataFrame) -> None:
        """Write (or replace) a layer; the workspace's own tables are reserved."""
        if name in (UNITS, VERSIONS, ASSIGNMENTS):
            raise SchemaError(f"layer name {name!r} is reserved by the workspace; pick another.")
        pyogrio.write_dataframe(layer, self.path, layer=name, driver="GPKG")

    def read_layer(self, name: str) -> gpd.GeoDataFrame | pd.DataFrame:
        """Read a layer by name."""
        if name not in self.layers():
            raise ReadError(self.path, f"no layer {name!r}", f"layers are {self.layers()}")
        return pyogrio.read_dataframe(self.path, layer=name)

    # versions -------------------------------------------------------------
    def versions(self) -> pd.DataFrame:
        """The saved versions, oldest first."""
        if VERSIONS not in self.layers():
            return pd.DataFrame(columns=_VERSION_COLUMNS)
        v = pyogrio.read_dataframe(self.path, layer=VERSIONS)
        return v[_VERSION_COLUMNS].sort_values("created_at", kind="stable").reset_index(drop=True)

    def _assignments(self) -> pd.DataFrame:
        if ASSIGNMENTS not in self.layers():
            return pd.DataFrame(columns=["version", "unit_id", "grid_id"])
        return pyogrio.read_dataframe(self.path, layer=ASSIGNMENTS)

    def save_version(
        self,
        name: str,
        assignment: pd.Series,
        *,
        note: str = "",
        locked: Iterable[str] = (),
        overwrite: bool = False,
        created_at: str | None = None,
    ) -> dict[str, object]:
        """Save a plan under a name.

        Parameters
        ----------
        name
            Version name (unique).
        assignment
            Grid id of each unit, indexed by unit id (as in :meth:`units`).
        note
            Free text.
        locked
            Locked grid ids to remember with the version.
        overwrite
            Replace a version of the same name.
        created_at
            ISO date-time (default: now, to the second).

        Returns
        -------
        dict
            The version's row.
        """
        name = str(name).strip()
        if not name:
            raise SchemaError("a version needs a name.")
        versions = self.versions()
        if name in set(versions["name"]) and not overwrite:
            raise DataError(f"version {name!r} exists; pick another name or pass overwrite=True.")
        units = self.units()
        plan = assignment.copy()
        plan.index = plan.index.astype(str)
        missing = units.index.difference(plan.index)
        if len(missing):
            raise SchemaError(
                f"the plan lacks {len(missing)} unit(s) of the workspace, e.g. {list(missing[:5])}."
            )
        extra = plan.index.difference(units.index)
        if len(extra):
            raise SchemaError(f"the plan has unit(s) not in the workspace, e.g. {list(extra[:5])}.")
        plan = plan.reindex(units.index)
        if plan.isna().any():
            raise DataError("some units have no grid; assign every unit before saving.")
        row = {
            "name": name,
            "created_at": created_at or _dt.datetime.now().isoformat(timespec="seconds"),
            "note": str(note),
            "n_grids": int(plan.nunique()),
            "n_units": len(plan),
            "locked": ",".join(sorted(map(str, locked))),
        }
        versions = pd.concat(
            [versions[versions["name"] != name], pd.DataFrame([row])], ignore_index=True
        )
        table = self._assignments()
        table = pd.concat(
            [
                table[table["version"] != name],
                pd.DataFrame(
                    {"version": name, "unit_id": plan.index.to_numpy(),
                     "grid_id": plan.astype(str).to_numpy()}
                ),
            ],
            ignore_index=True,
        )
        pyogrio.write_dataframe(versions.astype({"n_grids": "int64", "n_units": "int64"}),
                                self.path, layer=VERSIONS, driver="GPKG")
        pyogrio.write_dataframe(table, self.path, layer=ASSIGNMENTS, driver="GPKG")
        return row

    def load_version(self, name: str) -> pd.Series:
        """The plan saved as ``name``: grid id per unit id."""
        table = self._assignments()
        rows = table[table["version"] == name]
        if rows.empty:
            raise DataError(
                f"no version {name!r} in {self.path.name}; versions are {list(self.versions()['name'])}."
            )
        return pd.Series(rows["grid_id"].to_numpy(), index=pd.Index(rows["unit_id"].to_numpy(),
                         name="unit_id"), name="grid_id")

    def locked(self, name: str) -> list[str]:
        """Grid ids locked when ``name`` was saved."""
        v = self.versions()
        row = v[v["name"] == name]
        if row.empty:
            raise DataError(f"no version {name!r}.")
        text = row["locked"].iloc[0]
        if text is None or pd.isna(text):
            return []
        return [t for t in str(text).split(",") if t]

    def delete_version(self, name: str) -> None:
        """Remove a version."""
        versions = self.versions()
        if name not in set(versions["name"]):
            raise DataError(f"no version {name!r} to delete.")
        table = self._assignments()
        pyogrio.write_dataframe(versions[versions["name"] != name].astype(
            {"n_grids": "int64", "n_units": "int64"}), self.path, layer=VERSIONS, driver="GPKG")
        pyogrio.write_dataframe(table[table["version"] != name], self.path,
                                layer=ASSIGNMENTS, driver="GPKG")

    def grids(self, name: str) -> gpd.GeoDataFrame:
        """The grids of a version, dissolved from the units."""
        units = self.units()
        return dissolve_plan(units, self.load_version(name).reindex(units.index))

    def diff_versions(self, a: str, b: str) -> tuple[pd.DataFrame, dict[str, object]]:
        """Units whose grid differs between versions ``a`` and ``b``.

        Grid ids are compared as they are (a grid that keeps its id is the
        same grid). Returns the moved units (``unit_id``, ``grid_a``,
        ``grid_b``) and a summary (``units_moved``, ``grids_a``, ``grids_b``,
        ``grids_only_in_a``, ``grids_only_in_b``, ``grids_changed``).
        """
        pa, pb = self.load_version(a), self.load_version(b)
        pb = pb.reindex(pa.index)
        moved = units_moved(pa, pb, match="labels")
        table = pd.DataFrame(
            {"unit_id": pa.index[moved], "grid_a": pa.to_numpy()[moved], "grid_b": pb.to_numpy()[moved]}
        )
        ga, gb = set(pa.unique()), set(pb.unique())
        changed = sorted(set(table["grid_a"]) | set(table["grid_b"]))
        summary = {
            "units_moved": int(np.sum(moved)),
            "grids_a": len(ga),
            "grids_b": len(gb),
            "grids_only_in_a": sorted(ga - gb),
            "grids_only_in_b": sorted(gb - ga),
            "grids_changed": changed,
        }
        return table, summary
