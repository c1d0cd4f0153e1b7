"""Mixed-datum detection: points or polygons shifted by GCJ-02 against the other layer."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gridmap.coords import wgs84_to_gcj02
from gridmap.datum import detect_datum_offset


def _street_grid():
    """A 6×6 grid of 1 km squares near Jiaxing (WGS84), and 400 points spread over it."""
    x0, y0, d = 120.70, 30.70, 0.0104
    cells = [shapely.box(x0 + i * d, y0 + j * d, x0 + (i + 1) * d, y0 + (j + 1) * d)
             for i in range(6) for j in range(6)]
    rng = np.random.default_rng(7)
    px = rng.uniform(x0 + 0.0005, x0 + 6 * d - 0.0005, 400)
    py = rng.uniform(y0 + 0.0005, y0 + 6 * d - 0.0005, 400)
    polys = gpd.GeoDataFrame({"grid_id": range(36)}, geometry=cells, crs=4326)
    return polys, px, py


def test_datum_offset_flagged_for_gcj02_points_and_not_for_wgs84():
    polys, px, py = _street_grid()
    gx, gy = wgs84_to_gcj02(px, py)
    gcj = gpd.GeoDataFrame(geometry=shapely.points(gx, gy), crs=4326)
    wgs = gpd.GeoDataFrame(geometry=shapely.points(px, py), crs=4326)
    found = detect_datum_offset(gcj, polys)
    assert found.suspected
    assert (found.datum, found.layer) == ("gcj02", "points")
    assert found.inside_as_given < 1.0
    assert found.inside_shifted == pytest.approx(1.0)
    assert 300 < found.offset_m < 700
    assert "coords='gcj02'" in found.message
    clean = detect_datum_offset(wgs, polys)
    assert not clean.suspected
    assert clean.inside_as_given == 1.0


def test_datum_offset_sees_gcj02_polygons():
    polys, px, py = _street_grid()
    shifted = polys.copy()
    shifted["geometry"] = [shapely.transform(
        g, lambda xy: np.column_stack(wgs84_to_gcj02(xy[:, 0], xy[:, 1]))) for g in polys.geometry]
    wgs = gpd.GeoDataFrame(geometry=shapely.points(px, py), crs=4326)
    found = detect_datum_offset(wgs, shifted)
    assert found.suspected
    assert (found.datum, found.layer) == ("gcj02", "polygons")


def test_datum_offset_outside_china_does_not_apply():
    pts = gpd.GeoDataFrame(geometry=[shapely.Point(6.1, 46.2)], crs=4326)
    polys = gpd.GeoDataFrame(geometry=[shapely.box(6, 46, 6.3, 46.3)], crs=4326)
    found = detect_datum_offset(pts, polys)
    assert not found.suspected
    assert found.n_points == 0
