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
The polygons' extent is cut into square cells (up to 2**23 of them). A walk
along every polygon edge lists, per cell, the edges passing through it (with
a small tolerance against rounding). A scanline pass over the cell centres
then labels each cell with the lowest-positioned polygon that contains the
whole cell (its centre is inside and its boundary misses the cell), and
records which listed polygons contain the centre. A point in a cell no
boundary crosses takes the cell's label: one memory read (from 2M points on,
the point loop runs on all cores). A point in a
crossed cell walks from the cell centre to itself: a polygon covers it iff
the polygon contains the centre XOR the walk crosses the polygon's edges in
that cell an odd number of times. Signs come from the floating-point
orientation filter GEOS uses; a point on an edge, a collinear or undecidable
case, falls back to a whole-polygon ray-crossing test (GEOS's
``RayCrossingCounter`` rule) and, failing that, to GEOS itself
(``shapely.intersects_xy``). For valid polygons the result is identical to
testing every point with GEOS.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numba import njit, prange
from pyproj import CRS

from ._errors import CRSError, SchemaError
from ._scanline import polygon_rows, row_crossings
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
_MAX_CELLS = 1 << 23
_CELLS_PER_POLYGON = 256
_MAX_EDGES_EXACT = 512  # candidate polygons with more edges are tested by GEOS
_TOL = 1e-6  # cells; edge walks are widened by this much against rounding
_PARALLEL_FROM = 2_000_000  # points; smaller inputs run in one thread
_PARALLEL_LOCK = threading.Lock()


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
def _sort_entries(eg: np.ndarray, ek: np.ndarray, a: int, b: int) -> None:
    """Insertion sort of the entries ``a:b`` by (polygon, edge), in place."""
    for i in range(a + 1, b):
        g = eg[i]
        k = ek[i]
        j = i - 1
        while j >= a and (eg[j] > g or (eg[j] == g and ek[j] > k)):
            eg[j + 1] = eg[j]
            ek[j + 1] = ek[j]
            j -= 1
        eg[j + 1] = g
        ek[j + 1] = k


@njit(cache=True, nogil=True)
def _edge_cells(coords: np.ndarray, ring_off: np.ndarray, geom_ring: np.ndarray,
                order: np.ndarray, x0: float, y1: float, cs: float, nx: int, ny: int,
                cell_off: np.ndarray, eg: np.ndarray, ek: np.ndarray, fill: bool) -> None:
    """The polygon edges passing through each cell (edges widened by ``_TOL``).

    First call (``fill=False``) counts into ``cell_off[1:]``; after a cumulative
    sum, the second call fills the entries: the edges through cell ``c`` are
    ``ek[cell_off[c]:cell_off[c + 1]]`` (index of the edge's first vertex in
    ``coords``), of polygons ``eg[...]``, sorted by polygon then edge.
    """
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
                        if fill:
                            eg[cursor[cell]] = g
                            ek[cursor[cell]] = k
                            cursor[cell] += 1
                        else:
                            cell_off[cell + 1] += 1
    if fill:
        for c in range(nx * ny):
            if cell_off[c + 1] - cell_off[c] > 1:
                _sort_entries(eg, ek, cell_off[c], cell_off[c + 1])


@njit(cache=True, nogil=True)
def _label_cells(coords: np.ndarray, ring_off: np.ndarray, geom_ring: np.ndarray,
                 order: np.ndarray, x0: float, y1: float, cs: float, nx: int, ny: int,
                 cell_off: np.ndarray, eg: np.ndarray) -> tuple[np.ndarray, np.ndarray,
                                                                np.ndarray]:
    """Scanline pass over cell centres.

    Returns
    -------
    label
        Per cell (row 0 at the top), the lowest polygon containing the whole
        cell: its centre is inside and its boundary misses the cell (-1: none).
    centre_in
        Per edge entry: whether the entry's polygon contains the cell centre.
    slow
        Cells whose centre is too close to some edge for ``centre_in`` to be
        certain; points there are tested against whole polygons.
    """
    label = np.full(ny * nx, -1, dtype=np.int32)
    centre_in = np.zeros(len(eg), dtype=np.bool_)
    slow = np.zeros(ny * nx, dtype=np.bool_)
    xs = np.empty(64, dtype=np.float64)
    for g in order:
        r_lo, r_hi = polygon_rows(coords, ring_off, geom_ring, g, y1, cs, ny)
        for row in range(r_lo, r_hi + 1):
            xs, n = row_crossings(coords, ring_off, geom_ring, g, y1 - (row + 0.5) * cs, xs)
            if n < 2:
                continue
            base = row * nx
            for j in range(n):  # a crossing next to a centre makes that cell slow
                col = int(np.floor((xs[j] - x0) / cs))
                for cc in range(max(col - 1, 0), min(col + 2, nx)):
                    if abs(xs[j] - (x0 + (cc + 0.5) * cs)) <= _TOL * cs:
                        slow[base + cc] = True
            for j in range(0, n - 1, 2):
                ca = max(int(np.ceil((xs[j] - x0) / cs - 0.5)), 0)
                cb = min(int(np.floor((xs[j + 1] - x0) / cs - 0.5)), nx - 1)
                for col in range(ca, cb + 1):
                    cell = base + col
                    touches = False
                    for q in range(cell_off[cell], cell_off[cell + 1]):
                        if eg[q] == g:
                            touches = True
                            centre_in[q] = True
                    if not touches:
                        cur = label[cell]
                        if cur < 0 or g < cur:
                            label[cell] = g
    return label, centre_in, slow


@njit(cache=True, nogil=True)
def _lookup(px: float, py: float, x0: float, y1: float, cs: float, nx: int, ny: int) -> int:
    """The cell of (x, y), or -1 outside the cell grid (or not finite).

    Points within ``_TOL`` of the grid's edge (rounding) go to the edge cell;
    such a cell is always crossed by a boundary, so they are tested exactly.
    """
    if not (np.isfinite(px) and np.isfinite(py)):
        return -1
    u = (px - x0) / cs
    v = (y1 - py) / cs
    if u < -_TOL or v < -_TOL or u > nx + _TOL or v > ny + _TOL:
        return -1
    return min(max(int(v), 0), ny - 1) * nx + min(max(int(u), 0), nx - 1)


@njit(cache=True, nogil=True)
def _cell_table(info: np.ndarray, label: np.ndarray, slow: np.ndarray, cell_off: np.ndarray,
                eg: np.ndarray, ek: np.ndarray, centre_in: np.ndarray,
                coords: np.ndarray) -> np.ndarray:
    """One contiguous block of rows per crossed cell, so a point reads one place.

    Block = header ``[n_entries, label, slow, 0, 0]`` then one row per edge
    through the cell ``[ax, ay, bx, by, 2 * polygon + centre_in]``. ``info`` is
    filled in: the label of an uncrossed cell, else ``-2 - header row``.
    """
    n_cells = len(label)
    n_crossed = 0
    for c in range(n_cells):
        if cell_off[c + 1] > cell_off[c]:
            n_crossed += 1
    table = np.empty((n_crossed + len(eg), 5), dtype=np.float64)
    row = 0
    for c in range(n_cells):
        a = cell_off[c]
        b = cell_off[c + 1]
        if a == b:
            info[c] = label[c]
            continue
        info[c] = -2 - row
        table[row, 0] = b - a
        table[row, 1] = label[c]
        table[row, 2] = 1.0 if slow[c] else 0.0
        table[row, 3] = 0.0
        table[row, 4] = 0.0
        row += 1
        for j in range(a, b):
            k = ek[j]
            table[row, 0] = coords[k, 0]
            table[row, 1] = coords[k, 1]
            table[row, 2] = coords[k + 1, 0]
            table[row, 3] = coords[k + 1, 1]
            table[row, 4] = 2.0 * eg[j] + (1.0 if centre_in[j] else 0.0)
            row += 1
    return table


@njit(cache=True, nogil=True)
def _local_test(px: float, py: float, cx: float, cy: float, h: int, lab: int,
                table: np.ndarray) -> int:
    """Lowest covering polygon from the cell's edges: walk from the centre to the point.

    A polygon covers the point iff it contains the centre XOR the segment
    centre→point crosses its boundary an odd number of times; only the edges
    through the cell can cross it. Returns the polygon (or ``lab``, or -1), or
    -2 when a touch, collinearity or an undecided sign needs the full test.
    """
    j = h + 1
    end = h + 1 + int(table[h, 0])
    while j < end:
        meta = int(table[j, 4])
        g = meta >> 1
        if lab >= 0 and g > lab:
            break
        inside = (meta & 1) == 1
        while j < end and (int(table[j, 4]) >> 1) == g:
            ax = table[j, 0]
            ay = table[j, 1]
            bx = table[j, 2]
            by = table[j, 3]
            o1 = _orientation(ax, ay, bx, by, px, py)
            o2 = _orientation(ax, ay, bx, by, cx, cy)
            if o1 == 0 or o1 == 2 or o2 == 0 or o2 == 2:
                return -2
            if o1 != o2:
                o3 = _orientation(px, py, cx, cy, ax, ay)
                o4 = _orientation(px, py, cx, cy, bx, by)
                if o3 == 0 or o3 == 2 or o4 == 0 or o4 == 2:
                    return -2
                if o3 != o4:
                    inside = not inside
            j += 1
        if inside:
            return g
    return lab


@njit(cache=True, nogil=True)
def _full_test(px: float, py: float, h: int, lab: int, table: np.ndarray,
               coords: np.ndarray, ring_off: np.ndarray, geom_ring: np.ndarray,
               max_edges: int) -> int:
    """Lowest covering polygon by whole-polygon ray crossing; -2: ask GEOS."""
    prev = -1
    for j in range(h + 1, h + 1 + int(table[h, 0])):
        g = int(table[j, 4]) >> 1
        if g == prev:
            continue
        prev = g
        if lab >= 0 and g > lab:
            break
        if ring_off[geom_ring[g + 1]] - ring_off[geom_ring[g]] > max_edges:
            return -2
        c = _covers(px, py, g, coords, ring_off, geom_ring)
        if c == 2:
            return -2
        if c == 1:
            return g
    return lab


@njit(cache=True, nogil=True)
def _assign_one(px: float, py: float, x0: float, y1: float, cs: float, nx: int, ny: int,
                info: np.ndarray, table: np.ndarray, coords: np.ndarray,
                ring_off: np.ndarray, geom_ring: np.ndarray, max_edges: int) -> int:
    """Position of the lowest polygon covering one point; -1 none; -2 ask GEOS.

    ``info`` is the cell label where no boundary crosses the cell (one memory
    read decides most points), else ``-2 - row`` of the cell's block in ``table``.
    """
    cell = _lookup(px, py, x0, y1, cs, nx, ny)
    if cell < 0:
        return -1
    code = info[cell]
    if code >= -1:  # no boundary crosses the cell
        return code
    h = -2 - code
    lab = int(table[h, 1])
    res = -2
    if table[h, 2] == 0.0:
        row = cell // nx
        col = cell - row * nx
        res = _local_test(px, py, x0 + (col + 0.5) * cs, y1 - (row + 0.5) * cs, h, lab, table)
    if res == -2:
        res = _full_test(px, py, h, lab, table, coords, ring_off, geom_ring, max_edges)
    return res


@njit(cache=True, nogil=True)
def _assign_serial(x: np.ndarray, y: np.ndarray, x0: float, y1: float, cs: float, nx: int,
                   ny: int, info: np.ndarray, table: np.ndarray, coords: np.ndarray,
                   ring_off: np.ndarray, geom_ring: np.ndarray, max_edges: int) -> np.ndarray:
    """:func:`_assign_one` for every point, in one thread."""
    out = np.empty(len(x), dtype=np.int64)
    for i in range(len(x)):
        out[i] = _assign_one(x[i], y[i], x0, y1, cs, nx, ny, info, table, coords, ring_off,
                             geom_ring, max_edges)
    return out


@njit(cache=True, nogil=True, parallel=True)
def _assign_parallel(x: np.ndarray, y: np.ndarray, x0: float, y1: float, cs: float, nx: int,
                     ny: int, info: np.ndarray, table: np.ndarray, coords: np.ndarray,
                     ring_off: np.ndarray, geom_ring: np.ndarray,
                     max_edges: int) -> np.ndarray:
    """:func:`_assign_one` for every point, on all cores."""
    out = np.empty(len(x), dtype=np.int64)
    for i in prange(len(x)):
        out[i] = _assign_one(x[i], y[i], x0, y1, cs, nx, ny, info, table, coords, ring_off,
                             geom_ring, max_edges)
    return out


@njit(cache=True, nogil=True)
def _candidate_pairs(x: np.ndarray, y: np.ndarray, pts: np.ndarray, x0: float, y1: float,
                     cs: float, nx: int, ny: int, info: np.ndarray,
                     table: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(point, polygon, sure) pairs to decide with GEOS for the points ``pts``.

    ``sure`` marks the cell's label, which contains the whole cell: it covers
    the point without a test.
    """
    m = 0
    for i in pts:
        h = -2 - info[_lookup(x[i], y[i], x0, y1, cs, nx, ny)]
        m += int(table[h, 0]) + 1
    pi = np.empty(m, dtype=np.int64)
    pg = np.empty(m, dtype=np.int64)
    sure = np.zeros(m, dtype=np.bool_)
    m = 0
    for i in pts:
        h = -2 - info[_lookup(x[i], y[i], x0, y1, cs, nx, ny)]
        lab = int(table[h, 1])
        prev = -1
        for j in range(h + 1, h + 1 + int(table[h, 0])):
            g = int(table[j, 4]) >> 1
            if g == prev:
                continue
            prev = g
            pi[m] = i
            pg[m] = g
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


@dataclass(frozen=True, eq=False)
class _CellIndex:
    """The cell index of a set of polygons (see the module docstring)."""

    x0: float
    y1: float
    cs: float
    nx: int
    ny: int
    info: np.ndarray
    table: np.ndarray
    coords: np.ndarray
    ring_off: np.ndarray
    geom_ring: np.ndarray


def _build_index(polys: np.ndarray) -> _CellIndex | None:
    """Build the cell index (numba, without the GIL for the heavy parts); None: no polygons."""
    n_geom = len(polys)
    if n_geom == 0:
        return None
    coords, ring_off, geom_ring = _ragged(polys)
    if len(coords) == 0:
        return None
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
    # edges through each cell
    cell_off = np.zeros(nx * ny + 1, dtype=np.int32)
    none = np.empty(0, np.int32)
    _edge_cells(coords, ring_off, geom_ring, order, x0, y1, cs, nx, ny, cell_off, none, none,
                False)
    np.cumsum(cell_off, out=cell_off)
    eg = np.empty(cell_off[-1], dtype=np.int32)
    ek = np.empty(cell_off[-1], dtype=np.int32)
    _edge_cells(coords, ring_off, geom_ring, order, x0, y1, cs, nx, ny, cell_off, eg, ek, True)
    # whole-cell labels and centre containment
    label, centre_in, slow = _label_cells(coords, ring_off, geom_ring, order, x0, y1, cs,
                                          nx, ny, cell_off, eg)
    info = np.empty(nx * ny, dtype=np.int32)
    table = _cell_table(info, label, slow, cell_off, eg, ek, centre_in, coords)
    return _CellIndex(x0, y1, cs, nx, ny, info, table, coords, ring_off, geom_ring)


_INDEX_CACHE: dict[bytes, tuple[np.ndarray, _CellIndex | None]] = {}
_INDEX_CACHE_SIZE = 8
_INDEX_LOCK = threading.Lock()


def _index_for(polys: np.ndarray) -> _CellIndex | None:
    """:func:`_build_index`, reused while the same polygon objects are assigned to again.

    An app assigns cameras, incidents and places to the same (shared, read-only)
    grids many times. shapely geometries are immutable, so the index of an
    array of the *same* geometry objects never changes. The key is the
    objects' addresses; the entry keeps the array alive, so an address cannot
    be reused by another geometry while its entry exists. The least recently
    used of :data:`_INDEX_CACHE_SIZE` entries is dropped.
    """
    key = np.fromiter(map(id, polys), dtype=np.uintp, count=len(polys)).tobytes()
    with _INDEX_LOCK:
        hit = _INDEX_CACHE.pop(key, None)
        if hit is not None:
            _INDEX_CACHE[key] = hit  # most recently used last
            return hit[1]
    index = _build_index(polys)
    with _INDEX_LOCK:
        _INDEX_CACHE[key] = (np.array(polys, dtype=object, copy=True), index)
        while len(_INDEX_CACHE) > _INDEX_CACHE_SIZE:
            _INDEX_CACHE.pop(next(iter(_INDEX_CACHE)))
    return index


def _locate(index: _CellIndex | None, x: np.ndarray, y: np.ndarray,
            polys: np.ndarray) -> np.ndarray:
    """Lowest polygon position that covers each point (-1: none), with the index."""
    if index is None or len(x) == 0:
        return np.full(len(x), -1, dtype=np.int64)
    ix = index
    x = np.ascontiguousarray(x, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    args = (x, y, ix.x0, ix.y1, ix.cs, ix.nx, ix.ny, ix.info, ix.table, ix.coords, ix.ring_off,
            ix.geom_ring, _MAX_EDGES_EXACT)
    if len(x) >= _PARALLEL_FROM:
        # one parallel region at a time: numba's threading layers are not all thread-safe
        with _PARALLEL_LOCK:
            out = _assign_parallel(*args)
    else:
        out = _assign_serial(*args)
    ask = np.flatnonzero(out == -2)
    if len(ask):
        pi, pg, sure = _candidate_pairs(x, y, ask, ix.x0, ix.y1, ix.cs, ix.nx, ix.ny, ix.info,
                                        ix.table)
        pts, best = _geos_decide(x, y, pi, pg, sure, polys)
        out[ask] = -1
        out[pts] = best
    return out


def _assign_fast(x: np.ndarray, y: np.ndarray, polys: np.ndarray) -> np.ndarray:
    """Lowest polygon position that covers each point (-1: none); see the module docstring."""
    if len(x) == 0:
        return np.full(0, -1, dtype=np.int64)
    return _locate(_build_index(polys), x, y, polys)


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
    if len(points) >= _PARALLEL_FROM:
        # build the cell index (numba, no GIL) while GEOS reads the point coordinates
        with ThreadPoolExecutor(max_workers=1) as pool:
            future = pool.submit(_index_for, polys)
            x, y, pindex = _point_coords(points, grids.crs, crs)
            cells = future.result()
    else:
        x, y, pindex = _point_coords(points, grids.crs, crs)
        cells = _index_for(polys) if len(x) else None
    index = _locate(cells, x, y, polys)
    ids = grids[col] if col is not None else grids.index.to_series()
    return Assignment(
        index=index,
        outside=np.flatnonzero(index < 0),
        grid_id=col,
        grid_index=grids.index,
        point_index=pindex,
        grid_values=ids.to_numpy(),
    )
