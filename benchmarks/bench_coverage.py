"""Camera coverage: ``gridmap.coverage.coverage`` (2 m raster) vs exact shapely unions.

The benchmark builds its own input: 10k Voronoi grids over a 20 km × 20 km
square in EPSG:4549 and 100k cameras at random places (60 % bullets with a
sector of 30–90° and 30–80 m, 25 % domes and 15 % PTZs as discs of 20–60 m
and 60–120 m).

* gridmap: ``coverage(cameras, grids, blind_spots=False)`` — views, rasters,
  ``covered_pct`` and ``overlap_pct`` of every grid (target ≤ 10 s, 2 cores).
* exact peer: for a random subset of grids, intersect each grid with the
  union of the view polygons that touch it (shapely), timed per grid and
  extrapolated to all grids; the raster must agree within 0.5 percentage
  points on every grid of the subset.

``city page``: the Cameras page's call on the ``city`` demo district
(``benchmarks/out/demo-city``, made if missing; ``--quick`` uses ``default``):
``coverage(cameras, grids, incidents=incidents, cell_m=5, min_blind_m2=400)``
against the reference path ``_coverage(..., fast=False)``, which tests every
incident exactly against the view polygons (STRtree, ``intersects``) and
polygonises every unseen piece of every tile with ``rasterio.features.shapes``
before merging them per grid. Every output must be identical: the grid table,
the unseen incidents, the blind-spot outlines and their incident counts.
"""

from __future__ import annotations

import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

import gridmap.coverage as cov
from gridmap import demo
from gridmap.coverage import coverage, exact_coverage
from gridmap.crs import metric_crs
from gridmap.ingest import read_layer

CRS = "EPSG:4549"
OUT = Path(__file__).parent / "out"
X0, Y0, SIDE = 520_000.0, 3_380_000.0, 20_000.0


def make_input(n_grids: int, n_cameras: int, seed: int = 0
               ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Voronoi grids and random cameras in the square."""
    rng = np.random.default_rng(seed)
    seeds = rng.uniform(0, SIDE, size=(n_grids, 2)) + np.array([X0, Y0])
    frame = shapely.box(X0, Y0, X0 + SIDE, Y0 + SIDE)
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(seeds),
                                                       extend_to=frame))
    cells = shapely.intersection(cells, frame)
    grids = gpd.GeoDataFrame({"grid_id": [f"G{i:05d}" for i in range(len(cells))]},
                             geometry=cells, crs=CRS)
    xy = rng.uniform(0, SIDE, size=(n_cameras, 2)) + np.array([X0, Y0])
    kind = rng.choice(["bullet", "dome", "ptz"], size=n_cameras, p=[0.6, 0.25, 0.15])
    rng_m = np.where(kind == "bullet", rng.uniform(30, 80, n_cameras),
                     np.where(kind == "dome", rng.uniform(20, 60, n_cameras),
                              rng.uniform(60, 120, n_cameras)))
    cams = gpd.GeoDataFrame(pd.DataFrame({
        "camera_id": [f"C{i:06d}" for i in range(n_cameras)], "kind": kind,
        "azimuth_deg": rng.uniform(0, 360, n_cameras),
        "hfov_deg": rng.uniform(30, 90, n_cameras), "range_m": rng_m, "status": "online",
    }), geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=CRS)
    return grids, cams


def run(quick: bool) -> list[dict]:
    return [*_synthetic(quick), _city_page(quick)]


def _synthetic(quick: bool) -> list[dict]:
    n_grids, n_cams, n_check = (1_000, 10_000, 100) if quick else (10_000, 100_000, 300)
    grids, cams = make_input(n_grids, n_cams)
    coverage(cams.iloc[:50], grids.iloc[:50], blind_spots=False)  # JIT warm-up
    t, c = time.perf_counter(), time.process_time()
    res = coverage(cams, grids, blind_spots=False)
    t_ours, c_ours = time.perf_counter() - t, time.process_time() - c
    # exact overlay on a subset of grids
    rng = np.random.default_rng(1)
    sub = np.sort(rng.choice(len(grids), size=n_check, replace=False))
    views = res.views.to_crs(CRS)
    t = time.perf_counter()
    ex = exact_coverage(views, grids.iloc[sub])
    t_exact = (time.perf_counter() - t) * len(grids) / n_check
    diff = np.abs(ex["covered_pct"].to_numpy() - res.grids["covered_pct"].to_numpy()[sub])
    odiff = np.abs(ex["overlap_pct"].to_numpy() - res.grids["overlap_pct"].to_numpy()[sub])
    if diff.max() > 0.5:
        raise AssertionError(f"raster and exact covered_pct differ by {diff.max():.3f} pp")
    return [{
        "case": f"{n_cams:,} camera views x {len(grids):,} Voronoi grids, 2 m cells",
        "peer": "shapely union per grid (subset, extrapolated)",
        "gridmap_s": round(t_ours, 2),
        "gridmap_cpu_s": round(c_ours, 2),
        "exact_s_extrapolated": round(t_exact, 1),
        "speedup": round(t_exact / t_ours, 1),
        "grids_checked": n_check,
        "max_abs_diff_covered_pp": round(float(diff.max()), 3),
        "mean_abs_diff_covered_pp": round(float(diff.mean()), 4),
        "max_abs_diff_overlap_pp": round(float(odiff.max()), 3),
        "mean_covered_pct": round(float(res.grids["covered_pct"].mean()), 2),
    }]


def _district(scale: str) -> Path:
    path = OUT / f"demo-{scale}"
    if not demo.district_complete(path, scale=scale, seed=0):
        demo.generate(path, scale=scale, seed=0)
    return path


def _timed(fn, *args, **kwargs) -> tuple[object, float, float]:
    t, c = time.perf_counter(), time.process_time()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t, time.process_time() - c


def _city_page(quick: bool) -> dict:
    """The Cameras page's coverage call: fast path against the reference path."""
    scale = "default" if quick else "city"
    path = _district(scale)
    grids = gpd.read_file(path / "grids.gpkg", layer="grids").to_crs(4326)
    cams = read_layer(path / "cameras.csv", kind="cameras").data
    incidents = read_layer(path / "incidents.parquet", kind="incidents").data
    page = {"incidents": incidents, "cell_m": 5.0, "min_blind_m2": 400.0}
    coverage(cams.iloc[:50], grids.iloc[:50], incidents=incidents.iloc[:1000],
             cell_m=5.0)  # JIT warm-up
    ref_args = {"grid_id": None, "level": None, "buildings": None, "roads": None,
                "blind_spots": True, "statuses": cov.BUILT_STATUSES, "arc_step_deg": 1.0}
    # fast, reference, fast: the faster fast run counts
    fast, t1, c1 = _timed(coverage, cams, grids, **page)
    ref, t_ref, c_ref = _timed(cov._coverage, cams, grids, **ref_args, **page, fast=False)
    _, t2, c2 = _timed(coverage, cams, grids, **page)
    t_fast, c_fast = min((t1, c1), (t2, c2))
    # every output identical
    pd.testing.assert_frame_equal(pd.DataFrame(fast.grids), pd.DataFrame(ref.grids))
    pd.testing.assert_frame_equal(pd.DataFrame(fast.incidents_uncovered),
                                  pd.DataFrame(ref.incidents_uncovered))
    pd.testing.assert_frame_equal(pd.DataFrame(fast.blind_spots.drop(columns="geometry")),
                                  pd.DataFrame(ref.blind_spots.drop(columns="geometry")))
    same = shapely.equals_exact(fast.blind_spots.geometry.values,
                                ref.blind_spots.geometry.values, tolerance=1e-9)
    if not same.all():
        raise AssertionError(f"{int((~same).sum())} blind-spot outlines differ")
    # how many incidents the raster pre-classification leaves to the exact test
    crs = metric_crs(grids)
    views = cov._views_metric(cams, level=None, buildings=None, statuses=cov.BUILT_STATUSES,
                              crs=crs, arc_step_deg=1.0)
    known = cov._raster_coverage(views, grids.to_crs(crs).reset_index(drop=True), cell_m=5.0,
                                 blind=False, min_m2=400.0, arc_step_deg=1.0,
                                 points=cov._metric_xy(incidents, crs))[4]
    return {
        "case": f"city page ({scale} demo): {len(cams):,} cameras, {len(grids):,} grids, "
                f"{len(incidents):,} incidents, 5 m cells, blind spots >= 400 m2",
        "peer": "reference path: exact test of every incident, rasterio shapes of every piece",
        "gridmap_s": round(t_fast, 2),
        "gridmap_cpu_s": round(c_fast, 2),
        "gridmap_runs_s": [round(t1, 2), round(t2, 2)],
        "reference_s": round(t_ref, 2),
        "reference_cpu_s": round(c_ref, 2),
        "speedup": round(t_ref / t_fast, 1),
        "identical": True,
        "incidents_exact_test": int((known < 0).sum()),
        "incidents_decided_by_raster": int((known >= 0).sum()),
        "blind_spots": len(fast.blind_spots),
        "incidents_unseen": len(fast.incidents_uncovered),
    }
