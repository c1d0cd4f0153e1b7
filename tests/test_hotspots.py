"""Tests of gridmap.hotspots and gridmap.weights: Gi* against esda, FDR, emerging hot spots."""

from __future__ import annotations

import math
import warnings

import esda
import geopandas as gpd
import libpysal
import numpy as np
import pandas as pd
import pytest
import shapely
from scipy import stats

from gridmap import hotspots as hs
from gridmap import weights as wts
from gridmap._errors import DataError

CRS = "EPSG:4549"


def _squares(rows: int, cols: int, size: float = 100.0, values=None) -> gpd.GeoDataFrame:
    polys = [shapely.box(500_000 + c * size, 3_400_000 + r * size,
                         500_000 + (c + 1) * size, 3_400_000 + (r + 1) * size)
             for r in range(rows) for c in range(cols)]
    data = {"v": values} if values is not None else {}
    return gpd.GeoDataFrame(data, geometry=polys, crs=CRS)


def _esda(y, w: wts.SpatialWeights, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return esda.G_Local(np.asarray(y, dtype=float), libpysal.weights.W.from_sparse(w.matrix),
                            transform="B", star=True, **kw)


# ---------------------------------------------------------------- weights


@pytest.mark.parametrize("rook", [False, True])
def test_contiguity_matches_libpysal(rook):
    g = _squares(6, 7)
    ours = wts.contiguity_weights(g, rook=rook).matrix.toarray()
    cls = libpysal.weights.Rook if rook else libpysal.weights.Queen
    theirs, _ = cls.from_dataframe(g, use_index=False).full()
    np.testing.assert_array_equal(ours, theirs)
    lattice = wts.lattice_weights(6, 7, rook=rook).matrix.toarray()
    np.testing.assert_array_equal(lattice, theirs)


def test_queen_counts_t_junctions():
    # a wide cell on top of two narrow ones: the middle vertex is on the wide cell's edge
    g = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1),
                                   shapely.box(0, 1, 2, 2)], crs=CRS)
    m = wts.contiguity_weights(g, rook=True).matrix.toarray()
    assert m[2, 0] == 1
    assert m[2, 1] == 1


def test_knn_and_distance_match_libpysal():
    g = _squares(5, 5)
    pts = g.copy()
    pts["geometry"] = g.centroid
    k = wts.knn_weights(g, 4).matrix.toarray()
    cents = np.column_stack([pts.geometry.x, pts.geometry.y])
    theirs, _ = libpysal.weights.KNN(cents, k=4).full()
    # ties on a lattice may be broken differently: compare degrees and distances instead
    assert (k.sum(1) == 4).all()
    d = np.hypot(*(cents[:, None, :] - cents[None, :, :]).transpose(2, 0, 1))
    np.testing.assert_allclose(np.sort((d * k).max(1)), np.sort((d * theirs).max(1)))
    band = wts.distance_weights(g, 150.0).matrix.toarray()
    theirs_band, _ = libpysal.weights.DistanceBand(cents, threshold=150.0).full()
    np.testing.assert_array_equal(band, theirs_band)


def test_parse_weights():
    assert wts.parse_weights("knn:8") == ("knn", 8)
    assert wts.parse_weights("distance:500") == ("distance", 500.0)
    with pytest.raises(ValueError, match="unknown weights"):
        wts.parse_weights("knn:0")


def test_h3_weights_are_the_ring():
    import h3

    c = h3.latlng_to_cell(30.75, 120.75, 8)
    cells = [c, *h3.grid_ring(c, 1)]
    w = wts.h3_weights(cells)
    assert w.cardinalities[0] == 6
    assert set(w.matrix[0].indices) == set(range(1, 7))


# ---------------------------------------------------------------- Gi*


@pytest.mark.parametrize("spec", ["queen", "rook", "knn:5", "distance:250"])
def test_gi_star_z_agrees_with_esda(spec):
    rng = np.random.default_rng(2)
    y = rng.poisson(4, 12 * 15).astype(float)
    y[20:25] += 10  # a hot block
    g = _squares(12, 15, values=y)
    w = wts.build_weights(g, spec)
    ours = hs.gi_star(y, w)
    np.testing.assert_allclose(ours.z, _esda(y, w, permutations=0).Zs, atol=1e-6)


def test_gi_star_by_hand_on_a_line():
    # five cells in a row, queen = left/right neighbours
    g = _squares(1, 5)
    w = wts.build_weights(g, "queen")
    y = np.array([1.0, 2.0, 3.0, 10.0, 4.0])
    n, mean = 5, y.mean()
    s = math.sqrt((y**2).mean() - mean**2)
    # cell 3: itself and cells 2, 4
    wi = 3
    want = (y[2] + y[3] + y[4] - mean * wi) / (s * math.sqrt((n * wi - wi**2) / (n - 1)))
    assert hs.gi_star(y, w).z[3] == pytest.approx(want, rel=1e-12)


def test_permutation_p_values_match_an_independent_simulation():
    rng = np.random.default_rng(4)
    y = rng.poisson(3, 15 * 15).astype(float)
    y[100:106] += 8
    g = _squares(15, 15, values=y)
    w = wts.build_weights(g, "queen")
    ours = hs.gi_star(y, w, permutations=999, seed=1).p_sim
    assert ours.min() >= 1 / 1000
    assert ours.max() <= 0.5 + 1e-9
    # a plain re-implementation, per cell, with its own random draws
    check = np.random.default_rng(99)
    for i in (0, 50, 101, 103, 224):
        nb = w.matrix[i].indices
        obs = y[i] + y[nb].sum()
        others = np.delete(y, i)
        sims = np.array([y[i] + check.choice(others, len(nb), replace=False).sum()
                         for _ in range(4000)])
        larger = (sims >= obs).sum()
        larger = min(larger, 4000 - larger)
        assert ours[i] == pytest.approx((larger + 1) / 4001, abs=0.04)


def test_constant_values_are_refused():
    g = _squares(3, 3, values=np.ones(9))
    with pytest.raises(DataError, match="same value"):
        hs.hot_spots(g, "v")


def test_fdr_threshold_matches_scipy_bh():
    rng = np.random.default_rng(5)
    p = np.r_[rng.uniform(0, 0.01, 20), rng.uniform(0, 1, 200)]
    for alpha in (0.01, 0.05, 0.10):
        thr = hs.fdr_threshold(p, alpha)
        adjusted = stats.false_discovery_control(p, method="bh")
        np.testing.assert_array_equal(p <= thr, adjusted <= alpha)


def test_classes_and_labels():
    z = np.array([3.0, 2.2, 1.7, 0.5, -1.7, -2.2, -3.0])
    p = 2 * stats.norm.sf(np.abs(z))
    np.testing.assert_array_equal(hs.classify(z, p), [3, 2, 1, 0, -1, -2, -3])


def test_hot_spots_finds_the_planted_cluster_and_keeps_input():
    rng = np.random.default_rng(6)
    y = rng.poisson(2, 20 * 20).astype(float)
    block = [r * 20 + c for r in range(8, 12) for c in range(8, 12)]
    y[block] += 12
    g = _squares(20, 20, values=y)
    before = g.copy()
    out = hs.hot_spots(g, "v", fdr=True)
    assert g.equals(before)
    assert (out.loc[block[5:7], "gi_bin"] == 3).all()
    assert out.loc[block[5], "hotspot"] == "hot 99%"
    assert out.loc[0, "gi_bin"] <= 0
    assert {"gi_z", "gi_p", "gi_bin", "significant"} <= set(out.columns)


# ---------------------------------------------------------------- emerging hot spots


def test_mann_kendall_by_hand():
    z, p = hs.mann_kendall(np.array([[1, 2, 3, 4, 5], [5, 4, 3, 2, 1], [1, 1, 1, 1, 1]]))
    var = 5 * 4 * 15 / 18
    assert z[0] == pytest.approx((10 - 1) / math.sqrt(var))
    assert z[1] == pytest.approx(-(10 - 1) / math.sqrt(var))
    assert z[2] == 0
    assert p[0] == pytest.approx(2 * stats.norm.sf(z[0]))


def test_mann_kendall_ties_reduce_variance():
    # series 1,1,2,3 : S = 5 (one tie), var = (4·3·13 − 2·1·9)/18
    z, _ = hs.mann_kendall(np.array([1.0, 1.0, 2.0, 3.0]))
    assert z[0] == pytest.approx(4 / math.sqrt((4 * 3 * 13 - 2 * 1 * 9) / 18))


H, C, Z = 4.0, -4.0, 0.0  # a very hot bin, a very cold bin, nothing


@pytest.mark.parametrize(("series", "expected"), [
    ([Z] * 9 + [H], "new hot spot"),
    ([Z] * 7 + [H, H, H], "consecutive hot spot"),
    ([H + 0.1 * i for i in range(10)], "intensifying hot spot"),
    ([H + 1 - 0.1 * i for i in range(10)], "diminishing hot spot"),
    ([H, H + 1, H, H + 1, H, H + 1, H, H + 1, H, H + 1], "persistent hot spot"),
    ([Z, H, Z, H, Z, Z, H, Z, Z, H], "sporadic hot spot"),
    ([Z, C, Z, Z, H, Z, Z, Z, Z, H], "oscillating hot spot"),
    ([H] * 9 + [Z], "historical hot spot"),
    ([Z] * 9 + [C], "new cold spot"),
    ([C - 0.1 * i for i in range(10)], "intensifying cold spot"),
    ([Z, H, Z, C, Z, Z, C, Z, Z, C], "oscillating cold spot"),
    ([C] * 9 + [Z], "historical cold spot"),
    ([Z] * 10, "no pattern"),
    ([Z, H, Z, Z, H, Z, Z, Z, Z, Z], "no pattern"),
])
def test_emerging_category_rules(series, expected):
    got = hs.emerging_categories(np.array([series]), fdr=False)
    assert got.loc[0, "category"] == expected


def test_categories_list_has_seventeen():
    assert len(hs.CATEGORIES) == 17
    assert "oscillating cold spot" in hs.CATEGORIES


def test_spacetime_gi_star_by_hand():
    # 3 cells in a row, 3 steps, window 1
    g = _squares(1, 3)
    w = wts.build_weights(g, "queen")
    cube = np.array([[1.0, 0.0, 2.0], [0.0, 5.0, 1.0], [3.0, 1.0, 0.0]])
    z = hs.spacetime_gi_star(cube, w, time_window=1)
    y = cube.ravel()
    n, mean = y.size, y.mean()
    s = math.sqrt((y**2).mean() - mean**2)
    # bin (cell 1, step 2): cells 0,1,2 at steps 1,2 → 6 bins
    total = cube[:, 1:3].sum()
    wi = 6
    want = (total - mean * wi) / (s * math.sqrt((n * wi - wi**2) / (n - 1)))
    assert z[1, 2] == pytest.approx(want)
    # step 0 has no previous step: cells 0,1 at step 0 → 2 bins for cell 0
    want0 = (cube[:2, 0].sum() - mean * 2) / (s * math.sqrt((n * 2 - 4) / (n - 1)))
    assert z[0, 0] == pytest.approx(want0)


def test_emerging_hot_spots_on_a_growing_cluster():
    rng = np.random.default_rng(8)
    rows = cols = 12
    g = _squares(rows, cols)
    steps = 12
    cube = rng.poisson(2, (rows * cols, steps)).astype(float)
    hot = [r * cols + c for r in range(4, 7) for c in range(4, 7)]
    for t in range(steps):
        cube[hot, t] += 4 + 2 * t  # hot all along and getting hotter
    late = [r * cols + c for r in range(9, 11) for c in range(1, 3)]
    cube[np.ix_(late, [9, 10, 11])] += 25  # hot only in the last three steps
    frame = pd.DataFrame(cube, columns=pd.period_range("2024-01", periods=steps, freq="M"))
    out = hs.emerging_hot_spots(g, frame, weights="queen")
    assert out.loc[hot[4], "category"] in ("intensifying hot spot", "persistent hot spot")
    assert out.loc[late[0], "category"] in ("new hot spot", "consecutive hot spot")
    assert (out["category"].isin(hs.CATEGORIES)).all()


# ---------------------------------------------------------------- CLI


def test_cli_hotspots_static_and_emerging(demo_small, tmp_path):
    import pyogrio

    from gridmap.cli import main

    inc = str(demo_small / "incidents.parquet")
    out = tmp_path / "hs.gpkg"
    assert main(["hotspots", "--points", inc, "--square", "400", "--weights", "queen",
                 "--fdr", "--out", str(out)]) == 0
    got = gpd.read_file(out)
    assert {"gi_z", "gi_p", "gi_bin", "hotspot"} <= set(got.columns)
    assert got["gi_bin"].between(-3, 3).all()
    out2 = tmp_path / "ehsa.gpkg"
    assert main(["hotspots", "--points", inc, "--h3", "8", "--emerging", "--bin", "month",
                 "--out", str(out2)]) == 0
    cats = pyogrio.read_dataframe(out2)["category"]
    assert cats.isin(hs.CATEGORIES).all()
