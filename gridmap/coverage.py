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
unseen parts of a grid of at least ``min_blind_m2``. Incidents are checked
exactly against the view polygons, and roads are sampled every ``cell_m``.
Planned cameras are left out (they are not built yet), and so are rows whose
GB/T 28181 id says they are not camera channels (recorders, servers).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numba import njit

from ._errors import DataError, SchemaError
from ._scanline import polygon_rows, row_crossings
from ._validate import require_crs
from .assign import _ragged, assign_points, pick_grid_id
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


# --------------------------------------------------------------------------- rasters


@njit(cache=True, nogil=True)
def _burn_views(count: np.ndarray, x0: float, y1: float, cs: float, vx: np.ndarray,
                vy: np.ndarray, vr: np.ndarray, saz: np.ndarray, caz: np.ndarray,
                chalf: np.ndarray, disc: np.ndarray) -> None:
    """Add 1 to every cell whose centre a sector/disc sees (saturating at 255)."""
    ny, nx = count.shape
    for i in range(len(vx)):
        r = vr[i]
        r2 = r * r
        r_lo = max(int(np.floor((y1 - (vy[i] + r)) / cs - 0.5)), 0)
        r_hi = min(int(np.ceil((y1 - (vy[i] - r)) / cs - 0.5)), ny - 1)
        for row in range(r_lo, r_hi + 1):
            dy = y1 - (row + 0.5) * cs - vy[i]
            if dy * dy > r2:
                continue
            half = math.sqrt(r2 - dy * dy)
            ca = max(int(np.ceil((vx[i] - half - x0) / cs - 0.5)), 0)
            cb = min(int(np.floor((vx[i] + half - x0) / cs - 0.5)), nx - 1)
            for col in range(ca, cb + 1):
                if not disc[i]:
                    dx = x0 + (col + 0.5) * cs - vx[i]
                    dot = dx * saz[i] + dy * caz[i]
                    if dot < math.sqrt(dx * dx + dy * dy) * chalf[i]:
                        continue
                if count[row, col] < 255:
                    count[row, col] += 1


@njit(cache=True, nogil=True)
def _burn_polygons(target: np.ndarray, x0: float, y1: float, cs: float, coords: np.ndarray,
                   ring_off: np.ndarray, geom_ring: np.ndarray, which: np.ndarray,
                   label: bool) -> None:
    """Scanline fill of cell centres: ``target = g`` (label) or ``target += 1`` (count)."""
    ny, nx = target.shape
    xs = np.empty(64, dtype=np.float64)
    for g in which:
        r_lo, r_hi = polygon_rows(coords, ring_off, geom_ring, g, y1, cs, ny)
        for row in range(r_lo, r_hi + 1):
            xs, n = row_crossings(coords, ring_off, geom_ring, g, y1 - (row + 0.5) * cs, xs)
            if n < 2:
                continue
            for j in range(0, n - 1, 2):
                ca = max(int(np.ceil((xs[j] - x0) / cs - 0.5)), 0)
                cb = min(int(np.floor((xs[j + 1] - x0) / cs - 0.5)), nx - 1)
                for col in range(ca, cb + 1):
                    if label:
                        target[row, col] = g
                    elif target[row, col] < 255:
                        target[row, col] += 1


@njit(cache=True, nogil=True)
def _tally(label: np.ndarray, count: np.ndarray, total: np.ndarray, covered: np.ndarray,
           overlap: np.ndarray) -> None:
    """Cells, covered cells and overlapped cells per grid label."""
    ny, nx = label.shape
    for row in range(ny):
        for col in range(nx):
            g = label[row, col]
            if g < 0:
                continue
            total[g] += 1
            c = count[row, col]
            if c >= 1:
                covered[g] += 1
                if c >= 2:
                    overlap[g] += 1


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


def _raster_coverage(
    views: gpd.GeoDataFrame, grids_m: gpd.GeoDataFrame, *, cell_m: float,
    blind: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[tuple[int, shapely.Geometry]]]:
    """Per grid: cells, covered cells, overlapped cells; and unseen pieces (label, polygon)."""
    polys = np.asarray(grids_m.geometry.values)
    n = len(polys)
    total = np.zeros(n, dtype=np.int64)
    covered = np.zeros(n, dtype=np.int64)
    overlap = np.zeros(n, dtype=np.int64)
    pieces: list[tuple[int, shapely.Geometry]] = []
    if n == 0:
        return total, covered, overlap, pieces
    g_coords, g_ring, g_geom = _ragged(polys)
    gb = shapely.bounds(polys)
    xmin, ymin = np.nanmin(gb[:, 0]), np.nanmin(gb[:, 1])
    xmax, ymax = np.nanmax(gb[:, 2]), np.nanmax(gb[:, 3])
    nx_all = max(math.ceil((xmax - xmin) / cell_m), 1)
    ny_all = max(math.ceil((ymax - ymin) / cell_m), 1)
    top = ymin + ny_all * cell_m
    # analytic views (sectors/discs) and polygon views (occluded)
    occl = views["occluded"].to_numpy(dtype=bool)
    ana = views.loc[~occl]
    vx = ana["x"].to_numpy(dtype=float)
    vy = ana["y"].to_numpy(dtype=float)
    vr = ana["range_m"].to_numpy(dtype=float)
    az = np.deg2rad(ana["azimuth_deg"].fillna(0.0).to_numpy(dtype=float))
    half = np.deg2rad(ana["hfov_deg"].to_numpy(dtype=float) / 2.0)
    disc = (ana["shape"].to_numpy(dtype=object) == "disc") | (half >= math.pi)
    saz, caz, chalf = np.sin(az), np.cos(az), np.cos(np.minimum(half, math.pi))
    o_polys = np.asarray(views.geometry.values[occl])
    o_coords, o_ring, o_geom = _ragged(o_polys)
    ob = shapely.bounds(o_polys) if len(o_polys) else np.empty((0, 4))
    for ty in range(0, ny_all, _TILE):
        for tx in range(0, nx_all, _TILE):
            nx = min(_TILE, nx_all - tx)
            ny = min(_TILE, ny_all - ty)
            x0 = xmin + tx * cell_m
            y1 = top - ty * cell_m
            x1 = x0 + nx * cell_m
            y0 = y1 - ny * cell_m
            gsel = np.flatnonzero((gb[:, 0] <= x1) & (gb[:, 2] >= x0) & (gb[:, 1] <= y1)
                                  & (gb[:, 3] >= y0))
            if len(gsel) == 0:
                continue
            label = np.full((ny, nx), -1, dtype=np.int32)
            _burn_polygons(label, x0, y1, cell_m, g_coords, g_ring, g_geom, gsel, True)
            count = np.zeros((ny, nx), dtype=np.uint8)
            vsel = np.flatnonzero((vx - vr <= x1) & (vx + vr >= x0) & (vy - vr <= y1)
                                  & (vy + vr >= y0))
            if len(vsel):
                _burn_views(count, x0, y1, cell_m, vx[vsel], vy[vsel], vr[vsel], saz[vsel],
                            caz[vsel], chalf[vsel], disc[vsel])
            if len(ob):
                osel = np.flatnonzero((ob[:, 0] <= x1) & (ob[:, 2] >= x0) & (ob[:, 1] <= y1)
                                      & (ob[:, 3] >= y0))
                if len(osel):
                    _burn_polygons(count, x0, y1, cell_m, o_coords, o_ring, o_geom, osel,
                                   False)
            _tally(label, count, total, covered, overlap)
            if blind:
                pieces.extend(_unseen(label, count, x0, y1, cell_m))
    return total, covered, overlap, pieces


def _unseen(label: np.ndarray, count: np.ndarray, x0: float, y1: float,
            cell_m: float) -> list[tuple[int, shapely.Geometry]]:
    """Connected unseen cell groups of each grid in one tile, as polygons."""
    from rasterio.features import shapes
    from rasterio.transform import Affine

    mask = (label >= 0) & (count == 0)
    if not mask.any():
        return []
    transform = Affine(cell_m, 0.0, x0, 0.0, -cell_m, y1)
    return [(int(v), shapely.geometry.shape(geom))
            for geom, v in shapes(label, mask=mask, transform=transform, connectivity=4)]


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
        Compute blind-spot polygons (the slowest step).
    statuses
        Camera statuses whose views count; default all but ``planned``.
    arc_step_deg
        Largest angle between arc vertices and rays.

    Returns
    -------
    CoverageResult
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
    total, covered, overlap, pieces = _raster_coverage(views, grids_m, cell_m=cell_m,
                                                       blind=blind_spots)
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
    cams_in = assign_points(gpd.GeoDataFrame(geometry=gpd.points_from_xy(
        views["x"], views["y"]), crs=crs), grids_m).counts().to_numpy()
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
        require_crs(roads, layer="roads")
        mid, length = _road_samples(roads.to_crs(crs), min(cell_m, 5.0))
        a = assign_points(mid, grids_m, crs=crs)
        seen = _seen(mid, views)
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
        require_crs(incidents, layer="incidents")
        inc = incidents.to_crs(crs)
        xy = np.column_stack([inc.geometry.x, inc.geometry.y])
        a = assign_points(inc, grids_m)
        seen = _seen(xy, views)
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
            hit = shapely.STRtree(blind.geometry.values).query(
                inc.geometry.values[unseen], predicate="intersects")[0]
            in_blind[np.unique(hit)] = True
            per = np.bincount(shapely.STRtree(inc.geometry.values[unseen]).query(
                blind.geometry.values, predicate="intersects")[0], minlength=len(blind))
            blind["incidents"] = per
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


def _seen(xy: np.ndarray, views: gpd.GeoDataFrame) -> np.ndarray:
    """Whether any view polygon covers each point (exact)."""
    if len(xy) == 0 or len(views) == 0:
        return np.zeros(len(xy), dtype=bool)
    pts = shapely.points(xy)
    hit = shapely.STRtree(views.geometry.values).query(pts, predicate="intersects")[0]
    out = np.zeros(len(xy), dtype=bool)
    out[hit] = True
    return out


def _blind_polygons(pieces: list[tuple[int, shapely.Geometry]], ids: np.ndarray,
                    gid: str | None, *, cell_m: float, min_m2: float,
                    crs: object) -> gpd.GeoDataFrame:
    """Merge unseen pieces per grid (across tile edges), keep those of at least ``min_m2``."""
    name = gid or "grid"
    empty = gpd.GeoDataFrame({"_g": pd.Series([], dtype=np.int64), name: [],
                              "area_m2": pd.Series([], dtype=float),
                              "incidents": pd.Series([], dtype=np.int64)},
                             geometry=gpd.GeoSeries([], crs=crs), crs=crs)
    if not pieces:
        return empty
    frame = pd.DataFrame(pieces, columns=["_g", "geometry"])
    labels, geoms = [], []
    for g, part in frame.groupby("_g")["geometry"]:
        merged = shapely.union_all(part.to_numpy()) if len(part) > 1 else part.iat[0]
        for poly in shapely.get_parts(merged):
            if poly.area >= min_m2:
                labels.append(g)
                geoms.append(poly)
    if not labels:
        return empty
    geoms = shapely.simplify(np.array(geoms, dtype=object), cell_m * 0.5)
    labels = np.asarray(labels, dtype=np.int64)
    out = gpd.GeoDataFrame({"_g": labels, name: ids[labels],
                            "area_m2": np.round(shapely.area(geoms), 1),
                            "incidents": np.zeros(len(labels), dtype=np.int64)},
                           geometry=geoms, crs=crs)
    return out.sort_values(["_g", "area_m2"], ascending=[True, False]).reset_index(drop=True)

