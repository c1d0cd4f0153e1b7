"""Content of the demo district: coded grids, roads, buildings, population,
cameras and key places, built on a :class:`~gridmap._demo_layout.Layout`.

All positions are drawn in the local frame (metres), then moved to EPSG:4549
and WGS84 by :class:`~gridmap._demo_frame.Frame`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from rasterio import features
from rasterio.transform import Affine

from ._demo_frame import Frame
from ._demo_layout import COMMUNITY, STREET, Layout, road_lines
from ._demo_names import draw_names
from .crs import WGS84

if TYPE_CHECKING:
    from .demo import Scale

__all__ = [
    "DISTRICT_CODE",
    "ROAD_CLASSES",
    "build_buildings",
    "build_cameras",
    "build_grids",
    "build_places",
    "build_population",
    "build_roads",
    "road_class",
]

DISTRICT_CODE = "330499"  # synthetic: 99 is not a real county-level code under 3304 (Jiaxing)
GB_CENTRE = DISTRICT_CODE + "00"  # 8-digit GB/T 28181 centre code

URBAN_LEVEL = 0.3  # urban level above which a grid is urban

ROAD_CLASSES = ("primary", "secondary", "local")
_HALF_WIDTH = np.array([20.0, 12.0, 6.0])  # metres, by road class


# --------------------------------------------------------------------------- grids


def _reading_order(x: np.ndarray, y: np.ndarray, row_height: float) -> np.ndarray:
    """Order points in rows from north to south, west to east within a row."""
    n = len(x)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    by_y = np.argsort(-y, kind="stable")
    row = np.zeros(n, dtype=np.int64)
    top = y[by_y[0]]
    r = 0
    for k, i in enumerate(by_y):
        if top - y[i] > row_height:
            r += 1
            top = y[i]
        row[k] = r
    rows = np.empty(n, dtype=np.int64)
    rows[by_y] = row
    return np.lexsort((x, rows))


def _ordered_codes(x: np.ndarray, y: np.ndarray, size: np.ndarray, parent: np.ndarray) -> np.ndarray:
    """Serial numbers 1.. within each parent, in reading order."""
    serial = np.zeros(len(x), dtype=np.int64)
    for p in np.unique(parent):
        idx = np.flatnonzero(parent == p)
        order = _reading_order(x[idx], y[idx], 0.6 * float(np.median(size[idx])))
        serial[idx[order]] = np.arange(1, len(idx) + 1)
    return serial


def build_grids(layout: Layout, frame: Frame, rng: np.random.Generator) -> dict[str, gpd.GeoDataFrame]:
    """Grids, communities and streets with codes and names, in WGS84.

    Also returns the metric (EPSG:4549) grid polygons and the grid zone under
    ``"_grids_metric"`` for the other builders.
    """
    g_metric = frame.geoms_to_metric(layout.grid_geom)
    c_metric = frame.geoms_to_metric(layout.community_geom)
    s_metric = frame.geoms_to_metric(layout.street_geom)

    rp = shapely.point_on_surface(layout.grid_geom)
    lu, lv = shapely.get_coordinates(rp).T
    grid_level = layout.cores.level(lu, lv)
    zone = np.where(grid_level > URBAN_LEVEL, "urban", "rural")

    def _xy(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        c = shapely.get_coordinates(shapely.point_on_surface(geoms))
        return c[:, 0], c[:, 1]

    # streets in reading order over the district, communities within streets...
    sx, sy = _xy(s_metric)
    s_size = np.sqrt(shapely.area(s_metric))
    s_serial = _ordered_codes(sx, sy, s_size, np.zeros(len(sx), dtype=np.int64))
    cx, cy = _xy(c_metric)
    c_serial = _ordered_codes(cx, cy, np.sqrt(shapely.area(c_metric)), layout.community_street)
    gx, gy = _xy(g_metric)
    g_serial = _ordered_codes(gx, gy, np.sqrt(shapely.area(g_metric)), layout.grid_community)

    street_code = np.array([f"{DISTRICT_CODE}{k:03d}" for k in s_serial], dtype=object)
    comm_code = np.array(
        [f"{street_code[s]}{k:03d}" for s, k in zip(layout.community_street, c_serial, strict=True)],
        dtype=object,
    )
    grid_code = np.array(
        [f"{comm_code[c]}{k:03d}" for c, k in zip(layout.grid_community, g_serial, strict=True)],
        dtype=object,
    )

    # a community (street) is urban when most of its area is in urban grids
    urban_area = np.bincount(
        layout.grid_community, weights=shapely.area(g_metric) * (zone == "urban"),
        minlength=len(c_metric),
    )
    comm_urban = urban_area > 0.5 * shapely.area(c_metric)
    st_urban_area = np.bincount(layout.community_street, weights=urban_area, minlength=len(s_metric))
    street_urban = st_urban_area > 0.3 * shapely.area(s_metric)

    street_name = draw_names(rng, len(s_metric)) + np.where(street_urban, "街道", "镇")
    comm_name = np.empty(len(c_metric), dtype=object)
    for s in range(len(s_metric)):
        idx = np.flatnonzero(layout.community_street == s)
        comm_name[idx] = draw_names(rng, len(idx)) + np.where(comm_urban[idx], "社区", "村")

    grid_name = np.array([f"第{k:03d}网格" for k in g_serial], dtype=object)
    gc = layout.grid_community
    grids = gpd.GeoDataFrame(
        {
            "grid_id": grid_code,
            "name": grid_name,
            "district_code": DISTRICT_CODE,
            "street_code": street_code[layout.community_street[gc]],
            "community_code": comm_code[gc],
            "zone": zone,
            "street_name": street_name[layout.community_street[gc]],
            "community_name": comm_name[gc],
            "area_km2": np.round(shapely.area(g_metric) / 1e6, 6),
        },
        geometry=frame.geoms_to_wgs84(g_metric),
        crs=WGS84,
    )
    communities = gpd.GeoDataFrame(
        {
            "community_code": comm_code,
            "name": comm_name,
            "street_code": street_code[layout.community_street],
            "district_code": DISTRICT_CODE,
            "zone": np.where(comm_urban, "urban", "rural"),
            "n_grids": np.bincount(gc, minlength=len(c_metric)),
            "area_km2": np.round(shapely.area(c_metric) / 1e6, 6),
        },
        geometry=frame.geoms_to_wgs84(c_metric),
        crs=WGS84,
    )
    streets = gpd.GeoDataFrame(
        {
            "street_code": street_code,
            "name": street_name,
            "district_code": DISTRICT_CODE,
            "kind": np.where(street_urban, "街道", "镇"),
            "n_communities": np.bincount(layout.community_street, minlength=len(s_metric)),
            "area_km2": np.round(shapely.area(s_metric) / 1e6, 6),
        },
        geometry=frame.geoms_to_wgs84(s_metric),
        crs=WGS84,
    )
    order_g = np.argsort(grid_code, kind="stable")
    order_c = np.argsort(comm_code, kind="stable")
    order_s = np.argsort(street_code, kind="stable")
    return {
        "grids": grids.iloc[order_g].reset_index(drop=True),
        "communities": communities.iloc[order_c].reset_index(drop=True),
        "streets": streets.iloc[order_s].reset_index(drop=True),
        "_grid_zone": zone,
        "_grid_metric": g_metric,
        "_grid_level": grid_level,
    }


# --------------------------------------------------------------------------- roads


def road_class(layout: Layout) -> np.ndarray:
    """0 primary (cuts between streets, and the first cut), 1 secondary (between communities), 2 local."""
    lvl = layout.road_level
    cls = np.full(len(lvl), 2, dtype=np.int8)
    cls[lvl == COMMUNITY] = 1
    cls[(lvl == STREET) | ((lvl == COMMUNITY) & (layout.road_depth == 0))] = 0
    return cls


def build_roads(layout: Layout, frame: Frame, rng: np.random.Generator) -> dict:
    """Roads clipped to the district, one LineString per feature, in WGS84."""
    cls = road_class(layout)
    n = len(cls)
    base = draw_names(rng, n, unique=n <= 2000)
    r = rng.random(n)
    suffix = np.where(
        cls == 0,
        np.where(r < 0.4, "大道", "路"),
        np.where(cls == 1, "路", np.where(r < 0.3, "街", np.where(r < 0.7, "路", "巷"))),
    )
    name = base + suffix
    lines = road_lines(layout.road_axis, layout.road_pos, layout.road_lo, layout.road_hi)
    clipped = shapely.intersection(lines, layout.outline)
    parts, idx = shapely.get_parts(clipped, return_index=True)
    keep = (shapely.get_type_id(parts) == 1) & (shapely.length(parts) > 1.0)
    parts, idx = parts[keep], idx[keep]
    metric = frame.geoms_to_metric(parts)
    roads = gpd.GeoDataFrame(
        {
            "road_id": [f"R{k:06d}" for k in range(1, len(parts) + 1)],
            "name": name[idx],
            "road_class": np.asarray(ROAD_CLASSES, dtype=object)[cls[idx]],
            "length_m": np.round(shapely.length(metric), 1),
        },
        geometry=frame.geoms_to_wgs84(metric),
        crs=WGS84,
    )
    return {"roads": roads, "_name": name, "_class": cls, "_metric": metric, "_cut": idx}


# --------------------------------------------------------------------------- buildings

# kind: footprint along u, along v, pitch u, pitch v, keep share, height lo, hi, residents/m² factor
_BUILDING_KINDS = {
    "tower": (24.0, 24.0, 50.0, 55.0, 0.85, 45.0, 100.0, 1.0),
    "slab": (50.0, 14.0, 62.0, 36.0, 0.9, 18.0, 36.0, 1.0),
    "commercial": (50.0, 40.0, 75.0, 65.0, 0.7, 12.0, 60.0, 0.15),
    "lowrise": (12.0, 10.0, 17.0, 16.0, 0.8, 6.0, 12.0, 1.0),
    "factory": (80.0, 45.0, 100.0, 70.0, 0.75, 8.0, 15.0, 0.05),
    "house": (11.0, 9.0, 16.0, 15.0, 0.85, 6.0, 11.0, 1.0),
}
_KIND_NAMES = tuple(_BUILDING_KINDS)
_KIND_PARAMS = np.array([_BUILDING_KINDS[k] for k in _KIND_NAMES])
_CORE = (0.05, 0.35, 0.35, 0.25, 0.0, 0.0, 0.0)  # none, tower, slab, commercial, lowrise, factory, house
_FRINGE = (0.08, 0.05, 0.42, 0.1, 0.22, 0.13, 0.0)
_RURAL = (0.93, 0.0, 0.0, 0.0, 0.0, 0.07, 0.0)


def _inner_rects(layout: Layout, road_cls: np.ndarray, extra: float = 3.0) -> np.ndarray:
    """Block rectangles shrunk by half the road width plus a setback on each side."""
    sides = layout.block_sides
    half = np.where(sides >= 0, _HALF_WIDTH[road_cls[np.maximum(sides, 0)]] + extra, 0.0)
    r = layout.block_rect
    return np.column_stack([r[:, 0] + half[:, 0], r[:, 1] - half[:, 1], r[:, 2] + half[:, 2], r[:, 3] - half[:, 3]])


def _lattice(
    rects: np.ndarray, kind: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Building footprints on a lattice inside each rectangle (vectorised)."""
    p = _KIND_PARAMS[kind]
    w = rects[:, 1] - rects[:, 0]
    h = rects[:, 3] - rects[:, 2]
    nx = np.where(w >= p[:, 0], np.floor((w - p[:, 0]) / p[:, 2]) + 1, 0).astype(np.int64)
    ny = np.where(h >= p[:, 1], np.floor((h - p[:, 1]) / p[:, 3]) + 1, 0).astype(np.int64)
    count = nx * ny
    owner = np.repeat(np.arange(len(rects)), count)
    k = np.arange(len(owner)) - np.repeat(np.cumsum(count) - count, count)
    ix = k % np.maximum(nx[owner], 1)
    iy = k // np.maximum(nx[owner], 1)
    pp = p[owner]
    off_u = (w[owner] - ((nx[owner] - 1) * pp[:, 2] + pp[:, 0])) / 2
    off_v = (h[owner] - ((ny[owner] - 1) * pp[:, 3] + pp[:, 1])) / 2
    cu = rects[owner, 0] + off_u + ix * pp[:, 2] + pp[:, 0] / 2
    cv = rects[owner, 2] + off_v + iy * pp[:, 3] + pp[:, 1] / 2
    fw = pp[:, 0] * rng.uniform(0.75, 1.0, len(owner))
    fh = pp[:, 1] * rng.uniform(0.8, 1.0, len(owner))
    return owner, cu, cv, fw, fh


def build_buildings(
    layout: Layout, frame: Frame, grids: dict, roads: dict, scale: Scale, rng: np.random.Generator
) -> dict:
    """Building footprints that never cross a road, denser and taller in the core.

    Urban blocks get towers, slabs, commercial or low-rise lattices set back
    from their roads; rural land gets village clusters and a few factories.
    ``scale.building_share`` thins buildings at the big scales.
    """
    cls = roads["_class"]
    inner = _inner_rects(layout, cls)
    r = layout.block_rect
    lvl = layout.cores.level((r[:, 0] + r[:, 1]) / 2, (r[:, 2] + r[:, 3]) / 2)
    probs = np.where(
        (lvl >= 0.6)[:, None], np.array(_CORE), np.where((lvl >= URBAN_LEVEL)[:, None], np.array(_FRINGE), np.array(_RURAL))
    )
    cum = probs.cumsum(axis=1)
    pick = (rng.random(len(r))[:, None] > cum).sum(axis=1)  # 0 = no buildings
    has = pick > 0
    kind_block = np.where(has, pick - 1, 0)
    owner, cu, cv, fw, fh = _lattice(inner[has], kind_block[has], rng)
    kind = kind_block[has][owner]

    # villages: house clusters around centres in rural land
    rural_area = float(shapely.area(layout.grid_geom)[grids["_grid_zone"] == "rural"].sum())
    n_vil = int(rng.poisson(scale.villages_per_km2 * rural_area / 1e6))
    minx, miny, maxx, maxy = layout.outline.bounds
    vu = rng.uniform(minx, maxx, 4 * n_vil + 10)
    vv = rng.uniform(miny, maxy, 4 * n_vil + 10)
    ok = shapely.contains_xy(layout.outline, vu, vv) & (layout.cores.level(vu, vv) < URBAN_LEVEL)
    vu, vv = vu[ok][:n_vil], vv[ok][:n_vil]
    vr = rng.uniform(90.0, 220.0, len(vu))
    hp = _BUILDING_KINDS["house"]
    m = np.ceil(vr.max() / min(hp[2], hp[3])).astype(int) if len(vu) else 0
    gi, gj = np.meshgrid(np.arange(-m, m + 1), np.arange(-m, m + 1))
    gi, gj = gi.ravel(), gj.ravel()
    hu = (vu[:, None] + gi[None, :] * hp[2]).ravel()
    hv = (vv[:, None] + gj[None, :] * hp[3]).ravel()
    d = np.hypot(gi[None, :] * hp[2], gj[None, :] * hp[3]) / vr[:, None]
    keep = (rng.random(d.shape) < 0.9 * np.exp(-(d**2) * 1.5)) & (d < 1.0)
    hu, hv = hu[keep.ravel()], hv[keep.ravel()]
    hfw = hp[0] * rng.uniform(0.8, 1.0, len(hu))
    hfh = hp[1] * rng.uniform(0.8, 1.0, len(hu))
    # a house must sit inside the setback rectangle of the block holding its centre
    boxes = shapely.box(r[:, 0], r[:, 2], r[:, 1], r[:, 3])
    pairs = shapely.STRtree(boxes).query(shapely.points(hu, hv), predicate="within")
    hb = np.full(len(hu), -1)
    hb[pairs[0]] = pairs[1]
    ib = inner[np.maximum(hb, 0)]
    fits = (
        (hb >= 0)
        & (hu - hfw / 2 >= ib[:, 0]) & (hu + hfw / 2 <= ib[:, 1])
        & (hv - hfh / 2 >= ib[:, 2]) & (hv + hfh / 2 <= ib[:, 3])
        & (lvl[np.maximum(hb, 0)] < URBAN_LEVEL) & ~has[np.maximum(hb, 0)]
    )
    house = _KIND_NAMES.index("house")
    cu = np.concatenate([cu, hu[fits]])
    cv = np.concatenate([cv, hv[fits]])
    fw = np.concatenate([fw, hfw[fits]])
    fh = np.concatenate([fh, hfh[fits]])
    kind = np.concatenate([kind, np.full(int(fits.sum()), house)])

    p = _KIND_PARAMS[kind]
    keep = rng.random(len(kind)) < p[:, 4] * scale.building_share
    cu, cv, fw, fh, kind, p = cu[keep], cv[keep], fw[keep], fh[keep], kind[keep], p[keep]
    height = np.round(rng.uniform(p[:, 5], p[:, 6]), 1)
    boxes = shapely.box(cu - fw / 2, cv - fh / 2, cu + fw / 2, cv + fh / 2)
    shapely.prepare(layout.outline)
    inside = shapely.contains(layout.outline, boxes)
    boxes, kind, height, p = boxes[inside], kind[inside], height[inside], p[inside]
    metric = frame.geoms_to_metric(boxes)
    floors = np.maximum(1, np.round(height / 3.0))
    residents = shapely.area(metric) * floors * p[:, 7]
    gdf = gpd.GeoDataFrame(
        {
            "building_id": [f"B{k:07d}" for k in range(1, len(boxes) + 1)],
            "kind": np.asarray(_KIND_NAMES, dtype=object)[kind],
            "height_m": height,
            "floors": floors.astype(np.int16),
        },
        geometry=frame.geoms_to_wgs84(metric),
        crs=WGS84,
    )
    cen = shapely.get_coordinates(shapely.centroid(metric))
    return {"buildings": gdf, "_xy": cen, "_residents": residents, "_metric": metric}


# --------------------------------------------------------------------------- population


def build_population(
    layout: Layout, frame: Frame, buildings: dict, total: int, *, cell: float = 100.0
) -> dict:
    """Persons per ``cell``-metre cell in EPSG:4549, summing exactly to ``total``.

    97 % of people live in buildings (floor area × residential share), 3 % are
    spread evenly over every cell touching the district. Values are multiples
    of 1/64 so that the float32 cells add up to ``total`` exactly.
    """
    district_m = frame.geoms_to_metric(np.array([layout.district]))[0]
    minx, miny, maxx, maxy = district_m.bounds
    x0 = math.floor(minx / cell) * cell
    y1 = math.ceil(maxy / cell) * cell
    width = math.ceil((maxx - x0) / cell)
    height = math.ceil((y1 - miny) / cell)
    transform = Affine(cell, 0.0, x0, 0.0, -cell, y1)
    valid = features.geometry_mask(
        [district_m], out_shape=(height, width), transform=transform, all_touched=True, invert=True
    )
    xy = buildings["_xy"]
    col = np.clip(((xy[:, 0] - x0) // cell).astype(np.int64), 0, width - 1)
    row = np.clip(((y1 - xy[:, 1]) // cell).astype(np.int64), 0, height - 1)
    w = np.bincount(row * width + col, weights=buildings["_residents"], minlength=width * height)
    w = w.reshape(height, width) * valid
    if w.sum() <= 0:
        w = valid.astype(float)
    w = 0.97 * w / w.sum() + 0.03 * valid / valid.sum()
    q = 64
    raw = w.ravel() * (total * q)
    base = np.floor(raw)
    short = round(total * q - base.sum())
    if short > 0:
        frac = np.where(valid.ravel(), raw - base, -1.0)
        order = np.argsort(-frac, kind="stable")
        base[order[:short]] += 1
    pop = (base / q).reshape(height, width).astype(np.float32)
    nodata = np.float32(-9999.0)
    pop[~valid] = nodata
    return {"array": pop, "transform": transform, "crs": frame.crs, "nodata": float(nodata)}


# --------------------------------------------------------------------------- cameras

_KINDS = np.array(["bullet", "dome", "ptz", "hemisphere"], dtype=object)
_KIND_P = np.array([0.58, 0.22, 0.1, 0.1])
_HFOV = np.array([(38.0, 62.0), (70.0, 95.0), (55.0, 65.0), (170.0, 180.0)])
_RANGE = np.array([(45.0, 90.0), (20.0, 40.0), (100.0, 200.0), (12.0, 25.0)])
_INDUSTRY = np.array(["00", "01", "04"], dtype=object)  # road, community, traffic


def _intersections(layout: Layout) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """T-junctions of the cuts: position, the cut and the road it ends on."""
    ax, pos, lo, hi, ends = layout.road_axis, layout.road_pos, layout.road_lo, layout.road_hi, layout.road_ends
    u = np.concatenate([np.where(ax == 0, pos, lo), np.where(ax == 0, pos, hi)])
    v = np.concatenate([np.where(ax == 0, lo, pos), np.where(ax == 0, hi, pos)])
    a = np.concatenate([np.arange(len(ax)), np.arange(len(ax))])
    b = np.concatenate([ends[:, 0], ends[:, 1]])
    ok = (b >= 0) & shapely.contains_xy(layout.outline, u, v)
    return u[ok], v[ok], a[ok], b[ok]


def build_cameras(
    layout: Layout, frame: Frame, grids: dict, roads: dict, scale: Scale, rng: np.random.Generator
) -> dict:
    """Camera points beside roads and at junctions, at a density set per grid.

    Returns the cameras table (WGS84 lon/lat columns) and the planted
    GB/T 28181 errors.
    """
    outline = layout.outline
    shapely.prepare(outline)
    names = roads["_name"]
    # 1. target number of points per grid
    area_km2 = shapely.area(layout.grid_geom) / 1e6
    level = grids["_grid_level"]
    urban = level > URBAN_LEVEL
    lo_r, hi_r = scale.rural_cameras_per_km2
    heart = np.clip((level - URBAN_LEVEL) / 0.6, 0.0, 1.0) ** 1.3
    dens = np.where(
        urban,
        (15.0 + 70.0 * heart) * rng.uniform(0.9, 1.06, len(level)),  # up to 70-90/km²
        np.where(
            rng.random(len(level)) < 0.2,
            rng.uniform(0.35 * lo_r, lo_r, len(level)),  # a fifth of rural grids fall short
            rng.uniform(lo_r, hi_r, len(level)),
        ),
    )
    target = np.round(dens * area_km2).astype(np.int64)

    # 2. candidates: junction corners and points along roads, a few metres off the road
    iu, iv, ia, ib = _intersections(layout)
    su = rng.choice([-1.0, 1.0], len(iu))
    sv = rng.choice([-1.0, 1.0], len(iu))
    cu = iu + su * rng.uniform(2.5, 5.0, len(iu))
    cv = iv + sv * rng.uniform(2.5, 5.0, len(iu))
    c_road = ia
    c_other = ib
    c_axis = layout.road_axis[ia]

    ax, pos, lo, hi = layout.road_axis, layout.road_pos, layout.road_lo, layout.road_hi
    spacing = scale.camera_spacing_m
    k = np.floor((hi - lo) / spacing).astype(np.int64)
    owner = np.repeat(np.arange(len(ax)), k)
    j = np.arange(len(owner)) - np.repeat(np.cumsum(k) - k, k)
    t = lo[owner] + (j + rng.uniform(0.2, 0.8, len(owner))) * spacing
    off = rng.choice([-1.0, 1.0], len(owner)) * rng.uniform(2.0, 6.0, len(owner))
    ru = np.where(ax[owner] == 0, pos[owner] + off, t)
    rv = np.where(ax[owner] == 0, t, pos[owner] + off)

    u = np.concatenate([cu, ru])
    v = np.concatenate([cv, rv])
    is_junction = np.concatenate([np.ones(len(cu), bool), np.zeros(len(ru), bool)])
    road = np.concatenate([c_road, owner])
    other = np.concatenate([c_other, np.full(len(owner), -1)])
    axis = np.concatenate([c_axis, ax[owner]])
    pts = shapely.points(u, v)
    inside = shapely.contains_xy(outline, u, v) & ~shapely.dwithin(outline.exterior, pts, 1.0)
    # never on a road (e.g. a roadside site where a side road joins)
    on_road = shapely.STRtree(road_lines(ax, pos, lo, hi)).query(pts, predicate="dwithin", distance=1.5)[0]
    inside[on_road] = False
    u, v, is_junction, road, other, axis = (a[inside] for a in (u, v, is_junction, road, other, axis))

    # 3. which grid holds each candidate, then the best-ranked candidates per grid
    pairs = shapely.STRtree(layout.faces).query(shapely.points(u, v), predicate="intersects")
    grid = np.full(len(u), -1)
    grid[pairs[0]] = layout.face_grid[pairs[1]]
    rank = rng.random(len(u)) - 0.45 * is_junction
    order = np.lexsort((rank, grid))
    g_sorted = grid[order]
    first = np.searchsorted(g_sorted, g_sorted, side="left")
    pos_in_grid = np.arange(len(order)) - first
    chosen = order[(g_sorted >= 0) & (pos_in_grid < target[np.maximum(g_sorted, 0)])]
    chosen = np.sort(chosen)
    u, v, is_junction, road, other, axis, grid = (a[chosen] for a in (u, v, is_junction, road, other, axis, grid))
    n_pts = len(u)

    # 4. cameras per point: mostly one, 2-4 at some junctions
    multi_p = np.where(is_junction, 0.3, 0.05)
    n_cam = np.where(rng.random(n_pts) < multi_p, rng.integers(2, 5, n_pts), 1)
    pt = np.repeat(np.arange(n_pts), n_cam)
    slot = np.arange(len(pt)) - np.repeat(np.cumsum(n_cam) - n_cam, n_cam)
    n = len(pt)
    kind = rng.choice(len(_KINDS), n, p=_KIND_P)
    kind = np.where((slot == 0) & (n_cam[pt] >= 3), 2, kind)  # big junction points carry a PTZ

    # azimuth: along the road (either way); at junctions the second camera looks along the other road
    along_u = axis[pt] == 1  # v = const roads run along u
    use_other = is_junction[pt] & (slot % 2 == 1)
    along_u = np.where(use_other, ~along_u, along_u)
    sign = np.where((slot // 2) % 2 == 0, 1.0, -1.0) * rng.choice([-1.0, 1.0], n)
    du = np.where(along_u, sign, 0.0)
    dv = np.where(along_u, 0.0, sign)
    az = np.round(np.mod(frame.bearing(du, dv) + rng.normal(0.0, 6.0, n), 360.0), 1)
    hfov = np.round(rng.uniform(_HFOV[kind, 0], _HFOV[kind, 1]), 0)
    rng_m = np.round(rng.uniform(_RANGE[kind, 0], _RANGE[kind, 1]), 0)
    height = np.round(rng.uniform(3.5, 8.0, n), 1)
    zone_urban = urban[grid[pt]]
    r = rng.random(n)
    status = np.where(r < 0.05, "planned", np.where(r < 0.05 + np.where(zone_urban, 0.07, 0.14), "offline", "online"))
    status = status.astype(object)

    # GB/T 28181 ids: centre 33049900, industry, type 131/132, network 0, serial
    serial = np.arange(1, n + 1)
    ctype = np.where(rng.random(n) < 0.8, "132", "131").astype(object)
    industry = _INDUSTRY[rng.choice(3, n, p=[0.6, 0.3, 0.1])]
    gb = np.array(
        [f"{GB_CENTRE}{i}{t}0{s:06d}" for i, t, s in zip(industry, ctype, serial, strict=True)],
        dtype=object,
    )
    gb[status == "planned"] = ""  # not registered yet

    # names: junction "A与B交叉口", roadside "A 12号杆"
    road_name = names[road[pt]]
    other_name = np.where(other[pt] >= 0, names[np.maximum(other[pt], 0)], "")
    pole = rng.integers(1, 300, n)
    cam_name = np.where(
        is_junction[pt],
        road_name + "与" + other_name + "交叉口",
        road_name + np.char.mod("%d", pole).astype(object) + "号杆",
    )
    cam_name = cam_name + np.where(n_cam[pt] > 1, "-" + np.char.mod("%d", slot + 1).astype(object), "")

    x, y = frame.to_metric(u[pt], v[pt])
    lon, lat = frame.to_lonlat(x, y)
    cameras = pd.DataFrame(
        {
            "camera_id": [f"CAM{k:06d}" for k in serial],
            "point_id": [f"P{k:06d}" for k in pt + 1],
            "gb28181_id": gb,
            "kind": _KINDS[kind],
            "azimuth_deg": az,
            "hfov_deg": hfov,
            "range_m": rng_m,
            "height_m": height,
            "status": status,
            "name": cam_name,
            "lon": np.round(lon, 7),
            "lat": np.round(lat, 7),
        }
    )
    planted = _plant_gb_errors(cameras, rng)
    return {"cameras": cameras, "planted": planted, "_xy": np.column_stack([x, y]), "_points": n_pts}


def _plant_gb_errors(cameras: pd.DataFrame, rng: np.random.Generator) -> dict[str, list[str]]:
    """Plant a handful of faulty GB/T 28181 ids (in place on ``cameras``); return them."""
    has = np.flatnonzero(cameras["gb28181_id"].to_numpy() != "")
    picks = rng.choice(has, size=min(len(has), 16), replace=False)
    picks = np.sort(picks)
    gb = cameras["gb28181_id"].to_numpy().copy()
    out: dict[str, list[str]] = {"malformed": [], "wrong_district": [], "nvr": [], "duplicate": []}
    ids = cameras["camera_id"].to_numpy()
    for k, i in enumerate(picks):
        code = gb[i]
        if k < 5:  # too short, too long, letters
            code = (code[:-1], code + "7", code[:10] + "O" + code[11:], code[:19], code.replace("0", "o", 1))[k]
            out["malformed"].append(ids[i])
        elif k < 9:  # another district's centre code (330411, 330482)
            code = ("33041100" if k % 2 else "33048200") + code[8:]
            out["wrong_district"].append(ids[i])
        elif k < 12:  # an NVR (type 118) listed as a camera
            code = code[:10] + "118" + code[13:]
            out["nvr"].append(ids[i])
        elif k < 14:  # the same id as another camera
            code = gb[picks[k + 2]] if k + 2 < len(picks) else gb[picks[0]]
            out["duplicate"].append(ids[i])
        gb[i] = code
    cameras["gb28181_id"] = gb
    return out


# --------------------------------------------------------------------------- places

# kind, name suffix, persons per place (or "per street")
_PLACES = (
    ("学校", ("小学", "中学", "实验学校"), 9000.0),
    ("幼儿园", ("幼儿园",), 6000.0),
    ("医院", ("人民医院", "社区卫生服务中心", "中医院"), 30000.0),
    ("加油站", ("加油站",), 25000.0),
    ("农贸市场", ("农贸市场",), 20000.0),
    ("养老院", ("颐养院", "敬老院"), 25000.0),
    ("派出所", ("派出所",), 0.0),
)


def build_places(
    layout: Layout, frame: Frame, roads: dict, population: int, rng: np.random.Generator
) -> tuple[pd.DataFrame, np.ndarray]:
    """Key places: schools, kindergartens, hospitals, petrol stations, markets, care homes, police."""
    r = layout.block_rect
    cls = roads["_class"]
    inner = _inner_rects(layout, cls, extra=8.0)
    bu = (inner[:, 0] + inner[:, 1]) / 2
    bv = (inner[:, 2] + inner[:, 3]) / 2
    ok = (inner[:, 1] - inner[:, 0] > 20) & (inner[:, 3] - inner[:, 2] > 20) & shapely.contains_xy(layout.outline, bu, bv)
    lvl = layout.cores.level(bu, bv)
    weight = np.where(ok, 0.15 + lvl, 0.0) * (r[:, 1] - r[:, 0]) * (r[:, 3] - r[:, 2])
    weight = weight / weight.sum()
    n_streets = len(layout.street_geom)
    rows_u, rows_v, kinds, names = [], [], [], []
    for kind, suffixes, per in _PLACES:
        n = n_streets if per == 0 else max(1, int(rng.poisson(population / per)))
        if kind == "加油站":
            # beside primary and secondary roads, 25 m off the kerb line
            big = np.flatnonzero(cls <= 1)
            road = rng.choice(big, n)
            t = rng.uniform(0.1, 0.9, n)
            p = layout.road_lo[road] + t * (layout.road_hi[road] - layout.road_lo[road])
            off = rng.choice([-1.0, 1.0], n) * (_HALF_WIDTH[cls[road]] + 10.0)
            pu = np.where(layout.road_axis[road] == 0, layout.road_pos[road] + off, p)
            pv = np.where(layout.road_axis[road] == 0, p, layout.road_pos[road] + off)
            keep = shapely.contains_xy(layout.outline, pu, pv)
            pu, pv = pu[keep], pv[keep]
        elif kind == "派出所":  # one per street, in its most urban usable block
            street = np.where(
                layout.block_grid >= 0,
                layout.community_street[layout.grid_community[np.maximum(layout.block_grid, 0)]],
                -1,
            )
            score = np.where(ok & (street >= 0), lvl + rng.uniform(0, 0.2, len(r)), -np.inf)
            b = np.array([int(np.argmax(np.where(street == k, score, -np.inf))) for k in range(n_streets)])
            b = b[np.isfinite(score[b])]
            pu, pv = bu[b], bv[b]
        else:
            b = rng.choice(len(r), n, p=weight)
            pu = bu[b] + rng.uniform(-0.2, 0.2, n) * (inner[b, 1] - inner[b, 0])
            pv = bv[b] + rng.uniform(-0.2, 0.2, n) * (inner[b, 3] - inner[b, 2])
        base = draw_names(rng, len(pu), unique=len(pu) <= 2000)
        suf = np.asarray(suffixes, dtype=object)[rng.integers(0, len(suffixes), len(pu))]
        prefix = "中国石化" if kind == "加油站" else ""
        rows_u.append(pu)
        rows_v.append(pv)
        kinds.append(np.full(len(pu), kind, dtype=object))
        names.append(prefix + base + suf)
    u = np.concatenate(rows_u)
    v = np.concatenate(rows_v)
    x, y = frame.to_metric(u, v)
    lon, lat = frame.to_lonlat(x, y)
    table = pd.DataFrame(
        {
            "place_id": [f"PL{k:05d}" for k in range(1, len(u) + 1)],
            "kind": np.concatenate(kinds),
            "name": np.concatenate(names),
            "lon": np.round(lon, 7),
            "lat": np.round(lat, 7),
        }
    )
    return table, np.column_stack([u, v])

