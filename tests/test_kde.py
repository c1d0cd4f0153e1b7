"""Tests of gridmap.kde: kernels, bandwidth, the binned FFT engine, rasters, masking."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import rasterio
import shapely
from scipy import integrate
from scipy.spatial import cKDTree

from gridmap import kde
from gridmap._errors import CRSError, DataError, SchemaError

CRS = "EPSG:4549"  # CGCS2000 / 3-degree Gauss-Kruger CM 120E (Jiaxing)
X0, Y0 = 500_000.0, 3_400_000.0


def _points(x, y, **cols) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(cols, geometry=gpd.points_from_xy(x, y), crs=CRS)


def _clustered(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    h = n // 2
    x = np.r_[rng.normal(0, 300, h), rng.normal(800, 150, n - h)] + X0
    y = np.r_[rng.normal(0, 300, h), rng.normal(500, 200, n - h)] + Y0
    return x, y


def _brute(x, y, w, kernel, h, raster_transform, shape):
    """Exact kernel sum at every cell centre (independent of the binned engine).

    Pairs up to 1.5 × the reach are summed: for the Gaussian that is 7.5σ, where
    the kernel is below 1e-12 of its peak, so the reference is untruncated in effect.
    """
    rows, cols = shape
    cell = raster_transform.a
    cx = raster_transform.c + (np.arange(cols) + 0.5) * cell
    cy = raster_transform.f - (np.arange(rows) + 0.5) * cell
    gx, gy = np.meshgrid(cx, cy)
    centres = cKDTree(np.column_stack([gx.ravel(), gy.ravel()]))
    pairs = centres.sparse_distance_matrix(cKDTree(np.column_stack([x, y])),
                                           kde.kernel_reach(kernel, h) * 1.5,
                                           output_type="coo_matrix")
    vals = kde.kernel_profile(kernel, pairs.data, h) * w[pairs.col]
    out = np.bincount(pairs.row, weights=vals, minlength=rows * cols)
    return out.reshape(shape)


# ---------------------------------------------------------------- kernels


@pytest.mark.parametrize("kernel", kde.KERNELS)
def test_kernel_integrates_to_one(kernel):
    # ∫ K(r) 2πr dr over the plane, by quadrature (QGIS once shipped a 7.25× quartic error)
    h = 37.0
    reach = h * 12 if kernel == "gaussian" else h
    val, _ = integrate.quad(lambda r: kde.kernel_profile(kernel, r, h) * 2 * np.pi * r, 0, reach,
                            limit=200)
    assert val == pytest.approx(1.0, abs=1e-9)


def test_quartic_peak_is_three_over_pi_h2():
    h = 100.0
    assert kde.kernel_profile("quartic", 0.0, h) == pytest.approx(3 / (np.pi * h * h))
    assert kde.kernel_profile("quartic", h, h) == 0.0


def test_unknown_kernel_is_rejected():
    with pytest.raises(ValueError, match="unknown kernel"):
        kde.kernel_profile("cubic", 1.0, 1.0)


# ---------------------------------------------------------------- bandwidth


def test_auto_bandwidth_by_hand():
    # four corners of a 2 × 2 square and its centre: mean centre (0, 0)
    x = np.array([-1.0, 1.0, 1.0, -1.0, 0.0])
    y = np.array([-1.0, -1.0, 1.0, 1.0, 0.0])
    sd = math.sqrt(4 / 5 + 4 / 5)  # standard distance
    dm = math.sqrt(2)  # median of 0, √2, √2, √2, √2
    expected = 0.9 * min(sd, math.sqrt(1 / math.log(2)) * dm) * 5 ** -0.2
    assert kde.auto_bandwidth(x, y) == pytest.approx(expected, rel=1e-12)


def test_auto_bandwidth_weights_count_as_n():
    rng = np.random.default_rng(3)
    x, y = rng.normal(0, 100, 400), rng.normal(0, 50, 400)
    # equal weights of 2: same SD and Dm, but n is the sum of weights (800)
    ratio = kde.auto_bandwidth(x, y, np.full(400, 2.0)) / kde.auto_bandwidth(x, y)
    assert ratio == pytest.approx(2 ** -0.2, rel=1e-12)


def test_auto_bandwidth_needs_spread():
    with pytest.raises(DataError, match="bandwidth"):
        kde.auto_bandwidth(np.ones(5), np.ones(5))


def test_default_cell_is_short_side_over_250():
    assert kde.default_cell((0, 0, 5000, 2000)) == pytest.approx(8.0)


# ---------------------------------------------------------------- engine accuracy


@pytest.mark.parametrize(("kernel", "h"), [("quartic", 250.0), ("gaussian", 150.0)])
@pytest.mark.parametrize("pattern", ["clustered", "uniform"])
def test_fft_matches_brute_force_within_one_percent(kernel, h, pattern):
    # the Gaussian reference sums pairs out to 7.5σ: fewer points keep it fast
    n = 20_000 if kernel == "quartic" else 5_000
    rng = np.random.default_rng(7)
    if pattern == "clustered":
        x, y = _clustered(n, seed=1)
    else:
        x, y = rng.uniform(0, 3000, n) + X0, rng.uniform(0, 2000, n) + Y0
    w = rng.uniform(0.5, 2.0, n)
    cell = h / 5
    transform, shape = kde.grid_for((x.min(), y.min(), x.max(), y.max()), cell,
                                    pad=kde.kernel_reach(kernel, h))
    got = kde.density_array(x, y, weights=w, transform=transform, shape=shape, kernel=kernel,
                            bandwidth=h)
    want = _brute(x, y, w, kernel, h, transform, shape)
    big = want > 0.01 * want.max()
    assert big.sum() > 100
    assert np.abs(got[big] / want[big] - 1).max() < 0.01


def test_linear_binning_matches_numpy_across_blocks():
    # more points than one block of the binning loop, some outside the grid
    rng = np.random.default_rng(11)
    n = 3 * kde._BIN_BLOCK + 123
    x, y = rng.uniform(-50, 1050, n), rng.uniform(-50, 850, n)
    w = rng.uniform(0, 3, n)
    cell, left, top = 10.0, 0.0, 800.0
    got = np.zeros((80, 100))
    landed = kde._linear_bin(x, y, w, True, left, top, cell, got)
    # reference: bilinear weights on the four surrounding cell centres with numpy
    fx, fy = x / cell - 0.5, (top - y) / cell - 0.5
    inside = (fx >= 0) & (fy >= 0) & (fx < 99) & (fy < 79)
    c, r = np.floor(fx[inside]).astype(int), np.floor(fy[inside]).astype(int)
    tx, ty, wi = fx[inside] - c, fy[inside] - r, w[inside]
    want = np.zeros((80, 100))
    np.add.at(want, (r, c), wi * (1 - tx) * (1 - ty))
    np.add.at(want, (r, c + 1), wi * tx * (1 - ty))
    np.add.at(want, (r + 1, c), wi * (1 - tx) * ty)
    np.add.at(want, (r + 1, c + 1), wi * tx * ty)
    assert landed == inside.sum()
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_convolution_matches_scipy_fftconvolve():
    from scipy.signal import fftconvolve

    rng = np.random.default_rng(12)
    stencil = rng.uniform(0, 1, (9, 9))
    pad = 5
    binned = np.zeros((37 + 2 * pad, 51 + 2 * pad))
    binned[pad:-pad, pad:-pad] = rng.uniform(0, 1, (37, 51))
    want = fftconvolve(binned, stencil, mode="same")[pad:-pad, pad:-pad]
    got = kde._convolve(binned, stencil, pad, (37, 51))
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="margin"):
        kde._convolve(binned, stencil, 3, (37, 51))


def test_points_xy_skips_missing_and_empty_points():
    geoms = [shapely.Point(X0, Y0), None, shapely.Point(), shapely.Point(X0 + 5, Y0 + 7)]
    pts = gpd.GeoDataFrame(geometry=geoms, crs=CRS)
    x, y, ok = kde.points_xy(pts, pyproj.CRS(CRS))
    assert ok.tolist() == [True, False, False, True]
    assert x[ok].tolist() == [X0, X0 + 5]
    assert y[ok].tolist() == [Y0, Y0 + 7]
    assert np.isnan(x[~ok]).all()
    assert np.isnan(y[~ok]).all()


def test_points_xy_reprojects_like_to_crs():
    x, y = _clustered(200, seed=13)
    pts = _points(x, y).to_crs("EPSG:4326")
    gx, gy, ok = kde.points_xy(pts, pyproj.CRS(CRS))
    back = pts.to_crs(CRS)
    assert ok.all()
    np.testing.assert_allclose(gx, back.geometry.x, rtol=0, atol=1e-6)
    np.testing.assert_allclose(gy, back.geometry.y, rtol=0, atol=1e-6)


def test_points_xy_refuses_polygons():
    pts = gpd.GeoDataFrame(geometry=[shapely.Point(X0, Y0), shapely.box(X0, Y0, X0 + 1, Y0 + 1)],
                           crs=CRS)
    with pytest.raises(SchemaError, match="Polygon"):
        kde.points_xy(pts, pyproj.CRS(CRS))


@pytest.mark.parametrize("kernel", kde.KERNELS)
def test_raster_integrates_to_n_and_is_not_cut_off(kernel):
    x, y = _clustered(3000, seed=2)
    pts = _points(x, y)
    r = kde.kernel_density(pts, kernel=kernel, bandwidth=200.0, cell=25.0, min_count=0)
    assert r.total() == pytest.approx(3000, rel=0.005)
    # the extent is padded by the kernel's reach: the outer ring of cells is empty
    a = r.array
    for edge in (a[0], a[-1], a[:, 0], a[:, -1]):
        assert edge.max() == 0


def test_weighted_raster_integrates_to_sum_of_weights_in_count_units():
    x, y = _clustered(2000, seed=4)
    w = np.random.default_rng(4).uniform(0, 3, 2000)
    pts = _points(x, y, w=w)
    r = kde.kernel_density(pts, bandwidth=150.0, cell=20.0, weight="w", units="count",
                           min_count=0)
    assert float(r.array.sum()) == pytest.approx(w.sum(), rel=0.005)
    assert r.units.startswith("weight per")


def test_single_point_density_peak_in_real_units():
    # one point at a cell centre: the peak is 3/(π h²) per m², i.e. × 1e6 per km²
    pts = _points([X0 + 5.0], [Y0 + 5.0])
    r = kde.kernel_density(pts, bandwidth=100.0, cell=10.0, min_count=0)
    assert float(np.nanmax(r.array)) == pytest.approx(3 / (np.pi * 100.0**2) * 1e6, rel=0.01)


def test_coarse_cells_still_conserve_mass():
    x, y = _clustered(500, seed=5)
    r = kde.kernel_density(_points(x, y), bandwidth=30.0, cell=100.0, min_count=0)
    assert r.total() == pytest.approx(500, rel=0.005)


# ---------------------------------------------------------------- raster plumbing


def test_geotiff_round_trip(tmp_path):
    x, y = _clustered(800, seed=6)
    r = kde.kernel_density(_points(x, y), bandwidth=200.0, cell=40.0)
    path = kde.write_raster(r, tmp_path / "heat.tif")
    with rasterio.open(path) as src:
        assert src.dtypes[0] == "float32"
        assert src.crs.to_epsg() == 4549
        assert src.transform == r.transform
        assert np.isnan(src.nodata)
        assert src.tags()["kernel"] == "quartic"
        np.testing.assert_array_equal(src.read(1), r.array)
    back = kde.read_raster(path)
    assert back.units == r.units


def test_write_raster_needs_tif(tmp_path):
    r = kde.kernel_density(_points(*_clustered(50)), bandwidth=100.0, cell=20.0, min_count=0)
    with pytest.raises(DataError, match="GeoTIFF"):
        kde.write_raster(r, tmp_path / "heat.png")


def test_like_puts_rasters_on_one_grid():
    a = kde.kernel_density(_points(*_clustered(300, 1)), bandwidth=150.0, cell=30.0, min_count=0)
    b = kde.kernel_density(_points(*_clustered(100, 2)), bandwidth=80.0, like=a, min_count=0)
    assert b.transform == a.transform
    assert b.shape == a.shape


def test_lonlat_points_are_projected_to_metric():
    x, y = _clustered(400, seed=8)
    pts = _points(x, y).to_crs("EPSG:4326")
    r = kde.kernel_density(pts, bandwidth=150.0, cell=30.0, min_count=0)
    assert r.crs.to_epsg() == 4549
    assert r.total() == pytest.approx(400, rel=0.005)


def test_geographic_target_crs_is_refused():
    with pytest.raises(CRSError, match="metric"):
        kde.kernel_density(_points(*_clustered(50)), bandwidth=100.0, crs="EPSG:4326")


def test_input_is_not_mutated():
    pts = _points(*_clustered(100), w=np.ones(100))
    before = pts.copy()
    kde.kernel_density(pts, bandwidth=100.0, cell=20.0, weight="w")
    assert pts.equals(before)


# ---------------------------------------------------------------- privacy masking


def test_contributing_counts_against_exact_counts():
    rng = np.random.default_rng(9)
    x, y = rng.uniform(0, 1000, 600) + X0, rng.uniform(0, 800, 600) + Y0
    cell, radius = 20.0, 90.0
    transform, shape = kde.grid_for((x.min(), y.min(), x.max(), y.max()), cell, pad=radius)
    got = kde.contributing_counts(x, y, transform=transform, shape=shape, radius=radius)
    gx = transform.c + (np.arange(shape[1]) + 0.5) * cell
    gy = transform.f - (np.arange(shape[0]) + 0.5) * cell
    cx, cy = np.meshgrid(gx, gy)
    d = np.hypot(cx[..., None] - x, cy[..., None] - y)
    slack = cell * math.sqrt(2) / 2
    assert (got >= (d <= radius - slack).sum(-1)).all()
    assert (got <= (d <= radius + slack).sum(-1)).all()


def test_sparse_cells_are_masked():
    rng = np.random.default_rng(10)
    cx, cy = rng.normal(0, 50, 60) + X0, rng.normal(0, 50, 60) + Y0
    # two lone points 3 km away
    x = np.r_[cx, X0 + 3000, X0 + 3010]
    y = np.r_[cy, Y0, Y0]
    r = kde.kernel_density(_points(x, y), bandwidth=100.0, cell=10.0, min_count=5)
    col_lone = int((X0 + 3005 - r.transform.c) / 10)
    row = int((r.transform.f - Y0) / 10)
    assert np.isnan(r.array[row, col_lone])
    col_cluster = int((X0 - r.transform.c) / 10)
    assert r.array[row, col_cluster] > 0
    assert int(r.meta["masked_cells"]) > 0
    unmasked = kde.kernel_density(_points(x, y), bandwidth=100.0, cell=10.0, min_count=0)
    assert not np.isnan(unmasked.array).any()


# ---------------------------------------------------------------- CLI


def test_cli_heat_writes_a_geotiff_with_filters(demo_small, tmp_path, capsys):
    from gridmap.cli import main

    out = tmp_path / "heat.tif"
    code = main(["heat", "--points", str(demo_small / "incidents.parquet"), "--hours", "18-23",
                 "--bandwidth", "300", "--cell", "50", "--min-count", "0", "--out", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    assert "filter (hours 18,19,20,21,22,23)" in text
    inc = gpd.read_parquet(demo_small / "incidents.parquet")
    kept = int((inc["reported_at"].dt.hour >= 18).sum())
    with rasterio.open(out) as src:
        assert src.crs.to_epsg() == 4549
        a = src.read(1)
        assert float(a.sum()) * 50 * 50 / 1e6 == pytest.approx(kept, rel=0.005)


def test_cli_heat_rejects_a_bad_bandwidth(demo_small, tmp_path, capsys):
    from gridmap.cli import main

    code = main(["heat", "--points", str(demo_small / "incidents.parquet"), "--bandwidth", "-5",
                 "--out", str(tmp_path / "h.tif")])
    assert code == 2
    assert "positive metres" in capsys.readouterr().err
