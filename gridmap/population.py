"""People and places: population per grid, areal apportioning, aligned rasters, composite index.

Population from a raster
------------------------
:func:`zonal_population` sums a population raster (persons per pixel) over
each grid with **exact partial-pixel area weighting**: a pixel cut by a grid
boundary contributes ``value × area(pixel ∩ grid) / area(pixel)``. The
fractions come from one numba pass over every grid's rings in pixel space
(signed-area accumulation, as font rasterisers do: each edge adds the area
to its right within each pixel row it crosses, and a running sum along the row
gives every pixel's covered share), so no pixel geometry is built; holes
subtract, MultiPolygon parts add, and ring orientation does not matter. Any
invertible transform works, rotated or skewed ones included (a pixel is then
a parallelogram). Pixels outside the raster hold nobody. Grids are reprojected
to the raster's CRS, never the raster (resampling would move people). For a
raster in longitude/latitude the area *fractions* are taken in degrees, which
differs from the metric fraction by less than the pixel's north–south extent
over the Earth's radius (about 10⁻⁵ for a 100 m pixel). Nodata and NaN pixels
count as nobody.

Population from polygons (census block groups, communities)
-----------------------------------------------------------
:func:`apportion` shares each source polygon's count among the grids it
overlaps in proportion to the overlapping **area** (in the metric CRS).
*Caveat:* this assumes people are spread evenly inside each source polygon,
which they are not (parks, water, industry); errors are largest where grids
cut large, unevenly built source polygons. Give ``buildings`` (footprints,
optionally weighted by a column such as floors × area) for a **dasymetric**
share instead: each source count goes to the grids in proportion to the
building footprint inside them; a source polygon without any building falls
back to area weighting (reported in ``attrs["area_fallback"]``).

People–place–event view
-----------------------
:func:`people_place_event` returns three rasters on one grid — residents
(from the population raster, resampled with a sum so nobody is lost), place
density and incident density (kernel density, :mod:`gridmap.kde`) — all in
per km².

Composite index
---------------
:func:`composite_index` combines per-grid columns (e.g. population, place
count, incident count or rate) into one score::

    composite = Σ_k w_k · norm(x_k) / Σ_k |w_k|

with ``norm`` one of ``minmax`` ((x − min)/(max − min), 0…1), ``rank``
(percentile rank, 0…1), ``share`` (x / Σx) or ``zscore`` ((x − mean)/sd).
A negative weight makes a column count against the score. With the default
``minmax`` and non-negative weights the score lies in 0…1. A column that is
constant contributes 0 (it does not distinguish grids).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import rasterio.features
import shapely
from affine import Affine
from numba import njit
from pyproj import CRS
from rasterio.enums import Resampling
from rasterio.warp import reproject

from ._errors import CRSError, DataError, SchemaError
from ._validate import require_crs
from .crs import metric_crs, to_metric
from .kde import Raster, grid_for, kernel_density, kernel_reach, points_xy

__all__ = [
    "NORMALISATIONS",
    "apportion",
    "composite_index",
    "people_place_event",
    "population_raster",
    "zonal_population",
]

NORMALISATIONS = ("minmax", "rank", "share", "zscore")


def _open_raster(source: str | Path | Raster) -> Raster:
    if isinstance(source, Raster):
        return source
    path = Path(source)
    if not path.exists():
        raise DataError(f"{path}: population raster not found; check the path.")
    with rasterio.open(path) as src:
        if src.crs is None:
            raise CRSError(f"{path}: the raster has no CRS; assign one (e.g. gdal_edit.py -a_srs).")
        array = src.read(1, masked=True)
        values = np.where(np.ma.getmaskarray(array), 0.0, np.ma.getdata(array)).astype(np.float64)
        return Raster(array=values, transform=src.transform,
                      crs=CRS.from_user_input(src.crs.to_wkt()), nodata=0.0,
                      units="persons per pixel")


def population_raster(source: str | Path | Raster) -> Raster:
    """Read a population GeoTIFF (persons per pixel) with nodata as 0."""
    return _open_raster(source)


def _pixel_window(coords_uv: np.ndarray, shape: tuple[int, int]) -> tuple[int, int, int, int]:
    """Rows ``r0:r1`` and columns ``c0:c1`` of the pixels that pixel-space vertices may touch."""
    rows, cols = shape
    r0 = max(int(np.floor(coords_uv[:, 1].min())), 0)
    c0 = max(int(np.floor(coords_uv[:, 0].min())), 0)
    r1 = min(int(np.ceil(coords_uv[:, 1].max())), rows)
    c1 = min(int(np.ceil(coords_uv[:, 0].max())), cols)
    return r0, r1, c0, c1


def _to_pixels(xy: np.ndarray, transform: Affine) -> np.ndarray:
    """World coordinates → fractional (column, row): pixel (r, c) is the unit square at (c, r)."""
    det = transform.a * transform.e - transform.b * transform.d
    if not np.isfinite(det) or det == 0:
        raise DataError(f"the raster's transform {tuple(transform)[:6]} is not invertible; "
                        "fix its geotransform (e.g. gdal_edit.py -a_ullr).")
    dx = xy[:, 0] - transform.c
    dy = xy[:, 1] - transform.f
    u = (transform.e * dx - transform.b * dy) / det
    v = (transform.a * dy - transform.d * dx) / det
    return np.column_stack([u, v])


def _zone_sum_exact(poly, values: np.ndarray, transform: Affine) -> float:
    """Persons in one polygon by shapely: each pixel intersected with the polygon (the oracle).

    Pixels wholly inside count in full; edge pixels count
    ``area(pixel ∩ poly) / area(pixel)``. Works for any invertible transform
    (pixels of a rotated raster are parallelograms).
    """
    if poly is None or poly.is_empty:
        return 0.0
    xy = shapely.get_coordinates(poly)
    if not len(xy):
        return 0.0
    r0, r1, c0, c1 = _pixel_window(_to_pixels(xy, transform), values.shape)
    if r1 <= r0 or c1 <= c0:
        return 0.0
    sub = values[r0:r1, c0:c1]
    if not sub.any():
        return 0.0
    wt = transform @ Affine.translation(c0, r0)
    rr, cc = np.nonzero(sub)
    if wt.is_rectilinear:
        left = wt.c + cc * wt.a
        top = wt.f + rr * wt.e
        boxes = shapely.box(left, top + wt.e, left + wt.a, top)
    else:
        corners = np.array([(0, 0), (1, 0), (1, 1), (0, 1), (0, 0)], dtype=float)
        u = cc[:, None] + corners[None, :, 0]
        v = rr[:, None] + corners[None, :, 1]
        ring = np.stack([wt.a * u + wt.b * v + wt.c, wt.d * u + wt.e * v + wt.f], axis=-1)
        boxes = shapely.polygons(ring)
    pixel_area = abs(wt.a * wt.e - wt.b * wt.d)
    shapely.prepare(poly)
    inside = shapely.contains_properly(poly, boxes)
    total = float(sub[rr[inside], cc[inside]].sum())
    edge = ~inside
    if edge.any():
        cut = boxes[edge]
        hit = shapely.intersects(poly, cut)
        if hit.any():
            frac = shapely.area(shapely.intersection(cut[hit], poly)) / pixel_area
            total += float((sub[rr[edge][hit], cc[edge][hit]] * frac).sum())
    return total


# Exact coverage by signed-area accumulation (as font rasterisers do). In pixel
# space (u = column, v = row, pixel (r, c) the unit square at (c, r)), the
# winding number of a closed ring at a point is the signed count of its edges
# crossing the horizontal line through the point to the point's left. Pixel
# (r, c)'s coverage is that number integrated over the pixel: per edge, the
# area of the part of the edge's row band that lies in column c and to the
# right of the edge. Cut an edge at the row and column lines; a piece in row r
# and column k spanning height h with mean u = m covers h·(k + 1 − m) of pixel
# (r, k) and h of every pixel right of it. So add h·(k + 1 − m) at k and
# h·(m − k) at k + 1 of row r of an accumulation buffer; a cumulative sum
# along each row then gives every pixel's coverage (exact: the edge is linear
# within a piece). Each ring is weighted ±1 so that exteriors add and holes
# subtract whatever the ring's orientation; parts of a MultiPolygon add.


@njit(cache=True, nogil=True)
def _ring_signs(uv, ring_off, is_hole):  # pragma: no cover - numba
    """+1/−1 per ring: the factor turning its winding contribution into +exterior/−hole."""
    n = ring_off.shape[0] - 1
    out = np.zeros(n)
    for i in range(n):
        a = 0.0
        u0 = uv[ring_off[i], 0]
        v0 = uv[ring_off[i], 1]
        for k in range(ring_off[i], ring_off[i + 1] - 1):
            a += (uv[k, 0] - u0) * (uv[k + 1, 1] - v0) - (uv[k + 1, 0] - u0) * (uv[k, 1] - v0)
        # a > 0: edges going down (+v) lie on the right, so the winding integral is −area
        s = -1.0 if a > 0 else (1.0 if a < 0 else 0.0)
        out[i] = -s if is_hole[i] else s
    return out


@njit(cache=True, nogil=True)
def _coverage_sums(uv, ring_off, ring_sign, zone_ring, values):  # pragma: no cover - numba
    """Σ coverage × value per zone; zone z owns rings ``zone_ring[z]:zone_ring[z + 1]``."""
    rows, cols = values.shape
    nz = zone_ring.shape[0] - 1
    out = np.zeros(nz)
    for z in range(nz):
        k0 = ring_off[zone_ring[z]]
        k1 = ring_off[zone_ring[z + 1]]
        if k1 <= k0:
            continue
        umin = np.inf
        umax = -np.inf
        vmin = np.inf
        vmax = -np.inf
        for k in range(k0, k1):
            umin = min(umin, uv[k, 0])
            umax = max(umax, uv[k, 0])
            vmin = min(vmin, uv[k, 1])
            vmax = max(vmax, uv[k, 1])
        r0 = max(int(np.floor(vmin)), 0)
        r1 = min(int(np.ceil(vmax)), rows)
        c0 = max(int(np.floor(umin)), 0)
        c1 = min(int(np.ceil(umax)), cols)
        if r1 <= r0 or c1 <= c0:
            continue
        w = c1 - c0
        acc = np.zeros((r1 - r0, w + 1))
        for ring in range(zone_ring[z], zone_ring[z + 1]):
            sign = ring_sign[ring]
            if sign == 0.0:
                continue
            for k in range(ring_off[ring], ring_off[ring + 1] - 1):
                ua = uv[k, 0]
                va = uv[k, 1]
                ub = uv[k + 1, 0]
                vb = uv[k + 1, 1]
                if va == vb:
                    continue
                s = sign if vb > va else -sign
                if va > vb:
                    ua, va, ub, vb = ub, vb, ua, va
                dudv = (ub - ua) / (vb - va)
                ra = max(int(np.floor(va)), r0)
                rb = min(int(np.ceil(vb)), r1)
                for r in range(ra, rb):
                    y0 = max(va, float(r))
                    y1 = min(vb, float(r + 1))
                    if y1 <= y0:
                        continue
                    h = s * (y1 - y0)
                    x0 = ua + (y0 - va) * dudv
                    x1 = ua + (y1 - va) * dudv
                    if y0 == va:
                        x0 = ua
                    if y1 == vb:
                        x1 = ub
                    xlo = min(x0, x1)
                    xhi = max(x0, x1)
                    row = acc[r - r0]
                    if xhi <= c0:  # wholly left of the window: covers every pixel's row band
                        row[0] += h
                        continue
                    if xlo >= c1:  # wholly right of the window
                        continue
                    span = xhi - xlo
                    if span == 0.0:
                        kc = int(np.floor(xlo))
                        row[kc - c0] += h * (kc + 1 - xlo)
                        row[kc - c0 + 1] += h * (xlo - kc)
                        continue
                    kc = int(np.floor(xlo))
                    if kc < c0:  # the part left of the window
                        row[0] += h * (c0 - xlo) / span
                        kc = c0
                    kend = min(int(np.ceil(xhi)), c1)
                    for kk in range(kc, kend):
                        p0 = max(xlo, float(kk))
                        p1 = min(xhi, float(kk + 1))
                        if p1 <= p0:
                            continue
                        hp = h * (p1 - p0) / span
                        m = 0.5 * (p0 + p1)
                        row[kk - c0] += hp * (kk + 1 - m)
                        row[kk - c0 + 1] += hp * (m - kk)
        total = 0.0
        for i in range(r1 - r0):
            cov = 0.0
            for j in range(w):
                cov += acc[i, j]
                if abs(cov) > 1e-12:  # rounding residue right of a ring is no coverage
                    total += cov * values[r0 + i, c0 + j]
        out[z] = total
    return out


def _flatten_polygons(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Coordinates, ring offsets, hole flags and per-zone ring offsets of polygonal parts.

    Multi-part geometries and collections are exploded; parts that are not
    polygons (points, lines: no area) are left out.
    """
    n = len(geoms)
    types = shapely.get_type_id(geoms)
    if np.isin(types, (-1, 3, 6)).all() and (types >= 0).any():
        # only (Multi)Polygons and missing values: read the ragged arrays without
        # building a geometry object per part or ring
        kind, xy, offsets = shapely.to_ragged_array(geoms, include_z=False)
        ring_off = offsets[0].astype(np.int64)
        poly_ring = offsets[1].astype(np.int64)
        zone_ring = poly_ring if kind == shapely.GeometryType.POLYGON \
            else poly_ring[offsets[2]]
        is_hole = np.ones(len(ring_off) - 1, dtype=bool)
        first = poly_ring[:-1][poly_ring[:-1] < poly_ring[1:]]
        is_hole[first] = False
        return np.ascontiguousarray(xy, dtype=np.float64), ring_off, is_hole, \
            np.ascontiguousarray(zone_ring, dtype=np.int64)
    parts, zone = shapely.get_parts(geoms, return_index=True)
    while True:
        multi = np.isin(shapely.get_type_id(parts), (4, 5, 6, 7))
        if not multi.any():
            break
        sub, where = shapely.get_parts(parts[multi], return_index=True)
        parts = np.concatenate([parts[~multi], sub])
        zone = np.concatenate([zone[~multi], zone[multi][where]])
        order = np.argsort(zone, kind="stable")
        parts, zone = parts[order], zone[order]
    keep = (shapely.get_type_id(parts) == 3) & ~shapely.is_empty(parts)
    parts, zone = parts[keep], zone[keep]
    rings, part_of = shapely.get_rings(parts, return_index=True)
    is_hole = np.ones(len(rings), dtype=bool)
    is_hole[np.unique(part_of, return_index=True)[1]] = False
    xy, ring_of = shapely.get_coordinates(rings, return_index=True)
    ring_off = np.zeros(len(rings) + 1, dtype=np.int64)
    np.cumsum(np.bincount(ring_of, minlength=len(rings)), out=ring_off[1:])
    zone_ring = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(zone[part_of], minlength=n), out=zone_ring[1:])
    return xy, ring_off, is_hole, zone_ring


def _zone_sums(geoms: np.ndarray, values: np.ndarray, transform: Affine) -> np.ndarray:
    """Persons per polygon (exact partial-pixel areas) for many polygons in one numba pass."""
    xy, ring_off, is_hole, zone_ring = _flatten_polygons(np.asarray(geoms, dtype=object))
    if not len(xy):
        return np.zeros(len(geoms))
    if not np.isfinite(xy).all():
        raise DataError("some zones have coordinates that are not finite in the raster's CRS; "
                        "check the zones' CRS (they may be outside the raster CRS's area).")
    uv = np.ascontiguousarray(_to_pixels(xy, transform))
    signs = _ring_signs(uv, ring_off, is_hole)
    return _coverage_sums(uv, ring_off, signs, zone_ring, np.ascontiguousarray(values))


def zonal_population(
    population: str | Path | Raster,
    zones: gpd.GeoDataFrame,
    *,
    column: str = "population",
) -> gpd.GeoDataFrame:
    """Residents per zone: the raster summed with exact partial-pixel area weights.

    Parameters
    ----------
    population
        GeoTIFF path or :class:`~gridmap.kde.Raster` of persons per pixel.
    zones
        Grid (or any) polygons in any CRS.
    column
        Name of the added column.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``zones`` with ``column``.
    """
    require_crs(zones, layer="zones")
    r = _open_raster(population)
    values = np.nan_to_num(np.asarray(r.array, dtype=np.float64), nan=0.0)
    if not r.valid().all():
        values = np.where(r.valid(), values, 0.0)
    geoms = zones.geometry.to_crs(r.crs).values
    sums = _zone_sums(np.asarray(geoms), values, r.transform)
    out = zones.copy()
    out[column] = sums
    return out


def apportion(
    source: gpd.GeoDataFrame,
    targets: gpd.GeoDataFrame,
    columns: str | list[str],
    *,
    buildings: gpd.GeoDataFrame | None = None,
    building_weight: str | None = None,
) -> gpd.GeoDataFrame:
    """Share counts of source polygons among target grids by area (or buildings).

    Parameters
    ----------
    source
        Polygons carrying the counts (e.g. census block groups with ``Population``).
    targets
        Grids receiving them.
    columns
        Count column(s) of ``source``.
    buildings
        Optional footprints for a dasymetric share (see the module docstring).
    building_weight
        Column of ``buildings`` multiplying each footprint's area (e.g. floors).

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``targets`` with the apportioned columns; counts of source
        polygons outside every grid are lost from the grid totals and their
        sum is in ``attrs["unassigned"]``.
    """
    cols = [columns] if isinstance(columns, str) else list(columns)
    missing = [c for c in cols if c not in source.columns]
    if missing:
        raise SchemaError(f"source polygons lack {missing}; columns are {list(source.columns)}.")
    require_crs(source, layer="source")
    require_crs(targets, layer="grids")
    crs = metric_crs(targets)
    src = to_metric(source[[*cols, source.geometry.name]], crs).reset_index(drop=True)
    src["_src"] = np.arange(len(src))
    src["_src_area"] = src.area
    tgt = to_metric(targets[[targets.geometry.name]], crs).reset_index(drop=True)
    tgt["_tgt"] = np.arange(len(tgt))
    pieces = gpd.overlay(src, tgt, how="intersection", keep_geom_type=True)
    pieces["_share"] = pieces.area / pieces["_src_area"].where(pieces["_src_area"] > 0)
    fallback = 0
    if buildings is not None:
        require_crs(buildings, layer="buildings")
        b = to_metric(buildings[[buildings.geometry.name] + ([building_weight] if building_weight
                                                             else [])], crs)
        b = b[b.geom_type.isin(["Polygon", "MultiPolygon"])].reset_index(drop=True)
        pieces["_piece"] = np.arange(len(pieces))
        bp = gpd.overlay(pieces[["_piece", "_src", pieces.geometry.name]], b,
                         how="intersection", keep_geom_type=True)
        mass = bp.area * (pd.to_numeric(bp[building_weight], errors="coerce").fillna(0)
                          if building_weight else 1.0)
        per_piece = mass.groupby(bp["_piece"]).sum().reindex(pieces["_piece"], fill_value=0.0)
        per_src = per_piece.groupby(pieces["_src"].to_numpy()).sum()
        src_mass = pieces["_src"].map(per_src).fillna(0.0).to_numpy()
        dasy = src_mass > 0
        pieces.loc[dasy, "_share"] = per_piece.to_numpy()[dasy] / src_mass[dasy]
        fallback = int(pieces.loc[~dasy, "_src"].nunique())
    out = targets.copy()
    for c in cols:
        vals = pd.to_numeric(pieces[c], errors="coerce").fillna(0) * pieces["_share"].fillna(0)
        per_tgt = vals.groupby(pieces["_tgt"]).sum().reindex(range(len(tgt)), fill_value=0.0)
        out[c] = per_tgt.to_numpy()
    total = {c: float(pd.to_numeric(source[c], errors="coerce").fillna(0).sum()) for c in cols}
    out.attrs["unassigned"] = {c: total[c] - float(out[c].sum()) for c in cols}
    out.attrs["area_fallback"] = fallback
    return out


def people_place_event(
    population: str | Path | Raster | None,
    places: gpd.GeoDataFrame | None,
    incidents: gpd.GeoDataFrame | None,
    *,
    cell: float = 100.0,
    bandwidth: float = 300.0,
    kernel: str = "quartic",
    crs: object = None,
    bounds: tuple[float, float, float, float] | None = None,
    min_count: int = 5,
) -> dict[str, Raster]:
    """Residents, place density and incident density on one grid, all per km².

    Parameters
    ----------
    population
        Population raster (persons per pixel) or ``None``.
    places, incidents
        Point layers or ``None``.
    cell
        Cell size of the common grid, metres.
    bandwidth, kernel
        Kernel density settings for places and incidents.
    crs
        Metric CRS of the grid; default from the first layer given.
    bounds
        Extent in ``crs``; default the union of the layers' extents.
    min_count
        Privacy masking of the incident raster (places are not people and are
        not masked).

    Returns
    -------
    dict
        ``{"people": Raster, "places": Raster, "events": Raster}`` for the
        layers given, sharing CRS, transform and shape.
    """
    pop = _open_raster(population) if population is not None else None
    layers = [g for g in (places, incidents) if g is not None and len(g)]
    if crs is not None:
        target = CRS.from_user_input(crs)
    elif layers:
        target = metric_crs(layers[0])
    elif pop is not None:
        rb = pop.bounds
        box = gpd.GeoSeries([shapely.box(*rb)], crs=pop.crs)
        target = metric_crs(box)
    else:
        raise DataError("give at least one of population, places or incidents.")
    if bounds is None:
        boxes = []
        for g in layers:
            x, y, ok = points_xy(g, target)
            if ok.any():
                boxes.append((np.nanmin(x), np.nanmin(y), np.nanmax(x), np.nanmax(y)))
        if pop is not None:
            b = gpd.GeoSeries([shapely.box(*pop.bounds)], crs=pop.crs).to_crs(target).total_bounds
            boxes.append(tuple(b))
        if not boxes:
            raise DataError("the layers have no locations to put on a grid.")
        arr = np.array(boxes, dtype=float)
        bounds = (arr[:, 0].min(), arr[:, 1].min(), arr[:, 2].max(), arr[:, 3].max())
    transform, shape = grid_for(bounds, cell, pad=kernel_reach(kernel, bandwidth) + 2 * cell)
    template = Raster(np.zeros(shape, dtype=np.float32), transform, target)
    out: dict[str, Raster] = {}
    if pop is not None:
        dest = np.zeros(shape, dtype=np.float64)
        reproject(np.asarray(pop.array, dtype=np.float64), dest, src_transform=pop.transform,
                  src_crs=pop.crs.to_wkt(), dst_transform=transform, dst_crs=target.to_wkt(),
                  resampling=Resampling.sum, src_nodata=None, dst_nodata=0.0)
        out["people"] = Raster((dest / (cell * cell) * 1e6).astype(np.float32), transform,
                               target, units="residents per km²",
                               meta={"units_code": "per-km2", "source": "population raster"})
    if places is not None:
        out["places"] = kernel_density(places, kernel=kernel, bandwidth=bandwidth, like=template,
                                       min_count=0)
    if incidents is not None:
        out["events"] = kernel_density(incidents, kernel=kernel, bandwidth=bandwidth,
                                       like=template, min_count=min_count)
    return out


def composite_index(
    table: pd.DataFrame,
    weights: Mapping[str, float],
    *,
    method: str = "minmax",
    column: str = "composite",
) -> pd.DataFrame:
    """Add a weighted composite of normalised columns (see the module docstring).

    Parameters
    ----------
    table
        Per-grid table (GeoDataFrames keep their geometry).
    weights
        ``{column: weight}``; weights need not sum to 1.
    method
        ``minmax``, ``rank``, ``share`` or ``zscore``.
    column
        Name of the added score column.

    Returns
    -------
    pandas.DataFrame
        A copy with ``column`` and one ``<column>_<input>`` normalised column per input.
    """
    if method not in NORMALISATIONS:
        raise ValueError(f"unknown normalisation {method!r}; choose one of {NORMALISATIONS}.")
    if not weights:
        raise ValueError("give at least one {column: weight}.")
    missing = [c for c in weights if c not in table.columns]
    if missing:
        raise SchemaError(f"composite inputs {missing} are not columns; columns are "
                          f"{list(table.columns)}.")
    total_w = sum(abs(float(w)) for w in weights.values())
    if total_w == 0:
        raise ValueError("all composite weights are zero.")
    out = table.copy()
    score = np.zeros(len(out))
    for col, w in weights.items():
        x = pd.to_numeric(out[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        x = np.nan_to_num(x, nan=0.0)
        if method == "minmax":
            span = x.max() - x.min() if len(x) else 0.0
            norm = (x - x.min()) / span if span > 0 else np.zeros_like(x)
        elif method == "rank":
            norm = pd.Series(x).rank(pct=True, method="average").to_numpy() \
                if np.ptp(x) > 0 else np.zeros_like(x)
        elif method == "share":
            norm = x / x.sum() if x.sum() != 0 else np.zeros_like(x)
        else:
            sd = x.std()
            norm = (x - x.mean()) / sd if sd > 0 else np.zeros_like(x)
        out[f"{column}_{col}"] = norm
        score += float(w) * norm
    out[column] = score / total_w
    return out
