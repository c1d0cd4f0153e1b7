"""Tests for gridmap.placement: maximal covering and reaching density targets."""

from __future__ import annotations

import itertools
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from scipy.sparse import csr_matrix
from shapely.geometry import LineString, Point, box

from gridmap import InfeasibleError
from gridmap.density import camera_density
from gridmap.placement import (
    candidate_sites,
    demand_points,
    greedy_cover,
    milp_cover,
    place_cameras,
    reach_targets,
)

METRIC = "EPSG:4549"
X0, Y0 = 500_000.0, 3_400_000.0
BOUND = 1 - 1 / math.e


def _brute_force(cover: csr_matrix, w: np.ndarray, k: int) -> float:
    dense = cover.toarray() > 0
    best = 0.0
    for combo in itertools.combinations(range(dense.shape[0]), k):
        best = max(best, float(w[dense[list(combo)].any(axis=0)].sum()))
    return best


def test_greedy_versus_exact_on_the_classic_trap() -> None:
    # demand 0..5; candidate 0 covers the middle four, 1 and 2 cover halves
    rows = [[1, 2, 3, 4], [0, 1, 2], [3, 4, 5]]
    cover = csr_matrix(([1.0] * 10, [i for r in rows for i in r],
                        [0, 4, 7, 10]), shape=(3, 6))
    w = np.ones(6)
    picked, gains = greedy_cover(cover, w, 2)
    assert picked == [0, 1]
    assert gains == [4.0, 1.0]
    opt_rows, opt = milp_cover(cover, w, 2)
    assert sorted(opt_rows) == [1, 2]
    assert opt == 6.0
    assert sum(gains) >= BOUND * opt


@pytest.mark.parametrize("seed", range(12))
def test_lazy_greedy_matches_plain_greedy_and_the_bound(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_c, n_d, k = 8, 30, 3
    dense = rng.random((n_c, n_d)) < 0.2
    cover = csr_matrix(dense.astype(float))
    w = rng.integers(0, 5, n_d).astype(float)
    picked, gains = greedy_cover(cover, w, k)
    # plain greedy: recompute every gain each step (ties: lowest index)
    left = w.copy()
    plain = []
    for _ in range(k):
        g = dense.astype(float) @ left
        g[plain] = -1
        j = int(np.argmax(g))
        if g[j] <= 0:
            break
        plain.append(j)
        left[dense[j]] = 0
    assert picked == plain
    opt = _brute_force(cover, w, k)
    _, milp = milp_cover(cover, w, k)
    assert milp == pytest.approx(opt)
    assert sum(gains) >= BOUND * opt - 1e-9


@pytest.fixture
def grids() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"grid_id": ["A", "B"], "zone": ["urban", "rural"]},
        geometry=[box(X0, Y0, X0 + 200, Y0 + 200), box(X0 + 200, Y0, X0 + 400, Y0 + 200)],
        crs=METRIC,
    )


def _points(xy: list[tuple[float, float]], **cols) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(cols, geometry=[Point(X0 + x, Y0 + y) for x, y in xy], crs=METRIC)


def test_place_by_hand(grids: gpd.GeoDataFrame) -> None:
    # existing dome at (50, 50) sees the incidents around it
    cams = _points([(50, 50)], camera_id=["c1"], kind=["dome"], range_m=[30.0],
                   status=["online"])
    incidents = _points([(55, 50), (150, 150), (152, 150), (300, 100), (50, 52)],
                        incident_id=list("abcde"), weight=[5.0, 2.0, 2.0, 3.0, 5.0])
    demand, what = demand_points(grids, incidents=incidents)
    assert what == "incidents"
    cand = candidate_sites(grids, source=_points(
        [(52, 50), (150, 150), (300, 100), (500, 500)], site_id=["near", "mid", "east", "out"]))
    assert cand["site_id"].tolist() == ["near", "mid", "east"]  # "out" is in no grid
    res = place_cameras(cams, grids, cand, demand, k=3, range_m=10.0)
    s = res.sites
    assert s["site_id"].tolist() == ["mid", "east"]  # "near" is < 5 m from c1
    assert s["gain"].tolist() == [4.0, 3.0]
    assert s["grid_id"].tolist() == ["A", "B"]
    assert s["rank"].tolist() == [1, 2]
    assert res.demand_total == 17.0
    assert res.demand_uncovered == 7.0  # the 10 near c1 is seen already
    assert s["cumulative_pct"].tolist() == [round(400 / 7, 2), 100.0]
    assert any("within 5 m" in n for n in res.notes)
    assert any("only 2 site(s)" in n for n in res.notes)
    assert s.crs.to_epsg() == 4326


def test_sites_keep_their_distance(grids: gpd.GeoDataFrame) -> None:
    cams = _points([(390, 190)], camera_id=["c"], kind=["dome"], range_m=[1.0])
    incidents = _points([(100, 100), (103, 100)], incident_id=["a", "b"])
    cand = candidate_sites(grids, source=_points([(100, 100), (103, 100)],
                                                 site_id=["p", "q"]))
    demand, _ = demand_points(grids, incidents=incidents)
    res = place_cameras(cams, grids, cand, demand, k=2, range_m=1.0)
    assert res.sites["site_id"].tolist() == ["p"]  # q is 3 m from p: not a new point


def test_candidates_from_roads_and_lattice(grids: gpd.GeoDataFrame) -> None:
    roads = gpd.GeoDataFrame(geometry=[
        LineString([(X0 + 10, Y0 + 100), (X0 + 390, Y0 + 100)]),  # crossed by the next
        LineString([(X0 + 100, Y0 + 10), (X0 + 100, Y0 + 190)]),
        LineString([(X0 + 300, Y0 + 100), (X0 + 300, Y0 + 190)]),  # a T junction
    ], crs=METRIC)
    c = candidate_sites(grids, roads=roads)
    xy = sorted((round(p.x - X0), round(p.y - Y0)) for p in c.geometry)
    assert xy == [(100, 100), (300, 100)]
    lat = candidate_sites(grids, source="lattice", spacing_m=100.0)
    assert len(lat) == 8
    with pytest.raises(ValueError, match="source"):
        candidate_sites(grids, source="everywhere")


def test_population_demand(tmp_path, grids: gpd.GeoDataFrame) -> None:
    import rasterio
    from rasterio.transform import Affine

    path = tmp_path / "pop.tif"
    data = np.array([[10, 0, 5], [1, -9999, 2]], dtype="float32")
    with rasterio.open(path, "w", driver="GTiff", width=3, height=2, count=1, dtype="float32",
                       crs=METRIC, transform=Affine(100.0, 0.0, X0, 0.0, -100.0, Y0 + 200),
                       nodata=-9999) as dst:
        dst.write(data, 1)
    demand, what = demand_points(grids, population=path)
    assert what == "population"
    assert sorted(demand["weight"].tolist()) == [1.0, 2.0, 5.0, 10.0]


def test_reach_targets_brings_every_grid_to_target(grids: gpd.GeoDataFrame) -> None:
    cams = _points([(10, 10), (390, 10)], camera_id=["a", "b"], kind=["dome", "dome"],
                   status=["online", "online"])
    targets = {"urban": 100.0, "rural": 50.0}  # A needs 4 points, B needs 2
    before = camera_density(cams, grids, targets=targets).table.set_index("unit")
    assert before["shortfall"].tolist() == [3, 1]
    cand = candidate_sites(grids, source="lattice", spacing_m=40.0)
    demand, _ = demand_points(grids)
    res = reach_targets(cams, grids, cand, demand, targets=targets)
    assert res.sites["grid_id"].value_counts().to_dict() == {"A": 3, "B": 1}
    built = pd.concat([cams, res.sites.to_crs(METRIC).assign(
        camera_id=lambda f: f["site_id"], status="online")[["camera_id", "status", "geometry"]]],
        ignore_index=True)
    after = camera_density(gpd.GeoDataFrame(built, crs=METRIC), grids, targets=targets)
    assert (after.table["status"] == "met").all()
    gains = res.sites["gain"].to_numpy()
    assert (np.diff(gains) <= 1e-9).all()  # greedy: marginal gains never grow


def test_reach_targets_infeasible(grids: gpd.GeoDataFrame) -> None:
    cams = _points([(10, 10)], camera_id=["a"])
    cand = candidate_sites(grids, source="lattice", spacing_m=40.0)
    demand, _ = demand_points(grids)
    with pytest.raises(InfeasibleError, match="needs"):
        reach_targets(cams, grids, cand, demand, min_gap_m=500.0)


def test_demo_greedy_close_to_exact(demo_small) -> None:
    from gridmap.ingest import read_layer

    cams = read_layer(demo_small / "cameras.csv", kind="cameras").data
    grids = read_layer(demo_small / "grids.gpkg", kind="grids", layer="grids").data
    roads = gpd.read_file(demo_small / "roads.gpkg")
    incidents = read_layer(demo_small / "incidents.parquet", kind="incidents").data
    cand = candidate_sites(grids, roads=roads)
    demand, _ = demand_points(grids, incidents=incidents)
    for k in (5, 15):
        greedy = place_cameras(cams, grids, cand, demand, k=k, site_kind="ptz")
        exact = place_cameras(cams, grids, cand, demand, k=k, site_kind="ptz", method="exact")
        g, e = greedy.sites["gain"].sum(), exact.sites["gain"].sum()
        assert e >= g - 1e-9
        assert g >= 0.95 * e
        assert g >= BOUND * e
        assert len(exact.sites) == k


def test_cli_place(demo_small, tmp_path, capsys) -> None:
    from gridmap.cli import main

    out = tmp_path / "sites.geojson"
    code = main(["place", "--grids", str(demo_small / "grids.gpkg"), "--cameras",
                 str(demo_small / "cameras.csv"), "--incidents",
                 str(demo_small / "incidents.parquet"), "--roads",
                 str(demo_small / "roads.gpkg"), "--add", "4", "--out", str(out)])
    text = capsys.readouterr().out
    assert code == 0
    assert "suggested site(s)" in text
    sites = gpd.read_file(out)
    assert sites["rank"].tolist() == [1, 2, 3, 4]
    assert (sites["gain"].diff().dropna() <= 0).all()
    assert sites["grid_id"].notna().all()
    assert main(["place", "--grids", str(demo_small / "grids.gpkg"), "--cameras",
                 str(demo_small / "cameras.csv"), "--add", "2"]) == 2  # no roads given
    assert "need roads" in capsys.readouterr().err
