"""Unit grids: square cells (万米单元网格) and H3 hexagons clipped to a boundary.

Units are the building blocks a partition is made of. :func:`square_units`
lays a square grid (default 100 m × 100 m, the 万米单元网格) aligned to
multiples of the cell size in the metric CRS; :func:`h3_units` uses H3
hexagons. Both clip the cells to the boundary — and, with ``within``, to each
parent (community) so that no unit crosses a parent line — and merge the
pieces smaller than ``min_area`` (a share of a full cell) into the neighbour
in the same parent with which they share the longest border.
:func:`aggregate_to_units` sums building or point attributes into the units.

Results are in the boundary's CRS; areas are computed in a metric CRS.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._errors import DataError, SchemaError
from ._validate import require_columns, require_crs, require_geom_types, require_nonempty
from .crs import to_metric

__all__ = ["aggregate_to_units", "h3_units", "square_units"]

_POLYGONAL = ("Polygon", "MultiPolygon")


def _regions(
    boundary: gpd.GeoDataFrame, within: gpd.GeoDataFrame | None, within_id: str | None, crs: object
) -> tuple[np.ndarray, np.ndarray]:
    """Clip regions (metric geometries) and their parent labels."""
    outline = shapely.union_all(boundary.to_crs(crs).geometry.values)
    if within is None:
        return np.array([outline], dtype=object), np.array([None], dtype=object)
    require_crs(within, layer="within")
    require_geom_types(within, _POLYGONAL, layer="within")
    if within_id is not None:
        require_columns(within, [within_id], layer="within")
        ids = within[within_id].to_numpy(dtype=object)
    else:
        ids = within.index.to_numpy(dtype=object)
    geoms = shapely.intersection(within.to_crs(crs).geometry.values, outline)
    keep = ~shapely.is_empty(geoms)
    return geoms[keep], ids[keep]


def _clip_and_merge(
    cells: np.ndarray,
    cell_ids: np.ndarray,
    regions: np.ndarray,
    parents: np.ndarray,
    *,
    full_area: float,
    min_area: float,
) -> pd.DataFrame:
    """Clip ``cells`` to ``regions``, explode, and merge small pieces into neighbours."""
    tree = shapely.STRtree(cells)
    r_idx, c_idx = tree.query(regions, predicate="intersects")
    pieces = shapely.intersection(cells[c_idx], regions[r_idx])
    # one row per polygon part (intersections may give multi-parts or collections)
    parts, idx = shapely.get_parts(pieces, return_index=True)
    multi = shapely.get_type_id(parts) == 6
    if multi.any():
        sub, sidx = shapely.get_parts(parts[multi], return_index=True)
        parts = np.concatenate([parts[~multi], sub])
        idx = np.concatenate([idx[~multi], idx[multi][sidx]])
    area = shapely.area(parts)
    keep = (shapely.get_type_id(parts) == 3) & (area > 0)
    df = pd.DataFrame(
        {"cell": c_idx[idx[keep]], "parent_pos": r_idx[idx[keep]], "geometry": parts[keep]}
    )
    # the largest piece of each cell in each parent keeps the cell id
    df["area"] = area[keep]
    df = df.sort_values(["cell", "parent_pos", "area"], ascending=[True, True, False]).reset_index(drop=True)
    rank = df.groupby(["cell", "parent_pos"]).cumcount().to_numpy()
    base = cell_ids[df["cell"].to_numpy()].astype(str)
    df["unit_id"] = np.where(rank == 0, base, [f"{b}-{r + 1}" for b, r in zip(base, rank, strict=True)])
    df["pieces"] = 1
    df["full"] = np.isclose(df["area"].to_numpy(), full_area, rtol=1e-6)
    threshold = min_area * full_area
    for _ in range(8):
        geoms = np.asarray(df["geometry"].to_numpy(), dtype=object)
        area = shapely.area(geoms)
        small = np.flatnonzero(area < threshold)
        if len(small) == 0:
            break
        tree = shapely.STRtree(geoms)
        s_idx, n_idx = tree.query(geoms[small], predicate="intersects")
        s = small[s_idx]
        same_parent = df["parent_pos"].to_numpy()[s] == df["parent_pos"].to_numpy()[n_idx]
        ok = (s != n_idx) & same_parent
        s, n_idx = s[ok], n_idx[ok]
        border = shapely.length(
            shapely.intersection(shapely.boundary(geoms[s]), shapely.boundary(geoms[n_idx]))
        )
        cand = pd.DataFrame({"s": s, "n": n_idx, "border": border, "n_area": area[n_idx]})
        cand = cand[cand["border"] > 0]
        if cand.empty:
            break
        # never merge two small pieces into each other in the same round
        cand = cand[~np.isin(cand["n"].to_numpy(), small) | (cand["n_area"] >= threshold)]
        best = cand.sort_values(["s", "border", "n_area"], ascending=[True, False, False]).drop_duplicates("s")
        # a piece that receives must not itself be merged away this round
        best = best[~np.isin(best["n"].to_numpy(), best["s"].to_numpy())]
        if best.empty:
            # only small neighbours: merge the smallest into its best neighbour
            best = (
                cand.sort_values(["s", "border"], ascending=[True, False]).drop_duplicates("s").head(1)
            )
        merged_geoms = geoms.copy()
        pieces = df["pieces"].to_numpy().copy()
        for n_pos, grp in best.groupby("n"):
            members = grp["s"].to_numpy()
            merged_geoms[n_pos] = shapely.union_all(
                np.concatenate([[geoms[n_pos]], geoms[members]])
            )
            pieces[n_pos] += pieces[members].sum()
        df["geometry"] = merged_geoms
        df["pieces"] = pieces
        df = df.drop(index=best["s"].to_numpy()).reset_index(drop=True)
    df["parent"] = parents[df["parent_pos"].to_numpy()]
    df["area_m2"] = shapely.area(np.asarray(df["geometry"].to_numpy(), dtype=object))
    df["full"] = df["full"] & (df["pieces"] == 1)
    return df


def _finish(df: pd.DataFrame, crs_metric: object, out_crs: object, within: object) -> gpd.GeoDataFrame:
    cols = ["unit_id", *([c for c in ("row", "col", "h3") if c in df.columns])]
    if within is not None:
        cols.append("parent")
    cols += ["area_m2", "full", "pieces"]
    out = gpd.GeoDataFrame(df[cols], geometry=list(df["geometry"]), crs=crs_metric)
    if out["unit_id"].duplicated().any():  # pragma: no cover - ids are built unique per parent
        out["unit_id"] = out["unit_id"] + "-" + out.groupby("unit_id").cumcount().astype(str)
    return out.to_crs(out_crs).reset_index(drop=True)


def square_units(
    boundary: gpd.GeoDataFrame,
    *,
    size: float = 100.0,
    min_area: float = 0.5,
    within: gpd.GeoDataFrame | None = None,
    within_id: str | None = None,
) -> gpd.GeoDataFrame:
    """Square cells of ``size`` metres clipped to ``boundary`` (and to each parent).

    Parameters
    ----------
    boundary
        Polygon layer; the cells cover its union.
    size
        Cell side in metres (100 gives the 万米单元网格 of 10,000 m²).
    min_area
        Pieces smaller than this share of a full cell are merged into the
        neighbour (same parent) with the longest shared border.
    within
        Parent polygons (e.g. communities); cells are cut along their lines.
    within_id
        Id column of ``within`` (default: its index), copied to ``parent``.

    Returns
    -------
    geopandas.GeoDataFrame
        ``unit_id`` (``R{row}C{col}``, rows from north, columns from west,
        with ``-2``… for further pieces of one cell), ``row``, ``col``,
        ``parent`` (with ``within``), ``area_m2``, ``full`` (an uncut cell) and
        ``pieces`` (pieces merged into the unit), in the boundary's CRS.
    """
    require_nonempty(boundary, layer="boundary")
    require_crs(boundary, layer="boundary")
    require_geom_types(boundary, _POLYGONAL, layer="boundary")
    if not size > 0:
        raise ValueError(f"size must be positive metres, got {size!r}.")
    if not 0 <= min_area < 1:
        raise ValueError(f"min_area is a share of a full cell in [0, 1), got {min_area!r}.")
    metric = to_metric(boundary)
    regions, parents = _regions(boundary, within, within_id, metric.crs)
    xmin, ymin, xmax, ymax = shapely.total_bounds(regions)
    x0 = math.floor(xmin / size) * size
    y_top = math.ceil(ymax / size) * size
    ncol = max(1, math.ceil((xmax - x0) / size))
    nrow = max(1, math.ceil((y_top - ymin) / size))
    if ncol * nrow > 5_000_000:
        raise DataError(
            f"{ncol} × {nrow} cells of {size:g} m is too many; use a larger --square size "
            "or a smaller boundary."
        )
    col, row = np.meshgrid(np.arange(ncol), np.arange(nrow))
    col, row = col.ravel(), row.ravel()
    cells = shapely.box(x0 + col * size, y_top - (row + 1) * size, x0 + (col + 1) * size, y_top - row * size)
    width = max(len(str(nrow)), len(str(ncol)))
    ids = np.array([f"R{r:0{width}d}C{c:0{width}d}" for r, c in zip(row, col, strict=True)], dtype=object)
    df = _clip_and_merge(cells, ids, regions, parents, full_area=size * size, min_area=min_area)
    df["row"] = row[df["cell"].to_numpy()]
    df["col"] = col[df["cell"].to_numpy()]
    return _finish(df, metric.crs, boundary.crs, within)


def h3_units(
    boundary: gpd.GeoDataFrame,
    *,
    resolution: int,
    min_area: float = 0.5,
    within: gpd.GeoDataFrame | None = None,
    within_id: str | None = None,
) -> gpd.GeoDataFrame:
    """H3 hexagons of ``resolution`` clipped to ``boundary`` (and to each parent).

    Every hexagon that overlaps the boundary is used, then clipped; pieces
    smaller than ``min_area`` of a full hexagon are merged as in
    :func:`square_units`. (Resolution 9 hexagons are about 0.1 km², 10 about
    0.015 km².)

    Returns
    -------
    geopandas.GeoDataFrame
        ``unit_id`` (the H3 index, with ``-2``… for further pieces), ``h3``,
        ``parent`` (with ``within``), ``area_m2``, ``full`` and ``pieces``.
    """
    import h3

    require_nonempty(boundary, layer="boundary")
    require_crs(boundary, layer="boundary")
    require_geom_types(boundary, _POLYGONAL, layer="boundary")
    if not 0 <= int(resolution) <= 15:
        raise ValueError(f"H3 resolution must be 0–15, got {resolution!r}.")
    if not 0 <= min_area < 1:
        raise ValueError(f"min_area is a share of a full cell in [0, 1), got {min_area!r}.")
    metric = to_metric(boundary)
    regions, parents = _regions(boundary, within, within_id, metric.crs)
    outline_ll = gpd.GeoSeries([shapely.union_all(regions)], crs=metric.crs).to_crs(4326).iloc[0]
    shape = h3.geo_to_h3shape(shapely.geometry.mapping(outline_ll))
    hexes = sorted(h3.h3shape_to_cells_experimental(shape, int(resolution), contain="overlap"))
    if not hexes:
        raise DataError("no H3 cell overlaps the boundary; check its CRS and the resolution.")
    polys = [shapely.Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(c)]) for c in hexes]
    cells = gpd.GeoSeries(polys, crs=4326).to_crs(metric.crs).geometry.values
    full = float(np.median(shapely.area(cells)))
    ids = np.array(hexes, dtype=object)
    df = _clip_and_merge(np.asarray(cells), ids, regions, parents, full_area=full, min_area=min_area)
    df["h3"] = ids[df["cell"].to_numpy()]
    # hexagon areas vary slightly: "full" means the piece is the whole hexagon
    whole = np.isclose(df["area_m2"].to_numpy(), shapely.area(np.asarray(cells)[df["cell"].to_numpy()]), rtol=1e-6)
    df["full"] = whole & (df["pieces"] == 1)
    return _finish(df, metric.crs, boundary.crs, within)


def aggregate_to_units(
    units: gpd.GeoDataFrame,
    features: gpd.GeoDataFrame,
    *,
    fields: list[str] | None = None,
    count: str | None = "n_features",
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Sum feature attributes (buildings' households, incidents' weights) into units.

    Each feature counts in the unit containing its representative point
    (buildings go to one unit each, never split).

    Parameters
    ----------
    units
        Polygon units.
    features
        Points or polygons (e.g. buildings) with numeric ``fields``.
    fields
        Numeric columns to sum (missing values count as 0).
    count
        Name of a column counting the features per unit (None: no count).

    Returns
    -------
    (geopandas.GeoDataFrame, pandas.DataFrame)
        A copy of ``units`` with the sums, and the features that fall inside no
        unit (their index and field values) — counted, never dropped silently.
    """
    require_crs(units, layer="units")
    require_crs(features, layer="features")
    fields = list(fields or [])
    require_columns(features, fields, layer="features")
    if count is not None and count in units.columns:
        raise SchemaError(f"units already have a {count!r} column; pass another count= name.")
    metric_units = to_metric(units)
    pts = shapely.point_on_surface(features.to_crs(metric_units.crs).geometry.values)
    tree = shapely.STRtree(metric_units.geometry.values)
    f_idx, u_idx = tree.query(pts, predicate="intersects")
    # a point on a shared border counts once, in the first unit
    first = pd.DataFrame({"f": f_idx, "u": u_idx}).sort_values(["f", "u"]).drop_duplicates("f")
    values = features[fields].apply(pd.to_numeric, errors="coerce").fillna(0.0) if fields else None
    out = units.copy()
    for f in fields:
        sums = np.bincount(first["u"], weights=values[f].to_numpy()[first["f"]], minlength=len(units))
        out[f] = sums
    if count is not None:
        out[count] = np.bincount(first["u"], minlength=len(units)).astype(int)
    inside = np.zeros(len(features), dtype=bool)
    inside[first["f"].to_numpy()] = True
    outside = pd.DataFrame({"feature": features.index[~inside]})
    for f in fields:
        outside[f] = values[f].to_numpy()[~inside]
    return out, outside
