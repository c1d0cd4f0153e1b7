"""People and places: population per grid, areal apportioning, aligned rasters, composite index.

Population from a raster
------------------------
:func:`zonal_population` sums a population raster (persons per pixel) over
each grid with **exact partial-pixel area weighting**: a pixel cut by a grid
boundary contributes ``value × area(pixel ∩ grid) / area(pixel)``, the
intersection computed with shapely in the raster's CRS. Pixels wholly inside
a grid count in full without any geometry work. Grids are reprojected to the
raster's CRS, never the raster (resampling would move people). For a raster in
longitude/latitude the area *fractions* are taken in degrees, which differs
from the metric fraction by less than the pixel's north–south extent over the
Earth's radius (about 10⁻⁵ for a 100 m pixel). Nodata pixels count as nobody.

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
import rasterio.windows
import shapely
from affine import Affine
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


def _zone_sum(poly, values: np.ndarray, transform: Affine) -> float:
    rows, cols = values.shape
    (x0, y0, x1, y1) = poly.bounds
    win = rasterio.windows.from_bounds(x0, y0, x1, y1, transform=transform)
    r0 = max(int(np.floor(win.row_off)), 0)
    c0 = max(int(np.floor(win.col_off)), 0)
    r1 = min(int(np.ceil(win.row_off + win.height)), rows)
    c1 = min(int(np.ceil(win.col_off + win.width)), cols)
    if r1 <= r0 or c1 <= c0:
        return 0.0
    sub = values[r0:r1, c0:c1]
    if not sub.any():
        return 0.0
    wt = transform @ Affine.translation(c0, r0)
    rr, cc = np.nonzero(sub)
    left = wt.c + cc * wt.a
    top = wt.f + rr * wt.e
    boxes = shapely.box(left, top + wt.e, left + wt.a, top)
    shapely.prepare(poly)
    inside = shapely.contains_properly(poly, boxes)
    total = float(sub[rr[inside], cc[inside]].sum())
    edge = ~inside
    if edge.any():
        cut = boxes[edge]
        hit = shapely.intersects(poly, cut)
        if hit.any():
            frac = shapely.area(shapely.intersection(cut[hit], poly)) / abs(wt.a * wt.e)
            total += float((sub[rr[edge][hit], cc[edge][hit]] * frac).sum())
    return total


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
    sums = np.array([_zone_sum(g, values, r.transform) if g is not None and not g.is_empty
                     else 0.0 for g in geoms])
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
