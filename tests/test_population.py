"""Tests of gridmap.population: exact zonal sums, apportioning, aligned rasters, composite index."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from affine import Affine

from gridmap import population as popmod
from gridmap._errors import SchemaError

CRS = "EPSG:4549"
X0, Y0 = 500_000.0, 3_400_000.0


@pytest.fixture
def raster_path(tmp_path):
    """10 × 10 pixels of 10 m: 1 person per pixel in the west half, 3 in the east half.

    The top-right pixel is nodata (-1).
    """
    a = np.ones((10, 10), dtype=np.float32)
    a[:, 5:] = 3.0
    a[0, 9] = -1.0
    path = tmp_path / "pop.tif"
    with rasterio.open(path, "w", driver="GTiff", height=10, width=10, count=1, dtype="float32",
                       crs=CRS, transform=Affine(10, 0, X0, 0, -10, Y0 + 100), nodata=-1) as dst:
        dst.write(a, 1)
    return path


def _expected(poly) -> float:
    """Persons in ``poly`` from the raster's definition, by exact polygon areas."""
    west = shapely.box(X0, Y0, X0 + 50, Y0 + 100)
    east = shapely.box(X0 + 50, Y0, X0 + 100, Y0 + 100)
    nodata = shapely.box(X0 + 90, Y0 + 90, X0 + 100, Y0 + 100)
    east_valid = east.difference(nodata)
    return (poly.intersection(west).area * 1 + poly.intersection(east_valid).area * 3) / 100.0


def test_zonal_sums_equal_exact_polygon_areas(raster_path):
    polys = [
        shapely.Polygon([(X0 + 3, Y0 + 4), (X0 + 77, Y0 + 12), (X0 + 41, Y0 + 93)]),  # triangle
        shapely.affinity.rotate(shapely.box(X0 + 20, Y0 + 20, X0 + 70, Y0 + 60), 33),
        shapely.box(X0 + 80, Y0 + 80, X0 + 140, Y0 + 140),  # half outside the raster
        shapely.box(X0 + 10, Y0 + 10, X0 + 40, Y0 + 30),  # pixel-aligned
        shapely.box(X0 + 500, Y0 + 500, X0 + 600, Y0 + 600),  # off the raster
    ]
    zones = gpd.GeoDataFrame({"grid_id": list("abcde")}, geometry=polys, crs=CRS)
    out = popmod.zonal_population(raster_path, zones)
    want = [_expected(p) for p in polys]
    np.testing.assert_allclose(out["population"].to_numpy(), want, rtol=1e-9, atol=1e-9)
    assert out.loc[3, "population"] == pytest.approx(6.0)
    assert out.loc[4, "population"] == 0.0


def test_zonal_sums_tile_the_raster(raster_path):
    # four quadrants cut at a non-pixel line sum to the whole raster (nodata excluded)
    xs, ys = X0 + 37.3, Y0 + 61.9
    quads = [shapely.box(X0, Y0, xs, ys), shapely.box(xs, Y0, X0 + 100, ys),
             shapely.box(X0, ys, xs, Y0 + 100), shapely.box(xs, ys, X0 + 100, Y0 + 100)]
    zones = gpd.GeoDataFrame(geometry=quads, crs=CRS)
    total = popmod.zonal_population(raster_path, zones)["population"].sum()
    assert total == pytest.approx(50 * 1 + 49 * 3)


def test_zones_in_lonlat_are_reprojected(raster_path):
    poly = shapely.box(X0 + 10, Y0 + 10, X0 + 40, Y0 + 30)
    zones = gpd.GeoDataFrame(geometry=[poly], crs=CRS).to_crs("EPSG:4326")
    out = popmod.zonal_population(raster_path, zones)
    assert out.loc[0, "population"] == pytest.approx(6.0, rel=1e-6)
    assert zones.crs.to_epsg() == 4326  # not mutated


def _blocks() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"Population": [1000.0, 300.0]},
                            geometry=[shapely.box(X0, Y0, X0 + 100, Y0 + 100),
                                      shapely.box(X0 + 100, Y0, X0 + 200, Y0 + 100)], crs=CRS)


def _grids() -> gpd.GeoDataFrame:
    # grid A takes the west 75 m, grid B the rest
    return gpd.GeoDataFrame({"grid_id": ["A", "B"]},
                            geometry=[shapely.box(X0, Y0, X0 + 75, Y0 + 100),
                                      shapely.box(X0 + 75, Y0, X0 + 200, Y0 + 100)], crs=CRS)


def test_apportion_by_area():
    out = popmod.apportion(_blocks(), _grids(), "Population")
    np.testing.assert_allclose(out["Population"], [750.0, 250.0 + 300.0])
    assert out.attrs["unassigned"]["Population"] == pytest.approx(0.0)


def test_apportion_dasymetric_follows_buildings():
    # the only buildings of block 1 are in grid B's part of it
    b = gpd.GeoDataFrame({"floors": [2.0, 1.0]},
                         geometry=[shapely.box(X0 + 80, Y0 + 10, X0 + 95, Y0 + 30),
                                   shapely.box(X0 + 120, Y0 + 10, X0 + 130, Y0 + 20)], crs=CRS)
    out = popmod.apportion(_blocks(), _grids(), "Population", buildings=b,
                           building_weight="floors")
    np.testing.assert_allclose(out["Population"], [0.0, 1300.0])
    assert out.attrs["area_fallback"] == 0


def test_apportion_needs_the_column():
    with pytest.raises(SchemaError):
        popmod.apportion(_blocks(), _grids(), "TOT_POP")


def test_composite_index_by_hand():
    t = pd.DataFrame({"pop": [0.0, 50.0, 100.0], "events": [10.0, 0.0, 5.0]})
    out = popmod.composite_index(t, {"pop": 1.0, "events": 3.0})
    # minmax: pop 0, .5, 1; events 1, 0, .5 → (1·pop + 3·events) / 4
    np.testing.assert_allclose(out["composite"], [0.75, 0.125, 0.625])
    z = popmod.composite_index(t, {"pop": 1.0}, method="zscore")["composite"]
    np.testing.assert_allclose(z, (t["pop"] - 50) / t["pop"].std(ddof=0))
    s = popmod.composite_index(t, {"events": -1.0}, method="share")["composite"]
    np.testing.assert_allclose(s, -t["events"] / 15)


def test_people_place_event_rasters_line_up(raster_path):
    rng = np.random.default_rng(0)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(rng.uniform(X0, X0 + 100, 40),
                                                       rng.uniform(Y0, Y0 + 100, 40)), crs=CRS)
    out = popmod.people_place_event(raster_path, pts, pts, cell=10.0, bandwidth=30.0,
                                    crs=CRS, min_count=0)
    assert set(out) == {"people", "places", "events"}
    ref = out["people"]
    for r in out.values():
        assert r.transform == ref.transform
        assert r.shape == ref.shape
    # resampling keeps every resident: 50 × 1 + 49 × 3 (the nodata pixel holds nobody)
    assert ref.total() == pytest.approx(197.0, rel=1e-6)
    assert out["places"].total() == pytest.approx(40, rel=0.005)
