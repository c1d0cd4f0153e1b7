"""Zonal population sums: ``gridmap.population.zonal_population`` vs exactextract vs shapely.

Input: the demo district's population raster (100 m pixels, EPSG:4549) at the
``default`` and ``city`` scales (``--quick``: ``default`` only), summed over

* its management grids (``grids.gpkg``, layer ``grids``), and
* the fine candidate units the grids page plans with
  (``gridmap.units.square_units`` of the boundary within the communities, 200 m and 100 m,
  as ``app_pages/grids.py`` ``unit_plan`` builds them; ``--quick``: 200 m only).

All three sides get the same zones, already projected to the raster's CRS, and the
raster's path, and return one exact area-weighted sum per zone:

* gridmap: ``zonal_population(path, zones)`` (one numba pass over every ring);
* exactextract: ``exact_extract(path, zones, "sum")`` (C++, GEOS);
* the previous shapely path (``_zone_sum_exact``: one shapely box per pixel of each
  zone's window, edge pixels intersected), kept as the test oracle.

Also timed: ``zonal_population`` end to end on the zones in EPSG:4326, as the app
calls it (includes reprojecting them). The numba kernels are compiled (or loaded from
their cache) before timing. Agreement: the largest relative difference per zone
(zones holding at least 1 person) of gridmap against each peer.
"""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from affine import Affine

from gridmap import population as popmod
from gridmap.kde import Raster
from gridmap.units import square_units

from .bench_app import _district


def _zones(path: Path, quick: bool) -> list[tuple[str, gpd.GeoDataFrame]]:
    """The management grids and the candidate units of one demo district (EPSG:4326)."""
    boundary = gpd.read_file(path / "boundary.geojson")
    communities = gpd.read_file(path / "grids.gpkg", layer="communities")
    out = [("grids", gpd.read_file(path / "grids.gpkg", layer="grids").to_crs(4326))]
    for size in (200,) if quick else (200, 100):
        units = square_units(boundary, size=float(size), within=communities,
                             within_id="community_code")
        out.append((f"units {size} m", units.to_crs(4326)))
    return out


def _best(fn, repeat: int) -> tuple[float, object]:
    best, result = np.inf, None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t)
    return best, result


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    keep = np.abs(b) >= 1.0
    return float(np.max(np.abs(a[keep] - b[keep]) / np.abs(b[keep]))) if keep.any() else 0.0


def _shapely_sums(tif: Path, zones: gpd.GeoDataFrame) -> np.ndarray:
    r = popmod.population_raster(tif)
    values = np.nan_to_num(np.asarray(r.array, dtype=np.float64), nan=0.0)
    return np.array([popmod._zone_sum_exact(g, values, r.transform) for g in zones.geometry.values])


def run(quick: bool) -> list[dict]:
    """Time the three engines on every case and compare their sums."""
    from exactextract import exact_extract

    # compile (or load) the numba kernels
    tiny = Raster(np.ones((2, 2)), Affine(1, 0, 0, 0, -1, 2), "EPSG:4549")
    popmod.zonal_population(tiny, gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1, 1)],
                                                   crs=4549))
    rows = []
    for scale in ("default",) if quick else ("default", "city"):
        path = _district(scale)
        tif = path / "population.tif"
        crs = popmod.population_raster(tif).crs
        for name, zones in _zones(path, quick):
            projected = zones[[zones.geometry.name]].to_crs(crs)
            t_e2e, _ = _best(partial(popmod.zonal_population, tif, zones), 3)
            t_ours, ours = _best(partial(popmod.zonal_population, tif, projected), 3)
            ours = ours["population"].to_numpy()
            t_ee, ee = _best(partial(exact_extract, str(tif), projected, "sum",
                                     output="pandas"), 2)
            ee = ee["sum"].fillna(0.0).to_numpy()
            t_sh, sh = _best(partial(_shapely_sums, tif, projected), 1)
            rows.append({
                "case": f"{scale}: {name}", "zones": len(zones),
                "ours_s": round(t_ours, 4), "ours_end_to_end_s": round(t_e2e, 4),
                "exactextract_s": round(t_ee, 4), "shapely_s": round(t_sh, 3),
                "x_exactextract": round(t_ee / t_ours, 1), "x_shapely": round(t_sh / t_ours, 1),
                "total_persons": round(float(ours.sum()), 3),
                "max_rel_diff_shapely": _rel(ours, sh),
                "max_rel_diff_exactextract": _rel(ours, ee),
                "agree": bool(np.allclose(ours, sh, rtol=1e-9, atol=1e-9)
                              and np.allclose(ours, ee, rtol=1e-6, atol=1e-6)),
            })
    return rows
