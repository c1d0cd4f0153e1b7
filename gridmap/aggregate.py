"""Counting points per grid, per square cell and per H3 hexagon, with rates.

* :func:`count_per_grid` — points per management grid (via
  :func:`gridmap.assign.assign_points`: a point on a shared boundary goes to
  one grid only; points outside every grid are counted in
  ``attrs["outside"]`` and listed by :func:`outside_points`);
* :func:`count_per_square` — a square lattice in the metric CRS, snapped to
  multiples of the cell size, every cell of the extent kept (zeros too, which
  hot-spot statistics need);
* :func:`count_per_h3` — H3 (v4) hexagons; the cells covering the points'
  extent are kept, empty ones included. :func:`latlng_to_h3` gives the same
  cells as ``h3.latlng_to_cell`` for 10 million points in about a second
  (see the comment above it);
* :func:`add_rates` — per km² (areas in the metric CRS) and per 1,000
  residents (from a population column);
* :func:`space_time_counts` — a cells × time-steps cube for emerging hot spots.

``split_by="category"`` adds one count column per category value
(``n_<value>``) beside the total ``n``. Counts are raw here; publish them
through :func:`gridmap.privacy.suppress_small_counts` (the CLI does).
"""

from __future__ import annotations

import functools
import math
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


# H3 cells are found in two steps. A numba pass puts every point on the hexagon
# lattice of its icosahedron face, the way H3 does (gnomonic projection on the
# nearest face, Class III resolutions rotated by asin(sqrt(3/28))), and keys it
# by (face, lattice position); then h3 itself indexes one point per key. H3's
# cell is a function of (face, lattice position), so every point of a key
# shares the cell of its representative. A point within a relative 1e-9 of a
# hexagon edge, or almost as close to a second face, is left to h3 itself, so
# that rounding can never put it in another cell than h3 would. The faces'
# centres and axes are read from h3 (the res-0 cell at each face's centre and
# its child one step along the face's i axis), not copied from its source.

_H3_RES0_U = (3.0 - math.sqrt(5.0)) / 2.0  # hexagon spacing at res 0, in gnomonic units
_H3_AP7_ROT = math.asin(math.sqrt(3.0 / 28.0))  # Class III lattice rotation
_H3_RTOL = 1e-9
_H3_FACE_TIE = 1e-9
_H3_MISSING = -2
_H3_NEAR_EDGE = -1
_H3_OTHER_FACE = -3
_SIN60 = math.sqrt(3.0) / 2.0


def _unit_vector(lat: float, lng: float) -> np.ndarray:
    la, lo = math.radians(lat), math.radians(lng)
    return np.array([math.cos(la) * math.cos(lo), math.cos(la) * math.sin(lo), math.sin(la)])


@functools.cache
def _h3_faces() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Face centres (20×3), each face's three neighbours (20×3) and lattice axes ``[class, face]``.

    The axes project a unit vector ``v`` on face ``f`` to H3's hex2d
    coordinates: ``x = (v·ax[f]) / (v·c[f])``, ``y = (v·ay[f]) / (v·c[f])``,
    times ``sqrt(7)^res / _H3_RES0_U``; class 0 for even resolutions, 1 for odd.
    """
    vertices = [(_unit_vector(*h3_int.cell_to_latlng(p)), set(h3_int.get_icosahedron_faces(p)))
                for p in h3_int.get_pentagons(0)]
    one_face: dict[int, list[int]] = {}
    for cell in h3_int.get_res0_cells():
        faces = h3_int.get_icosahedron_faces(cell)
        if len(faces) == 1:
            one_face.setdefault(faces[0], []).append(cell)
    centres = np.empty((20, 3))
    ax = np.empty((2, 20, 3))
    ay = np.empty((2, 20, 3))
    cos_r, sin_r = math.cos(_H3_AP7_ROT), math.sin(_H3_AP7_ROT)
    for f in range(20):
        corners = [v for v, faces in vertices if f in faces]
        middle = np.sum(corners, axis=0)
        middle /= np.linalg.norm(middle)
        cell = min(one_face[f],
                   key=lambda c: np.linalg.norm(_unit_vector(*h3_int.cell_to_latlng(c)) - middle))
        c = _unit_vector(*h3_int.cell_to_latlng(cell))
        # res 2 child of the centre: digit 0 at res 1, digit 4 (the i axis) at res 2
        step = h3_int.cell_to_center_child(cell, 2) | (4 << (3 * (15 - 2)))
        v = _unit_vector(*h3_int.cell_to_latlng(step))
        i_axis = v - v.dot(c) * c
        i_axis /= np.linalg.norm(i_axis)
        j_perp = np.cross(c, i_axis)  # 90° counter-clockwise seen from outside
        centres[f] = c
        ax[0, f], ay[0, f] = i_axis, j_perp
        ax[1, f] = cos_r * i_axis + sin_r * j_perp
        ay[1, f] = cos_r * j_perp - sin_r * i_axis
    # a face is the nearest one exactly when it is nearer than its three
    # neighbours across its edges (their centres are the three nearest)
    near = centres @ centres.T
    np.fill_diagonal(near, -2.0)
    neighbours = np.argsort(-near, axis=1, kind="stable")[:, :3].copy()
    return centres, neighbours, ax, ay


@njit(cache=True, nogil=True, error_model="numpy")
def _h3_key(lat, lng, centres, neighbours, ax, ay, scale, f):  # pragma: no cover - numba
    """Key of one point on face ``f``, without branches (loops over points then run faster).

    ``_H3_OTHER_FACE`` when another face is nearer, or almost as near.
    """
    d2r = math.pi / 180.0
    cl = math.cos(lat * d2r)
    vx = cl * math.cos(lng * d2r)
    vy = cl * math.sin(lng * d2r)
    vz = math.sin(lat * d2r)
    depth = centres[f, 0] * vx + centres[f, 1] * vy + centres[f, 2] * vz
    rival = -2.0
    for j in range(3):
        g = neighbours[f, j]
        rival = max(rival, centres[g, 0] * vx + centres[g, 1] * vy + centres[g, 2] * vz)
    s = scale / depth
    px = s * (ax[f, 0] * vx + ax[f, 1] * vy + ax[f, 2] * vz)
    py = s * (ay[f, 0] * vx + ay[f, 1] * vy + ay[f, 2] * vz)
    # lattice: centres at a·(1, 0) + b·(-1/2, sin 60°); the nearest one is a
    # corner of the rhomb around the point
    b = py / _SIN60
    a = px + 0.5 * b
    a0 = math.floor(a)
    b0 = math.floor(b)
    near = 1e300
    ca = a0
    cb = b0
    for da in range(2):
        for db in range(2):
            dx = px - (a0 + da - 0.5 * (b0 + db))
            dy = py - (b0 + db) * _SIN60
            dd = dx * dx + dy * dy
            if dd < near:
                near = dd
                ca = a0 + da
                cb = b0 + db
    dx = px - (ca - 0.5 * cb)
    dy = py - cb * _SIN60
    edge = max(abs(dx), abs(0.5 * dx + _SIN60 * dy), abs(-0.5 * dx + _SIN60 * dy))
    offset = 1 << 25
    key = (f << 52) | ((int(ca) + offset) << 26) | (int(cb) + offset)
    key = _H3_NEAR_EDGE if edge > 0.5 - _H3_RTOL * (abs(px) + abs(py) + 1.0) else key
    key = _H3_OTHER_FACE if depth - rival < _H3_FACE_TIE else key
    key = _H3_NEAR_EDGE if not -90.0 <= lat <= 90.0 else key  # let h3 decide
    return _H3_MISSING if not (math.isfinite(lat) and math.isfinite(lng)) else key


@njit(cache=True, nogil=True, error_model="numpy")
def _h3_keys_on_face(lat, lng, centres, neighbours, ax, ay, scale, f, out):  # pragma: no cover
    """Key every point as if on face ``f`` (most data lie on one face)."""
    for k in range(lat.shape[0]):
        out[k] = _h3_key(lat[k], lng[k], centres, neighbours, ax, ay, scale, f)


@njit(cache=True, nogil=True, error_model="numpy")
def _h3_keys_other_faces(lat, lng, todo, centres, neighbours, ax, ay, scale,
                         out):  # pragma: no cover - numba
    """Key the points at positions ``todo`` on their nearest face (h3 decides near-ties)."""
    d2r = math.pi / 180.0
    for k in todo:
        cl = math.cos(lat[k] * d2r)
        vx = cl * math.cos(lng[k] * d2r)
        vy = cl * math.sin(lng[k] * d2r)
        vz = math.sin(lat[k] * d2r)
        best = -2.0
        second = -2.0
        f = 0
        for j in range(20):
            d = centres[j, 0] * vx + centres[j, 1] * vy + centres[j, 2] * vz
            if d > best:
                second = best
                best = d
                f = j
            elif d > second:
                second = d
        if best - second < _H3_FACE_TIE:
            out[k] = _H3_NEAR_EDGE
        else:
            out[k] = _h3_key(lat[k], lng[k], centres, neighbours, ax, ay, scale, f)


_NO_KEY = np.iinfo(np.int64).min


@njit(cache=True, nogil=True)
def _hash_slots(keys, first, n_groups, bits):  # pragma: no cover - numba
    """An open-addressing table of ``2**bits`` slots holding the first ``n_groups`` keys."""
    slot_key = np.full(1 << bits, _NO_KEY, dtype=np.int64)
    slot_group = np.empty(1 << bits, dtype=np.int64)
    mask = (1 << bits) - 1
    for g in range(n_groups):
        key = keys[first[g]]
        i = np.int64((np.uint64(key) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(64 - bits))
        while slot_key[i] != _NO_KEY:
            i = (i + 1) & mask
        slot_key[i] = key
        slot_group[i] = g
    return slot_key, slot_group


@njit(cache=True, nogil=True)
def _group_keys(keys):  # pragma: no cover - numba
    """``(codes, first)``: group of every key (in order of first appearance), first position of each.

    Like ``pandas.factorize`` but with the first occurrences, in one pass
    through a hash table that stays small when keys repeat.
    """
    n = keys.shape[0]
    codes = np.empty(n, dtype=np.int64)
    first = np.empty(max(n, 1), dtype=np.int64)
    n_groups = 0
    bits = 10
    slot_key, slot_group = _hash_slots(keys, first, 0, bits)
    mask = (1 << bits) - 1
    for k in range(n):
        key = keys[k]
        i = np.int64((np.uint64(key) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(64 - bits))
        while slot_key[i] != key and slot_key[i] != _NO_KEY:
            i = (i + 1) & mask
        if slot_key[i] == key:
            codes[k] = slot_group[i]
            continue
        slot_key[i] = key
        slot_group[i] = n_groups
        first[n_groups] = k
        codes[k] = n_groups
        n_groups += 1
        if 2 * n_groups > mask:  # keep the table at most half full
            bits += 1
            mask = (1 << bits) - 1
            slot_key, slot_group = _hash_slots(keys, first, n_groups, bits)
    return codes, first[:n_groups]


def _h3_codes(lat: np.ndarray, lng: np.ndarray, res: int) -> tuple[np.ndarray, np.ndarray]:
    """``(codes, cells)``: point ``i`` lies in ``cells[codes[i]]``; ``codes`` is −1 without location.

    ``cells`` are the distinct H3 cells (``uint64``), sorted.
    """
    if not 0 <= int(res) <= 15:
        raise ValueError(f"H3 resolution must be 0–15, got {res!r}.")
    res = int(res)
    lat = np.asarray(lat, dtype=np.float64)
    lng = np.asarray(lng, dtype=np.float64)
    if lat.shape != lng.shape or lat.ndim != 1:
        raise ValueError(f"lat and lng must be 1-D arrays of one length, got {lat.shape} "
                         f"and {lng.shape}.")
    centres, neighbours, ax, ay = _h3_faces()
    keys = np.empty(len(lat), dtype=np.int64)
    # the face nearest to most of up to 1,000 points spread through the input
    sample = np.unique(np.linspace(0, len(lat) - 1, min(len(lat), 1000)).astype(np.int64))
    la, lo = lat[sample], lng[sample]
    keep = np.isfinite(la) & np.isfinite(lo)
    la, lo = np.radians(la[keep]), np.radians(lo[keep])
    v = np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])
    f0 = int(np.bincount(np.argmax(v @ centres.T, axis=1), minlength=20).argmax()) if len(v) else 0
    scale = math.sqrt(7.0) ** res / _H3_RES0_U
    ax, ay = ax[res % 2], ay[res % 2]
    _h3_keys_on_face(lat, lng, centres, neighbours, ax, ay, scale, f0, keys)
    todo = np.flatnonzero(keys == _H3_OTHER_FACE)
    _h3_keys_other_faces(lat, lng, todo, centres, neighbours, ax, ay, scale, keys)
    codes, rep = _group_keys(keys)  # rep: the first point of each key
    uniq = keys[rep]
    to_cell = h3_int.latlng_to_cell
    cells = [to_cell(float(lat[i]), float(lng[i]), res) if key >= 0 else 0
             for i, key in zip(rep.tolist(), uniq.tolist(), strict=True)]
    # points near an edge: h3 one by one, each with a code of its own
    edge = np.flatnonzero(keys == _H3_NEAR_EDGE)
    codes[edge] = len(cells) + np.arange(len(edge))
    cells += [to_cell(float(lat[i]), float(lng[i]), res) for i in edge.tolist()]
    missing = uniq == _H3_MISSING
    cells = np.asarray(cells, dtype=np.uint64)
    valid = np.ones(len(cells), dtype=bool)
    valid[:len(uniq)][missing | (uniq == _H3_NEAR_EDGE)] = False
    distinct, where = np.unique(cells[valid], return_inverse=True)
    remap = np.full(len(cells), -1, dtype=np.int64)
    remap[valid] = where
    return remap[codes], distinct


def latlng_to_h3(lat: np.ndarray, lng: np.ndarray, res: int) -> np.ndarray:
    """H3 cell (as ``uint64``) of every latitude/longitude; 0 where missing.

    The same cells as ``h3.latlng_to_cell`` point by point, in about 1 s for
    10 million points: points are keyed by their hexagon in a numba pass and
    ``h3`` indexes one point per hexagon (plus the few within a relative 1e-9
    of an edge, one by one).
    """
    codes, cells = _h3_codes(lat, lng, res)
    return np.append(cells, np.uint64(0))[codes]  # code −1 picks the 0 at the end


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
    codes, occupied = _h3_codes(y, x, res)
    cells = set(occupied.tolist())
    if fill and ok.any():
        box = h3.LatLngPoly([(float(np.nanmin(y)), float(np.nanmin(x))),
                             (float(np.nanmin(y)), float(np.nanmax(x))),
                             (float(np.nanmax(y)), float(np.nanmax(x))),
                             (float(np.nanmax(y)), float(np.nanmin(x)))])
        cells.update(h3.str_to_int(c) for c in h3.h3shape_to_cells(box, res))
    ordered = np.array(sorted(cells), dtype=np.uint64)
    # position of every occupied cell among all cells, then of every point
    where = np.searchsorted(ordered, occupied)
    index = np.append(where, -1)[codes]  # code −1 (no location) picks the −1 at the end
    table = _counts_table(index, len(ordered), points, split_by, weight)
    names = [h3.int_to_str(int(c)) for c in ordered]
    out = gpd.GeoDataFrame({"h3": names}, geometry=_h3_polygons(names), crs=WGS84)
    for col in table.columns:
        out[col] = table[col].to_numpy()
    out.attrs["lattice"] = {"kind": "h3", "res": int(res)}
    out.attrs["outside"] = int((index < 0).sum())
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
