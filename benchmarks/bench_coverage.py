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
"""

from __future__ import annotations

import time

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmap.coverage import coverage, exact_coverage

CRS = "EPSG:4549"
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
