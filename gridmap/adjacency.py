"""The unit graph: which units touch, how long their shared borders are, and barriers.

Partitioning, rebalancing, validation and editing all work on the same graph of
units (building blocks, parcels, 万米 cells). An edge joins two units that
share a border (``rook``) or at least a point (``queen``); it carries the
shared border length in metres, whether the edge crosses a barrier (a road or
river line lies between the two units), and whether it is a *virtual* link
added by the island policy.

Island policy
-------------
A unit group with no land neighbour (an island, or a group cut off by the
``--within`` parents) is joined to the nearest unit outside it by one virtual
edge of border length 0 (:func:`link_islands`). A grid is *contiguous* when it
is connected through shared borders plus these links; the links are reported
so that a planner can see which grids span water.

Everything is computed in a metric CRS picked by :func:`gridmap.crs.metric_crs`.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse import csgraph

from ._errors import DataError, SchemaError
from ._validate import require_crs, require_geom_types, require_nonempty
from .crs import to_metric

__all__ = [
    "UnitGraph",
    "barrier_lines",
    "link_islands",
    "unit_graph",
]

_POLYGONAL = ("Polygon", "MultiPolygon")


@dataclass(frozen=True)
class UnitGraph:
    """Adjacency of ``n`` units in compressed sparse row form (both directions stored).

    Attributes
    ----------
    index
        The units' index labels, in graph order (position ``i`` is unit ``index[i]``).
    indptr, indices
        CSR structure: the neighbours of unit ``i`` are ``indices[indptr[i]:indptr[i+1]]``.
    length
        Shared border length in metres of each stored edge (0 for corner
        contacts and virtual links).
    barrier
        True where the edge crosses a barrier line (the line runs between the two units).
    virtual
        True for links added by the island policy.
    area, perimeter
        Area (m²) and perimeter (m) of each unit.
    xy
        Representative point of each unit (metric CRS), shape ``(n, 2)``.
    crs
        The metric CRS of ``xy`` and of the lengths.
    """

    index: pd.Index
    indptr: np.ndarray
    indices: np.ndarray
    length: np.ndarray
    barrier: np.ndarray
    virtual: np.ndarray
    area: np.ndarray
    perimeter: np.ndarray
    xy: np.ndarray
    crs: object

    @property
    def n(self) -> int:
        """Number of units."""
        return len(self.index)

    @property
    def degree(self) -> np.ndarray:
        """Number of neighbours of each unit (virtual links included)."""
        return np.diff(self.indptr)

    def neighbours(self, i: int) -> np.ndarray:
        """Positions of the neighbours of the unit at position ``i``."""
        return self.indices[self.indptr[i] : self.indptr[i + 1]]

    def edges(self) -> pd.DataFrame:
        """One row per undirected edge: ``i``, ``j`` (positions, ``i < j``), ``length``,
        ``barrier``, ``virtual``, and the two units' index labels ``u`` and ``v``."""
        rows = np.repeat(np.arange(self.n), self.degree)
        keep = rows < self.indices
        i, j = rows[keep], self.indices[keep]
        return pd.DataFrame(
            {
                "i": i,
                "j": j,
                "u": self.index[i],
                "v": self.index[j],
                "length": self.length[keep],
                "barrier": self.barrier[keep],
                "virtual": self.virtual[keep],
            }
        )

    def matrix(self, *, virtual: bool = True) -> sparse.csr_matrix:
        """The adjacency as a boolean scipy CSR matrix (optionally without virtual links)."""
        data = np.ones(len(self.indices), dtype=bool)
        if not virtual:
            data = ~self.virtual
        m = sparse.csr_matrix((data, self.indices, self.indptr), shape=(self.n, self.n))
        m.eliminate_zeros()
        return m

    def components(self, *, virtual: bool = True) -> np.ndarray:
        """Connected-component label of each unit."""
        _, labels = csgraph.connected_components(self.matrix(virtual=virtual), directed=False)
        return labels

    def subgraph(self, positions: np.ndarray) -> UnitGraph:
        """The graph induced by the units at ``positions`` (in that order)."""
        positions = np.asarray(positions, dtype=np.int64)
        remap = np.full(self.n, -1, dtype=np.int64)
        remap[positions] = np.arange(len(positions))
        rows = np.repeat(np.arange(self.n), self.degree)
        keep = (remap[rows] >= 0) & (remap[self.indices] >= 0)
        return _from_edges(
            remap[rows[keep]],
            remap[self.indices[keep]],
            self.length[keep],
            self.barrier[keep],
            self.virtual[keep],
            n=len(positions),
            index=self.index[positions],
            area=self.area[positions],
            perimeter=self.perimeter[positions],
            xy=self.xy[positions],
            crs=self.crs,
            symmetric=True,
        )

    def restrict(self, groups: np.ndarray) -> UnitGraph:
        """The same units with only the edges inside each group (e.g. each parent)."""
        groups = np.asarray(groups)
        rows = np.repeat(np.arange(self.n), self.degree)
        keep = groups[rows] == groups[self.indices]
        return _from_edges(
            rows[keep],
            self.indices[keep],
            self.length[keep],
            self.barrier[keep],
            self.virtual[keep],
            n=self.n,
            index=self.index,
            area=self.area,
            perimeter=self.perimeter,
            xy=self.xy,
            crs=self.crs,
            symmetric=True,
        )

    def outer_length(self) -> np.ndarray:
        """Length (m) of each unit's boundary not shared with another unit."""
        shared = np.bincount(
            np.repeat(np.arange(self.n), self.degree), weights=self.length, minlength=self.n
        )
        return np.maximum(self.perimeter - shared, 0.0)


def _from_edges(
    i: np.ndarray,
    j: np.ndarray,
    length: np.ndarray,
    barrier: np.ndarray,
    virtual: np.ndarray,
    *,
    n: int,
    index: pd.Index,
    area: np.ndarray,
    perimeter: np.ndarray,
    xy: np.ndarray,
    crs: object,
    symmetric: bool = False,
) -> UnitGraph:
    """Assemble a CSR graph from edge arrays (one direction unless ``symmetric``)."""
    if not symmetric:
        i, j = np.concatenate([i, j]), np.concatenate([j, i])
        length = np.concatenate([length, length])
        barrier = np.concatenate([barrier, barrier])
        virtual = np.concatenate([virtual, virtual])
    order = np.lexsort((j, i))
    i, j = i[order], j[order]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(i, minlength=n), out=indptr[1:])
    return UnitGraph(
        index=index,
        indptr=indptr,
        indices=j.astype(np.int64),
        length=np.asarray(length, dtype=np.float64)[order],
        barrier=np.asarray(barrier, dtype=bool)[order],
        virtual=np.asarray(virtual, dtype=bool)[order],
        area=np.asarray(area, dtype=np.float64),
        perimeter=np.asarray(perimeter, dtype=np.float64),
        xy=np.asarray(xy, dtype=np.float64),
        crs=crs,
    )


def barrier_lines(*layers: gpd.GeoDataFrame, crs: object) -> np.ndarray:
    """Collect the line work of barrier layers (roads, rivers) in ``crs``.

    Polygons (e.g. river areas) contribute their boundaries. Returns an array of
    shapely geometries, one per input feature with line work.
    """
    parts = []
    for layer in layers:
        if layer is None or len(layer) == 0:
            continue
        require_crs(layer, layer="barriers")
        geoms = layer.to_crs(crs).geometry.values
        geoms = geoms[~(shapely.is_empty(geoms) | shapely.is_missing(geoms))]
        kinds = shapely.get_type_id(geoms)
        # 3 Polygon, 6 MultiPolygon: use their outlines.
        poly = np.isin(kinds, (3, 6))
        geoms = np.where(poly, shapely.boundary(geoms), geoms)
        parts.append(geoms[shapely.get_dimensions(geoms) == 1])
    if not parts:
        return np.empty(0, dtype=object)
    return np.concatenate(parts)


def unit_graph(
    units: gpd.GeoDataFrame,
    *,
    contiguity: str = "rook",
    barriers: gpd.GeoDataFrame | list[gpd.GeoDataFrame] | None = None,
    snap_tolerance: float = 0.0,
    min_length: float = 1e-6,
) -> UnitGraph:
    """Build the adjacency graph of polygon units.

    Parameters
    ----------
    units
        Polygon units in any CRS; the graph follows their row order.
    contiguity
        ``"rook"`` (shared border of positive length) or ``"queen"`` (any
        shared point).
    barriers
        Line (or polygon) layers such as roads and rivers. An edge *crosses* a
        barrier when the segment between the two units' representative points
        meets a barrier line, or when most of the shared border lies on one.
    snap_tolerance
        Metres. Units whose boundaries come within this distance count as
        sharing the border that runs within it (for coverages with small gaps
        or digitising noise). 0 needs exactly shared line work.
    min_length
        Metres; shorter shared borders count as a corner contact only (with
        ``snap_tolerance``, at least twice the tolerance: a corner within the
        tolerance is not a border).

    Returns
    -------
    UnitGraph
    """
    if contiguity not in ("rook", "queen"):
        raise ValueError(f"contiguity must be 'rook' or 'queen', got {contiguity!r}.")
    require_nonempty(units, layer="units")
    require_crs(units, layer="units")
    require_geom_types(units, _POLYGONAL, layer="units")
    metric = to_metric(units)
    geoms = metric.geometry.values
    if shapely.is_missing(geoms).any() or shapely.is_empty(geoms).any():
        bad = list(units.index[shapely.is_missing(geoms) | shapely.is_empty(geoms)][:10])
        raise DataError(f"units {bad} have empty geometry; drop them or repair the layer first.")
    n = len(geoms)
    if snap_tolerance > 0:
        min_length = max(min_length, 2.0 * snap_tolerance)
    tree = shapely.STRtree(geoms)
    if snap_tolerance > 0:
        left, right = tree.query(geoms, predicate="dwithin", distance=snap_tolerance)
    else:
        left, right = tree.query(geoms, predicate="intersects")
    keep = left < right
    i, j = left[keep], right[keep]
    bounds = shapely.boundary(geoms)
    if snap_tolerance > 0:
        shared = shapely.intersection(bounds[i], shapely.buffer(bounds[j], snap_tolerance))
        length = np.minimum(
            shapely.length(shared),
            shapely.length(shapely.intersection(bounds[j], shapely.buffer(bounds[i], snap_tolerance))),
        )
    else:
        shared = shapely.intersection(bounds[i], bounds[j])
        length = shapely.length(shared)
    length = np.where(length < min_length, 0.0, length)
    if contiguity == "rook":
        sel = length > 0
        i, j, length, shared = i[sel], j[sel], length[sel], shared[sel]
    xy_pts = shapely.point_on_surface(geoms)
    xy = shapely.get_coordinates(xy_pts)
    crossing = np.zeros(len(i), dtype=bool)
    layers = [barriers] if isinstance(barriers, gpd.GeoDataFrame) else list(barriers or [])
    lines = barrier_lines(*layers, crs=metric.crs)
    if len(lines) and len(i):
        crossing = _crossing(xy_pts[i], xy_pts[j], shared, lines)
    return _from_edges(
        i.astype(np.int64),
        j.astype(np.int64),
        length,
        crossing,
        np.zeros(len(i), dtype=bool),
        n=n,
        index=units.index,
        area=shapely.area(geoms),
        perimeter=shapely.length(geoms),
        xy=xy,
        crs=metric.crs,
    )


def _crossing(
    a: np.ndarray, b: np.ndarray, shared: np.ndarray, lines: np.ndarray, *, on_line: float = 1.0
) -> np.ndarray:
    """True where the link a–b meets a barrier line, or the shared border lies on one."""
    links = shapely.linestrings(
        np.stack([shapely.get_coordinates(a), shapely.get_coordinates(b)], axis=1)
    )
    tree = shapely.STRtree(lines)
    out = np.zeros(len(links), dtype=bool)
    hit, _ = tree.query(links, predicate="intersects")
    out[np.unique(hit)] = True
    # Borders lying along a barrier (a road centreline digitised on the parcel edge).
    near, line_idx = tree.query(shared, predicate="dwithin", distance=on_line)
    if len(near):
        pieces = shapely.intersection(shared[near], shapely.buffer(lines[line_idx], on_line))
        along = np.bincount(near, weights=shapely.length(pieces), minlength=len(shared))
        out |= along >= 0.5 * np.maximum(shapely.length(shared), 1e-12)
    return out


def link_islands(graph: UnitGraph, *, groups: np.ndarray | None = None) -> tuple[UnitGraph, pd.DataFrame]:
    """Join disconnected unit groups by virtual edges (the island policy).

    Within each group of ``groups`` (e.g. the ``--within`` parent of each unit;
    all units form one group when omitted), every connected component other
    than the largest is linked, Kruskal-style, to its nearest unit in another
    component until the group is connected. Distances are between the units'
    representative points.

    Returns
    -------
    (UnitGraph, pandas.DataFrame)
        The linked graph and one row per link: ``u``, ``v`` (unit index
        labels), ``distance_m`` and the number of units in the smaller side
        (``island_units``).
    """
    if groups is None:
        groups = np.zeros(graph.n, dtype=np.int64)
    groups = np.asarray(groups)
    if len(groups) != graph.n:
        raise SchemaError(f"groups has {len(groups)} entries for {graph.n} units.")
    # Components never span groups: drop edges between groups for this purpose.
    rows = np.repeat(np.arange(graph.n), graph.degree)
    same = groups[rows] == groups[graph.indices]
    m = sparse.csr_matrix(
        (np.ones(int(same.sum())), (rows[same], graph.indices[same])), shape=(graph.n, graph.n)
    )
    _, comp = csgraph.connected_components(m, directed=False)
    new_i: list[int] = []
    new_j: list[int] = []
    dist: list[float] = []
    sizes: list[int] = []
    for g in pd.unique(groups):
        members = np.flatnonzero(groups == g)
        labels = comp[members]
        uniq = np.unique(labels)
        if len(uniq) < 2:
            continue
        # Union-find over components; candidate links are nearest pairs between components.
        parent = {c: c for c in uniq}
        size = {c: int((labels == c).sum()) for c in uniq}

        def find(c: int, parent: dict = parent) -> int:
            while parent[c] != c:
                parent[c] = parent[parent[c]]
                c = parent[c]
            return c

        cands = []
        pts = graph.xy[members]
        for c in uniq:
            inside = labels == c
            tree = shapely.STRtree(shapely.points(pts[~inside]))
            src = shapely.points(pts[inside])
            (a_idx, b_idx), d = tree.query_nearest(src, return_distance=True, all_matches=False)
            k = int(np.argmin(d))
            a = members[np.flatnonzero(inside)[a_idx[k]]]
            b = members[np.flatnonzero(~inside)[b_idx[k]]]
            cands.append((float(d[k]), int(min(a, b)), int(max(a, b))))
        for d_ab, a, b in sorted(cands):
            ca, cb = find(comp[a]), find(comp[b])
            if ca == cb:
                continue
            small = min(size[ca], size[cb])
            parent[ca] = cb
            size[cb] += size[ca]
            new_i.append(a)
            new_j.append(b)
            dist.append(d_ab)
            sizes.append(small)
        # Nearest-pair candidates from each component always connect the group
        # (each component's nearest outside unit gives a spanning forest edge),
        # but check, and fall back to chaining components by distance.
        roots = {find(c) for c in uniq}
        while len(roots) > 1:
            r = sorted(roots)
            in_a = np.isin(np.array([find(c) for c in labels]), [r[0]])
            tree = shapely.STRtree(shapely.points(pts[~in_a]))
            (a_idx, b_idx), d = tree.query_nearest(
                shapely.points(pts[in_a]), return_distance=True, all_matches=False
            )
            k = int(np.argmin(d))
            a = members[np.flatnonzero(in_a)[a_idx[k]]]
            b = members[np.flatnonzero(~in_a)[b_idx[k]]]
            ca, cb = find(comp[a]), find(comp[b])
            parent[ca] = cb
            new_i.append(int(min(a, b)))
            new_j.append(int(max(a, b)))
            dist.append(float(d[k]))
            sizes.append(int(in_a.sum()))
            roots = {find(c) for c in uniq}
    links = pd.DataFrame(
        {
            "u": graph.index[np.array(new_i, dtype=np.int64)],
            "v": graph.index[np.array(new_j, dtype=np.int64)],
            "distance_m": np.array(dist, dtype=float),
            "island_units": np.array(sizes, dtype=np.int64),
        }
    )
    if not new_i:
        return graph, links
    rows_all = np.concatenate([rows, np.array(new_i), np.array(new_j)])
    cols_all = np.concatenate([graph.indices, np.array(new_j), np.array(new_i)])
    k = len(new_i)
    linked = _from_edges(
        rows_all.astype(np.int64),
        cols_all.astype(np.int64),
        np.concatenate([graph.length, np.zeros(2 * k)]),
        np.concatenate([graph.barrier, np.zeros(2 * k, dtype=bool)]),
        np.concatenate([graph.virtual, np.ones(2 * k, dtype=bool)]),
        n=graph.n,
        index=graph.index,
        area=graph.area,
        perimeter=graph.perimeter,
        xy=graph.xy,
        crs=graph.crs,
        symmetric=True,
    )
    return linked, links
