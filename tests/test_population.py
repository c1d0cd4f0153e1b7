"""Tests of gridmap.population: exact zonal sums, apportioning, aligned rasters, composite index."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
import shapely.affinity
from affine import Affine
from hypothesis import given, settings
from hypothesis import strategies as st

from gridmap import population as popmod
from gridmap._errors import DataError, SchemaError
from gridmap.kde import Raster

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


# --- exact coverage fractions, checked by hand ------------------------------------------------
# A 6 × 6 raster of 10 m pixels whose top-left corner is (X0, Y0 + 60); pixel (r, c) holds
# V[r, c] = 1 + 6r + c, so every pixel's weight in a sum is visible. ``_pix(u, v)`` is the world
# point at column position u and row position v (pixel (r, c) spans u ∈ [c, c+1], v ∈ [r, r+1]).

T6 = Affine(10, 0, X0, 0, -10, Y0 + 60)
V = 1.0 + np.arange(36, dtype=float).reshape(6, 6)
ONES = np.ones((6, 6))


def _pix(u: float, v: float, transform: Affine = T6) -> tuple[float, float]:
    return transform @ (u, v)


def _poly(uv, holes=(), transform: Affine = T6) -> shapely.Polygon:
    return shapely.Polygon([_pix(u, v, transform) for u, v in uv],
                           [[_pix(u, v, transform) for u, v in h] for h in holes])


def _rect(u0, v0, u1, v1) -> list[tuple[float, float]]:
    return [(u0, v0), (u1, v0), (u1, v1), (u0, v1)]


def _sums(polys, values=V, transform: Affine = T6) -> np.ndarray:
    r = Raster(np.asarray(values, dtype=float), transform, CRS)
    zones = gpd.GeoDataFrame(geometry=list(polys), crs=CRS)
    return popmod.zonal_population(r, zones)["population"].to_numpy()


def _oracle(polys, values=V, transform: Affine = T6) -> np.ndarray:
    return np.array([popmod._zone_sum_exact(p, np.asarray(values, dtype=float), transform)
                     for p in polys])


def test_rectangle_of_two_and_a_half_pixels():
    rect = _poly(_rect(0.5, 2, 3, 3))  # half of pixel (2, 0), all of (2, 1) and (2, 2)
    assert _sums([rect], ONES)[0] == pytest.approx(2.5, rel=1e-12)
    assert _sums([rect])[0] == pytest.approx(0.5 * V[2, 0] + V[2, 1] + V[2, 2], rel=1e-12)
    # a tilted square of 250 m² (2.5 pixels) lying inside the raster
    side = np.sqrt(250.0)
    sq = shapely.affinity.rotate(shapely.box(X0 + 20, Y0 + 20, X0 + 20 + side, Y0 + 20 + side),
                                 27, origin="centroid")
    assert _sums([sq], ONES)[0] == pytest.approx(2.5, rel=1e-9)  # rounding of the rotation


def test_triangle():
    # u + v ≤ 2: all of pixel (0, 0), half of (0, 1) and of (1, 0), nothing of (1, 1)
    tri = _poly([(0, 0), (2, 0), (0, 2)])
    assert _sums([tri])[0] == pytest.approx(V[0, 0] + 0.5 * V[0, 1] + 0.5 * V[1, 0], rel=1e-12)
    assert _sums([tri], ONES)[0] == pytest.approx(2.0, rel=1e-12)


def test_polygon_with_a_hole():
    hole = _rect(2.25, 2, 4.25, 3.25)  # 2 × 1.25 = 2.5 pixels
    poly = _poly(_rect(1, 1, 5, 5), [hole])
    assert _sums([poly], ONES)[0] == pytest.approx(16 - 2.5, rel=1e-12)
    # the hole's share of each pixel, by hand
    cut = {(2, 2): 0.75, (2, 3): 1.0, (2, 4): 0.25,
           (3, 2): 0.75 * 0.25, (3, 3): 0.25, (3, 4): 0.25 * 0.25}
    want = V[1:5, 1:5].sum() - sum(V[rc] * f for rc, f in cut.items())
    assert _sums([poly])[0] == pytest.approx(want, rel=1e-12)


def test_multipolygon_is_the_sum_of_its_parts():
    a = _poly(_rect(0, 0, 2, 1))
    b = _poly(_rect(3.5, 4, 4.5, 6))
    multi = shapely.MultiPolygon([a, b])
    want = V[0, 0] + V[0, 1] + 0.5 * (V[4, 3] + V[5, 3] + V[4, 4] + V[5, 4])
    got = _sums([multi, a, b])
    assert got[0] == pytest.approx(want, rel=1e-12)
    assert got[0] == pytest.approx(got[1] + got[2], rel=1e-12)


def test_polygon_crossing_the_raster_edges():
    # only the part inside the raster counts: half of the top-left and bottom-right pixels
    top_left = _poly(_rect(-1.5, -2, 0.5, 1))
    bottom_right = _poly(_rect(5.5, 5, 9, 8))
    around = _poly(_rect(-3, -3, 9, 9))  # covers the whole raster
    outside = _poly(_rect(7, 0, 9, 6))
    got = _sums([top_left, bottom_right, around, outside])
    np.testing.assert_allclose(got, [0.5 * V[0, 0], 0.5 * V[5, 5], V.sum(), 0.0], rtol=1e-12)
    assert got[3] == 0.0


def test_ring_orientation_does_not_matter():
    shell = [(0.3, 0.2), (5.7, 1.1), (4.9, 5.6), (2.2, 4.4), (0.6, 5.9)]
    hole = [(2.1, 1.6), (3.7, 1.9), (3.1, 3.4)]
    poly = _poly(shell, [hole])
    ccw = shapely.orient_polygons(poly, exterior_cw=False)
    cw = shapely.orient_polygons(poly, exterior_cw=True)
    # exterior and hole wound the same way (not OGC order, but the same area)
    same = shapely.Polygon(ccw.exterior.coords, [list(ccw.interiors[0].coords)[::-1]])
    assert same.exterior.is_ccw == same.interiors[0].is_ccw
    assert ccw.exterior.is_ccw
    assert not cw.exterior.is_ccw
    got = _sums([ccw, cw, same, shapely.MultiPolygon([cw])])
    want = _oracle([poly])[0]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    # hand check on the ones raster: the covered area in pixels
    assert _sums([cw], ONES)[0] == pytest.approx(poly.area / 100.0, rel=1e-12)


def test_nodata_and_nan_count_as_nobody():
    a = V.copy()
    a[1, 1] = np.nan
    a[2, 2] = -9999.0
    r = Raster(a, T6, CRS, nodata=-9999.0)
    zones = gpd.GeoDataFrame(geometry=[_poly(_rect(0.5, 0.5, 3, 3))], crs=CRS)
    got = popmod.zonal_population(r, zones)["population"].iloc[0]
    keep = np.zeros((6, 6))
    keep[0:3, 0:3] = [[0.25, 0.5, 0.5], [0.5, 0.0, 1.0], [0.5, 1.0, 0.0]]
    assert got == pytest.approx(float((keep * V).sum()), rel=1e-12)


def test_geometries_without_area_hold_nobody():
    square = _poly(_rect(1, 1, 3, 3))
    line = shapely.LineString([_pix(0, 0), _pix(5, 5)])
    coll = shapely.GeometryCollection([square, line, shapely.Point(_pix(4, 4))])
    got = _sums([None, shapely.Polygon(), line, shapely.Point(_pix(1, 1)), coll, square])
    np.testing.assert_allclose(got, [0, 0, 0, 0, V[1:3, 1:3].sum(), V[1:3, 1:3].sum()])
    # only (multi)polygons and missing values (read as ragged arrays)
    multi = shapely.MultiPolygon([square, _poly(_rect(4, 4, 5, 5))])
    got = _sums([square, None, shapely.Polygon(), shapely.MultiPolygon(), multi])
    np.testing.assert_allclose(got, [V[1:3, 1:3].sum(), 0, 0, 0, V[1:3, 1:3].sum() + V[4, 4]])
    assert _sums([None, None]).tolist() == [0.0, 0.0]


@pytest.mark.parametrize(
    "transform",
    [
        Affine(-7, 0, X0, 0, 13, Y0),  # west- and south-up, unequal sides
        Affine.translation(X0, Y0) @ Affine.rotation(30) @ Affine.scale(10, -10),
        Affine.translation(X0, Y0) @ Affine.shear(12, -5) @ Affine.scale(8, -11),
    ],
)
def test_any_invertible_transform(transform):
    # the image of a pixel-space rectangle covers whole and half pixels whatever the transform
    rect = _poly(_rect(1, 2, 3.5, 3), transform=transform)
    # (rotated vertices land on pixel lines only up to rounding, hence 1e-9)
    assert _sums([rect], transform=transform)[0] == pytest.approx(
        V[2, 1] + V[2, 2] + 0.5 * V[2, 3], rel=1e-9)
    assert _oracle([rect], transform=transform)[0] == pytest.approx(
        V[2, 1] + V[2, 2] + 0.5 * V[2, 3], rel=1e-9)


def test_singular_transform_is_an_error():
    with pytest.raises(DataError, match="not invertible"):
        _sums([_poly(_rect(0, 0, 1, 1))], transform=Affine(10, 0, X0, 0, 0, Y0))
    with pytest.raises(DataError, match="not finite"):
        _sums([shapely.box(X0, Y0, np.inf, Y0 + 10)])


# --- random polygons against the shapely oracle and exactextract ------------------------------

def _random_zones(rng: np.random.Generator, n: int, transform: Affine, shape) -> list:
    """Star-shaped polygons (some with holes, some multi-part) around and across the raster."""
    rows, cols = shape
    out = []
    for i in range(n):
        poly = shapely.LineString()
        while not (poly.geom_type == "Polygon" and poly.is_valid):
            cu, cv = rng.uniform(-3, cols + 3), rng.uniform(-3, rows + 3)
            k = int(rng.integers(3, 12))
            ang = np.sort(rng.uniform(0, 2 * np.pi, k))
            rad = rng.uniform(0.2, 1.0, k) * rng.uniform(0.3, 6)
            shell = np.column_stack([cu + rad * np.cos(ang), cv + rad * np.sin(ang)])
            poly = shapely.Polygon([transform @ tuple(p) for p in shell])
        if i % 4 == 1:
            core = shapely.Point(transform @ (cu, cv)).buffer(
                0.15 * rad.min() * abs(transform.a) + 1e-3, quad_segs=3)
            poly = poly.difference(core)
        if i % 5 == 2:
            far = shapely.affinity.translate(poly, *(np.array(transform @ (3, 2))
                                                     - np.array(transform @ (0, 0))))
            poly = shapely.MultiPolygon([poly, far]) if not poly.intersects(far) else poly
        if i % 3 == 0:
            poly = shapely.orient_polygons(poly, exterior_cw=bool(i % 2))
        out.append(poly)
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_polygons_match_the_shapely_oracle(seed):
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(5, 30)), int(rng.integers(5, 30)))
    values = rng.uniform(0, 50, shape)
    values[rng.uniform(size=shape) < 0.2] = 0.0
    transform = [T6, Affine(-3.5, 0, X0, 0, 2.5, Y0),
                 Affine.translation(X0, Y0) @ Affine.rotation(-17) @ Affine.scale(9, -6)][seed]
    zones = _random_zones(rng, 150, transform, shape)
    got = _sums(zones, values, transform)
    want = _oracle(zones, values, transform)
    assert (want > 0).sum() > 50  # most zones reach the raster
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9 * values.max())


@settings(max_examples=60, deadline=None)
@given(
    pts=st.lists(st.tuples(st.floats(-2, 8, allow_nan=False), st.floats(-2, 8, allow_nan=False)),
                 min_size=3, max_size=12),
    flip=st.booleans(),
)
def test_convex_hulls_match_the_shapely_oracle(pts, flip):
    hull = shapely.MultiPoint([_pix(u, v) for u, v in pts]).convex_hull
    if hull.geom_type != "Polygon":
        return
    hull = shapely.orient_polygons(hull, exterior_cw=flip)
    got = _sums([hull])[0]
    want = _oracle([hull])[0]
    assert got == pytest.approx(want, rel=1e-9, abs=1e-9)


def test_random_polygons_match_exactextract(tmp_path):
    from exactextract import exact_extract

    rng = np.random.default_rng(7)
    shape = (40, 60)
    values = rng.uniform(0, 30, shape)
    values[rng.uniform(size=shape) < 0.1] = -1.0  # nodata
    transform = Affine(10, 0, X0, 0, -10, Y0 + 400)
    path = tmp_path / "pop.tif"
    with rasterio.open(path, "w", driver="GTiff", height=shape[0], width=shape[1], count=1,
                       dtype="float64", crs=CRS, transform=transform, nodata=-1.0) as dst:
        dst.write(values, 1)
    polys = _random_zones(rng, 200, transform, shape)
    zones = gpd.GeoDataFrame({"zone": np.arange(len(polys))}, geometry=polys, crs=CRS)
    ours = popmod.zonal_population(path, zones)["population"].to_numpy()
    theirs = exact_extract(str(path), zones, "sum", include_cols=["zone"], output="pandas")
    theirs = theirs.set_index("zone")["sum"].reindex(zones["zone"]).fillna(0.0).to_numpy()
    assert (theirs > 0).sum() > 100
    # exactextract keeps coverage fractions in single precision (≈ 1e-7 relative)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-6)


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
