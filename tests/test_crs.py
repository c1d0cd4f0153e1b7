"""CRS parsing, metric CRS choice, reprojection and datum shifts of layers."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import CRS, Geod

from gridmap import CRSError
from gridmap.coords import gcj02_to_wgs84, wgs84_to_bd09
from gridmap.crs import convert_datum, is_geographic, metric_crs, parse_crs, to_metric, to_wgs84


@pytest.mark.parametrize(
    ("text", "expected"),
    [("wgs84", 4326), ("WGS-84", 4326), ("EPSG:4326", 4326), ("4326", 4326), ("cgcs2000", 4490),
     ("EPSG:4549", 4549), ("epsg:2056", 2056)],
)
def test_parse_crs_epsg(text, expected):
    assert parse_crs(text).to_epsg() == expected


@pytest.mark.parametrize(("text", "expected"),
                         [("gcj02", "gcj02"), ("GCJ-02", "gcj02"), ("amap", "gcj02"),
                          ("bd09", "bd09"), ("BD-09", "bd09"), ("baidu", "bd09")])
def test_parse_crs_chinese_datums(text, expected):
    assert parse_crs(text) == expected


def test_parse_crs_unknown_says_what_to_use():
    with pytest.raises(CRSError, match="use wgs84, cgcs2000, gcj02, bd09 or EPSG:N"):
        parse_crs("mars-grid-7")


@pytest.mark.parametrize(
    ("lonlat", "epsg"),
    [((120.75, 30.75), 4549),   # Jiaxing: CGCS2000 3° GK, CM 120°E
     ((114.06, 22.54), 4547),   # Shenzhen: CM 114°E
     ((87.6, 43.8), 4538),      # Urumqi: CM 87°E
     ((-104.99, 39.74), 32613),  # Denver: UTM 13N
     ((153.03, -27.47), 32756)],  # Brisbane: UTM 56S
)
def test_metric_crs_choice(lonlat, epsg):
    assert metric_crs(lonlat).to_epsg() == epsg


def test_metric_crs_of_a_layer_uses_its_centre():
    layer = gpd.GeoDataFrame(geometry=[shapely.box(120.6, 30.6, 120.9, 30.9)], crs=4326)
    assert metric_crs(layer).to_epsg() == 4549


def test_to_metric_area_matches_geodesic_area():
    box = shapely.box(120.7, 30.7, 120.8, 30.8)
    layer = gpd.GeoDataFrame(geometry=[box], crs=4326)
    area = to_metric(layer).area.iloc[0]
    geodesic, _ = Geod(ellps="WGS84").geometry_area_perimeter(box)
    assert area == pytest.approx(abs(geodesic), rel=1e-3)


def test_to_metric_keeps_a_metric_layer_and_does_not_mutate():
    layer = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1000, 1000)], crs=4549)
    out = to_metric(layer)
    assert out.crs.to_epsg() == 4549
    assert out is not layer
    assert out.area.iloc[0] == pytest.approx(1e6)


def test_to_metric_without_crs_raises():
    with pytest.raises(CRSError, match="set_crs"):
        to_metric(gpd.GeoDataFrame(geometry=[shapely.Point(0, 0)]))


def test_to_wgs84_from_gcj02_matches_coords_and_keeps_input():
    pts = gpd.GeoDataFrame(geometry=shapely.points([120.75, 114.1], [30.75, 22.55]), crs=4326)
    before = pts.geometry.copy()
    out = to_wgs84(pts, source="gcj02")
    lon, lat = gcj02_to_wgs84([120.75, 114.1], [30.75, 22.55])
    np.testing.assert_allclose(out.geometry.x, lon, atol=1e-12)
    np.testing.assert_allclose(out.geometry.y, lat, atol=1e-12)
    assert pts.geometry.equals(before)
    assert out.crs.equals(CRS.from_epsg(4326))


def test_to_wgs84_from_projected():
    pts = gpd.GeoDataFrame(geometry=[shapely.Point(500000, 3400000)], crs=4549)
    out = to_wgs84(pts)
    back = out.to_crs(4549)
    assert back.geometry.iloc[0].distance(pts.geometry.iloc[0]) < 1e-6
    assert 119 < out.geometry.x.iloc[0] < 121


def test_convert_datum_shifts_every_vertex_of_polygons():
    poly = shapely.box(120.7, 30.7, 120.8, 30.8)
    layer = gpd.GeoDataFrame(geometry=[poly], crs=4326)
    out = convert_datum(layer, source="wgs84", target="bd09")
    xy = shapely.get_coordinates(poly)
    bx, by = wgs84_to_bd09(xy[:, 0], xy[:, 1])
    np.testing.assert_allclose(shapely.get_coordinates(out.geometry.iloc[0]),
                               np.column_stack([bx, by]), atol=1e-12)
    assert layer.geometry.iloc[0].equals(poly)


def test_convert_datum_unknown_raises():
    layer = gpd.GeoDataFrame(geometry=[shapely.Point(120, 30)], crs=4326)
    with pytest.raises(CRSError, match="unknown datum"):
        convert_datum(layer, source="wgs84", target="utm")


def test_is_geographic():
    assert is_geographic("EPSG:4326")
    assert not is_geographic("EPSG:4549")
    assert not is_geographic(None)
