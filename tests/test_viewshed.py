"""Tests for gridmap.viewshed: rays stopped by building edges."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point, box

from gridmap import CRSError
from gridmap.viewshed import ray_polygons, visible_views

METRIC = "EPSG:4549"


def test_unblocked_sector_and_circle() -> None:
    polys = ray_polygons(np.array([0.0, 100.0]), np.array([0.0, 0.0]), np.array([10.0, 5.0]),
                         np.array([90.0, 0.0]), np.array([60.0, 360.0]))
    sector, circle = polys
    assert sector.area == pytest.approx(math.pi * 100 / 6, rel=1e-3)
    assert circle.area == pytest.approx(math.pi * 25, rel=1e-3)
    assert sector.is_valid
    assert circle.is_valid
    # rays at most 1° apart: 60° → 61 rays + the apex, closed
    assert len(sector.exterior.coords) == 61 + 2
    minx, _, maxx, maxy = sector.bounds
    assert (minx, maxx) == (pytest.approx(0.0), pytest.approx(10.0))
    assert maxy == pytest.approx(10 * math.sin(math.radians(30)))


def test_a_wall_stops_the_rays_by_hand() -> None:
    # camera at the origin looking north, a wall along y = 4 from x = -1 to x = 1
    seg = [np.array([[-1.0, 4.0, 1.0, 4.0]])]
    (poly,) = ray_polygons(np.array([0.0]), np.array([0.0]), np.array([10.0]),
                           np.array([0.0]), np.array([90.0]), segments=seg)
    ring = np.asarray(poly.exterior.coords)[1:-1]
    angle = np.degrees(np.arctan2(ring[:, 0], ring[:, 1]))
    dist = np.hypot(ring[:, 0], ring[:, 1])
    blocked = np.abs(np.tan(np.radians(angle))) * 4 <= 1  # rays that meet the wall
    np.testing.assert_allclose(ring[blocked, 1], 4.0)
    np.testing.assert_allclose(dist[~blocked], 10.0)
    assert blocked.sum() == 2 * int(math.degrees(math.atan(0.25))) + 1


def test_visible_views_buildings() -> None:
    cams = gpd.GeoDataFrame({"camera_id": ["out", "in"]},
                            geometry=[Point(0, 0), Point(50, 50)], crs=METRIC)
    house = box(-5, 5, 5, 8)
    home = box(45, 45, 55, 55)  # contains the second camera: it does not block it
    bld = gpd.GeoDataFrame(geometry=[house, home], crs=METRIC)
    v = visible_views(cams, bld, range_m=np.array([20.0, 3.0]),
                      azimuth_deg=np.array([0.0, 0.0]), hfov_deg=np.array([360.0, 360.0]))
    assert v.index.tolist() == [0, 1]
    assert v.iloc[0].intersection(house).area < 0.05
    assert v.iloc[0].intersection(box(-4, 9, 4, 19)).area < 0.5  # behind the house
    assert v.iloc[1].area == pytest.approx(math.pi * 9, rel=1e-3)
    with pytest.raises(CRSError):
        visible_views(cams, bld.to_crs(4326), range_m=np.array([1.0, 1.0]),
                      azimuth_deg=np.zeros(2), hfov_deg=np.full(2, 90.0))
