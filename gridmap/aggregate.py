"""Counting points per grid, per square cell and per H3 hexagon, with rates.

* :func:`count_per_grid` — points per management grid (via
  :func:`gridmap.assign.assign_points`: a point on a shared boundary goes to
  one grid only; points outside every grid are counted in
  ``attrs["outside"]`` and listed by :func:`outside_points`);
* :func:`count_per_square` — a square lattice in the metric CRS, snapped to
  multiples of the cell size, every cell of the extent kept (zeros too, which
  hot-spot statistics need);
* :func:`count_per_h3` — H3 (v4) hexagons; the cells covering the points'
  extent are kept, empty ones included;
* :func:`add_rates` — per km² (areas in the metric CRS) and per 1,000
  residents (from a population column);
* :func:`space_time_counts` — a cells × time-steps cube for emerging hot spots.

``split_by="category"`` adds one count column per category value
(``n_<value>``) beside the total ``n``. Counts are raw here; publish them
through :func:`gridmap.privacy.suppress_small_counts` (the CLI does).
"""

from __future__ import annotations

import re

import geopandas as gpd
import h3
import h3.api.basic_int as h3_int
import numpy as np
import pandas as pd
import shapely
from numba import njit
from pyproj import CRS

from ._errors import DataError, SchemaError
from ._validate import require_crs
from .assign import assign_points
from .crs import WGS84, metric_crs, to_metric
from .kde import grid_for, points_xy

__all__ = [
    "add_rates",
    "count_per_grid",
    "count_per_h3",
    "count_per_square",
    "latlng_to_h3",
    "outside_points",
    "space_time_counts",
    "split_columns",
]

_MAX_SQUARES = 4_000_000


def _safe_name(value: object) -> str:
    text = re.sub(r"\s+", "_", str(value).strip())
    return f"n_{text}" if text else "n_(blank)"


def split_columns(values: pd.Series) -> dict[object, str]:
    """The count column name for each distinct value of a split column (``n_<value>``)."""
    uniq = sorted(values.dropna().astype(str).unique())
    return {v: _safe_name(v) for v in uniq}


def _counts_table(index: np.ndarray, n_cells: int, points: gpd.GeoDataFrame,
                  split_by: str | None, weight: str | None) -> pd.DataFrame:
    """Counts (and split counts) per cell position; ``index`` is −1 outside every cell."""
    inside = index >= 0
    cols: dict[str, np.ndarray] = {
        "n": np.bincount(index[inside], minlength=n_cells).astype(np.int64)}
    if weight is not None:
        if weight not in points.columns:
            raise SchemaError(f"no weight column {weight!r}; columns are {list(points.columns)}.")
        w = pd.to_numeric(points[weight], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        cols["weight"] = np.bincount(index[inside], weights=np.nan_to_num(w[inside]),
                                     minlength=n_cells)
    if split_by is not None:
        if split_by not in points.columns:
            raise SchemaError(
                f"cannot split by {split_by!r}: no such column; columns are "
                f"{list(points.columns)}."
            )
        values = points[split_by].astype("string").str.strip()
        names = split_columns(values)
        codes = values.map(lambda v: names.get(v, "n_(blank)") if pd.notna(v) else "n_(blank)")
        codes = codes.to_numpy(dtype=object)
        for name in sorted(set(codes[inside])):
            sel = inside & (codes == name)
            cols[name] = np.bincount(index[sel], minlength=n_cells).astype(np.int64)
    return pd.DataFrame(cols)


def count_per_grid(
    points: gpd.GeoDataFrame,
    grids: gpd.GeoDataFrame,
    *,
    grid_id: str | None = None,
    split_by: str | None = None,
    weight: str | None = None,
) -> gpd.GeoDataFrame:
    """Points per grid polygon.

    Parameters
    ----------
    points
        Incident or place points (any CRS).
    grids
        Grid polygons (any CRS).
    grid_id
        Grid id column (see :func:`gridmap.assign.pick_grid_id`).
    split_by
        Column whose values get a count column each (e.g. ``"category"``).
    weight
        Column of point weights summed into ``weight``.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``grids`` with ``n`` (and ``n_<value>``, ``weight``);
        ``attrs["outside"]`` is the number of points outside every grid and
        ``attrs["outside_positions"]`` their positions in ``points``.
    """
    require_crs(grids, layer="grids")
    a = assign_points(points, grids, grid_id=grid_id)
    table = _counts_table(a.index, len(grids), points, split_by, weight)
    out = grids.copy()
    for col in table.columns:
        out[col] = table[col].to_numpy()
    out.attrs["outside"] = int(a.n_outside)
    out.attrs["outside_positions"] = a.outside.tolist()
    out.attrs["points"] = len(points)
    return out


def outside_points(points: gpd.GeoDataFrame, counted: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The points that :func:`count_per_grid` found outside every grid (a copy)."""
    pos = counted.attrs.get("outside_positions", [])
    return points.iloc[list(pos)].copy()


# --------------------------------------------------------------------------- squares


@njit(cache=True, nogil=True)
def _square_index(x, y, left, top, size, rows, cols, out):  # pragma: no cover - numba
    for k in range(x.shape[0]):
        fx = (x[k] - left) / size
        fy = (top - y[k]) / size
        if fx >= 0.0 and fy >= 0.0 and fx < cols and fy < rows:
            out[k] = int(fy) * cols + int(fx)
        else:
            out[k] = -1


def square_index(x: np.ndarray, y: np.ndarray, *, left: float, top: float, size: float,
                 rows: int, cols: int) -> np.ndarray:
    """Row-major cell id of every point on a square lattice (−1 outside or no location)."""
    out = np.empty(len(x), dtype=np.int64)
    _square_index(np.ascontiguousarray(x, dtype=np.float64),
                  np.ascontiguousarray(y, dtype=np.float64), left, top, size, rows, cols, out)
    return out


def count_per_square(
    points: gpd.GeoDataFrame,
    size: float,
    *,
    crs: object = None,
    bounds: tuple[float, float, float, float] | None = None,
    split_by: str | None = None,
    weight: str | None = None,
    drop_empty: bool = False,
) -> gpd.GeoDataFrame:
    """Points per square cell of side ``size`` metres.

    Parameters
    ----------
    points
        Points in any CRS.
    size
        Cell side in metres.
    crs
        Metric CRS of the lattice; default :func:`gridmap.crs.metric_crs`.
    bounds
        Extent ``(xmin, ymin, xmax, ymax)`` in ``crs``; default the points' extent.
    split_by, weight
        As in :func:`count_per_grid`.
    drop_empty
        Keep only cells with at least one point.

    Returns
    -------
    geopandas.GeoDataFrame
        Cells in the metric CRS with ``cell_id``, ``row``, ``col`` and counts;
        ``attrs["lattice"]`` describes the lattice (for fast weights).
    """
    if not size > 0:
        raise ValueError(f"square size must be positive metres, got {size!r}.")
    target = CRS.from_user_input(crs) if crs is not None else metric_crs(points)
    if target.is_geographic:
        raise DataError(f"squares need a metric CRS, not {target.to_string()}.")
    x, y, ok = points_xy(points, target)
    if bounds is None:
        if not ok.any():
            raise DataError("no points with a location to count.")
        bounds = (float(np.nanmin(x)), float(np.nanmin(y)), float(np.nanmax(x)),
                  float(np.nanmax(y)))
    transform, (rows, cols) = grid_for(bounds, float(size))
    if (bounds[2] - transform.c) / size >= cols:  # a point exactly on the right/bottom edge
        cols += 1
    if (transform.f - bounds[1]) / size >= rows:
        rows += 1
    if rows * cols > _MAX_SQUARES:
        raise DataError(f"{rows} × {cols} squares is too many; use a larger size than {size:g} m.")
    idx = square_index(x, y, left=transform.c, top=transform.f, size=float(size), rows=rows,
                       cols=cols)
    table = _counts_table(idx, rows * cols, points, split_by, weight)
    r, c = np.divmod(np.arange(rows * cols), cols)
    x0 = transform.c + c * size
    y1 = transform.f - r * size
    geoms = shapely.box(x0, y1 - size, x0 + size, y1)
    out = gpd.GeoDataFrame({"cell_id": [f"r{a}c{b}" for a, b in zip(r, c, strict=True)],
                            "row": r, "col": c}, geometry=geoms, crs=target)
    for col in table.columns:
        out[col] = table[col].to_numpy()
    if drop_empty:
        out = out[out["n"] > 0].reset_index(drop=True)
    out.attrs["lattice"] = {"kind": "square", "rows": int(rows), "cols": int(cols),
                            "size": float(size), "left": transform.c, "top": transform.f}
    out.attrs["outside"] = int((idx < 0).sum())
    out.attrs["points"] = len(points)
    return out


# --------------------------------------------------------------------------- H3


def latlng_to_h3(lat: np.ndarray, lng: np.ndarray, res: int) -> np.ndarray:
    """H3 cell (as ``uint64``) of every latitude/longitude; 0 where missing.

    Each distinct coordinate pair is indexed once (``h3.latlng_to_cell``), so
    repeated locations — common in geocoded incident data — cost nothing extra.
    """
    if not 0 <= int(res) <= 15:
        raise ValueError(f"H3 resolution must be 0–15, got {res!r}.")
    lat = np.asarray(lat, dtype=np.float64)
    lng = np.asarray(lng, dtype=np.float64)
    out = np.zeros(len(lat), dtype=np.uint64)
    ok = np.isfinite(lat) & np.isfinite(lng)
    if not ok.any():
        return out
    # hash each (lat, lng) pair once: a complex number holds both exactly
    inverse, uniq = pd.factorize(lat[ok] + 1j * lng[ok], sort=False)
    to_cell = h3_int.latlng_to_cell
    cells = np.fromiter((to_cell(a, b, res) for a, b in zip(uniq.real.tolist(),
                                                            uniq.imag.tolist(), strict=True)),
                        dtype=np.uint64, count=len(uniq))
    out[ok] = cells[inverse]
    return out


def _h3_polygons(cells: list[str]) -> np.ndarray:
    return shapely.polygons([[(lng, lat) for lat, lng in h3.cell_to_boundary(c)] for c in cells])


def count_per_h3(
    points: gpd.GeoDataFrame,
    res: int,
    *,
    split_by: str | None = None,
    weight: str | None = None,
    fill: bool = True,
) -> gpd.GeoDataFrame:
    """Points per H3 hexagon at resolution ``res``.

    Parameters
    ----------
    points
        Points in any CRS (converted to WGS84 for H3).
    res
        H3 resolution 0–15 (e.g. 8 ≈ 0.74 km², 9 ≈ 0.11 km²).
    split_by, weight
        As in :func:`count_per_grid`.
    fill
        Also keep the empty hexagons whose centres lie in the points' extent
        (hot-spot statistics need the zeros).

    Returns
    -------
    geopandas.GeoDataFrame
        Hexagons in EPSG:4326 with ``h3`` (cell id) and counts;
        ``attrs["lattice"]`` marks them as H3 (for fast weights).
    """
    x, y, ok = points_xy(points, WGS84)
    codes = latlng_to_h3(y, x, res)
    occupied = np.unique(codes[ok])
    cells = set(occupied.tolist())
    if fill and ok.any():
        box = h3.LatLngPoly([(float(np.nanmin(y)), float(np.nanmin(x))),
                             (float(np.nanmin(y)), float(np.nanmax(x))),
                             (float(np.nanmax(y)), float(np.nanmax(x))),
                             (float(np.nanmax(y)), float(np.nanmin(x)))])
        cells.update(h3.str_to_int(c) for c in h3.h3shape_to_cells(box, res))
    ordered = np.array(sorted(cells), dtype=np.uint64)
    index = np.full(len(codes), -1, dtype=np.int64)
    pos = np.searchsorted(ordered, codes[ok])
    index[ok] = pos
    table = _counts_table(index, len(ordered), points, split_by, weight)
    names = [h3.int_to_str(int(c)) for c in ordered]
    out = gpd.GeoDataFrame({"h3": names}, geometry=_h3_polygons(names), crs=WGS84)
    for col in table.columns:
        out[col] = table[col].to_numpy()
    out.attrs["lattice"] = {"kind": "h3", "res": int(res)}
    out.attrs["outside"] = int((~ok).sum())
    out.attrs["points"] = len(points)
    return out


# --------------------------------------------------------------------------- rates


def add_rates(
    cells: gpd.GeoDataFrame,
    *,
    count: str = "n",
    population: str | None = None,
    per: float = 1000.0,
) -> gpd.GeoDataFrame:
    """Add ``area_km2``, ``<count>_per_km2`` and, with ``population``, ``<count>_per_<per>``.

    Areas are measured in the metric CRS from :func:`gridmap.crs.metric_crs`.
    A rate per resident is missing where the population is missing or zero.
    """
    if count not in cells.columns:
        raise SchemaError(f"no count column {count!r}; columns are {list(cells.columns)}.")
    require_crs(cells, layer="cells")
    out = cells.copy()
    area = to_metric(out[[out.geometry.name]]).area.to_numpy() / 1e6
    out["area_km2"] = area
    n = pd.to_numeric(out[count], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        out[f"{count}_per_km2"] = np.where(area > 0, n / area, np.nan)
    if population is not None:
        if population not in out.columns:
            raise SchemaError(
                f"no population column {population!r}; columns are {list(out.columns)}."
            )
        pop = pd.to_numeric(out[population], errors="coerce").to_numpy(dtype=float,
                                                                        na_value=np.nan)
        label = f"{count}_per_{int(per) if float(per).is_integer() else per}"
        with np.errstate(divide="ignore", invalid="ignore"):
            out[label] = np.where(pop > 0, n / pop * per, np.nan)
    return out


# --------------------------------------------------------------------------- space-time


_FREQ = {"day": "D", "week": "W-SUN", "month": "M", "hour": "h"}  # W-SUN: weeks Mon–Sun


def space_time_counts(
    points: gpd.GeoDataFrame,
    index: np.ndarray,
    n_cells: int,
    *,
    bin: str = "week",
    time_column: str = "reported_at",
) -> pd.DataFrame:
    """A cells × time-steps count cube.

    Parameters
    ----------
    points
        Points with a timestamp column.
    index
        Cell position of every point (−1 outside), e.g. ``assign_points(...).index``.
    n_cells
        Number of cells.
    bin
        ``"day"``, ``"week"`` (weeks starting Monday), ``"month"`` or ``"hour"``.
    time_column
        Timestamp column.

    Returns
    -------
    pandas.DataFrame
        ``n_cells`` rows, one column per period from the first to the last
        (empty periods included), in time order.
    """
    if bin not in _FREQ:
        raise ValueError(f"unknown time bin {bin!r}; choose one of {sorted(_FREQ)}.")
    if time_column not in points.columns:
        raise SchemaError(f"no time column {time_column!r}; columns are {list(points.columns)}.")
    index = np.asarray(index)
    if len(index) != len(points):
        raise DataError(f"{len(index)} cell positions for {len(points)} points.")
    t = pd.to_datetime(points[time_column], errors="coerce")
    ok = (index >= 0) & t.notna().to_numpy()
    if not ok.any():
        raise DataError("no point has both a cell and a timestamp.")
    tt = t[ok]
    if tt.dt.tz is not None:
        tt = tt.dt.tz_localize(None)
    periods = tt.dt.to_period(_FREQ[bin])
    steps = pd.period_range(periods.min(), periods.max(), freq=periods.dt.freq)
    step_pos = np.asarray(steps.get_indexer(periods))
    flat = index[ok] * len(steps) + step_pos
    cube = np.bincount(flat, minlength=n_cells * len(steps)).reshape(n_cells, len(steps))
    return pd.DataFrame(cube, columns=steps)
