"""Tests of gridmap.aggregate: per-grid, square and H3 counts, rates, space-time cubes."""

from __future__ import annotations

from collections import Counter

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
import shapely

from gridmap import aggregate as agg
from gridmap import filters
from gridmap._errors import SchemaError

CRS = "EPSG:4549"
X0, Y0 = 500_000.0, 3_400_000.0


def _grids() -> gpd.GeoDataFrame:
    """2 × 2 grids of 1 km in EPSG:4549."""
    polys = [shapely.box(X0 + c * 1000, Y0 + r * 1000, X0 + (c + 1) * 1000, Y0 + (r + 1) * 1000)
             for r in range(2) for c in range(2)]
    return gpd.GeoDataFrame({"grid_id": ["A", "B", "C", "D"], "pop": [1000, 0, 250, 4000]},
                            geometry=polys, crs=CRS)


def _incidents(n: int = 400, seed: int = 0) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    x = rng.uniform(X0 - 200, X0 + 2200, n)
    y = rng.uniform(Y0 - 100, Y0 + 2100, n)
    cats = rng.choice(["theft", "fire", "noise"], n)
    t = pd.Timestamp("2024-03-04") + pd.to_timedelta(rng.uniform(0, 27, n), unit="D")
    return gpd.GeoDataFrame({"incident_id": np.arange(n), "category": cats, "reported_at": t,
                             "weight": rng.uniform(0, 2, n)},
                            geometry=gpd.points_from_xy(x, y), crs=CRS)


def test_per_grid_counts_match_sjoin_and_list_outside():
    pts = _incidents()
    out = agg.count_per_grid(pts, _grids(), split_by="category", weight="weight")
    joined = gpd.sjoin(pts, _grids(), predicate="within")
    want = joined.groupby("grid_id").size().reindex(["A", "B", "C", "D"], fill_value=0)
    np.testing.assert_array_equal(out["n"].to_numpy(), want.to_numpy())
    inside = joined.index.unique()
    assert out.attrs["outside"] == len(pts) - len(inside)
    outside = agg.outside_points(pts, out)
    assert set(outside.index) == set(pts.index) - set(inside)
    for cat in ("theft", "fire", "noise"):
        w = joined[joined.category == cat].groupby("grid_id").size()
        np.testing.assert_array_equal(out[f"n_{cat}"].to_numpy(),
                                      w.reindex(["A", "B", "C", "D"], fill_value=0).to_numpy())
    assert (out[["n_theft", "n_fire", "n_noise"]].sum(axis=1) == out["n"]).all()
    wsum = joined.groupby("grid_id")["weight"].sum().reindex(["A", "B", "C", "D"], fill_value=0)
    np.testing.assert_allclose(out["weight"].to_numpy(), wsum.to_numpy())


def test_point_on_shared_boundary_is_counted_once():
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy([X0 + 1000, X0 + 500], [Y0 + 500, Y0 + 500]),
                           crs=CRS)
    out = agg.count_per_grid(pts, _grids())
    assert out["n"].sum() == 2
    assert out.attrs["outside"] == 0


def test_grid_counts_after_filters():
    pts = _incidents()
    spec = filters.PointFilter.build(categories=["theft"], weekdays="1-5")
    kept = filters.apply_filter(pts, spec).data
    out = agg.count_per_grid(kept, _grids())
    t = pd.to_datetime(pts.reported_at)
    manual = pts[(pts.category == "theft") & (t.dt.day_of_week < 5)]
    assert out["n"].sum() + out.attrs["outside"] == len(manual)


def test_squares_match_histogram2d():
    pts = _incidents(1000, seed=3)
    out = agg.count_per_square(pts, 250.0, crs=CRS)
    lat = out.attrs["lattice"]
    xedges = lat["left"] + np.arange(lat["cols"] + 1) * 250.0
    yedges = lat["top"] - np.arange(lat["rows"] + 1)[::-1] * 250.0
    hist, _, _ = np.histogram2d(pts.geometry.x, pts.geometry.y, bins=[xedges, yedges])
    # histogram2d: [x bin, y bin] with y increasing; our rows run north to south
    want = hist.T[::-1].ravel()
    np.testing.assert_array_equal(out["n"].to_numpy(), want)
    assert out["n"].sum() == len(pts)
    assert out.geometry.area.round(6).eq(62_500.0).all()


def test_square_polygons_contain_their_points():
    pts = _incidents(200, seed=4)
    out = agg.count_per_square(pts, 300.0, crs=CRS, drop_empty=True)
    joined = gpd.sjoin(pts, out, predicate="within")
    counts = joined.groupby("cell_id").size()
    np.testing.assert_array_equal(out.set_index("cell_id")["n"].loc[counts.index], counts)


def test_latlng_to_h3_matches_h3_per_point():
    rng = np.random.default_rng(5)
    lat = 30.75 + rng.normal(0, 0.05, 3000)
    lng = 120.75 + rng.normal(0, 0.05, 3000)
    lat[:100] = lat[100:200]  # repeated locations
    lng[:100] = lng[100:200]
    got = agg.latlng_to_h3(lat, lng, 9)
    want = np.array([h3.str_to_int(h3.latlng_to_cell(a, b, 9)) for a, b in zip(lat, lng, strict=True)],
                    dtype=np.uint64)
    np.testing.assert_array_equal(got, want)


def _h3_loop(lat, lng, res) -> np.ndarray:
    """Reference: h3.latlng_to_cell point by point (0 where a coordinate is not finite)."""
    return np.array([h3.str_to_int(h3.latlng_to_cell(a, b, res))
                     if np.isfinite(a) and np.isfinite(b) else 0
                     for a, b in zip(lat.tolist(), lng.tolist(), strict=True)], dtype=np.uint64)


@pytest.mark.parametrize("res", range(16))
def test_latlng_to_h3_matches_h3_all_over_the_globe(res):
    # uniform on the sphere: every face, face edges, near-pentagon cells, both poles' caps
    rng = np.random.default_rng(100 + res)
    n = 20_000
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    lng = rng.uniform(-180, 180, n)
    lat[:3], lng[3:5], lat[5] = np.nan, np.inf, -np.inf
    np.testing.assert_array_equal(agg.latlng_to_h3(lat, lng, res), _h3_loop(lat, lng, res))


def test_latlng_to_h3_matches_h3_on_a_large_city_sample():
    rng = np.random.default_rng(21)
    n = 300_000
    lat = 30.75 + rng.normal(0, 0.08, n)
    lng = 120.75 + rng.normal(0, 0.08, n)
    for res in (7, 9, 12):
        np.testing.assert_array_equal(agg.latlng_to_h3(lat, lng, res), _h3_loop(lat, lng, res))


@pytest.mark.parametrize("res", [0, 3, 9, 15])
def test_latlng_to_h3_on_cell_vertices_edges_and_pentagons(res):
    # points exactly on hexagon vertices and edge midpoints, pentagon centres with
    # tiny offsets, the poles and the antimeridian: wherever rounding could tip a point
    rng = np.random.default_rng(30 + res)
    lat0 = np.degrees(np.arcsin(rng.uniform(-1, 1, 300)))
    lng0 = rng.uniform(-180, 180, 300)
    pts = []
    for a, b in zip(lat0, lng0, strict=True):
        ring = h3.cell_to_boundary(h3.latlng_to_cell(a, b, res))
        pts += ring
        pts += [((p[0] + q[0]) / 2, (p[1] + q[1]) / 2) for p, q in zip(ring, ring[1:] + ring[:1],
                                                                      strict=True)]
    for cell in h3.get_pentagons(res):
        a, b = h3.cell_to_latlng(cell)
        pts += [(a + da, b + db) for da in (-1e-9, 0.0, 1e-9) for db in (-1e-9, 0.0, 1e-9)]
    pts += [(90.0, 0.0), (-90.0, 45.0), (0.0, 180.0), (0.0, -180.0), (10.0, 179.999999999)]
    lat, lng = np.array(pts).T.copy()
    np.testing.assert_array_equal(agg.latlng_to_h3(lat, lng, res), _h3_loop(lat, lng, res))


def test_latlng_to_h3_checks_its_input():
    with pytest.raises(ValueError, match="0–15"):
        agg.latlng_to_h3(np.zeros(2), np.zeros(2), 16)
    with pytest.raises(ValueError, match="one length"):
        agg.latlng_to_h3(np.zeros(2), np.zeros(3), 9)
    assert agg.latlng_to_h3(np.array([]), np.array([]), 9).tolist() == []


def test_h3_counts_match_counter_and_keep_empty_cells():
    pts = _incidents(800, seed=6).to_crs("EPSG:4326")
    out = agg.count_per_h3(pts, 10, split_by="category")
    want = Counter(h3.latlng_to_cell(p.y, p.x, 10) for p in pts.geometry)
    got = dict(zip(out["h3"], out["n"], strict=True))
    for cell, n in want.items():
        assert got[cell] == n
    assert out["n"].sum() == len(pts)
    assert (out["n"] == 0).any()
    assert out.crs.to_epsg() == 4326


def test_h3_counts_leave_points_without_location_outside():
    pts = _incidents(300, seed=8).to_crs("EPSG:4326")
    geoms = pts.geometry.to_numpy().copy()
    geoms[[3, 50]] = None
    geoms[7] = shapely.Point()
    pts = pts.set_geometry(geoms)
    out = agg.count_per_h3(pts, 9, fill=False)
    located = pts[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    want = Counter(h3.latlng_to_cell(p.y, p.x, 9) for p in located.geometry)
    assert dict(zip(out["h3"], out["n"], strict=True)) == want
    assert out.attrs["outside"] == 3


def test_rates_per_km2_and_per_thousand():
    pts = _incidents()
    out = agg.add_rates(agg.count_per_grid(pts, _grids()), population="pop")
    np.testing.assert_allclose(out["area_km2"], 1.0, rtol=1e-9)
    np.testing.assert_allclose(out["n_per_km2"], out["n"])
    np.testing.assert_allclose(out.loc[0, "n_per_1000"], out.loc[0, "n"] / 1000 * 1000)
    assert np.isnan(out.loc[1, "n_per_1000"])  # zero population: no rate
    assert out.loc[3, "n_per_1000"] == pytest.approx(out.loc[3, "n"] / 4000 * 1000)


def test_rates_need_the_population_column():
    with pytest.raises(SchemaError, match="population"):
        agg.add_rates(agg.count_per_grid(_incidents(), _grids()), population="people")


def test_space_time_cube_by_hand():
    pts = gpd.GeoDataFrame(
        {"reported_at": pd.to_datetime(["2024-03-04", "2024-03-05", "2024-03-12", "2024-03-26",
                                         "2024-03-27"])},
        geometry=gpd.points_from_xy([0, 0, 0, 0, 0], [0, 0, 0, 0, 0]), crs=CRS)
    index = np.array([0, 1, 1, 0, -1])
    cube = agg.space_time_counts(pts, index, 2, bin="week")
    assert cube.shape == (2, 4)  # weeks of 4, 11, 18 and 25 March (the empty one kept)
    np.testing.assert_array_equal(cube.to_numpy(), [[1, 0, 0, 1], [1, 1, 0, 0]])


def test_inputs_are_not_mutated():
    pts, grids = _incidents(), _grids()
    a, b = pts.copy(), grids.copy()
    agg.add_rates(agg.count_per_grid(pts, grids, split_by="category"))
    assert pts.equals(a)
    assert grids.equals(b)


# ---------------------------------------------------------------- CLI


def test_cli_aggregate_per_grid_with_split_and_suppression(demo_small, tmp_path):
    from gridmap.cli import main

    out = tmp_path / "agg.csv"
    code = main(["aggregate", "--points", str(demo_small / "incidents.parquet"),
                 "--grids", str(demo_small / "grids.gpkg"), "--split-by", "category",
                 "--population", str(demo_small / "population.tif"), "--out", str(out)])
    assert code in (0, 1)
    table = pd.read_csv(out)
    inc = gpd.read_parquet(demo_small / "incidents.parquet")
    grids = gpd.read_file(demo_small / "grids.gpkg", layer="grids")
    joined = gpd.sjoin(inc, grids, predicate="within")
    want = joined.groupby("grid_id").size()
    got = table.set_index(table["grid_id"].astype(str))["n"]
    for gid, n in want.items():
        if n >= 5:
            assert got[str(gid)] == n
    split = [c for c in table.columns if c.startswith("n_") and not c.startswith("n_per")]
    assert len(split) == inc["category"].nunique()
    small = table[split].stack()
    assert not ((small > 0) & (small < 5)).any()  # nothing between 1 and 4 is published
    assert {"population", "n_per_km2", "n_per_1000"} <= set(table.columns)


def test_cli_aggregate_h3(demo_small, tmp_path):
    from gridmap.cli import main

    out = tmp_path / "h3.geojson"
    assert main(["aggregate", "--points", str(demo_small / "incidents.parquet"), "--h3", "8",
                 "--min-count", "0", "--out", str(out)]) == 0
    cells = gpd.read_file(out)
    assert cells["n"].sum() == len(gpd.read_parquet(demo_small / "incidents.parquet"))
