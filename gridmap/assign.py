"""Assigning points to grid polygons: each point to exactly one grid, or to none.

:func:`assign_points` answers "which grid is each camera / incident in?" for
millions of points and tens of thousands of polygons.

Boundary rule
-------------
A point belongs to the grid with the **lowest position** (row order in
``grids``) among the grids that *cover* it (interior or boundary). So:

* a point strictly inside one grid gets that grid, exactly as
  ``geopandas.sjoin(points, grids, predicate="within")`` would say;
* a point on the boundary shared by two grids (where ``within`` finds no
  grid at all) goes to the one listed first — never to both, never to none;
* a point inside two overlapping grids also goes to the one listed first;
* a point outside every grid gets position ``-1`` and is listed in
  :attr:`Assignment.outside`; nothing is dropped silently.

Algorithm
---------
The polygons' extent is cut into square cells (up to 2**24 of them). A walk
along every polygon edge lists, per cell, the polygons whose boundary passes
through it (with a small tolerance against rounding). A scanline pass then
labels each cell with the lowest-positioned polygon that contains the whole
cell (its centre is inside and its boundary misses the cell). A point in a
cell no boundary crosses takes the cell's label. A point in a crossed cell
is tested exactly against the listed polygons positioned before the label with the same ray-crossing rule
and floating-point orientation filter GEOS uses; the rare points whose
orientation the filter cannot decide (and points against polygons with very
many edges) are handed to GEOS itself (``shapely`` STRtree, predicate
``covered_by``). The result is identical to testing every point with GEOS.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numba import njit, prange
from pyproj import CRS

from ._errors import CRSError, SchemaError
from ._validate import require_crs

__all__ = ["Assignment", "assign_points", "pick_grid_id"]


@dataclass(frozen=True, eq=False)
class Assignment:
    """The grid of every point.

    Attributes
    ----------
    index
        ``int64`` array, one entry per point: the position (``iloc``) of its grid
        in ``grids``, or ``-1`` when the point is outside every grid (or has no
        geometry).
    outside
        Positions of the points outside every grid, to count and list them.
    grid_id
        The column the ids come from (``None`` when the grids' index was used).
    grid_index
        The grids' index, to align :meth:`counts` with the grids.
    point_index
        The points' index (a RangeIndex for an array of points).
    grid_values
        The id of every grid, in grid order.
    """

    index: np.ndarray
    outside: np.ndarray
    grid_id: str | None
    grid_index: pd.Index
    point_index: pd.Index
    grid_values: np.ndarray

    @cached_property
    def grid_ids(self) -> pd.Series:
        """The grid id of every point (aligned with the points), ``<NA>`` outside all grids."""
        ids = pd.Series(self.grid_values).convert_dtypes().array
        # -1 (outside) becomes <NA> through take(allow_fill=True)
        return pd.Series(ids.take(self.index, allow_fill=True), index=self.point_index,
                         name=self.grid_id or "grid")

    @property
    def n_outside(self) -> int:
        """How many points are outside every grid."""
        return len(self.outside)

    def counts(self, weights: Sequence[float] | np.ndarray | pd.Series | None = None) -> pd.Series:
        """Points (or their summed weights) per grid, aligned with ``grids``.

        Parameters
        ----------
        weights
            One weight per point; missing weights count as 0. Without weights each
            point counts 1 and the result is ``int64``.

        Returns
        -------
        pandas.Series
            Indexed like ``grids`` (so ``grids["n"] = a.counts()`` works); points
            outside every grid are not in any count (see :attr:`outside`).
        """
        inside = self.index >= 0
        n = len(self.grid_index)
        if weights is None:
            values = np.bincount(self.index[inside], minlength=n).astype(np.int64)
        else:
            w = np.asarray(pd.to_numeric(pd.Series(np.asarray(weights)), errors="coerce"),
                           dtype=float)
            if len(w) != len(self.index):
                raise ValueError(
                    f"weights has {len(w)} values for {len(self.index)} points; "
                    "pass one weight per point."
                )
            w = np.nan_to_num(w, nan=0.0)
            values = np.bincount(self.index[inside], weights=w[inside], minlength=n)
        return pd.Series(values, index=self.grid_index, name="count" if weights is None else "weight")


def pick_grid_id(grids: pd.DataFrame, grid_id: str | None = None) -> str | None:
    """The id column of ``grids``: ``grid_id`` if given, else ``"grid_id"``, else the
    first column whose values are all present and unique (``None``: use the index).

    Raises
    ------
    SchemaError
        When the requested column is absent or its values are not unique.
    """
    if grid_id is not None:
        if grid_id not in grids.columns:
            raise SchemaError(
                f"grids have no column {grid_id!r}; columns are {list(grids.columns)}. "
                "Pass --grid-id with one of them."
            )
        if grids[grid_id].isna().any() or not grids[grid_id].is_unique:
            raise SchemaError(
                f"grid id column {grid_id!r} has missing or duplicate values; "
                "pick a column that identifies each grid once."
            )
        return grid_id
    geom = grids.geometry.name if isinstance(grids, gpd.GeoDataFrame) else None
    candidates = ["grid_id"] + [c for c in grids.columns if c not in ("grid_id", geom)]
    for col in candidates:
        if col in grids.columns and not grids[col].isna().any() and grids[col].is_unique:
            try:
                hash(tuple(grids[col].head(1)))
            except TypeError:
                continue
            return col
    return None


def _xy_of_points(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x, y of an array of Points; NaN for missing and empty ones."""
    try:
        x = shapely.get_x(values)
        y = shapely.get_y(values)
    except shapely.errors.GEOSException:  # empty points: read the others only
        x = np.full(len(values), np.nan)
        y = np.full(len(values), np.nan)
        full = ~shapely.is_empty(values)
        x[full] = shapely.get_x(values[full])
        y[full] = shapely.get_y(values[full])
    # get_x gives NaN for missing geometries and for anything but a Point
    nan = np.flatnonzero(np.isnan(x))
    tid = shapely.get_type_id(values[nan])
    wrong = (tid != -1) & (tid != int(shapely.GeometryType.POINT))
    if wrong.any():
        kinds = sorted({shapely.GeometryType(t).name.title() for t in np.unique(tid[wrong])})
        raise SchemaError(
            f"points layer has {kinds} geometries; only Points can be assigned to "
            "grids (use .centroid or .representative_point() first)."
        )
    return x, y


def _point_coords(
    points: gpd.GeoDataFrame | gpd.GeoSeries | np.ndarray, target: CRS, crs: object
) -> tuple[np.ndarray, np.ndarray, pd.Index]:
    """x, y of the points in ``target`` (NaN for missing/empty) and the points' index."""
    if isinstance(points, gpd.GeoDataFrame | gpd.GeoSeries):
        geo = points.geometry if isinstance(points, gpd.GeoDataFrame) else points
        if geo.crs is None:
            raise CRSError(
                "points have no CRS; set one with points.set_crs('EPSG:4326') "
                "(or the CRS the coordinates are really in)."
            )
        if not geo.crs.equals(target):
            geo = geo.to_crs(target)
        values = np.asarray(geo.array)
        return (*_xy_of_points(values), points.index)
    arr = np.asarray(points, dtype=float)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise SchemaError(
            f"points array has shape {arr.shape}; pass an (N, 2) array of x, y "
            "(longitude, latitude) pairs."
        )
    src = CRS.from_user_input(crs if crs is not None else "EPSG:4326")
    x = arr[:, 0].copy()
    y = arr[:, 1].copy()
    if not src.equals(target):
        from pyproj import Transformer

        tr = Transformer.from_crs(src, target, always_xy=True)
        x, y = tr.transform(x, y)
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
    return x, y, pd.RangeIndex(len(arr))


def _assign_strtree(x: np.ndarray, y: np.ndarray, polys: np.ndarray) -> np.ndarray:
    """Reference implementation: lowest polygon position that covers each point."""
    out = np.full(len(x), -1, dtype=np.int64)
    ok = np.isfinite(x) & np.isfinite(y)
    pos = np.flatnonzero(ok)
    if len(pos) == 0 or len(polys) == 0:
        return out
    tree = shapely.STRtree(polys)
    pts = shapely.points(x[pos], y[pos])
    p_idx, g_idx = tree.query(pts, predicate="covered_by")
    if len(p_idx):
        best = np.full(len(pos), np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(best, p_idx, g_idx.astype(np.int64))
        hit = best != np.iinfo(np.int64).max
        out[pos[hit]] = best[hit]
    return out


# --------------------------------------------------------------------------- fast path
_MAX_CELLS = 1 << 24
_CELLS_PER_POLYGON = 256
_MAX_EDGES_EXACT = 512  # candidate polygons with more edges are tested by GEOS
_TOL = 1e-6  # cells; edge walks are widened by this much against rounding


@njit(cache=True, nogil=True)
def _orientation(ax: float, ay: float, bx: float, by: float, cx: float, cy: float) -> int:
    """Sign of the turn a→b→c: 1 left, -1 right, 0 collinear, 2 undecided.

    The floating-point filter of GEOS ``CGAlgorithmsDD::orientationIndexFilter``:
    when it cannot certify the sign, the caller defers to GEOS.
    """
    detleft = (ax - cx) * (by - cy)
    detright = (ay - cy) * (bx - cx)
    det = detleft - detright
    if detleft > 0.0:
        if detright <= 0.0:
            return 1 if det > 0 else (-1 if det < 0 else 0)
        detsum = detleft + detright
    elif detleft < 0.0:
        if detright >= 0.0:
            return 1 if det > 0 else (-1 if det < 0 else 0)
        detsum = -detleft - detright
    else:
        return 1 if det > 0 else (-1 if det < 0 else 0)
    errbound = 1e-15 * detsum
    if det >= errbound:
        return 1
    if -det >= errbound:
        return -1
    return 2


@njit(cache=True, nogil=True)
def _covers(px: float, py: float, g: int, coords: np.ndarray, ring_off: np.ndarray,
            geom_ring: np.ndarray) -> int:
    """1 when polygon ``g`` covers (x, y), 0 when not, 2 when undecided.

    GEOS ``RayCrossingCounter`` over every ring of the (multi)polygon.
    """
    crossings = 0
    for r in range(geom_ring[g], geom_ring[g + 1]):
        for k in range(ring_off[r], ring_off[r + 1] - 1):
            x1 = coords[k, 0]
            y1 = coords[k, 1]
            x2 = coords[k + 1, 0]
            y2 = coords[k + 1, 1]
            if x1 < px and x2 < px:
                continue
            if px == x2 and py == y2:
                return 1
            if y1 == py and y2 == py:
                lo = min(x1, x2)
                hi = max(x1, x2)
                if lo <= px <= hi:
                    return 1
                continue
            if (y1 > py and y2 <= py) or (y2 > py and y1 <= py):
                sign = _orientation(x1, y1, x2, y2, px, py)
                if sign == 2:
                    return 2
                if sign == 0:
                    return 1
                if y2 < y1:
                    sign = -sign
                if sign > 0:
                    crossings += 1
    return crossings % 2


@njit(cache=True, nogil=True)
def _sort_small(a: np.ndarray, n: int) -> None:
    """Insertion sort of ``a[:n]`` in place (short arrays)."""
    for i in range(1, n):
        v = a[i]
        j = i - 1
        while j >= 0 and a[j] > v:
            a[j + 1] = a[j]
            j -= 1
        a[j + 1] = v


@njit(cache=True, nogil=True)
def _label_cells(coords: np.ndarray, ring_off: np.ndarray, geom_ring: np.ndarray,
                 order: np.ndarray, x0: float, y1: float, cs: float, nx: int,
                 ny: int, cell_off: np.ndarray, cell_geom: np.ndarray) -> np.ndarray:
    """Per cell (row 0 at the top), the lowest polygon containing the whole cell (-1: none).

    That is the lowest polygon containing the cell's centre among those whose
    boundary misses the cell (``cell_geom`` lists the others). Polygons are
    visited in ``order`` (spatially sorted, for memory locality); the result
    does not depend on it.
    """
    label = np.full(ny * nx, -1, dtype=np.int32)
    xs = np.empty(64, dtype=np.float64)
    for g in order:
        c0 = ring_off[geom_ring[g]]
        c1 = ring_off[geom_ring[g + 1]]
        if c1 <= c0:
            continue
        gymin = np.inf
        gymax = -np.inf
        for k in range(c0, c1):
            gymin = min(gymin, coords[k, 1])
            gymax = max(gymax, coords[k, 1])
        r_lo = max(int(np.floor((y1 - gymax) / cs - 0.5)), 0)
        r_hi = min(int(np.ceil((y1 - gymin) / cs - 0.5)), ny - 1)
        for row in range(r_lo, r_hi + 1):
            yc = y1 - (row + 0.5) * cs
            n = 0
            for r in range(geom_ring[g], geom_ring[g + 1]):
                for k in range(ring_off[r], ring_off[r + 1] - 1):
                    ya = coords[k, 1]
                    yb = coords[k + 1, 1]
                    if (ya > yc) != (yb > yc):
                        xa = coords[k, 0]
                        xb = coords[k + 1, 0]
                        if n == len(xs):
                            bigger = np.empty(2 * n, dtype=np.float64)
                            bigger[:n] = xs
                            xs = bigger
                        xs[n] = xa + (yc - ya) * (xb - xa) / (yb - ya)
                        n += 1
            if n < 2:
                continue
            if n <= 32:
                _sort_small(xs, n)
            else:
                xs[:n] = np.sort(xs[:n])
            base = row * nx
            for j in range(0, n - 1, 2):
                ca = max(int(np.ceil((xs[j] - x0) / cs - 0.5)), 0)
                cb = min(int(np.floor((xs[j + 1] - x0) / cs - 0.5)), nx - 1)
                for col in range(ca, cb + 1):
                    cell = base + col
                    cur = label[cell]
                    if cur >= 0 and cur < g:
                        continue
                    touches = False
                    for q in range(cell_off[cell], cell_off[cell + 1]):
                        if cell_geom[q] == g:
                            touches = True
                            break
                    if not touches:
                        label[cell] = g
    return label


@njit(cache=True, nogil=True)
def _edge_cells(coords: np.ndarray, ring_off: np.ndarray, geom_ring: np.ndarray,
                order: np.ndarray, x0: float, y1: float, cs: float, nx: int, ny: int,
                cell_off: np.ndarray, cell_geom: np.ndarray, fill: bool) -> None:
    """The polygons whose boundary passes through each cell (edges widened by ``_TOL``).

    First call (``fill=False``) counts into ``cell_off[1:]``; after a cumulative
    sum, the second call fills ``cell_geom`` so that each cell's polygons are
    ``cell_geom[cell_off[c]:cell_off[c + 1]]``, in ascending position.
    """
    stamp = np.full(nx * ny, -1, dtype=np.int32)  # last polygon recorded per cell
    cursor = cell_off[:-1].copy() if fill else cell_off[:0]
    for g in order:
        for r in range(geom_ring[g], geom_ring[g + 1]):
            for k in range(ring_off[r], ring_off[r + 1] - 1):
                # edge in cell units: u to the right, v downwards from the top-left corner
                ua = (coords[k, 0] - x0) / cs
                va = (y1 - coords[k, 1]) / cs
                ub = (coords[k + 1, 0] - x0) / cs
                vb = (y1 - coords[k + 1, 1]) / cs
                vlo = min(va, vb)
                vhi = max(va, vb)
                r_lo = max(int(np.floor(vlo - _TOL)), 0)
                r_hi = min(int(np.floor(vhi + _TOL)), ny - 1)
                for row in range(r_lo, r_hi + 1):
                    # the part of the edge inside this row band (widened)
                    t_lo = max(row - _TOL, vlo)
                    t_hi = min(row + 1 + _TOL, vhi)
                    if vb != va:
                        u1 = ua + (t_lo - va) * (ub - ua) / (vb - va)
                        u2 = ua + (t_hi - va) * (ub - ua) / (vb - va)
                    else:
                        u1 = ua
                        u2 = ub
                    c_lo = max(int(np.floor(min(u1, u2) - _TOL)), 0)
                    c_hi = min(int(np.floor(max(u1, u2) + _TOL)), nx - 1)
                    for col in range(c_lo, c_hi + 1):
                        cell = row * nx + col
                        if stamp[cell] == g:
                            continue
                        stamp[cell] = g
                        if fill:
                            cell_geom[cursor[cell]] = g
                            cursor[cell] += 1
                        else:
                            cell_off[cell + 1] += 1
    if fill:
        for c in range(nx * ny):
            n = cell_off[c + 1] - cell_off[c]
            if n > 1:
                _sort_small(cell_geom[cell_off[c]:cell_off[c + 1]], n)


@njit(cache=True, nogil=True)
def _lookup(px: float, py: float, x0: float, y1: float, cs: float, nx: int, ny: int) -> int:
    """The cell of (x, y), or -1 outside the cell grid (or not finite)."""
    if not (np.isfinite(px) and np.isfinite(py)):
        return -1
    u = (px - x0) / cs
    v = (y1 - py) / cs
    if u < 0.0 or v < 0.0 or u > nx or v > ny:
        return -1
    return min(int(v), ny - 1) * nx + min(int(u), nx - 1)


@njit(cache=True, nogil=True, parallel=True)
def _assign_kernel(x: np.ndarray, y: np.ndarray, x0: float, y1: float, cs: float,
                   nx: int, ny: int, info: np.ndarray, cell_off: np.ndarray,
                   cell_geom: np.ndarray, coords: np.ndarray, ring_off: np.ndarray,
                   geom_ring: np.ndarray, max_edges: int) -> np.ndarray:
    """Position of the lowest polygon covering each point; -1 none; -2 ask GEOS.

    ``info`` is the cell label where no boundary crosses the cell, else
    ``-3 - label`` (one memory read decides most points).
    """
    n = len(x)
    out = np.full(n, -1, dtype=np.int64)
    for i in prange(n):
        px = x[i]
        py = y[i]
        cell = _lookup(px, py, x0, y1, cs, nx, ny)
        if cell < 0:
            continue
        lab = info[cell]
        if lab >= -1:  # no boundary crosses the cell
            out[i] = lab
            continue
        lab = -3 - lab
        a = cell_off[cell]
        b = cell_off[cell + 1]
        best = -1
        undecided = False
        for j in range(a, b):
            g = cell_geom[j]
            if lab >= 0 and g > lab:
                break  # the label covers the point and comes first
            if ring_off[geom_ring[g + 1]] - ring_off[geom_ring[g]] > max_edges:
                undecided = True
                break
            c = _covers(px, py, g, coords, ring_off, geom_ring)
            if c == 2:
                undecided = True
                break
            if c == 1:
                best = g
                break
        if undecided:
            out[i] = -2
            continue
        # the labelled polygon contains the whole cell
        if lab >= 0 and (best < 0 or lab < best):
            best = lab
        out[i] = best
    return out


@njit(cache=True, nogil=True)
def _candidate_pairs(x: np.ndarray, y: np.ndarray, pts: np.ndarray, x0: float, y1: float,
                     cs: float, nx: int, ny: int, label: np.ndarray, cell_off: np.ndarray,
                     cell_geom: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(point, polygon, sure) pairs to decide with GEOS for the points ``pts``.

    ``sure`` marks the cell's label, which contains the whole cell: it covers
    the point without a test.
    """
    m = 0
    for i in pts:
        cell = _lookup(x[i], y[i], x0, y1, cs, nx, ny)
        m += cell_off[cell + 1] - cell_off[cell] + 1
    pi = np.empty(m, dtype=np.int64)
    pg = np.empty(m, dtype=np.int64)
    sure = np.zeros(m, dtype=np.bool_)
    m = 0
    for i in pts:
        cell = _lookup(x[i], y[i], x0, y1, cs, nx, ny)
        lab = label[cell]
        for j in range(cell_off[cell], cell_off[cell + 1]):
            pi[m] = i
            pg[m] = cell_geom[j]
            m += 1
        if lab >= 0:
            pi[m] = i
            pg[m] = lab
            sure[m] = True
            m += 1
    return pi[:m], pg[:m], sure[:m]


def _ragged(polys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Polygon coordinates, ring→coordinate offsets and geometry→ring offsets."""
    polys = np.asarray(polys, dtype=object).copy()
    bad = shapely.is_missing(polys) | shapely.is_empty(polys)
    polys[bad] = shapely.Polygon()
    if len(polys) == 0:
        return np.empty((0, 2)), np.zeros(1, np.int64), np.zeros(1, np.int64)
    gtype, coords, offsets = shapely.to_ragged_array(polys, include_z=False)
    ring_off = np.asarray(offsets[0], dtype=np.int64)
    if gtype == shapely.GeometryType.POLYGON:
        geom_ring = np.asarray(offsets[1], dtype=np.int64)
    else:
        geom_ring = np.asarray(offsets[1], dtype=np.int64)[np.asarray(offsets[2])]
    return np.ascontiguousarray(coords, dtype=np.float64), ring_off, geom_ring


def _geos_decide(x: np.ndarray, y: np.ndarray, pi: np.ndarray, pg: np.ndarray,
                 sure: np.ndarray, polys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lowest covering polygon per point among candidate pairs, decided by GEOS."""
    hit = sure.copy()
    test = np.flatnonzero(~sure)
    if len(test):
        # group the tests by polygon; prepare a copy of each polygon once
        order = test[np.argsort(pg[test], kind="stable")]
        groups, starts = np.unique(pg[order], return_index=True)
        bounds = [*starts[1:], len(order)]
        for g, a, b in zip(groups, starts, bounds, strict=True):
            rows = order[a:b]
            geom = polys[g]
            if b - a > 8:
                geom = shapely.from_wkb(shapely.to_wkb(geom))
                shapely.prepare(geom)
            hit[rows] = shapely.intersects_xy(geom, x[pi[rows]], y[pi[rows]])
    pts = np.unique(pi)
    best = np.full(len(pts), np.iinfo(np.int64).max, dtype=np.int64)
    where = np.searchsorted(pts, pi[hit])
    np.minimum.at(best, where, pg[hit])
    best[best == np.iinfo(np.int64).max] = -1
    return pts, best


def _assign_fast(x: np.ndarray, y: np.ndarray, polys: np.ndarray) -> np.ndarray:
    """Lowest polygon position that covers each point (-1: none); see the module docstring."""
    n_geom = len(polys)
    if n_geom == 0 or len(x) == 0:
        return np.full(len(x), -1, dtype=np.int64)
    coords, ring_off, geom_ring = _ragged(polys)
    if len(coords) == 0:
        return np.full(len(x), -1, dtype=np.int64)
    xmin, ymin = coords.min(axis=0)
    xmax, ymax = coords.max(axis=0)
    width = max(xmax - xmin, 1e-9)
    height = max(ymax - ymin, 1e-9)
    n_cells = int(np.clip(_CELLS_PER_POLYGON * n_geom, 1 << 12, _MAX_CELLS))
    cs = float(np.sqrt(width * height / n_cells))
    cs = max(cs, width / 8192.0, height / 8192.0)
    nx = max(int(np.ceil(width / cs)), 1)
    ny = max(int(np.ceil(height / cs)), 1)
    x0 = float(xmin)
    y1 = float(ymin) + ny * cs  # top edge, so that the grid covers [ymin, ymax]
    # visit polygons strip by strip (64 rows), west to east, for memory locality
    first = coords[np.minimum(ring_off[geom_ring[:-1]], len(coords) - 1)]
    order = np.lexsort((first[:, 0], np.floor((y1 - first[:, 1]) / (64 * cs))))
    cell_off = np.zeros(nx * ny + 1, dtype=np.int32)
    _edge_cells(coords, ring_off, geom_ring, order, x0, y1, cs, nx, ny, cell_off,
                np.empty(0, np.int32), False)
    np.cumsum(cell_off, out=cell_off)
    cell_geom = np.empty(cell_off[-1], dtype=np.int32)
    _edge_cells(coords, ring_off, geom_ring, order, x0, y1, cs, nx, ny, cell_off,
                cell_geom, True)
    label = _label_cells(coords, ring_off, geom_ring, order, x0, y1, cs, nx, ny, cell_off,
                         cell_geom)
    x = np.ascontiguousarray(x, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    crossed = cell_off[1:] > cell_off[:-1]
    info = np.where(crossed, -3 - label, label).astype(np.int32)
    del crossed
    out = _assign_kernel(x, y, x0, y1, cs, nx, ny, info, cell_off, cell_geom,
                         coords, ring_off, geom_ring, _MAX_EDGES_EXACT)
    ask = np.flatnonzero(out == -2)
    if len(ask):
        pi, pg, sure = _candidate_pairs(x, y, ask, x0, y1, cs, nx, ny, label, cell_off,
                                        cell_geom)
        pts, best = _geos_decide(x, y, pi, pg, sure, polys)
        out[ask] = -1
        out[pts] = best
    return out


def assign_points(
    points: gpd.GeoDataFrame | gpd.GeoSeries | np.ndarray,
    grids: gpd.GeoDataFrame,
    *,
    grid_id: str | None = None,
    crs: object = None,
) -> Assignment:
    """Assign every point to the one grid polygon it falls in.

    Parameters
    ----------
    points
        A GeoDataFrame or GeoSeries of Points (any CRS), or an ``(N, 2)`` array
        of x, y coordinates in ``crs``.
    grids
        A GeoDataFrame of Polygons / MultiPolygons (any CRS). The points are
        reprojected to the grids' CRS.
    grid_id
        Column holding the grid ids; default ``"grid_id"``, else the first
        column with unique values, else the grids' index.
    crs
        CRS of an array of points; default EPSG:4326 (longitude, latitude).

    Returns
    -------
    Assignment
        See the module docstring for the boundary rule: a point covered by
        several grids goes to the one listed first; no point is counted twice.
    """
    require_crs(grids, layer="grids")
    polys = np.asarray(grids.geometry.array)
    tid = shapely.get_type_id(polys)
    ok = (tid == -1) | (tid == int(shapely.GeometryType.POLYGON)) | (
        tid == int(shapely.GeometryType.MULTIPOLYGON))
    if not ok.all():
        kinds = sorted({shapely.GeometryType(t).name.title() for t in np.unique(tid[~ok])})
        raise SchemaError(
            f"grids layer has {kinds} geometries; grids must be Polygons or MultiPolygons."
        )
    col = pick_grid_id(grids, grid_id)
    x, y, pindex = _point_coords(points, grids.crs, crs)
    index = _assign_fast(x, y, polys)
    ids = grids[col] if col is not None else grids.index.to_series()
    return Assignment(
        index=index,
        outside=np.flatnonzero(index < 0),
        grid_id=col,
        grid_index=grids.index,
        point_index=pindex,
        grid_values=ids.to_numpy(),
    )
