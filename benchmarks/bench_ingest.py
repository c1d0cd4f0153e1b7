"""Ingestion and coordinate conversion against what a user would otherwise write.

Three comparisons, each on the same input in the same run, with the results
checked to agree:

* ``csv``: ``gridmap.ingest.read_layer`` on an incidents CSV (1M rows; 100k
  with ``--quick``) with Chinese status words and GCJ-02 coordinates, against
  ``pandas.read_csv`` + ``geopandas.points_from_xy`` + the GCJ-02 inverse.
  The peer validates nothing (no accounting, no vocabulary, no duplicate
  check); the ratio is the price of the checks. Agreement: same rows, points
  within 1e-9°.
* ``vector``: ``read_layer`` on a GeoPackage of 50k grid polygons (10k quick)
  in EPSG:4549 against ``geopandas.read_file(...).to_crs(4326)``. Agreement:
  identical vertex coordinates.
* ``gcj02``: ``gridmap.coords.gcj02_to_wgs84`` (numpy, exact inverse by
  fixed-point iteration) on 1M points (100k quick) all over China against the
  ``eviltransform`` package's ``gcj2wgs_exact`` called point by point. Both
  are measured against the WGS84 points the GCJ-02 input was made from;
  agreement means gridmap is within 1 cm of them everywhere (the peer's worst
  error is reported: its bisection stops at a 1e-6° residual and can end
  more than a metre off).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmap.coords import gcj02_to_wgs84, wgs84_to_gcj02
from gridmap.ingest import read_layer


def _timed(fn):
    t, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - t, time.process_time() - c


def _row(name: str, n: int, peer_name: str, peer: tuple, ours: tuple, agree: bool, **extra) -> dict:
    return {"case": name, "n": n, "peer": peer_name, "peer_s": round(peer[1], 3),
            "peer_cpu_s": round(peer[2], 3), "gridmap_s": round(ours[1], 3),
            "gridmap_cpu_s": round(ours[2], 3), "ratio": round(ours[1] / peer[1], 2),
            "agree": bool(agree), **extra}


def _incidents_csv(path: Path, n: int) -> None:
    rng = np.random.default_rng(0)
    lon, lat = wgs84_to_gcj02(rng.uniform(120.6, 120.9, n), rng.uniform(30.6, 30.9, n))
    pd.DataFrame({
        "事件编号": [f"E{i:08d}" for i in range(n)],
        "事件类型": rng.choice(["市容环境", "治安隐患", "消防安全", "矛盾纠纷"], n),
        "上报时间": (pd.Timestamp("2024-01-01")
                 + pd.to_timedelta(rng.integers(0, 365 * 86400, n), unit="s")).astype(str),
        "处置状态": rng.choice(["已上报", "已派遣", "已处置", "已结案"], n),
        "经度": np.round(lon, 7), "纬度": np.round(lat, 7),
    }).to_csv(path, index=False)


def bench_csv(n: int, folder: Path) -> dict:
    path = folder / "incidents.csv"
    _incidents_csv(path, n)

    def peer():
        df = pd.read_csv(path)
        x, y = gcj02_to_wgs84(df["经度"].to_numpy(), df["纬度"].to_numpy())
        return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(x, y), crs=4326)

    p = _timed(peer)
    o = _timed(lambda: read_layer(path, kind="incidents", coords="gcj02"))
    data = o[0].data
    agree = (len(data) == len(p[0]) == n and o[0].report.rejected == 0 and
             np.abs(shapely.get_coordinates(data.geometry.values)
                    - shapely.get_coordinates(p[0].geometry.values)).max() < 1e-9)
    return _row("csv", n, "pandas.read_csv+points_from_xy+gcj02_to_wgs84", p, o, agree)


def bench_vector(n: int, folder: Path) -> dict:
    side = int(np.sqrt(n))
    x0, y0, d = 500_000.0, 3_400_000.0, 200.0
    cells = [shapely.box(x0 + i * d, y0 + j * d, x0 + (i + 1) * d, y0 + (j + 1) * d)
             for i in range(side) for j in range(side)]
    path = folder / "grids.gpkg"
    gpd.GeoDataFrame({"网格编码": [f"G{i:06d}" for i in range(len(cells))]},
                     geometry=cells, crs=4549).to_file(path, layer="grids")
    p = _timed(lambda: gpd.read_file(path).to_crs(4326))
    o = _timed(lambda: read_layer(path, kind="grids"))
    a = shapely.get_coordinates(o[0].data.geometry.values)
    b = shapely.get_coordinates(p[0].geometry.values)
    agree = a.shape == b.shape and np.abs(a - b).max() < 1e-12
    return _row("vector", len(cells), "geopandas.read_file+to_crs", p, o, agree)


def _metres(lon, lat, lon0, lat0) -> np.ndarray:
    dx = (lon - lon0) * np.cos(np.radians(lat0)) * 111_320.0
    return np.hypot(dx, (lat - lat0) * 111_320.0)


def bench_gcj02(n: int) -> dict:
    import eviltransform

    rng = np.random.default_rng(1)
    wlon, wlat = rng.uniform(73.6, 134.7, n), rng.uniform(18.2, 53.5, n)
    glon, glat = wgs84_to_gcj02(wlon, wlat)
    p = _timed(lambda: np.array([eviltransform.gcj2wgs_exact(la, lo)
                                 for lo, la in zip(glon.tolist(), glat.tolist(), strict=True)]))
    o = _timed(lambda: gcj02_to_wgs84(glon, glat))
    # Both are measured against the WGS84 points the GCJ-02 input was made from.
    ours = float(_metres(o[0][0], o[0][1], wlon, wlat).max())
    peer = _metres(p[0][:, 1], p[0][:, 0], wlon, wlat)
    return _row("gcj02", n, "eviltransform.gcj2wgs_exact per point", p, o, ours < 0.01,
                gridmap_max_err_m=round(ours, 9), peer_max_err_m=round(float(peer.max()), 3),
                peer_share_within_0_5m=round(float((peer < 0.5).mean()), 5))


def run(quick: bool) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        return [
            bench_csv(100_000 if quick else 1_000_000, folder),
            bench_vector(10_000 if quick else 50_000, folder),
            bench_gcj02(100_000 if quick else 1_000_000),
        ]
