"""Spatial weights for hot-spot statistics: contiguity, distance band, k nearest, lattices.

A :class:`SpatialWeights` is a binary sparse ``n × n`` matrix (1 = neighbour,
zero diagonal) aligned with the rows of the layer it was built from. Gi*
(:mod:`gridmap.hotspots`) adds each cell to its own neighbourhood.

* ``queen`` — polygons that share at least one boundary point;
* ``rook`` — polygons that share a boundary segment of positive length;
* ``distance:D`` — cells whose centroids are at most ``D`` metres apart;
* ``knn:K`` — each cell's ``K`` nearest centroids (not symmetric, as in libpysal);
* square lattices and H3 hexagons have fast builders that give the same
  neighbours as ``queen``/``rook`` on their polygons.

Distances are measured in the metric CRS from :func:`gridmap.crs.metric_crs`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.spatial import cKDTree

from ._errors import DataError, SchemaError
from ._validate import require_crs
from .crs import to_metric

__all__ = [
    "SpatialWeights",
    "build_weights",
    "contiguity_weights",
    "distance_weights",
    "h3_weights",
    "knn_weights",
    "lattice_weights",
    "parse_weights",
]


@dataclass(frozen=True, eq=False)
class SpatialWeights:
    """Binary neighbour matrix.

    Attributes
    ----------
    matrix
        ``scipy.sparse.csr_matrix`` of 0/1, zero diagonal; row ``i`` lists the
        neighbours of cell ``i``.
    kind
        How it was built, e.g. ``"queen"``, ``"knn:8"``.
    """

    matrix: sp.csr_matrix
    kind: str

    @property
    def n(self) -> int:
        """Number of cells."""
        return self.matrix.shape[0]

    @property
    def cardinalities(self) -> np.ndarray:
        """Number of neighbours of each cell."""
        return np.diff(self.matrix.indptr)

    @property
    def islands(self) -> np.ndarray:
        """Positions of cells with no neighbour."""
        return np.flatnonzero(self.cardinalities == 0)


def _from_pairs(i: np.ndarray, j: np.ndarray, n: int, kind: str) -> SpatialWeights:
    keep = i != j
    i, j = i[keep], j[keep]
    m = sp.csr_matrix((np.ones(len(i)), (i, j)), shape=(n, n))
    m.sum_duplicates()
    m.data[:] = 1.0
    m.sort_indices()
    return SpatialWeights(matrix=m, kind=kind)


def parse_weights(spec: str) -> tuple[str, float | None]:
    """Split ``"queen"``, ``"rook"``, ``"knn:8"`` or ``"distance:500"`` into kind and value."""
    text = str(spec).strip().lower()
    kind, _, value = text.partition(":")
    if kind in ("queen", "rook") and not value:
        return kind, None
    if kind in ("knn", "distance") and value:
        try:
            v = float(value)
        except ValueError:
            v = float("nan")
        if v > 0 and (kind != "knn" or v == int(v)):
            return kind, (int(v) if kind == "knn" else v)
    raise ValueError(
        f"unknown weights {spec!r}; use queen, rook, knn:K (e.g. knn:8) or "
        "distance:METRES (e.g. distance:500)."
    )


def contiguity_weights(polygons: gpd.GeoDataFrame | gpd.GeoSeries, *,
                       rook: bool = False) -> SpatialWeights:
    """Queen (shared point) or rook (shared edge) contiguity of polygons.

    Contiguity is decided geometrically (shapely), so a vertex of one grid
    lying on the edge of another counts, even when the two polygons share no
    vertex.
    """
    geoms = np.asarray(polygons.geometry.values if isinstance(polygons, gpd.GeoDataFrame)
                       else polygons.values)
    n = len(geoms)
    tree = shapely.STRtree(geoms)
    i, j = tree.query(geoms, predicate="intersects")
    keep = i < j
    i, j = i[keep], j[keep]
    if rook and len(i):
        shared = shapely.intersection(shapely.boundary(geoms[i]), shapely.boundary(geoms[j]))
        edge = shapely.length(shared) > 0
        # overlapping polygons (no shared edge but shared area) are neighbours too
        overlap = shapely.area(shapely.intersection(geoms[i], geoms[j])) > 0
        keep = edge | overlap
        i, j = i[keep], j[keep]
    return _from_pairs(np.r_[i, j], np.r_[j, i], n, "rook" if rook else "queen")


def _centroids(layer: gpd.GeoDataFrame | gpd.GeoSeries) -> np.ndarray:
    frame = layer if isinstance(layer, gpd.GeoDataFrame) else gpd.GeoDataFrame(geometry=layer)
    require_crs(frame, layer="cells")
    metric = to_metric(frame[[frame.geometry.name]])
    c = metric.geometry.centroid
    return np.column_stack([c.x.to_numpy(), c.y.to_numpy()])


def distance_weights(layer: gpd.GeoDataFrame | gpd.GeoSeries, distance: float) -> SpatialWeights:
    """Cells whose centroids are at most ``distance`` metres apart."""
    if not distance > 0:
        raise ValueError(f"distance must be positive metres, got {distance!r}.")
    xy = _centroids(layer)
    pairs = cKDTree(xy).query_pairs(distance, output_type="ndarray")
    i, j = (pairs[:, 0], pairs[:, 1]) if len(pairs) else (np.empty(0, int), np.empty(0, int))
    return _from_pairs(np.r_[i, j], np.r_[j, i], len(xy), f"distance:{distance:g}")


def knn_weights(layer: gpd.GeoDataFrame | gpd.GeoSeries, k: int) -> SpatialWeights:
    """Each cell's ``k`` nearest centroids (ties broken by position)."""
    xy = _centroids(layer)
    n = len(xy)
    if not 0 < k < n:
        raise DataError(f"knn:{k} needs more than {k} cells; there are {n}.")
    _, idx = cKDTree(xy).query(xy, k=k + 1)
    i = np.repeat(np.arange(n), k + 1)
    j = idx.ravel()
    # drop each cell itself; if duplicates of a location pushed it out, drop the farthest
    w = _from_pairs(i, j, n, f"knn:{k}")
    m = w.matrix.tolil()
    for row in np.flatnonzero(w.cardinalities > k):
        cols = idx[row][idx[row] != row][:k]
        m.rows[row] = sorted(cols.tolist())
        m.data[row] = [1.0] * len(cols)
    return SpatialWeights(matrix=m.tocsr(), kind=f"knn:{k}")


def lattice_weights(rows: int, cols: int, *, rook: bool = False,
                    cells: Sequence[int] | np.ndarray | None = None) -> SpatialWeights:
    """Neighbours on a ``rows × cols`` square lattice (cell id = row × cols + col).

    Parameters
    ----------
    rows, cols
        Lattice size.
    rook
        Edge neighbours only (4) instead of queen (8).
    cells
        Ids of the cells present, in the order of the layer (default all, row-major).
    """
    ids = np.arange(rows * cols) if cells is None else np.asarray(cells, dtype=np.int64)
    pos = np.full(rows * cols, -1, dtype=np.int64)
    pos[ids] = np.arange(len(ids))
    r, c = np.divmod(ids, cols)
    steps = [(0, 1), (1, 0), (0, -1), (-1, 0)]
    if not rook:
        steps += [(1, 1), (1, -1), (-1, 1), (-1, -1)]
    ii, jj = [], []
    for dr, dc in steps:
        rr, cc = r + dr, c + dc
        ok = (rr >= 0) & (rr < rows) & (cc >= 0) & (cc < cols)
        other = np.full(len(ids), -1, dtype=np.int64)
        other[ok] = pos[rr[ok] * cols + cc[ok]]
        ok &= other >= 0
        ii.append(np.flatnonzero(ok))
        jj.append(other[ok])
    return _from_pairs(np.concatenate(ii), np.concatenate(jj), len(ids),
                       "rook" if rook else "queen")


def h3_weights(cells: Sequence[str] | pd.Series) -> SpatialWeights:
    """Neighbours of H3 cells (hexagons share edges, so queen = rook)."""
    cells = list(cells)
    pos = {c: k for k, c in enumerate(cells)}
    ii, jj = [], []
    for k, c in enumerate(cells):
        for nb in h3.grid_ring(c, 1):
            p = pos.get(nb)
            if p is not None:
                ii.append(k)
                jj.append(p)
    return _from_pairs(np.asarray(ii, dtype=np.int64), np.asarray(jj, dtype=np.int64),
                       len(cells), "queen")


def build_weights(cells: gpd.GeoDataFrame, spec: str = "queen") -> SpatialWeights:
    """Weights of a cell layer from a spec string (see :func:`parse_weights`).

    Layers made by :mod:`gridmap.aggregate` carry their lattice (``h3`` column,
    or ``row``/``col`` plus ``attrs["lattice"]``) and get the fast builders.
    """
    kind, value = parse_weights(spec)
    if len(cells) == 0:
        raise DataError("no cells to build weights for.")
    if kind in ("queen", "rook"):
        lattice = cells.attrs.get("lattice")
        if lattice and lattice.get("kind") == "square" and {"row", "col"} <= set(cells.columns):
            ids = cells["row"].to_numpy() * lattice["cols"] + cells["col"].to_numpy()
            return lattice_weights(lattice["rows"], lattice["cols"], rook=kind == "rook",
                                   cells=ids)
        if lattice and lattice.get("kind") == "h3" and "h3" in cells.columns:
            return h3_weights(cells["h3"])
        types = set(cells.geom_type.dropna().unique())
        if types - {"Polygon", "MultiPolygon"}:
            raise SchemaError(
                f"{kind} contiguity needs polygons, not {sorted(types)}; use knn:K or "
                "distance:METRES for points."
            )
        return contiguity_weights(cells, rook=kind == "rook")
    if kind == "knn":
        return knn_weights(cells, int(value))
    return distance_weights(cells, float(value))
