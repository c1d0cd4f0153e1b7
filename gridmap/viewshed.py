"""Occlusion of camera views by buildings: visibility polygons from rays.

:func:`visible_views` casts rays from each camera across its view, at most
``ray_step_deg`` (1°) apart; each ray stops at the first building edge it
meets (or at the view's range). The rays' end points, with the camera, make
the visibility polygon. Buildings are flat obstacles of unlimited height
(their ``height`` is not used), and a building that contains the camera (a
camera mounted on or inside it) does not block that camera.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from numba import njit

from ._validate import same_crs

__all__ = ["ray_polygons", "visible_views"]


@njit(cache=True, nogil=True)
def _cast(px: np.ndarray, py: np.ndarray, r: np.ndarray, a0: np.ndarray, step: np.ndarray,
          n_rays: np.ndarray, apex: np.ndarray, seg_off: np.ndarray, seg: np.ndarray,
          ring_off: np.ndarray, coords: np.ndarray, blocked: np.ndarray) -> None:
    """Ring coordinates of every view: rays (clockwise from north) stopped by segments.

    A sector ring is apex, ray ends, apex; a circle ring is the ray ends, closed.
    Ray directions come from rotating the first one by ``step`` (no sin/cos per ray).
    """
    for i in range(len(px)):
        n = n_rays[i]
        a = np.deg2rad(a0[i])
        dx, dy = np.sin(a), np.cos(a)
        cs, sn = np.cos(np.deg2rad(step[i])), np.sin(np.deg2rad(step[i]))
        k = ring_off[i]
        if apex[i]:
            coords[k, 0] = px[i]
            coords[k, 1] = py[i]
            k += 1
        first = k
        for _ in range(n):
            best = r[i]
            for s in range(seg_off[i], seg_off[i + 1]):
                ax = seg[s, 0]
                ay = seg[s, 1]
                ex = seg[s, 2] - ax
                ey = seg[s, 3] - ay
                denom = dx * ey - dy * ex
                if denom == 0.0:
                    continue
                wx = ax - px[i]
                wy = ay - py[i]
                t = (wx * ey - wy * ex) / denom
                if t < 0.0 or t >= best:
                    continue
                u = (wx * dy - wy * dx) / denom
                if 0.0 <= u <= 1.0:
                    best = t
            if best < r[i]:
                blocked[i] = True
            coords[k, 0] = px[i] + best * dx
            coords[k, 1] = py[i] + best * dy
            k += 1
            # clockwise rotation by ``step``: (sin, cos) of angle + step
            dx, dy = dx * cs + dy * sn, dy * cs - dx * sn
        if apex[i]:
            coords[k, 0] = px[i]
            coords[k, 1] = py[i]
        else:
            coords[k, 0] = coords[first, 0]
            coords[k, 1] = coords[first, 1]


def ray_polygons(
    x: np.ndarray, y: np.ndarray, range_m: np.ndarray, azimuth_deg: np.ndarray,
    hfov_deg: np.ndarray, *, segments: list[np.ndarray] | None = None,
    ray_step_deg: float = 1.0,
) -> np.ndarray:
    """View polygons from rays, in the metric CRS of the coordinates.

    See :func:`_rays` for the parameters; returns one shapely polygon per camera.
    """
    return _rays(x, y, range_m, azimuth_deg, hfov_deg, segments=segments,
                 ray_step_deg=ray_step_deg)[0]


def _rays(
    x: np.ndarray, y: np.ndarray, range_m: np.ndarray, azimuth_deg: np.ndarray,
    hfov_deg: np.ndarray, *, segments: list[np.ndarray] | None = None,
    ray_step_deg: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """View polygons from rays, and whether any ray of each was stopped.

    Parameters
    ----------
    x, y
        Camera positions (metres).
    range_m, azimuth_deg, hfov_deg
        Per camera; ``hfov_deg >= 360`` is a full circle.
    segments
        Per camera, an ``(n, 4)`` array of obstacle edges ``x1, y1, x2, y2``
        (``None``: nothing blocks the view).
    ray_step_deg
        Largest angle between neighbouring rays.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Shapely polygons, one per camera, and a boolean "blocked" per camera.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n = len(x)
    hfov = np.asarray(hfov_deg, dtype=float)
    full = hfov >= 360.0
    width = np.where(full, 360.0, hfov)
    a0 = np.where(full, 0.0, np.asarray(azimuth_deg, dtype=float) - width / 2.0)
    n_rays = (np.ceil(width / ray_step_deg).astype(np.int64) + 1).clip(2)
    n_rays = np.where(full, n_rays - 1, n_rays)  # a circle does not repeat its first ray
    step = np.where(full, 360.0 / n_rays, width / (n_rays - 1))
    apex = ~full
    ring_off = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(n_rays + np.where(apex, 2, 1), out=ring_off[1:])
    coords = np.empty((ring_off[-1], 2), dtype=np.float64)
    seg_off = np.zeros(n + 1, dtype=np.int64)
    if segments is None:
        seg = np.empty((0, 4), dtype=np.float64)
    else:
        np.cumsum([len(s) for s in segments], out=seg_off[1:])
        seg = (np.concatenate(segments).astype(np.float64) if seg_off[-1]
               else np.empty((0, 4), dtype=np.float64))
    blocked = np.zeros(n, dtype=np.bool_)
    _cast(x, y, np.asarray(range_m, dtype=float), a0, step, n_rays, apex, seg_off, seg,
          ring_off, coords, blocked)
    polys = shapely.from_ragged_array(
        shapely.GeometryType.POLYGON, coords, (ring_off, np.arange(n + 1, dtype=np.int64)))
    check = np.flatnonzero(blocked)
    bad = check[~shapely.is_valid(polys[check])] if len(check) else check
    for i in bad:  # rays stopped right at the camera can fold a ring
        fixed = shapely.make_valid(polys[i])
        parts = [g for g in shapely.get_parts(fixed) if g.geom_type == "Polygon"]
        polys[i] = shapely.union_all(parts) if parts else shapely.Polygon()
    return polys, blocked


def _edges(polys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All ring edges of polygons as ``(x1, y1, x2, y2)`` and the polygon of each."""
    rings = shapely.get_rings(polys)
    owner = np.repeat(np.arange(len(polys)), shapely.get_num_interior_rings(polys) + 1)
    coords, which = shapely.get_coordinates(rings, return_index=True)
    same = which[1:] == which[:-1]
    seg = np.column_stack([coords[:-1][same], coords[1:][same]])
    return seg, owner[which[:-1][same]]


def visible_views(
    cameras: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    *,
    range_m: np.ndarray,
    azimuth_deg: np.ndarray,
    hfov_deg: np.ndarray,
    ray_step_deg: float = 1.0,
) -> gpd.GeoSeries:
    """Visibility polygons of cameras, stopped by building footprints.

    Parameters
    ----------
    cameras
        Camera points in a **metric** CRS.
    buildings
        Building footprints in the same CRS.
    range_m, azimuth_deg, hfov_deg
        View of each camera (``hfov_deg >= 360``: all round).
    ray_step_deg
        Largest angle between rays (1° by default).

    Returns
    -------
    geopandas.GeoSeries
        One polygon per camera, aligned with ``cameras``.
    """
    polys, _ = _visible(cameras, buildings, range_m=range_m, azimuth_deg=azimuth_deg,
                        hfov_deg=hfov_deg, ray_step_deg=ray_step_deg)
    return gpd.GeoSeries(polys, index=cameras.index, crs=cameras.crs)


def _visible(cameras: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame, *, range_m: np.ndarray,
             azimuth_deg: np.ndarray, hfov_deg: np.ndarray,
             ray_step_deg: float) -> tuple[np.ndarray, np.ndarray]:
    """Visibility polygons and whether a building cut each one."""
    same_crs(cameras, buildings, left="cameras", right="buildings")
    x = cameras.geometry.x.to_numpy()
    y = cameras.geometry.y.to_numpy()
    r = np.asarray(range_m, dtype=float)
    blds = buildings.geometry.values
    blds = blds[shapely.get_type_id(blds) >= 3]  # polygons and multipolygons
    parts = shapely.get_parts(blds)
    parts = parts[shapely.get_type_id(parts) == 3]
    segments: list[np.ndarray] = [np.empty((0, 4))] * len(cameras)
    if len(parts):
        seg, owner = _edges(parts)
        tree = shapely.STRtree(parts)
        discs = shapely.buffer(shapely.points(x, y), r, quad_segs=4)
        cam_i, part_i = tree.query(discs, predicate="intersects")
        # a building that contains its camera does not block it
        inside = shapely.contains_xy(parts[part_i], x[cam_i], y[cam_i])
        cam_i, part_i = cam_i[~inside], part_i[~inside]
        order = np.argsort(owner, kind="stable")
        first = np.searchsorted(owner[order], np.arange(len(parts)))
        last = np.searchsorted(owner[order], np.arange(len(parts)), side="right")
        by_cam = np.argsort(cam_i, kind="stable")
        cam_i, part_i = cam_i[by_cam], part_i[by_cam]
        bounds = np.searchsorted(cam_i, np.arange(len(cameras) + 1))
        for c in range(len(cameras)):
            ps = part_i[bounds[c]:bounds[c + 1]]
            if len(ps):
                idx = np.concatenate([order[first[p]:last[p]] for p in ps])
                segments[c] = seg[idx]
    return _rays(x, y, r, np.asarray(azimuth_deg, float), np.asarray(hfov_deg, float),
                 segments=segments, ray_step_deg=ray_step_deg)
