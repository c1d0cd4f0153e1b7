"""Video coverage: camera views, covered and overlapping shares per grid, blind spots.

Views
-----
Each camera sees a **sector** (apex at the camera, ``azimuth_deg`` clockwise
from north, ``hfov_deg`` wide, ``range_m`` long) or, for kinds that turn or
see all round (``dome``, ``ptz``, ``hemisphere``), a **disc** of ``range_m``.
A sector camera without an azimuth gets a disc of the same area
(radius ``range · sqrt(hfov / 360)``): it could face anywhere.

Range
-----
* Without ``level``: the ``range_m`` of the data, else the kind's default.
* With ``level`` (IEC 62676-4 DORI): ``d = H_px / (ppm · 2 · tan(HFOV / 2))``
  with ppm = 25 (detection), 62.5 (observation), 125 (recognition) or 250
  (identification) pixels per metre, ``H_px`` the horizontal resolution
  (column ``resolution_px``, or ``resolution`` such as ``1920x1080``; else the
  kind's default) and the camera's HFOV (else the kind's default). A fisheye
  (HFOV ≥ 180°) uses ``d = H_px / (2 · ppm)``; a PTZ is taken at its widest.

Defaults per kind (:data:`KIND_DEFAULTS`):

==========  ======  ========  ==========  =========
kind        view    HFOV (°)  range (m)   H_px
==========  ======  ========  ==========  =========
bullet      sector  60        50          1920
dome        disc    90        30          1920
ptz         disc    60        100         1920
hemisphere  disc    180       15          2560
other       sector  60        40          1920
==========  ======  ========  ==========  =========

Directions given as text (OSM ``camera:direction`` ranges ``90-270``, compass
letters, Chicago's approach letters NB/SB/EB/WB) are read by
:func:`gridmap.osm.parse_direction`, where the rule is documented (a camera
enforcing northbound traffic faces south: NB → 180°).

Coverage per grid
-----------------
:func:`coverage` burns every view into a raster of ``cell_m`` (2 m) cells in
a metric CRS, tile by tile, counting how many views see each cell centre;
each grid's ``covered_pct`` is the share of its cells seen by at least one
view and ``overlap_pct`` by at least two. Blind spots are the connected
unseen parts of a grid (4-connected cells) of at least ``min_blind_m2``,
outlined along cell edges and simplified by half a cell (each ring starts at
its lowest-left corner, so the outline does not depend on tiling). Incidents
(and roads, sampled every ``cell_m``) are checked exactly against the view
polygons: a second raster marks the cells a view certainly covers whole or
certainly misses (half a cell diagonal clear of every edge), and only the
points in the other cells go to the exact shapely test, so the answer is the
exact one.
Planned cameras are left out (they are not built yet), and so are rows whose
GB/T 28181 id says they are not camera channels (recorders, servers).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from ._coverage_raster import (
    _burn_polygon_state,
    _burn_polygons,
    _burn_state,
    _burn_views,
    _drop_collinear,
    _points_in_boxes,
    _read_state,
    _tally,
    _trace_rings,
    _unseen_runs,
)
from ._errors import DataError, SchemaError
from ._validate import require_crs
from .assign import _ragged, _xy_of_points, assign_points, pick_grid_id
from .crs import metric_crs
from .gb28181 import parse_ids
from .osm import parse_direction
from .viewshed import _rays, _visible

__all__ = [
    "BUILT_STATUSES",
    "DORI_PPM",
    "KIND_DEFAULTS",
    "CoverageResult",
    "KindDefaults",
    "camera_views",
    "coverage",
    "dori_range",
    "exact_coverage",
    "split_approaches",
    "view_parameters",
]

#: IEC 62676-4 pixel densities (pixels per metre at the target).
DORI_PPM: dict[str, float] = {
    "detection": 25.0, "observation": 62.5, "recognition": 125.0, "identification": 250.0,
}
#: Camera statuses whose views count (planned cameras are not built).
BUILT_STATUSES = ("online", "offline", "unknown")


@dataclass(frozen=True)
class KindDefaults:
    """Defaults of one camera kind: view shape, HFOV, range and horizontal pixels."""

    shape: str
    hfov_deg: float
    range_m: float
    resolution_px: float


KIND_DEFAULTS: dict[str, KindDefaults] = {
    "bullet": KindDefaults("sector", 60.0, 50.0, 1920.0),
    "dome": KindDefaults("disc", 90.0, 30.0, 1920.0),
    "ptz": KindDefaults("disc", 60.0, 100.0, 1920.0),
    "hemisphere": KindDefaults("disc", 180.0, 15.0, 2560.0),
    "other": KindDefaults("sector", 60.0, 40.0, 1920.0),
}


def dori_range(resolution_px: float | np.ndarray, hfov_deg: float | np.ndarray,
               level: str) -> np.ndarray:
    """Distance (m) at which a camera still reaches a DORI level.

    ``d = H_px / (ppm · 2 · tan(HFOV / 2))`` (IEC 62676-4) for ordinary
    lenses. A fisheye (HFOV of 180° or more) spreads about ``π · H_px``
    pixels round the horizon, so ``d = H_px / (2 · ppm)``.

    Examples
    --------
    >>> round(float(dori_range(1920, 90.0, "recognition")), 2)
    7.68
    >>> round(float(dori_range(2560, 360.0, "recognition")), 2)
    10.24
    """
    if level not in DORI_PPM:
        raise ValueError(f"level must be one of {list(DORI_PPM)}, got {level!r}.")
    ppm = DORI_PPM[level]
    hfov = np.asarray(hfov_deg, dtype=float)
    res = np.asarray(resolution_px, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        lens = res / (ppm * 2.0 * np.tan(np.deg2rad(np.clip(hfov, 1e-3, 179.9)) / 2.0))
    return np.where(hfov >= 180.0, res / (2.0 * ppm), lens)


_RES = re.compile(r"^\s*(\d{3,5})\s*[x×*]\s*(\d{3,5})\s*$", re.IGNORECASE)


def _resolution(cameras: pd.DataFrame) -> np.ndarray:
    """Horizontal pixels from ``resolution_px`` or ``resolution`` (``1920x1080``), else NaN."""
    if "resolution_px" in cameras.columns:
        return pd.to_numeric(cameras["resolution_px"], errors="coerce").to_numpy(dtype=float)
    if "resolution" in cameras.columns:
        out = np.full(len(cameras), np.nan)
        for i, text in enumerate(cameras["resolution"].astype("string").fillna("")):
            m = _RES.match(text)
            if m:
                out[i] = float(m.group(1))
        return out
    return np.full(len(cameras), np.nan)


def _azimuths(cameras: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Azimuth and (from ranges) HFOV; text directions go through ``parse_direction``."""
    n = len(cameras)
    hfov = np.full(n, np.nan)
    if "azimuth_deg" not in cameras.columns:
        return np.full(n, np.nan), hfov
    col = cameras["azimuth_deg"]
    az = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float).copy()
    if not pd.api.types.is_numeric_dtype(col):
        for i in np.flatnonzero(np.isnan(az) & col.notna().to_numpy()):
            try:
                value, width = parse_direction(col.iat[i])
            except DataError:  # unreadable text: no azimuth
                continue
            az[i] = value
            if width is not None:
                hfov[i] = width
    return np.mod(az, 360.0), hfov


def view_parameters(
    cameras: pd.DataFrame,
    *,
    level: str | None = None,
    defaults: Mapping[str, KindDefaults] | None = None,
) -> pd.DataFrame:
    """The view of every camera: shape, azimuth, HFOV and range, with their sources.

    Parameters
    ----------
    cameras
        Camera table (``kind``, ``azimuth_deg``, ``hfov_deg``, ``range_m`` and
        ``resolution_px`` are used when present).
    level
        DORI level (``detection``, ``observation``, ``recognition``,
        ``identification``): the range is computed from it; ``None`` uses the
        data's range.
    defaults
        Per-kind defaults; :data:`KIND_DEFAULTS` by default.

    Returns
    -------
    pandas.DataFrame
        Aligned with ``cameras``: ``kind``, ``shape`` (``sector``/``disc``),
        ``azimuth_deg``, ``hfov_deg`` (360 for a disc), ``range_m``,
        ``range_source`` (``data``, ``dori:<level>`` or ``default``) and
        ``view_note``.
    """
    if level is not None and level not in DORI_PPM:
        raise ValueError(f"level must be one of {list(DORI_PPM)}, got {level!r}.")
    table = {**KIND_DEFAULTS, **(defaults or {})}
    n = len(cameras)
    kind = (cameras["kind"].astype("string").str.strip().str.lower().fillna("other")
            if "kind" in cameras.columns else pd.Series("other", index=cameras.index))
    kind = kind.where(kind.isin(list(table)), "other").to_numpy(dtype=object)
    d = [table[k] for k in kind]
    az, hfov_from_range = _azimuths(cameras)
    hfov = (pd.to_numeric(cameras["hfov_deg"], errors="coerce").to_numpy(dtype=float)
            if "hfov_deg" in cameras.columns else np.full(n, np.nan))
    hfov = np.where(np.isnan(hfov), hfov_from_range, hfov)
    hfov = np.where(np.isfinite(hfov) & (hfov > 0), np.minimum(hfov, 360.0),
                    [k.hfov_deg for k in d])
    shape = np.array([k.shape for k in d], dtype=object)
    note = np.full(n, "", dtype=object)
    if level is None:
        data_r = (pd.to_numeric(cameras["range_m"], errors="coerce").to_numpy(dtype=float)
                  if "range_m" in cameras.columns else np.full(n, np.nan))
        ok = np.isfinite(data_r) & (data_r > 0)
        rng = np.where(ok, data_r, [k.range_m for k in d])
        source = np.where(ok, "data", "default")
    else:
        res = _resolution(cameras)
        res = np.where(np.isfinite(res) & (res > 0), res, [k.resolution_px for k in d])
        rng = dori_range(res, hfov, level)
        source = np.full(n, f"dori:{level}", dtype=object)
    sector = shape == "sector"
    full = sector & (hfov >= 360.0)
    shape[full] = "disc"
    no_az = sector & ~full & np.isnan(az)
    if no_az.any():
        rng = np.where(no_az, rng * np.sqrt(hfov / 360.0), rng)
        shape[no_az] = "disc"
        note[no_az] = "no azimuth: disc of the sector's area"
    disc = shape == "disc"
    return pd.DataFrame({
        "kind": kind, "shape": shape,
        "azimuth_deg": np.where(disc, np.nan, az),
        "hfov_deg": np.where(disc, 360.0, hfov),
        "range_m": rng.astype(float), "range_source": source, "view_note": note,
    }, index=cameras.index)


def split_approaches(cameras: gpd.GeoDataFrame, columns: Iterable[str]) -> gpd.GeoDataFrame:
    """One camera per enforced approach (Chicago's ``FIRST APPROACH``, ``SECOND APPROACH``...).

    Each non-empty approach of a row becomes a camera whose azimuth follows
    :func:`gridmap.osm.parse_direction` (NB → 180°: a camera enforcing
    northbound traffic faces south). ``camera_id`` gets the approach as a
    suffix (``camera-3-NB``); ``point_id`` keeps the row's point, so the
    location still counts as one point.

    Raises
    ------
    SchemaError
        When none of ``columns`` is in ``cameras``.
    """
    cols = [c for c in columns if c in cameras.columns]
    if not cols:
        raise SchemaError(f"none of the approach columns {list(columns)} is in the cameras; "
                          f"columns are {list(cameras.columns)}.")
    base = cameras.copy()
    if "camera_id" not in base.columns:
        base["camera_id"] = [f"camera-{i + 1}" for i in range(len(base))]
    if "point_id" not in base.columns or base["point_id"].isna().all():
        base["point_id"] = base["camera_id"].astype(str)
    parts = []
    for col in cols:
        text = base[col].astype("string").str.strip()
        rows = base.loc[text.notna() & (text != "")].copy()
        rows["approach"] = text[rows.index]
        parts.append(rows)
    out = pd.concat(parts).sort_index(kind="stable")
    az = []
    for value in out["approach"]:
        try:
            az.append(parse_direction(value)[0])
        except DataError:
            az.append(np.nan)
    out["azimuth_deg"] = az
    out["camera_id"] = out["camera_id"].astype(str) + "-" + out["approach"].astype(str)
    return gpd.GeoDataFrame(out.reset_index(drop=True), geometry=out.geometry.name,
                            crs=cameras.crs)


def _built(cameras: gpd.GeoDataFrame, statuses: Iterable[str] | None) -> np.ndarray:
    if statuses is None or "status" not in cameras.columns:
        return np.ones(len(cameras), dtype=bool)
    status = cameras["status"].astype("string").str.strip().str.lower().fillna("unknown")
    return status.isin(list(statuses)).to_numpy()


def _views_metric(
    cameras: gpd.GeoDataFrame, *, level: str | None, buildings: gpd.GeoDataFrame | None,
    statuses: Iterable[str] | None, crs: object, arc_step_deg: float,
) -> gpd.GeoDataFrame:
    """Views in the metric CRS ``crs`` (parameters, plus polygons)."""
    require_crs(cameras, layer="cameras")
    keep = _built(cameras, statuses).copy()
    keep &= ~(cameras.geometry.isna() | cameras.geometry.is_empty).to_numpy()
    if "gb28181_id" in cameras.columns:  # recorders and servers see nothing
        parsed = parse_ids(cameras["gb28181_id"])
        keep &= ~(parsed["valid"].to_numpy()
                  & (parsed["device_class"].to_numpy(dtype=object) != "camera"))
    cams = cameras.loc[keep]
    params = view_parameters(cams, level=level)
    m = cams.to_crs(crs)
    x = m.geometry.x.to_numpy()
    y = m.geometry.y.to_numpy()
    az = params["azimuth_deg"].fillna(0.0).to_numpy()
    if buildings is not None and len(buildings) and len(m):
        polys, occluded = _visible(m, buildings.to_crs(crs),
                                   range_m=params["range_m"].to_numpy(), azimuth_deg=az,
                                   hfov_deg=params["hfov_deg"].to_numpy(),
                                   ray_step_deg=arc_step_deg)
    else:
        polys, occluded = _rays(x, y, params["range_m"].to_numpy(), az,
                                params["hfov_deg"].to_numpy(), ray_step_deg=arc_step_deg)
    cols = {"camera_id": cams["camera_id"].to_numpy()} if "camera_id" in cams else {}
    out = gpd.GeoDataFrame({**cols, **{c: params[c].to_numpy() for c in params.columns}},
                           geometry=polys, crs=crs)
    out["occluded"] = occluded
    out["x"] = x
    out["y"] = y
    out["row"] = np.flatnonzero(keep)
    return out


def camera_views(
    cameras: gpd.GeoDataFrame,
    *,
    level: str | None = None,
    buildings: gpd.GeoDataFrame | None = None,
    statuses: Iterable[str] | None = BUILT_STATUSES,
    arc_step_deg: float = 1.0,
    crs: object = None,
) -> gpd.GeoDataFrame:
    """View polygons of the cameras.

    Parameters
    ----------
    cameras
        Camera points (any CRS).
    level
        DORI level for the range (see the module docstring); ``None``: the data's range.
    buildings
        Building footprints; views stop at the first building (rays at most
        ``arc_step_deg`` apart).
    statuses
        Statuses whose cameras are drawn (default: all but ``planned``);
        ``None`` draws every camera.
    arc_step_deg
        Largest angle between arc vertices (and rays).
    crs
        CRS of the result; default the cameras' CRS.

    Returns
    -------
    geopandas.GeoDataFrame
        One polygon per drawn camera with ``camera_id``, ``kind``, ``shape``,
        ``azimuth_deg``, ``hfov_deg``, ``range_m``, ``range_source``,
        ``view_note`` and ``occluded``.
    """
    require_crs(cameras, layer="cameras")
    metric = metric_crs(cameras)
    out = _views_metric(cameras, level=level, buildings=buildings, statuses=statuses,
                        crs=metric, arc_step_deg=arc_step_deg)
    out = out.drop(columns=["x", "y", "row"])
    return out.to_crs(crs if crs is not None else cameras.crs)



@dataclass(frozen=True, eq=False)
class CoverageResult:
    """Output of :func:`coverage`.

    Attributes
    ----------
    views
        One view polygon per built camera, in the metric CRS the analysis used
        (``to_crs(4326)`` for a web map), see :func:`camera_views`.
    grids
        Per grid (EPSG:4326): the grid id, ``area_km2``, ``cameras``,
        ``covered_pct``, ``overlap_pct``, ``blind_spots`` (number),
        ``blind_m2``; ``road_km`` and ``road_covered_pct`` with roads;
        ``incidents`` and ``incidents_covered_pct`` with incidents.
    blind_spots
        Unseen parts of grids of at least ``min_blind_m2`` (EPSG:4326): grid
        id, ``area_m2``, ``incidents`` inside.
    incidents_uncovered
        Incidents no view sees (EPSG:4326), with their grid and ``in_blind_spot``.
    cell_m
        Raster cell size used.
    grid_id
        The grid id column used.
    notes
        What was chosen or assumed.
    """

    views: gpd.GeoDataFrame
    grids: gpd.GeoDataFrame
    blind_spots: gpd.GeoDataFrame
    incidents_uncovered: gpd.GeoDataFrame
    cell_m: float
    grid_id: str | None
    notes: list[str] = field(default_factory=list)



_TILE = 2048
#: Extra margin (m) that the point pre-classification keeps from every view edge, on top
#: of half a cell diagonal (float rounding of vertices and cell positions is far smaller).
_EPS = 1e-6


class _ViewArrays(NamedTuple):
    """Views as arrays for the raster kernels: sectors and discs, and cut polygons."""

    x: np.ndarray
    y: np.ndarray
    r: np.ndarray
    r_in: np.ndarray
    saz: np.ndarray
    caz: np.ndarray
    chalf: np.ndarray
    u1x: np.ndarray
    u1y: np.ndarray
    u2x: np.ndarray
    u2y: np.ndarray
    disc: np.ndarray
    wide: np.ndarray
    o_coords: np.ndarray
    o_ring: np.ndarray
    o_geom: np.ndarray
    o_bounds: np.ndarray


def _view_arrays(views: gpd.GeoDataFrame, arc_step_deg: float) -> _ViewArrays:
    """Analytic views (not cut by buildings) and the polygons of the others.

    A view polygon has its arc vertices on the circle of ``range_m`` at most
    ``arc_step_deg`` apart, so it lies inside the sector of ``range_m`` and
    contains the sector of ``range_m · cos(arc_step_deg / 2)`` (``r_in``).
    """
    occl = views["occluded"].to_numpy(dtype=bool)
    ana = views.loc[~occl]
    az = np.deg2rad(ana["azimuth_deg"].fillna(0.0).to_numpy(dtype=float))
    half = np.deg2rad(ana["hfov_deg"].to_numpy(dtype=float) / 2.0)
    disc = (ana["shape"].to_numpy(dtype=object) == "disc") | (half >= math.pi)
    half = np.minimum(half, math.pi)
    r = ana["range_m"].to_numpy(dtype=float)
    o_polys = np.asarray(views.geometry.values[occl])
    o_coords, o_ring, o_geom = _ragged(o_polys)
    return _ViewArrays(
        x=ana["x"].to_numpy(dtype=float), y=ana["y"].to_numpy(dtype=float), r=r,
        r_in=r * math.cos(min(math.radians(arc_step_deg), math.pi) / 2.0),
        saz=np.sin(az), caz=np.cos(az), chalf=np.cos(half),
        u1x=np.sin(az - half), u1y=np.cos(az - half),
        u2x=np.sin(az + half), u2y=np.cos(az + half),
        disc=np.asarray(disc, dtype=bool), wide=half > math.pi / 2.0,
        o_coords=o_coords, o_ring=o_ring, o_geom=o_geom,
        o_bounds=shapely.bounds(o_polys) if len(o_polys) else np.empty((0, 4)))


@dataclass(frozen=True)
class _Frame:
    """The raster over the grids: ``nx`` × ``ny`` cells of ``cell_m`` from (xmin, top)."""

    xmin: float
    top: float
    cell_m: float
    nx: int
    ny: int


@dataclass(frozen=True)
class _Tile:
    """One tile: its first row and column in the frame, grid labels and view counts."""

    row0: int
    col0: int
    x0: float
    y1: float
    label: np.ndarray
    count: np.ndarray


def _frame(grids_m: gpd.GeoDataFrame, cell_m: float) -> _Frame:
    gb = shapely.bounds(np.asarray(grids_m.geometry.values))
    xmin, ymin = np.nanmin(gb[:, 0]), np.nanmin(gb[:, 1])
    xmax, ymax = np.nanmax(gb[:, 2]), np.nanmax(gb[:, 3])
    nx = max(math.ceil((xmax - xmin) / cell_m), 1)
    ny = max(math.ceil((ymax - ymin) / cell_m), 1)
    return _Frame(float(xmin), float(ymin + ny * cell_m), cell_m, nx, ny)


def _tiles(va: _ViewArrays, grids_m: gpd.GeoDataFrame, frame: _Frame) -> Iterator[_Tile]:
    """Tiles of grid labels (cell centre in grid, else -1) and view counts (cell centre)."""
    polys = np.asarray(grids_m.geometry.values)
    g_coords, g_ring, g_geom = _ragged(polys)
    gb = shapely.bounds(polys)
    cs = frame.cell_m
    for ty in range(0, frame.ny, _TILE):
        for tx in range(0, frame.nx, _TILE):
            nx = min(_TILE, frame.nx - tx)
            ny = min(_TILE, frame.ny - ty)
            x0 = frame.xmin + tx * cs
            y1 = frame.top - ty * cs
            x1 = x0 + nx * cs
            y0 = y1 - ny * cs
            gsel = np.flatnonzero((gb[:, 0] <= x1) & (gb[:, 2] >= x0) & (gb[:, 1] <= y1)
                                  & (gb[:, 3] >= y0))
            if len(gsel) == 0:
                continue
            label = np.full((ny, nx), -1, dtype=np.int32)
            _burn_polygons(label, x0, y1, cs, g_coords, g_ring, g_geom, gsel, True)
            count = np.zeros((ny, nx), dtype=np.uint8)
            vsel = np.flatnonzero((va.x - va.r <= x1) & (va.x + va.r >= x0)
                                  & (va.y - va.r <= y1) & (va.y + va.r >= y0))
            if len(vsel):
                _burn_views(count, x0, y1, cs, va.x[vsel], va.y[vsel], va.r[vsel],
                            va.saz[vsel], va.caz[vsel], va.chalf[vsel], va.disc[vsel])
            ob = va.o_bounds
            osel = np.flatnonzero((ob[:, 0] <= x1) & (ob[:, 2] >= x0) & (ob[:, 1] <= y1)
                                  & (ob[:, 3] >= y0))
            if len(osel):
                _burn_polygons(count, x0, y1, cs, va.o_coords, va.o_ring, va.o_geom, osel,
                               False)
            yield _Tile(ty, tx, x0, y1, label, count)


def _classify_tile(tile: _Tile, va: _ViewArrays, rows: np.ndarray, cols: np.ndarray,
                   which: np.ndarray, known: np.ndarray, cs: float) -> None:
    """Pre-classify the points of one tile (global cell ``rows``, ``cols``) into ``known``."""
    ny, nx = tile.label.shape
    margin = cs * math.sqrt(0.5) + _EPS
    x1 = tile.x0 + nx * cs
    y0 = tile.y1 - ny * cs
    state = np.zeros((ny, nx), dtype=np.uint8)
    reach = va.r + margin
    vsel = np.flatnonzero((va.x - reach <= x1) & (va.x + reach >= tile.x0)
                          & (va.y - reach <= tile.y1) & (va.y + reach >= y0))
    if len(vsel):
        _burn_state(state, tile.x0, tile.y1, cs, va.x[vsel], va.y[vsel], va.r[vsel],
                    va.r_in[vsel], va.saz[vsel], va.caz[vsel], va.chalf[vsel], va.u1x[vsel],
                    va.u1y[vsel], va.u2x[vsel], va.u2y[vsel], va.disc[vsel], va.wide[vsel],
                    margin)
    ob = va.o_bounds
    osel = np.flatnonzero((ob[:, 0] - cs <= x1) & (ob[:, 2] + cs >= tile.x0)
                          & (ob[:, 1] - cs <= tile.y1) & (ob[:, 3] + cs >= y0))
    if len(osel):
        _burn_polygon_state(state, tile.x0, tile.y1, cs, va.o_coords, va.o_ring, va.o_geom,
                            osel)
    _read_state(state, rows - tile.row0, cols - tile.col0, which, known)


class _Pieces(NamedTuple):
    """Unseen connected parts of grids: grid position, polygon, touches a tile edge."""

    label: np.ndarray
    geom: np.ndarray
    seam: np.ndarray


def _no_pieces() -> _Pieces:
    return _Pieces(np.empty(0, dtype=np.int64), np.empty(0, dtype=object),
                   np.empty(0, dtype=bool))


def _traced_pieces(tile: _Tile, frame: _Frame, min_cells: float) -> _Pieces:
    """Unseen 4-connected parts of each grid in one tile, as polygons.

    Parts that touch no tile edge and have fewer than ``min_cells`` cells are
    left out (they cannot become a blind spot).
    """
    ny, nx = tile.label.shape
    rrow, ra, rb, rkey, comp, ncomp = _unseen_runs(tile.label, tile.count)
    if ncomp == 0:
        return _no_pieces()
    cells = np.bincount(comp, weights=rb - ra + 1, minlength=ncomp)
    at_edge = (rrow == 0) | (rrow == ny - 1) | (ra == 0) | (rb == nx - 1)
    seam = np.bincount(comp, weights=at_edge, minlength=ncomp) > 0
    key = np.empty(ncomp, dtype=np.int64)
    key[comp] = rkey
    keep = seam | (cells >= min_cells)
    if not keep.any():
        return _no_pieces()
    kid = np.full(ncomp, -1, dtype=np.int64)
    kid[keep] = np.arange(int(keep.sum()))
    vi, vj, roff, rcomp, rarea, ok = _trace_rings(ny, nx, rrow, ra, rb, kid[comp])
    outer = rarea > 0
    nkeep = int(keep.sum())
    if not ok or (np.bincount(rcomp[outer], minlength=nkeep) != 1).any():
        raise RuntimeError("blind spots: tracing the unseen cells failed; please report "
                           "this with the grids and cameras used.")
    # rings by component, the outer ring first; each closed by repeating its first vertex
    order = np.lexsort((~outer, rcomp))
    start = roff[:-1][order]
    size = np.diff(roff)[order] + 1
    ring_off = np.zeros(len(order) + 1, dtype=np.int64)
    np.cumsum(size, out=ring_off[1:])
    idx = np.repeat(start - ring_off[:-1], size) + np.arange(ring_off[-1])
    idx[ring_off[1:] - 1] = start
    cs = frame.cell_m
    coords = np.column_stack([frame.xmin + (tile.col0 + vj[idx]) * cs,
                              frame.top - (tile.row0 + vi[idx]) * cs])
    geom_off = np.zeros(nkeep + 1, dtype=np.int64)
    np.cumsum(np.bincount(rcomp, minlength=nkeep), out=geom_off[1:])
    polys = shapely.from_ragged_array(shapely.GeometryType.POLYGON, coords,
                                      (ring_off, geom_off))
    return _Pieces(key[keep], polys, seam[keep])


def _shapes_pieces(tile: _Tile, frame: _Frame) -> _Pieces:
    """Reference: every unseen part of each grid in one tile from ``rasterio.features.shapes``."""
    from rasterio.features import shapes
    from rasterio.transform import Affine

    mask = (tile.label >= 0) & (tile.count == 0)
    if not mask.any():
        return _no_pieces()
    cs = frame.cell_m
    transform = Affine(cs, 0.0, frame.xmin + tile.col0 * cs, 0.0, -cs,
                       frame.top - tile.row0 * cs)
    found = [(int(v), shapely.geometry.shape(geom)) for geom, v in
             shapes(tile.label, mask=mask, transform=transform, connectivity=4)]
    return _Pieces(np.array([v for v, _ in found], dtype=np.int64),
                   np.array([g for _, g in found], dtype=object),
                   np.ones(len(found), dtype=bool))


def _raster_coverage(
    views: gpd.GeoDataFrame, grids_m: gpd.GeoDataFrame, *, cell_m: float, blind: bool,
    min_m2: float, arc_step_deg: float, points: np.ndarray, fast: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, _Pieces, np.ndarray]:
    """Per grid: cells, covered cells, overlapped cells; unseen pieces; points pre-classified.

    ``known`` is 1 for a point certainly seen, 0 certainly unseen and -1 when
    the exact test must decide (always -1 with ``fast=False``, the reference
    path, which also polygonises every unseen part with rasterio).
    """
    n = len(grids_m)
    total = np.zeros(n, dtype=np.int64)
    covered = np.zeros(n, dtype=np.int64)
    overlap = np.zeros(n, dtype=np.int64)
    known = np.full(len(points), -1, dtype=np.int8)
    if n == 0:
        return total, covered, overlap, _no_pieces(), known
    frame = _frame(grids_m, cell_m)
    va = _view_arrays(views, arc_step_deg)
    # points by tile, with their global cell
    ntx = -(-frame.nx // _TILE)
    with np.errstate(invalid="ignore"):
        col = np.floor((points[:, 0] - frame.xmin) / cell_m)
        row = np.floor((frame.top - points[:, 1]) / cell_m)
    inside = (col >= 0) & (col < frame.nx) & (row >= 0) & (row < frame.ny)  # NaN: False
    if not fast:
        inside[:] = False
    which = np.flatnonzero(inside)
    row = row[which].astype(np.int64)
    col = col[which].astype(np.int64)
    tile_of = (row // _TILE) * ntx + col // _TILE
    order = np.argsort(tile_of, kind="stable")
    which, row, col, tile_of = which[order], row[order], col[order], tile_of[order]
    min_cells = min_m2 * (1.0 - 1e-9) / (cell_m * cell_m)
    pieces = []
    for tile in _tiles(va, grids_m, frame):
        _tally(tile.label, tile.count, total, covered, overlap)
        t = (tile.row0 // _TILE) * ntx + tile.col0 // _TILE
        a, b = np.searchsorted(tile_of, [t, t + 1])
        if b > a:
            _classify_tile(tile, va, row[a:b], col[a:b], which[a:b], known, cell_m)
        if blind:
            pieces.append(_traced_pieces(tile, frame, min_cells) if fast
                          else _shapes_pieces(tile, frame))
    if not pieces:
        return total, covered, overlap, _no_pieces(), known
    return total, covered, overlap, _Pieces(*(np.concatenate(p) for p in zip(*pieces, strict=True))), known


def exact_coverage(views: gpd.GeoDataFrame, grids: gpd.GeoDataFrame) -> pd.DataFrame:
    """Covered and overlapped share of each grid from exact polygon overlay (slow; for checks).

    Both layers must be in the same metric CRS. Returns ``covered_pct`` and
    ``overlap_pct`` per grid, aligned with ``grids``.
    """
    tree = shapely.STRtree(views.geometry.values)
    cov = np.zeros(len(grids))
    ovl = np.zeros(len(grids))
    for i, g in enumerate(grids.geometry.values):
        idx = tree.query(g, predicate="intersects")
        if len(idx) == 0 or g.area == 0:
            continue
        parts = shapely.intersection(views.geometry.values[idx], g)
        cov[i] = shapely.union_all(parts).area / g.area * 100.0
        if len(parts) > 1:
            # seen twice or more: the union of all pairwise intersections
            a, b = shapely.STRtree(parts).query(parts, predicate="intersects")
            pair = a < b
            if pair.any():
                both = shapely.intersection(parts[a[pair]], parts[b[pair]])
                ovl[i] = shapely.union_all(both).area / g.area * 100.0
    return pd.DataFrame({"covered_pct": cov, "overlap_pct": ovl}, index=grids.index)


def _road_samples(roads_m: gpd.GeoDataFrame, spacing: float) -> tuple[np.ndarray, np.ndarray]:
    """Points every ``spacing`` along the roads (segment midpoints) and their lengths."""
    lines = shapely.get_parts(roads_m.geometry.values)
    lines = lines[np.isin(shapely.get_type_id(lines), (1, 2))]  # LineString, LinearRing
    if len(lines) == 0:
        return np.empty((0, 2)), np.empty(0)
    dense = shapely.segmentize(lines, spacing)
    coords, which = shapely.get_coordinates(dense, return_index=True)
    same = which[1:] == which[:-1]
    a = coords[:-1][same]
    b = coords[1:][same]
    return (a + b) / 2.0, np.hypot(*(b - a).T)



def _metric_xy(points: gpd.GeoDataFrame, crs: object) -> np.ndarray:
    """x, y of Points in ``crs`` as an (N, 2) array (NaN for missing or empty ones)."""
    x, y = _xy_of_points(np.asarray(points.geometry.array))
    if not CRS.from_user_input(points.crs).equals(crs):
        x, y = Transformer.from_crs(points.crs, crs, always_xy=True).transform(x, y)
    return np.column_stack([np.asarray(x, dtype=float), np.asarray(y, dtype=float)])


def coverage(
    cameras: gpd.GeoDataFrame,
    grids: gpd.GeoDataFrame,
    *,
    grid_id: str | None = None,
    level: str | None = None,
    buildings: gpd.GeoDataFrame | None = None,
    roads: gpd.GeoDataFrame | None = None,
    incidents: gpd.GeoDataFrame | None = None,
    cell_m: float = 2.0,
    min_blind_m2: float = 200.0,
    blind_spots: bool = True,
    statuses: Iterable[str] | None = BUILT_STATUSES,
    arc_step_deg: float = 1.0,
) -> CoverageResult:
    """Coverage of every grid by the camera views.

    Parameters
    ----------
    cameras
        Camera points (any CRS); see :func:`view_parameters` for the columns used.
    grids
        Grid polygons (any CRS).
    grid_id
        Grid id column (default ``grid_id``, else the first unique column).
    level
        DORI level for the ranges; ``None``: the data's ranges.
    buildings
        Building footprints that stop the views (optional).
    roads
        Road lines: adds ``road_km`` and ``road_covered_pct``.
    incidents
        Incident points (``weight`` unused here): adds ``incidents`` and
        ``incidents_covered_pct``, and lists the unseen ones.
    cell_m
        Raster cell size in metres.
    min_blind_m2
        Smallest unseen area reported as a blind spot.
    blind_spots
        Compute blind-spot polygons.
    statuses
        Camera statuses whose views count; default all but ``planned``.
    arc_step_deg
        Largest angle between arc vertices and rays.

    Returns
    -------
    CoverageResult
    """
    return _coverage(cameras, grids, grid_id=grid_id, level=level, buildings=buildings,
                     roads=roads, incidents=incidents, cell_m=cell_m,
                     min_blind_m2=min_blind_m2, blind_spots=blind_spots, statuses=statuses,
                     arc_step_deg=arc_step_deg, fast=True)


def _coverage(
    cameras: gpd.GeoDataFrame, grids: gpd.GeoDataFrame, *, grid_id: str | None,
    level: str | None, buildings: gpd.GeoDataFrame | None, roads: gpd.GeoDataFrame | None,
    incidents: gpd.GeoDataFrame | None, cell_m: float, min_blind_m2: float,
    blind_spots: bool, statuses: Iterable[str] | None, arc_step_deg: float, fast: bool,
) -> CoverageResult:
    """:func:`coverage`; ``fast=False`` is the reference path for checks and benchmarks.

    The reference tests every incident and road sample exactly against the
    view polygons and polygonises every unseen part of every tile with
    ``rasterio.features.shapes``, merging them per grid; the fast path tests
    exactly only the points the raster pre-classification leaves open and
    traces only the unseen parts that can become blind spots. Both give the
    same result.
    """
    require_crs(grids, layer="grids")
    require_crs(cameras, layer="cameras")
    if not cell_m > 0:
        raise ValueError(f"cell_m must be positive, got {cell_m!r}.")
    notes: list[str] = []
    gid = pick_grid_id(grids, grid_id)
    if grid_id is None:
        notes.append(f"grid id column: {gid!r}" if gid else "grid id: the grids' index")
    crs = metric_crs(grids)
    grids_m = grids.to_crs(crs).reset_index(drop=True)
    ids = grids[gid].to_numpy() if gid else grids.index.to_numpy()
    views = _views_metric(cameras, level=level, buildings=buildings, statuses=statuses,
                          crs=crs, arc_step_deg=arc_step_deg)
    if len(views) < len(cameras):
        notes.append(f"{len(cameras) - len(views)} row(s) left out (status not in "
                     f"{list(statuses or [])}, no location, or not a camera channel)")
    if int(views["occluded"].sum()):
        notes.append(f"{int(views['occluded'].sum())} view(s) cut by buildings")
    # points tested against the views: road samples, then incidents (metric x, y)
    mid, length = np.empty((0, 2)), np.empty(0)
    if roads is not None:
        require_crs(roads, layer="roads")
        mid, length = _road_samples(roads.to_crs(crs), min(cell_m, 5.0))
    inc_xy = np.empty((0, 2))
    if incidents is not None:
        require_crs(incidents, layer="incidents")
        inc_xy = _metric_xy(incidents, crs)
    total, covered, overlap, pieces, known = _raster_coverage(
        views, grids_m, cell_m=cell_m, blind=blind_spots, min_m2=min_blind_m2,
        arc_step_deg=arc_step_deg, points=np.concatenate([mid, inc_xy]), fast=fast)
    area = grids_m.geometry.area.to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        cov_pct = np.where(total > 0, 100.0 * covered / total, np.nan)
        ovl_pct = np.where(total > 0, 100.0 * overlap / total, np.nan)
    tiny = np.flatnonzero(total == 0)
    if len(tiny):  # grids smaller than a cell: exact overlay
        ex = exact_coverage(views, grids_m.iloc[tiny])
        cov_pct[tiny] = ex["covered_pct"].to_numpy()
        ovl_pct[tiny] = ex["overlap_pct"].to_numpy()
        notes.append(f"{len(tiny)} grid(s) smaller than a {cell_m:g} m cell: exact overlay")
    cams_in = assign_points(views[["x", "y"]].to_numpy(dtype=float), grids_m,
                            crs=crs).counts().to_numpy()
    table = pd.DataFrame({
        (gid or "grid"): ids, "area_km2": area / 1e6, "cameras": cams_in,
        "covered_pct": np.round(cov_pct, 2), "overlap_pct": np.round(ovl_pct, 2),
    })

    # blind spots: unseen pieces merged across tiles, large enough
    blind = _blind_polygons(pieces, ids, gid, cell_m=cell_m, min_m2=min_blind_m2, crs=crs)
    nb = blind.groupby("_g").size().reindex(range(len(grids_m)), fill_value=0)
    barea = blind.groupby("_g")["area_m2"].sum().reindex(range(len(grids_m)), fill_value=0.0)
    table["blind_spots"] = nb.to_numpy()
    table["blind_m2"] = np.round(barea.to_numpy(), 1)

    if roads is not None:
        a = assign_points(mid, grids_m, crs=crs)
        seen = _seen(mid, views, known[:len(mid)])
        inside = a.index >= 0
        km = np.bincount(a.index[inside], weights=length[inside], minlength=len(grids_m))
        km_seen = np.bincount(a.index[inside & seen], weights=length[inside & seen],
                              minlength=len(grids_m))
        table["road_km"] = np.round(km / 1000.0, 3)
        with np.errstate(divide="ignore", invalid="ignore"):
            table["road_covered_pct"] = np.round(np.where(km > 0, 100.0 * km_seen / km,
                                                          np.nan), 2)
    uncovered = gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs="EPSG:4326"))
    if incidents is not None:
        a = assign_points(inc_xy, grids_m, crs=crs)
        seen = _seen(inc_xy, views, known[len(mid):])
        inside = a.index >= 0
        n_inc = np.bincount(a.index[inside], minlength=len(grids_m))
        n_seen = np.bincount(a.index[inside & seen], minlength=len(grids_m))
        table["incidents"] = n_inc
        with np.errstate(divide="ignore", invalid="ignore"):
            table["incidents_covered_pct"] = np.round(
                np.where(n_inc > 0, 100.0 * n_seen / n_inc, np.nan), 2)
        unseen = np.flatnonzero(~seen)
        uncovered = incidents.iloc[unseen].copy()
        uncovered[gid or "grid"] = np.where(a.index[unseen] >= 0, ids[a.index[unseen].clip(0)],
                                            None)
        in_blind = np.zeros(len(unseen), dtype=bool)
        if len(blind) and len(unseen):
            spot, hit = _in_polygons(np.asarray(blind.geometry.values), inc_xy[unseen],
                                     fast=fast)
            in_blind[hit] = True
            blind["incidents"] = np.bincount(spot, minlength=len(blind))
        uncovered["in_blind_spot"] = in_blind
        uncovered = uncovered.to_crs("EPSG:4326")
        n_out = int((~inside).sum())
        if n_out:
            notes.append(f"{n_out} incident(s) outside every grid")
    grid_table = gpd.GeoDataFrame(table, geometry=grids.geometry.to_crs("EPSG:4326").values,
                                  crs="EPSG:4326")
    views_out = views.drop(columns=["x", "y", "row"])  # metric: reprojecting 10M vertices is slow
    blind_out = blind.drop(columns="_g").to_crs("EPSG:4326")
    return CoverageResult(views=views_out, grids=grid_table, blind_spots=blind_out,
                          incidents_uncovered=uncovered, cell_m=cell_m, grid_id=gid,
                          notes=notes)


def _seen(xy: np.ndarray, views: gpd.GeoDataFrame, known: np.ndarray | None = None
          ) -> np.ndarray:
    """Whether any view polygon covers each point (``intersects``: edges count as seen).

    ``known`` (1 seen, 0 unseen, -1 open, see :func:`_raster_coverage`) spares
    the exact test for the points the raster already decides.
    """
    out = np.zeros(len(xy), dtype=bool)
    if len(xy) == 0 or len(views) == 0:
        return out
    if known is None:
        todo = np.arange(len(xy))
    else:
        out[known == 1] = True
        todo = np.flatnonzero(known < 0)
    if len(todo):
        hit = shapely.STRtree(views.geometry.values).query(
            shapely.points(xy[todo]), predicate="intersects")[0]
        out[todo[hit]] = True
    return out


def _in_polygons(polys: np.ndarray, xy: np.ndarray, *, fast: bool
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (polygon, point) of points that intersect polygons (edges included).

    Fast: pairs in both bounding boxes, then the exact test against the
    prepared polygons; reference: an STRtree of the points.
    """
    if not fast:
        return shapely.STRtree(shapely.points(xy)).query(polys, predicate="intersects")
    box, pt = _points_in_boxes(shapely.bounds(polys), np.ascontiguousarray(xy[:, 0]),
                               np.ascontiguousarray(xy[:, 1]))
    shapely.prepare(polys)
    hit = shapely.intersects_xy(polys[box], xy[pt, 0], xy[pt, 1])
    return box[hit], pt[hit]


def _canonical(polys: np.ndarray) -> np.ndarray:
    """Polygons of cell edges without vertices inside straight runs, normalised.

    Each ring then starts at its lowest-left corner, so the simplified outline
    does not depend on where the polygoniser started a ring or on tile seams.
    """
    if len(polys) == 0:
        return polys
    _, coords, (ring_off, geom_off) = shapely.to_ragged_array(polys)
    coords, ring_off = _drop_collinear(np.ascontiguousarray(coords), ring_off)
    out = shapely.from_ragged_array(shapely.GeometryType.POLYGON, coords, (ring_off, geom_off))
    return shapely.normalize(out)


def _blind_polygons(pieces: _Pieces, ids: np.ndarray, gid: str | None, *, cell_m: float,
                    min_m2: float, crs: object) -> gpd.GeoDataFrame:
    """Merge unseen pieces per grid across tile edges, keep those of at least ``min_m2``."""
    name = gid or "grid"
    empty = gpd.GeoDataFrame({"_g": pd.Series([], dtype=np.int64), name: [],
                              "area_m2": pd.Series([], dtype=float),
                              "incidents": pd.Series([], dtype=np.int64)},
                             geometry=gpd.GeoSeries([], crs=crs), crs=crs)
    labels = [pieces.label[~pieces.seam]]
    geoms = [pieces.geom[~pieces.seam]]
    seam = np.flatnonzero(pieces.seam)
    if len(seam):  # pieces on a tile edge: union per grid
        seam = seam[np.argsort(pieces.label[seam], kind="stable")]
        lab = pieces.label[seam]
        first = np.flatnonzero(np.r_[True, lab[1:] != lab[:-1]])
        for a, b in zip(first, np.r_[first[1:], len(seam)], strict=True):
            part = pieces.geom[seam[a:b]]
            merged = shapely.get_parts(shapely.union_all(part)) if b - a > 1 else part
            labels.append(np.full(len(merged), lab[a], dtype=np.int64))
            geoms.append(merged)
    label = np.concatenate(labels)
    geom = np.concatenate(geoms)
    big = shapely.area(geom) >= min_m2
    if not big.any():
        return empty
    label = label[big]
    geom = shapely.simplify(_canonical(geom[big]), cell_m * 0.5)
    out = gpd.GeoDataFrame({"_g": label, name: ids[label],
                            "area_m2": np.round(shapely.area(geom), 1),
                            "incidents": np.zeros(len(label), dtype=np.int64)},
                           geometry=geom, crs=crs)
    # by grid, largest first; ties by position, so the order does not depend on tiling
    b = shapely.bounds(geom)
    order = np.lexsort((b[:, 1], b[:, 0], -out["area_m2"].to_numpy(), label))
    return out.iloc[order].reset_index(drop=True)
