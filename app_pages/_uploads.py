"""The "my uploads" data source: one private folder per browser session.

Lifecycle of the folder
-----------------------
Streamlit has no session-end hook, so the folder hangs off an object:

* Each browser session gets one :class:`UploadSession`, kept in
  ``st.session_state`` (which Streamlit keeps apart per browser connection).
  It owns a folder made with :func:`tempfile.mkdtemp` under
  :func:`upload_root` — the system temp folder, never the repository or the
  installed package.
* A :func:`weakref.finalize` on that object removes the folder when Streamlit
  drops the session's state (the tab is closed, or stays disconnected past
  Streamlit's reconnection grace period) and, failing that, when the server
  process exits.
* A killed server skips both, so each new session first removes the session
  folders nobody has touched for :func:`stale_hours` hours (every rerun of a
  live session touches its folder).

Inside the folder, ``layers/`` holds the clean layers the pages read
(GeoParquet in EPSG:4326, named in :data:`LAYER_FILES`, plus
``population.tif``) and ``raw/<kind>/`` the uploaded file as it came.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import uuid
import weakref
from pathlib import Path

import geopandas as gpd
import pandas as pd
import streamlit as st

from gridmap.crs import WGS84
from gridmap.uploads import UploadLimits

__all__ = [
    "LAYER_FILES",
    "SESSION_KEY",
    "UPLOAD_KINDS",
    "UploadSession",
    "outlines",
    "purge_stale",
    "read_layer_file",
    "session_uploads",
    "stale_hours",
    "upload_limits",
    "upload_root",
]

#: What a person can upload, in the order the Data page shows them.
UPLOAD_KINDS = ("grids", "cameras", "incidents", "places", "population", "roads", "buildings")
#: File of each layer in ``layers/`` (streets and communities are dissolved from the grids).
LAYER_FILES = {
    "grids": "grids.parquet",
    "streets": "streets.parquet",
    "communities": "communities.parquet",
    "cameras": "cameras.parquet",
    "incidents": "incidents.parquet",
    "places": "places.parquet",
    "roads": "roads.parquet",
    "buildings": "buildings.parquet",
    "population": "population.tif",
}
SESSION_KEY = "ws.uploads"
_PREFIX = "session-"


def upload_root() -> Path:
    """Parent of the session folders: ``GRIDMAP_UPLOAD_DIR`` or ``<temp>/gridmap-uploads``."""
    env = os.environ.get("GRIDMAP_UPLOAD_DIR", "").strip()
    return Path(env).expanduser() if env else Path(tempfile.gettempdir()) / "gridmap-uploads"


def stale_hours() -> float:
    """Hours after which an untouched session folder is removed (``GRIDMAP_UPLOAD_TTL_HOURS``)."""
    return float(os.environ.get("GRIDMAP_UPLOAD_TTL_HOURS", "") or 24.0)


def upload_limits() -> UploadLimits:
    """Upload limits; the size limit follows ``server.maxUploadSize`` (MB) of the config."""
    mb = int(st.get_option("server.maxUploadSize"))
    return UploadLimits(max_bytes=mb * 1024 * 1024)


def purge_stale(root: Path, *, max_age_hours: float, now: float | None = None) -> list[Path]:
    """Remove session folders under ``root`` last touched more than ``max_age_hours`` ago.

    Returns the folders removed. Only folders this module made (``session-*``)
    are considered.
    """
    if not root.is_dir():
        return []
    limit = (time.time() if now is None else now) - max_age_hours * 3600.0
    removed = []
    for path in root.glob(f"{_PREFIX}*"):
        try:
            old = path.is_dir() and path.stat().st_mtime < limit
        except FileNotFoundError:  # removed by another session meanwhile
            continue
        if old:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


class UploadSession:
    """One browser session's upload folder; dropping the object removes the folder.

    Parameters
    ----------
    root
        Parent folder (default :func:`upload_root`). Stale session folders in
        it are purged first.
    """

    def __init__(self, root: Path | None = None) -> None:
        root = upload_root() if root is None else Path(root)
        root.mkdir(parents=True, exist_ok=True)
        purge_stale(root, max_age_hours=stale_hours())
        self.path = Path(tempfile.mkdtemp(prefix=_PREFIX, dir=root))  # mode 0700
        self._finalizer = weakref.finalize(self, shutil.rmtree, str(self.path), True)

    @property
    def layers_dir(self) -> Path:
        """Folder of the clean layers (made again if a purge removed it)."""
        path = self.path / "layers"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def raw_dir(self, kind: str) -> Path:
        """A fresh, empty folder for the next upload of ``kind``."""
        path = self.path / "raw" / kind
        if path.exists():
            shutil.rmtree(path)
        path.mkdir(parents=True)
        return path

    def layer_path(self, name: str) -> Path:
        """Where layer ``name`` (a key of :data:`LAYER_FILES`) is stored."""
        return self.layers_dir / LAYER_FILES[name]

    def present(self) -> list[str]:
        """The uploaded layers, in :data:`UPLOAD_KINDS` order."""
        return [k for k in UPLOAD_KINDS if self.layer_path(k).exists()]

    def store(self, name: str, gdf: gpd.GeoDataFrame) -> Path:
        """Write a layer atomically (a reader never sees half a file)."""
        target = self.layer_path(name)
        tmp = target.with_name(f".{uuid.uuid4().hex}{target.suffix}")
        gdf.to_parquet(tmp)
        tmp.replace(target)
        return target

    def store_file(self, name: str, source: Path) -> Path:
        """Copy a file (the population raster) into place atomically."""
        target = self.layer_path(name)
        tmp = target.with_name(f".{uuid.uuid4().hex}{target.suffix}")
        shutil.copyfile(source, tmp)
        tmp.replace(target)
        return target

    def remove(self, name: str) -> None:
        """Forget layer ``name`` (and, for grids, the outlines made from them)."""
        names = (name, "streets", "communities") if name == "grids" else (name,)
        for n in names:
            self.layer_path(n).unlink(missing_ok=True)
        raw = self.path / "raw" / name
        if raw.exists():
            shutil.rmtree(raw)

    def touch(self) -> None:
        """Mark the folder as in use (stale folders are judged by their time stamp)."""
        if self.path.exists():
            os.utime(self.path)

    @property
    def alive(self) -> bool:
        """False once the folder has been removed by :meth:`close`."""
        return self._finalizer.alive

    def close(self) -> None:
        """Remove the folder now."""
        self._finalizer()


def session_uploads() -> UploadSession:
    """This browser session's :class:`UploadSession`, made on first use."""
    up = st.session_state.get(SESSION_KEY)
    if up is None or not up.alive:
        up = UploadSession()
        st.session_state[SESSION_KEY] = up
    return up


def read_layer_file(path: Path) -> gpd.GeoDataFrame:
    """Read a stored layer (GeoParquet, EPSG:4326)."""
    gdf = gpd.read_parquet(path)
    return gdf if gdf.crs is not None and gdf.crs.equals(WGS84) else gdf.to_crs(WGS84)


_PARENTS = {"community_code": ("street_code", "district_code"), "street_code": ("district_code",)}


def _most_common(values: pd.Series) -> object:
    counts = values.dropna().value_counts()
    return counts.index[0] if len(counts) else pd.NA


def outlines(grids: gpd.GeoDataFrame, code: str,
             names: pd.DataFrame | None = None) -> gpd.GeoDataFrame | None:
    """Streets or communities (``code`` = ``street_code``/``community_code``) dissolved from grids.

    Like the demo's layers, each unit carries its parents' codes (a community
    its ``street_code`` and ``district_code``: the most common among its grids)
    and ``n_grids``. ``names`` (columns ``code`` and ``name``, e.g. the
    ``streets`` layer of a GeoPackage) adds their names. None when the grids
    carry no such code.
    """
    if code not in grids.columns or grids[code].isna().all():
        return None
    parents = [c for c in _PARENTS[code] if c in grids.columns]
    units = grids[[code, *parents, grids.geometry.name]].dropna(subset=[code])
    units = units.assign(**{c: units[c].astype("string") for c in (code, *parents)})
    out = units[[code, units.geometry.name]].dissolve(by=code, sort=True).reset_index()
    table = pd.DataFrame(units.drop(columns=units.geometry.name)).groupby(code, sort=True)
    for parent in parents:
        out[parent] = out[code].map(table[parent].agg(_most_common))
    out["n_grids"] = out[code].map(table.size()).astype("int64")
    if names is not None and {code, "name"} <= set(names.columns):
        lookup = dict(zip(names[code].astype(str), names["name"], strict=False))
        out["name"] = out[code].map(lookup)
    return out
