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
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
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
    grid_ids
        The grid id of every point (index aligned with the points), missing
        (``<NA>``) outside every grid.
    outside
        Positions of the points outside every grid, to count and list them.
    grid_id
        The column the ids come from (``None`` when the grids' index was used).
    grid_index
        The grids' index, to align :meth:`counts` with the grids.
    """

    index: np.ndarray
    grid_ids: pd.Series
    outside: np.ndarray
    grid_id: str | None
    grid_index: pd.Index

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
        types = set(geo.geom_type.dropna().unique())
        if types - {"Point"}:
            raise SchemaError(
                f"points layer has {sorted(types - {'Point'})} geometries; only Points can be "
                "assigned to grids (use .centroid or .representative_point() first)."
            )
        if not geo.crs.equals(target):
            geo = geo.to_crs(target)
        values = geo.values
        bad = shapely.is_missing(values) | shapely.is_empty(values)
        x = np.full(len(values), np.nan)
        y = np.full(len(values), np.nan)
        x[~bad] = shapely.get_x(values[~bad])
        y[~bad] = shapely.get_y(values[~bad])
        return x, y, points.index
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
    types = set(grids.geom_type.dropna().unique())
    if types - {"Polygon", "MultiPolygon"}:
        raise SchemaError(
            f"grids layer has {sorted(types - {'Polygon', 'MultiPolygon'})} geometries; "
            "grids must be Polygons or MultiPolygons."
        )
    col = pick_grid_id(grids, grid_id)
    x, y, pindex = _point_coords(points, grids.crs, crs)
    index = _assign_strtree(x, y, np.asarray(grids.geometry.values))
    ids = grids[col] if col is not None else grids.index.to_series()
    ids = pd.Series(ids.to_numpy()).convert_dtypes().array
    # -1 (outside) becomes <NA> through take(allow_fill=True)
    grid_ids = pd.Series(ids.take(index, allow_fill=True), index=pindex, name=col or "grid")
    inside = index >= 0
    return Assignment(
        index=index,
        grid_ids=grid_ids,
        outside=np.flatnonzero(~inside),
        grid_id=col,
        grid_index=grids.index,
    )
