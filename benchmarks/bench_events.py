"""Closed-loop metrics (``gridmap.events``) on the demo districts.

Input: the demo districts ``bench_app`` generates (default: 600 grids, 80k
incidents; city: 5,000 grids, 1M incidents; ``--quick``: the small one), read
as the app reads them (``read_layer``).

* ``closed_loop`` per street and per grid — the two calls the Events page makes
  on its first view — and ``closed_loop_trend`` (weekly, every unit), against
  the table a user would write with plain geopandas/pandas: ``sjoin`` (within)
  for the unit, then ``crosstab`` of the statuses and ``groupby().agg`` of
  the counts, median and p90 hours; the two tables must agree on every unit
  (counts, overdue, on-time rate, median and p90 hours);
* once with one deadline for all (same day) and once with each incident's own
  limit (``time_limit_h``).

Each time is the median of three runs (numba compilation warmed up first).
"""

from __future__ import annotations

import statistics
import time
from functools import partial

import geopandas as gpd
import numpy as np
import pandas as pd

from benchmarks.bench_app import _district
from gridmap.events import OUTSIDE, closed_loop, closed_loop_trend
from gridmap.ingest import read_layer

_UNIT_COLUMN = {"street": "street_code", "grid": "grid_id"}


def peer(incidents: gpd.GeoDataFrame, grids: gpd.GeoDataFrame, by: str,
         limit: str | None) -> pd.DataFrame:
    """The closed-loop table with plain geopandas and pandas."""
    col = _UNIT_COLUMN[by]
    j = gpd.sjoin(incidents, grids[[col, "geometry"]], how="left", predicate="within")
    j[col] = j[col].astype(object).fillna(OUTSIDE)
    rep, clo = j["reported_at"], j["closed_at"]
    if limit is None:
        due = rep.dt.normalize() + pd.Timedelta(days=1)
    else:
        due = rep + pd.to_timedelta(j[limit].astype(float), unit="h")
    closed = j["status"] == "closed"
    hours = (clo - rep).dt.total_seconds() / 3600
    j["hours"] = hours.where(closed & (hours >= 0))
    j["closed_late"] = closed & (clo > due)
    j["open_overdue"] = ~closed & (due < clo.max())
    j["on_time"] = closed & (clo <= due) & (hours >= 0)
    t = pd.crosstab(j[col], j["status"])
    g = j.groupby(col)
    t["n"] = g.size()
    t["closed_late"] = g["closed_late"].sum()
    t["open_overdue"] = g["open_overdue"].sum()
    t["on_time_rate"] = g["on_time"].sum() / t["n"]
    t["median_hours"] = g["hours"].median()
    t["p90_hours"] = g["hours"].quantile(0.9)
    return t


def _median_time(fn, repeat: int = 3) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def _agree(ours: pd.DataFrame, theirs: pd.DataFrame) -> bool:
    o = ours.set_index("unit").sort_index()
    t = theirs.sort_index()
    t.index = t.index.astype(str)
    if o.index.tolist() != t.index.tolist():
        return False
    cols = ["n", "closed", "closed_late", "open_overdue", "on_time_rate", "median_hours",
            "p90_hours"]
    return bool(np.allclose(o[cols].to_numpy(float), t[cols].to_numpy(float), equal_nan=True))


def run(quick: bool) -> list[dict]:
    """Time closed_loop (street and grid) and its trend against plain pandas."""
    rows = []
    for scale in (["small"] if quick else ["default", "city"]):
        path = _district(scale)
        grids = gpd.read_file(path / "grids.gpkg", layer="grids").to_crs(4326)
        incidents = read_layer(path / "incidents.parquet", kind="incidents").data
        closed_loop(incidents.head(1000), grids)  # warm-up: numba compilation
        for limit in (None, "time_limit_h"):
            t_street, _ = _median_time(partial(closed_loop, incidents, grids, by="street",
                                               time_limit=limit))
            t_grid, res = _median_time(partial(closed_loop, incidents, grids, by="grid",
                                               time_limit=limit))
            t_trend, trend = _median_time(partial(closed_loop_trend, res, freq="week"))
            t_peer, theirs = _median_time(partial(peer, incidents, grids, "grid", limit))
            rows.append({
                "case": f"closed_loop street + grid, demo {scale}, "
                        f"{'same-day deadline' if limit is None else 'own time_limit_h'}",
                "incidents": len(incidents), "grids": len(grids),
                "ours_street_s": round(t_street, 3), "ours_grid_s": round(t_grid, 3),
                "ours_page_s": round(t_street + t_grid, 3),
                "ours_trend_week_all_units_s": round(t_trend, 3), "trend_rows": len(trend),
                "peer_grid_s": round(t_peer, 3),
                "ratio_grid": round(t_peer / t_grid, 2),
                "agree": _agree(res.table, theirs),
            })
    return rows
