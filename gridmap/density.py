"""Camera density per grid, community, street or zone, against density targets.

:func:`camera_density` counts built camera **points** (点位: one pole or
junction corner holding several cameras) per unit, divides by the unit's area
(computed in a metric CRS) and compares with a target in points per km²:
by default 70 in urban and 8 in rural grids, Jiaxing Nanhu's published
figures. Planned cameras never count as built; ``with_planned_pct`` says what
the completion will be once they are.

Rules
-----
* **Cameras** are camera channels: rows whose valid GB/T 28181 id has a type
  other than 131/132 (an NVR, a server...) are left out of every count and
  listed in :attr:`DensityResult.not_cameras`.
* **Points** are distinct ``point_id`` values. Cameras without a point id
  (missing, or the ``pt-…`` ids :func:`gridmap.ingest.read_layer` makes up)
  are grouped: cameras within ``point_radius_m`` (5 m) of each other, chained,
  form one point.
* A camera counts in the grid it falls in (:func:`gridmap.assign.assign_points`;
  on a shared boundary, the grid listed first). A point counts once, in the
  grid of its first camera (in row order) that falls in a grid.
* A planned point is a point id with only planned cameras; it adds to
  ``with_planned_pct`` in the unit its first camera falls in.
* Targets: ``targets`` per zone (``urban``/``rural``; a grid without a zone
  takes the ``urban`` target and a note says so), overridden per grid by a
  ``target_col`` column. The target of a community, street or zone is the
  area-weighted mean of its grids' targets, so the shortfall adds up.
* ``shortfall`` is how many more points (or cameras) bring a unit to its
  target: ``ceil(target × area − count)``, at least 0.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from ._errors import SchemaError
from ._validate import require_columns, require_crs, require_nonempty
from .assign import assign_points, pick_grid_id
from .crs import metric_crs
from .gb28181 import parse_ids

__all__ = [
    "DEFAULT_TARGETS",
    "UNITS",
    "DensityResult",
    "camera_density",
    "point_groups",
]

#: Points per km²: Jiaxing Nanhu's published urban and rural targets.
DEFAULT_TARGETS: dict[str, float] = {"urban": 70.0, "rural": 8.0}
#: Units a density table can be computed for, and the grid column naming each unit.
UNITS: dict[str, str] = {
    "grid": "grid_id",
    "community": "community_code",
    "street": "street_code",
    "zone": "zone",
}
_TABLE = ["unit", "zone", "area_km2", "cameras", "points", "online", "planned_points",
          "planned_cameras", "density_per_km2", "target", "completion_pct", "shortfall", "status",
          "with_planned_pct"]


@dataclass(frozen=True, eq=False)
class DensityResult:
    """Output of :func:`camera_density`.

    Attributes
    ----------
    table
        One row per unit (GeoDataFrame in the grids' CRS): ``unit`` (the unit's
        id), ``zone``, ``area_km2``, ``cameras`` (built), ``points`` (built),
        ``online``, ``planned_points``, ``planned_cameras``, ``density_per_km2``, ``target``,
        ``completion_pct``, ``shortfall``, ``status`` (``met``/``short``),
        ``with_planned_pct``, geometry.
    summary
        Rows per zone and ``all``: the same columns summed (density and
        completion recomputed from the sums), plus ``units`` and ``units_met``.
    outside
        Cameras outside every grid (never dropped silently).
    not_cameras
        Rows left out because their GB/T 28181 type is not a camera channel.
    grid_id
        The grid id column used (``None``: the grids' index).
    by
        ``grid``, ``community``, ``street`` or ``zone``.
    count
        ``points`` or ``cameras``: what the density counts.
    notes
        What was chosen or assumed, in words (which id column, targets...).
    """

    table: gpd.GeoDataFrame
    summary: pd.DataFrame
    outside: gpd.GeoDataFrame
    not_cameras: gpd.GeoDataFrame
    grid_id: str | None
    by: str
    count: str
    notes: list[str] = field(default_factory=list)


def point_groups(
    cameras: gpd.GeoDataFrame, *, radius_m: float = 5.0, point_id: str = "point_id"
) -> pd.Series:
    """The point (点位) of every camera.

    Cameras with a ``point_id`` keep it. The others (no column, missing value,
    or an ingest-made ``pt-…`` id) are grouped: cameras within ``radius_m`` of
    each other, chained, form one point named ``near-<first camera's row>``.

    Returns
    -------
    pandas.Series
        Point id per camera, aligned with ``cameras``.
    """
    require_crs(cameras, layer="cameras")
    if point_id in cameras.columns:
        ids = cameras[point_id].astype("string")
        todo = (ids.isna() | ids.str.startswith("pt-", na=False)).to_numpy()
    else:
        ids = pd.Series(pd.NA, index=cameras.index, dtype="string")
        todo = np.ones(len(cameras), dtype=bool)
    out = ids.astype(object).to_numpy().copy()
    rows = np.flatnonzero(todo & ~(cameras.geometry.isna() | cameras.geometry.is_empty)
                          .to_numpy())
    if len(rows):
        metric = cameras.iloc[rows].to_crs(metric_crs(cameras.iloc[rows]))
        xy = np.column_stack([metric.geometry.x, metric.geometry.y])
        pairs = cKDTree(xy).query_pairs(radius_m, output_type="ndarray")
        graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])),
                           shape=(len(rows), len(rows)))
        _, comp = connected_components(graph, directed=False)
        first = pd.Series(np.arange(len(rows))).groupby(comp).transform("min").to_numpy()
        out[rows] = [f"near-{rows[f] + 1}" for f in first]
    missing = todo.copy()
    missing[rows] = False
    out[missing] = pd.NA  # no geometry: no point
    return pd.Series(out, index=cameras.index, name="point", dtype="string")


def _grid_targets(grids: pd.DataFrame, targets: Mapping[str, float],
                  target_col: str | None, notes: list[str]) -> np.ndarray:
    """Target (points per km²) of every grid."""
    zone = (grids["zone"].astype("string").str.strip().str.lower()
            if "zone" in grids.columns else pd.Series(pd.NA, index=grids.index, dtype="string"))
    urban = float(targets.get("urban", DEFAULT_TARGETS["urban"]))
    per_zone = zone.map(lambda z: float(targets[z]) if isinstance(z, str) and z in targets
                        else np.nan).to_numpy(dtype=float)
    unknown = np.isnan(per_zone)
    if unknown.any():
        zones = sorted(set(zone[unknown].dropna().unique()))
        what = f"zone {zones}" if zones else "no zone"
        notes.append(f"{int(unknown.sum())} grid(s) with {what} take the urban target "
                     f"{urban:g}/km²; set targets for them or a target column")
        per_zone[unknown] = urban
    if target_col is None:
        return per_zone
    if target_col not in grids.columns:
        raise SchemaError(
            f"grids have no target column {target_col!r}; columns are {list(grids.columns)}."
        )
    col = pd.to_numeric(grids[target_col], errors="coerce").to_numpy(dtype=float)
    gaps = np.isnan(col)
    if gaps.any():
        notes.append(f"{int(gaps.sum())} grid(s) have no value in {target_col!r} and take "
                     "their zone's target")
    return np.where(gaps, per_zone, col)


def _finish(frame: pd.DataFrame, count: str) -> pd.DataFrame:
    """Density, completion, shortfall and status from the summed columns."""
    n = frame["points" if count == "points" else "cameras"].to_numpy(dtype=float)
    planned = frame["planned_points" if count == "points" else "planned_cameras"]
    area = frame["area_km2"].to_numpy(dtype=float)
    target = frame["target"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        density = np.where(area > 0, n / area, np.nan)
        ok = (target > 0) & (area > 0)
        completion = np.where(ok, 100.0 * density / target, np.nan)
        with_planned = np.where(ok, 100.0 * (n + planned.to_numpy(dtype=float)) / area / target,
                                np.nan)
    need = np.ceil(np.round(target * area - n, 9))
    frame["density_per_km2"] = np.round(density, 2)
    frame["completion_pct"] = np.round(completion, 2)
    frame["shortfall"] = np.where(np.isfinite(need), np.maximum(need, 0), 0).astype(np.int64)
    frame["status"] = np.where(np.nan_to_num(completion, nan=0.0) >= 100.0 - 1e-9, "met", "short")
    frame["with_planned_pct"] = np.round(with_planned, 2)
    return frame


def camera_density(
    cameras: gpd.GeoDataFrame,
    grids: gpd.GeoDataFrame,
    *,
    grid_id: str | None = None,
    by: str = "grid",
    targets: Mapping[str, float] | None = None,
    target_col: str | None = None,
    count: str = "points",
    point_radius_m: float = 5.0,
) -> DensityResult:
    """Camera density per unit against targets.

    Parameters
    ----------
    cameras
        Camera layer (Points, any CRS) with ``camera_id``; ``point_id``,
        ``status`` and ``gb28181_id`` are used when present.
    grids
        Grid polygons (any CRS); ``zone`` picks the target, ``community_code``
        and ``street_code`` group grids for ``by="community"``/``"street"``.
    grid_id
        Grid id column; default ``grid_id``, else the first column with unique
        values (the choice is in :attr:`DensityResult.notes`).
    by
        ``grid``, ``community``, ``street`` or ``zone``.
    targets
        Points (or cameras) per km² per zone; default :data:`DEFAULT_TARGETS`.
        Zones not given keep their default.
    target_col
        Grid column with a per-grid target, overriding the zone's.
    count
        ``points`` (default) or ``cameras``.
    point_radius_m
        Cameras without point ids within this distance form one point.

    Returns
    -------
    DensityResult
    """
    if by not in UNITS:
        raise ValueError(f"by must be one of {list(UNITS)}, got {by!r}.")
    if count not in ("points", "cameras"):
        raise ValueError(f"count must be 'points' or 'cameras', got {count!r}.")
    require_crs(grids, layer="grids")
    require_crs(cameras, layer="cameras")
    require_nonempty(grids, layer="grids")
    require_columns(cameras, ["camera_id"], layer="cameras")
    notes: list[str] = []
    tg = {**DEFAULT_TARGETS, **{k.strip().lower(): float(v) for k, v in (targets or {}).items()}}
    gid = pick_grid_id(grids, grid_id)
    if grid_id is None:
        notes.append(f"grid id column: {gid!r}" if gid else "grid id: the grids' index "
                     "(no column has unique values)")
    g = grids.reset_index(drop=True)
    ids = g[gid].to_numpy() if gid else grids.index.to_numpy()
    unit_col = UNITS[by]
    if by != "grid":
        require_columns(g, [unit_col], layer="grids")

    # camera channels only
    cams = cameras.copy()
    cams["_row"] = np.arange(len(cams))
    not_cam = np.zeros(len(cams), dtype=bool)
    if "gb28181_id" in cams.columns:
        parsed = parse_ids(cams["gb28181_id"])
        not_cam = (parsed["valid"].to_numpy()
                   & (parsed["device_class"].to_numpy(dtype=object) != "camera"))
        if not_cam.any():
            notes.append(f"{int(not_cam.sum())} row(s) are not camera channels by their "
                         "GB/T 28181 type (recorders, servers...) and are not counted")
    status = (cams["status"].astype("string").str.strip().str.lower().fillna("unknown")
              if "status" in cams.columns else pd.Series("unknown", index=cams.index))
    planned = (status == "planned").to_numpy()
    online = (status == "online").to_numpy()
    point = point_groups(cams, radius_m=point_radius_m).to_numpy(dtype=object)

    # which grid each camera is in
    a = assign_points(cams, g, grid_id=gid)
    where = a.index
    keep = ~not_cam
    n_grid = len(g)
    built = keep & ~planned
    cams_per = np.bincount(where[built & (where >= 0)], minlength=n_grid)
    online_per = np.bincount(where[built & online & (where >= 0)], minlength=n_grid)
    planned_cams_per = np.bincount(where[keep & planned & (where >= 0)], minlength=n_grid)

    # points: each counted once, in the grid of its first camera inside a grid
    frame = pd.DataFrame({"point": point, "grid": where, "planned": planned})[
        keep & (where >= 0) & pd.notna(point)]
    built_points = set(frame.loc[~frame["planned"], "point"])
    first = frame.groupby("point", sort=False).first()
    first_b = frame[~frame["planned"]].groupby("point", sort=False)["grid"].first()
    points_per = np.bincount(first_b.to_numpy(dtype=np.int64), minlength=n_grid)
    new_planned = first[~first.index.isin(built_points)]["grid"].to_numpy(dtype=np.int64)
    planned_points_per = np.bincount(new_planned, minlength=n_grid)

    # areas and targets per grid
    metric = g.to_crs(metric_crs(g))
    area = metric.geometry.area.to_numpy() / 1e6
    target = _grid_targets(g, tg, target_col, notes)
    zone = (g["zone"].astype("string").str.strip().str.lower().fillna("unknown")
            if "zone" in g.columns else pd.Series("unknown", index=g.index))
    per_grid = pd.DataFrame({
        "unit": ids if by == "grid" else g[unit_col].to_numpy(),
        "zone": zone.to_numpy(dtype=object),
        "area_km2": area, "cameras": cams_per, "points": points_per, "online": online_per,
        "planned_points": planned_points_per, "planned_cameras": planned_cams_per,
        "target_x_area": target * area,
    })
    table = _aggregate(per_grid, g, by=by)
    table = _finish(table, count)
    geom = _unit_geometry(g, per_grid["unit"], by=by, order=table["unit"])
    table = gpd.GeoDataFrame(table[_TABLE].reset_index(drop=True), geometry=geom,
                             crs=grids.crs)
    summary = _summary(table, count)

    outside_rows = np.flatnonzero(keep & (where < 0))
    outside = cameras.iloc[outside_rows].copy()
    not_cameras = cameras.iloc[np.flatnonzero(not_cam)].copy()
    if len(outside):
        notes.append(f"{len(outside)} camera(s) are outside every grid and are not counted")
    return DensityResult(table=table, summary=summary, outside=outside,
                         not_cameras=not_cameras, grid_id=gid, by=by, count=count, notes=notes)


def _aggregate(per_grid: pd.DataFrame, grids: pd.DataFrame, *, by: str) -> pd.DataFrame:
    """Sum grid rows into units; zone = the zone covering most of the unit's area."""
    if by == "grid":
        out = per_grid.copy()
    else:
        sums = per_grid.groupby("unit", sort=True, dropna=False).agg(
            area_km2=("area_km2", "sum"), cameras=("cameras", "sum"), points=("points", "sum"),
            online=("online", "sum"), planned_points=("planned_points", "sum"),
            planned_cameras=("planned_cameras", "sum"), target_x_area=("target_x_area", "sum"),
        )
        zone_area = per_grid.groupby(["unit", "zone"], dropna=False)["area_km2"].sum()
        major = zone_area.sort_values(ascending=False).reset_index().drop_duplicates("unit")
        sums["zone"] = major.set_index("unit")["zone"].reindex(sums.index)
        out = sums.reset_index()
    with np.errstate(divide="ignore", invalid="ignore"):
        out["target"] = np.where(out["area_km2"] > 0, out["target_x_area"] / out["area_km2"],
                                 np.nan)
    return out


def _unit_geometry(grids: gpd.GeoDataFrame, unit: pd.Series, *, by: str,
                   order: pd.Series) -> gpd.GeoSeries:
    """Geometry of every unit, in ``order``."""
    if by == "grid":
        return grids.geometry.reset_index(drop=True)
    frame = gpd.GeoDataFrame({"unit": unit.to_numpy()}, geometry=grids.geometry.values,
                             crs=grids.crs)
    merged = frame.dissolve(by="unit", dropna=False)
    return merged.geometry.reindex(order.to_numpy()).reset_index(drop=True)


def _summary(table: pd.DataFrame, count: str) -> pd.DataFrame:
    """Per zone and overall: sums of the unit rows, density recomputed."""
    cols = ["area_km2", "cameras", "points", "online", "planned_points", "planned_cameras",
            "shortfall"]
    t = pd.DataFrame(table.drop(columns="geometry"))
    t["target_x_area"] = t["target"] * t["area_km2"]
    rows = []
    groups = [(z, t[t["zone"] == z]) for z in sorted(t["zone"].dropna().unique())]
    for name, part in [*groups, ("all", t)]:
        row = {c: part[c].sum() for c in cols}
        row["zone"] = name
        row["units"] = len(part)
        row["units_met"] = int((part["status"] == "met").sum())
        row["target"] = (part["target_x_area"].sum() / row["area_km2"]
                         if row["area_km2"] > 0 else math.nan)
        rows.append(row)
    out = pd.DataFrame(rows)
    shortfall = out["shortfall"].copy()
    out = _finish(out, count)
    out["shortfall"] = shortfall  # the units' shortfalls add up; keep their sum
    return out[["zone", "units", "units_met", "area_km2", "cameras", "points", "online",
                "planned_points", "planned_cameras", "density_per_km2", "target", "completion_pct", "shortfall",
                "status", "with_planned_pct"]]
