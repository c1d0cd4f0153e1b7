"""Tests of gridmap.events: closed-loop counts, closure rate, times, overdue, ranking, trends."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gridmap import events
from gridmap._errors import SchemaError

CRS = "EPSG:4549"
X0, Y0 = 500_000.0, 3_400_000.0


def _grids() -> gpd.GeoDataFrame:
    polys = [shapely.box(X0 + c * 1000, Y0 + r * 1000, X0 + (c + 1) * 1000, Y0 + (r + 1) * 1000)
             for r in range(2) for c in range(2)]
    return gpd.GeoDataFrame({"grid_id": ["A", "B", "C", "D"],
                             "community_code": ["c1", "c1", "c2", "c2"],
                             "street_code": ["s1"] * 4}, geometry=polys, crs=CRS)


def _cases() -> gpd.GeoDataFrame:
    rows = [
        # grid, reported, closed, status
        ("A", "2024-05-06 09:00", "2024-05-06 11:00", "closed"),  # 2 h, same day
        ("A", "2024-05-06 20:00", "2024-05-07 08:00", "closed"),  # 12 h, next day: late
        ("A", "2024-05-07 10:00", None, "dispatched"),            # open, past end of day
        ("B", "2024-05-08 09:00", "2024-05-08 13:00", "closed"),  # 4 h
        ("B", "2024-05-13 09:00", None, "reported"),              # open, due at midnight
        ("C", "2024-05-06 09:00", "2024-05-09 09:00", "closed"),  # 72 h: late
        ("C", "2024-05-06 09:00", "2024-05-06 07:00", "closed"),  # closed before reported
        ("out", "2024-05-06 09:00", None, "handled"),
    ]
    where = {"A": (X0 + 500, Y0 + 500), "B": (X0 + 1500, Y0 + 500), "C": (X0 + 500, Y0 + 1500),
             "out": (X0 - 500, Y0 - 500)}
    xy = [where[r[0]] for r in rows]
    return gpd.GeoDataFrame({
        "incident_id": range(len(rows)),
        "reported_at": pd.to_datetime([r[1] for r in rows]),
        "closed_at": pd.to_datetime([r[2] for r in rows]),
        "status": [r[3] for r in rows],
    }, geometry=gpd.points_from_xy(*zip(*xy, strict=True)), crs=CRS)


def _row(table: pd.DataFrame, unit: str) -> pd.Series:
    return table.set_index("unit").loc[unit]


def test_counts_rates_and_times_per_grid():
    res = events.closed_loop(_cases(), _grids())
    t = res.table
    a = _row(t, "A")
    assert (a["n"], a["closed"], a["dispatched"]) == (3, 2, 1)
    assert a["closure_rate"] == pytest.approx(2 / 3)
    assert a["median_hours"] == pytest.approx(7.0)  # median of 2 h and 12 h
    assert a["p90_hours"] == pytest.approx(2 + 0.9 * 10)
    assert a["closed_late"] == 1
    assert a["open_overdue"] == 1  # reported 7 May, now is 13 May 09:00
    assert a["overdue"] == 2
    assert a["on_time_rate"] == pytest.approx(1 / 3)
    b = _row(t, "B")
    assert b["open_overdue"] == 0  # due at midnight after now
    c = _row(t, "C")
    assert c["bad_times"] == 1
    assert c["median_hours"] == pytest.approx(72.0)
    out = _row(t, events.OUTSIDE)
    assert out["n"] == 1
    assert res.now == pd.Timestamp("2024-05-13 09:00")
    assert t["n"].sum() == len(_cases())


def test_deadline_as_duration_and_explicit_now():
    res = events.closed_loop(_cases(), _grids(), deadline="24h", now="2024-05-13 12:00")
    a = _row(res.table, "A")
    assert a["closed_late"] == 0  # 12 h is within 24 h
    b = _row(res.table, "B")
    assert b["open_overdue"] == 0  # 3 h open
    res = events.closed_loop(_cases(), _grids(), deadline="2h", now="2024-05-13 12:00")
    assert _row(res.table, "B")["open_overdue"] == 1


def test_by_community_sums_its_grids():
    res = events.closed_loop(_cases(), _grids(), by="community")
    c1 = _row(res.table, "c1")
    assert c1["n"] == 5
    assert c1["closed"] == 3
    assert c1["median_hours"] == pytest.approx(4.0)  # 2, 4, 12


def test_ranking_by_hand():
    t = pd.DataFrame({"unit": ["x", "y", "z"], "closure_rate": [1.0, 0.5, 0.5],
                      "on_time_rate": [1.0, 0.5, 0.0], "median_hours": [2.0, 10.0, np.nan]})
    r = events.rank_units(t).set_index("unit")
    assert r.loc["x", "score"] == pytest.approx(100.0)
    assert r.loc["y", "score"] == pytest.approx(100 * (0.4 * 0.5 + 0.4 * 0.5 + 0.2 * 0.0))
    assert r.loc["z", "score"] == pytest.approx(100 * 0.4 * 0.5)
    assert r["rank"].tolist() == [1, 2, 3]


def test_trend_weekly():
    res = events.closed_loop(_cases(), _grids())
    tr = events.closed_loop_trend(res, freq="week")
    allrows = tr[tr.unit == "(all)"].set_index("period")
    assert allrows.loc[pd.Timestamp("2024-05-06"), "reported"] == 7
    assert allrows.loc[pd.Timestamp("2024-05-13"), "reported"] == 1
    assert allrows.loc[pd.Timestamp("2024-05-06"), "closed"] == 5


def test_status_is_derived_from_closed_at_when_missing():
    c = _cases().drop(columns="status")
    s = events.incident_status(c)
    assert s.tolist() == ["closed", "closed", "reported", "closed", "reported", "closed",
                          "closed", "reported"]


def test_errors_name_the_fix():
    with pytest.raises(SchemaError, match="outside"):
        events.incident_status(pd.DataFrame({"status": ["done"]}))
    with pytest.raises(ValueError, match="deadline"):
        events.parse_deadline("tomorrow")
    with pytest.raises(SchemaError, match="street_code"):
        events.closed_loop(_cases(), _grids().drop(columns="street_code"), by="street")
    assert events.parse_deadline("日清日结") is None


# ---------------------------------------------------------------- CLI


def test_cli_events_by_community_with_trend(demo_small, tmp_path):
    from gridmap.cli import main

    out = tmp_path / "ev.csv"
    code = main(["events", "--incidents", str(demo_small / "incidents.parquet"),
                 "--grids", str(demo_small / "grids.gpkg"), "--by", "community",
                 "--deadline", "24h", "--trend", "month", "--out", str(out)])
    assert code in (0, 1)
    t = pd.read_csv(out)
    inc = gpd.read_parquet(demo_small / "incidents.parquet")
    assert t["n"].sum() <= len(inc)
    assert t["rank"].min() == 1
    assert t["closure_rate"].between(0, 1).all()
    assert (tmp_path / "ev.trend.csv").exists()
