"""Tests of gridmap.events: closed-loop counts, closure rate, times, overdue, ranking, trends."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gridmap import events
from gridmap._errors import DataError, SchemaError

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
    assert t["closure_rate"].dropna().between(0, 1).all()  # blank with a hidden count
    assert (tmp_path / "ev.trend.csv").exists()


# ------------------------------------------ against an independent recomputation
#
# The reference below assigns incidents with geopandas.sjoin (predicate "within")
# and judges every case in a plain Python loop, then aggregates per unit with
# numpy; closed_loop and closed_loop_trend must give the same tables.


def _judge(row: pd.Series, *, now: pd.Timestamp, deadline: str, limit_h: float | None) -> dict:
    """One case judged by hand: its due time, overdue flags and hours to close."""
    reported, closed_at, status = row["reported_at"], row["closed_at"], row["status"]
    if limit_h is not None and pd.notna(limit_h):
        due = reported + pd.Timedelta(hours=float(limit_h))
    elif deadline == "same-day":
        due = pd.Timestamp(reported.date()) + pd.Timedelta(days=1)
    else:
        due = reported + pd.Timedelta(deadline)
    is_closed = status == "closed"
    has_time = is_closed and pd.notna(closed_at)
    bad = has_time and closed_at < reported
    return {
        "status": status,
        "hours": (closed_at - reported).total_seconds() / 3600 if has_time and not bad else None,
        "closed_late": has_time and closed_at > due,
        "open_overdue": (not is_closed) and due < now,
        "on_time": has_time and closed_at <= due and not bad,
        "bad_time": bad,
        "closed_no_time": is_closed and pd.isna(closed_at),
    }


def _reference_cases(incidents: gpd.GeoDataFrame, grids: gpd.GeoDataFrame, *, by: str,
                     deadline: str, limits: str | None) -> tuple[pd.DataFrame, pd.Timestamp]:
    col = {"grid": "grid_id", "community": "community_code", "street": "street_code"}[by]
    joined = gpd.sjoin(incidents, grids.to_crs(incidents.crs)[[col, "geometry"]], how="left",
                       predicate="within")
    assert joined.index.is_unique  # no incident in two grids
    unit = [events.OUTSIDE if pd.isna(u) else str(u) for u in joined[col]]
    now = max(incidents["reported_at"].max(), incidents["closed_at"].max())
    rows = [_judge(r, now=now, deadline=deadline,
                   limit_h=None if limits is None else r[limits])
            for _, r in incidents.iterrows()]
    cases = pd.DataFrame(rows, index=incidents.index)
    cases["unit"] = unit
    cases["reported_at"] = incidents["reported_at"]
    return cases, now


def _reference_table(cases: pd.DataFrame) -> pd.DataFrame:
    rows = {}
    for u in sorted(set(cases["unit"])):
        c = cases[cases["unit"] == u]
        n = len(c)
        hours = np.array([h for h in c["hours"] if h is not None and pd.notna(h)], dtype=float)
        row = {"n": n, **{s: int((c["status"] == s).sum()) for s in
                          ("reported", "dispatched", "handled", "closed")}}
        row["closure_rate"] = row["closed"] / n
        row["median_hours"] = float(np.median(hours)) if len(hours) else np.nan
        row["p90_hours"] = float(np.quantile(hours, 0.9)) if len(hours) else np.nan
        row["closed_late"] = int(c["closed_late"].sum())
        row["open_overdue"] = int(c["open_overdue"].sum())
        row["overdue"] = row["closed_late"] + row["open_overdue"]
        row["bad_times"] = int(c["bad_time"].sum())
        row["closed_no_time"] = int(c["closed_no_time"].sum())
        row["on_time_rate"] = int(c["on_time"].sum()) / n
        rows[u] = row
    t = pd.DataFrame.from_dict(rows, orient="index")
    # ranking: 0.4 closure + 0.4 on time + 0.2 speed (min-max of the median, inverted)
    inside = t.index != events.OUTSIDE
    med = t.loc[inside, "median_hours"]
    lo, hi = med.min(), med.max()
    speed = (1 - (med - lo) / (hi - lo)) if hi > lo else med.notna().astype(float)
    speed = speed.fillna(0.0)
    score = (100 * (0.4 * t.loc[inside, "closure_rate"] + 0.4 * t.loc[inside, "on_time_rate"]
                    + 0.2 * speed)).round(2)
    t.loc[inside, "speed"] = speed
    t.loc[inside, "score"] = score
    t.loc[inside, "rank"] = [1 + int((score > s).sum()) for s in score]
    return t


def _reference_trend(cases: pd.DataFrame, freq: str) -> pd.DataFrame:
    day = cases["reported_at"].dt.normalize()
    period = (day - pd.to_timedelta(day.dt.day_of_week, unit="D")) if freq == "week" \
        else day - pd.to_timedelta(day.dt.day - 1, unit="D")
    rows = []
    for u in ["(all)", *sorted(set(cases["unit"]))]:
        c = cases if u == "(all)" else cases[cases["unit"] == u]
        for p in sorted(set(period[c.index])):
            part = c[period[c.index] == p]
            hours = [h for h in part["hours"] if h is not None and pd.notna(h)]
            n = len(part)
            closed = int((part["status"] == "closed").sum())
            rows.append({"unit": u, "period": p, "reported": n, "closed": closed,
                         "closure_rate": closed / n, "on_time_rate": part["on_time"].sum() / n,
                         "median_hours": float(np.median(hours)) if hours else np.nan})
    return pd.DataFrame(rows)


_COMPARED = ["n", "reported", "dispatched", "handled", "closed", "closure_rate", "median_hours",
             "p90_hours", "overdue", "closed_late", "open_overdue", "bad_times",
             "closed_no_time", "on_time_rate", "speed", "score", "rank"]


def _check_against_reference(res: events.ClosedLoop, cases: pd.DataFrame, now: pd.Timestamp,
                             freq: str) -> None:
    assert res.now == now
    ref = _reference_table(cases)
    got = res.table.set_index("unit")
    assert sorted(got.index) == sorted(ref.index)
    pd.testing.assert_frame_equal(got.loc[ref.index, _COMPARED].astype(float),
                                  ref[_COMPARED].astype(float), check_names=False)
    # ranked order: by rank, then unit; the outside row last
    inside = ref.drop(index=events.OUTSIDE, errors="ignore")
    order = sorted(inside.index, key=lambda u: (inside.loc[u, "rank"], u))
    if events.OUTSIDE in ref.index:
        order.append(events.OUTSIDE)
    assert got.index.tolist() == order
    # the per-case flags
    for col in ("closed_late", "open_overdue", "on_time", "bad_time", "closed_no_time"):
        assert res.cases[col].tolist() == cases[col].astype(bool).tolist(), col
    trend = events.closed_loop_trend(res, freq=freq)
    ref_trend = _reference_trend(cases, freq)
    key = ["unit", "period"]
    pd.testing.assert_frame_equal(
        trend.sort_values(key).reset_index(drop=True)[ref_trend.columns].astype(
            {"period": "datetime64[ns]"}),
        ref_trend.sort_values(key).reset_index(drop=True).astype({"period": "datetime64[ns]"}),
        check_dtype=False)
    # "(all)" first, then units in sorted order, periods ascending within each
    units = list(dict.fromkeys(trend["unit"]))
    assert units == ["(all)", *sorted(set(cases["unit"]))]
    for _, part in trend.groupby("unit", sort=False):
        assert part["period"].is_monotonic_increasing


@pytest.mark.parametrize(("by", "deadline", "freq"), [
    ("grid", "same-day", "week"), ("community", "24h", "month"), ("street", "2h", "week"),
])
def test_hand_fixture_against_reference(by, deadline, freq):
    inc, grids = _cases(), _grids()
    res = events.closed_loop(inc, grids, by=by, deadline=deadline)
    cases, now = _reference_cases(inc, grids, by=by, deadline=deadline, limits=None)
    _check_against_reference(res, cases, now, freq)


@pytest.fixture(scope="module")
def demo_layers(demo_small):
    grids = gpd.read_file(demo_small / "grids.gpkg", layer="grids")
    inc = gpd.read_parquet(demo_small / "incidents.parquet")
    return inc, grids.to_crs(inc.crs)


@pytest.mark.parametrize(("by", "deadline", "freq", "limits"), [
    ("grid", "same-day", "week", None), ("community", "48h", "month", None),
    ("street", "same-day", "month", None),
    ("grid", "same-day", "week", "time_limit_h"), ("community", "24h", "month", "time_limit_h"),
])
def test_demo_small_against_reference(demo_layers, by, deadline, freq, limits):
    inc, grids = demo_layers
    assert "time_limit_h" in inc.columns  # so the default uses each incident's own limit
    kw = {} if limits else {"time_limit": None}
    res = events.closed_loop(inc, grids, by=by, deadline=deadline, **kw)
    assert res.time_limit == limits
    cases, now = _reference_cases(inc, grids, by=by, deadline=deadline, limits=limits)
    assert (res.cases["unit"].astype(str) == cases["unit"]).all()
    _check_against_reference(res, cases, now, freq)


# ---------------------------------------------------------------- per-incident time limits


def _three_with_limits() -> gpd.GeoDataFrame:
    """Three cases in grid A with limits of 2 h, 24 h and 72 h."""
    return gpd.GeoDataFrame({
        "reported_at": pd.to_datetime(["2024-05-06 09:00", "2024-05-06 09:00",
                                       "2024-05-06 10:00"]),
        "closed_at": pd.to_datetime(["2024-05-06 12:00", "2024-05-07 08:00", None]),
        "status": ["closed", "closed", "dispatched"],
        "limit": [2, 24, 72],
    }, geometry=gpd.points_from_xy([X0 + 500] * 3, [Y0 + 500] * 3), crs=CRS)


def test_each_incident_has_its_own_time_limit():
    inc = _three_with_limits()
    now = "2024-05-08 12:00"
    res = events.closed_loop(inc, _grids(), time_limit="limit", now=now)
    assert res.time_limit == "limit"
    # due 11:00 (closed 12:00: late), 7 May 09:00 (closed 08:00: on time), 9 May 10:00 (open)
    assert res.cases["due"].tolist() == pd.to_datetime(
        ["2024-05-06 11:00", "2024-05-07 09:00", "2024-05-09 10:00"]).tolist()
    assert res.cases["closed_late"].tolist() == [True, False, False]
    assert res.cases["on_time"].tolist() == [False, True, False]
    assert res.cases["open_overdue"].tolist() == [False, False, False]
    a = _row(res.table, "A")
    assert (a["closed_late"], a["open_overdue"], a["overdue"]) == (1, 0, 1)
    assert a["on_time_rate"] == pytest.approx(1 / 3)
    # one day later the open case is past its 72 h
    later = events.closed_loop(inc, _grids(), time_limit="limit", now="2024-05-09 11:00")
    assert _row(later.table, "A")["open_overdue"] == 1
    # the same cases against one same-day deadline: the first is on time, the second late,
    # the open one overdue
    one = events.closed_loop(inc, _grids(), time_limit=None, now=now)
    assert one.time_limit is None
    assert one.cases["closed_late"].tolist() == [False, True, False]
    assert one.cases["open_overdue"].tolist() == [False, False, True]


def test_time_limit_h_is_used_by_default_and_missing_limits_follow_the_deadline():
    inc = _three_with_limits().rename(columns={"limit": "time_limit_h"})
    inc["time_limit_h"] = [2.0, np.nan, 72.0]
    res = events.closed_loop(inc, _grids(), deadline="48h", now="2024-05-08 12:00")
    assert res.time_limit == "time_limit_h"
    # the second case has no limit: due 48 h after its report
    assert res.cases["due"].tolist() == pd.to_datetime(
        ["2024-05-06 11:00", "2024-05-08 09:00", "2024-05-09 10:00"]).tolist()
    # without the column every case follows the deadline
    res = events.closed_loop(inc.drop(columns="time_limit_h"), _grids(), deadline="48h")
    assert res.time_limit is None
    assert res.cases["due"].tolist() == pd.to_datetime(
        ["2024-05-08 09:00", "2024-05-08 09:00", "2024-05-08 10:00"]).tolist()


def test_bad_time_limits_name_the_fix():
    inc = _three_with_limits()
    with pytest.raises(SchemaError, match="time_limit=None"):
        events.closed_loop(inc, _grids(), time_limit="hours")
    inc["limit"] = ["2", "soon", "72"]
    with pytest.raises(SchemaError, match="'soon'"):
        events.closed_loop(inc, _grids(), time_limit="limit")
    inc["limit"] = [2, 0, -1]
    with pytest.raises(DataError, match="2 values"):
        events.closed_loop(inc, _grids(), time_limit="limit")


def test_trend_keeps_the_units_asked_for_in_order():
    res = events.closed_loop(_cases(), _grids())
    assert set(events.closed_loop_trend(res, units=[])["unit"]) == {"(all)"}
    tr = events.closed_loop_trend(res, units=["C", "A", "nowhere"])
    assert list(dict.fromkeys(tr["unit"])) == ["(all)", "C", "A"]
    assert tr.loc[tr.unit == "C", "reported"].sum() == 2


@pytest.mark.parametrize("flag", ["auto", "none"])
def test_cli_time_limit_flag_matches_the_library(demo_small, tmp_path, flag):
    from gridmap.cli import main
    from gridmap.ingest import read_layer

    out = tmp_path / "ev.csv"
    code = main(["events", "--incidents", str(demo_small / "incidents.parquet"),
                 "--grids", str(demo_small / "grids.gpkg"), "--by", "street",
                 "--time-limit", flag, "--min-count", "0", "--out", str(out)])
    assert code in (0, 1)
    got = pd.read_csv(out, dtype={"unit": str})
    inc = read_layer(demo_small / "incidents.parquet", kind="incidents").data
    grids = gpd.read_file(demo_small / "grids.gpkg", layer="grids")
    want = events.closed_loop(inc, grids, by="street",
                              time_limit=None if flag == "none" else flag).table
    assert "time_limit_h" in inc.columns
    merged = want.astype({"unit": str}).merge(got, on="unit", suffixes=("", "_cli"))
    assert len(merged) == len(want)
    assert (merged["overdue"] == merged["overdue_cli"]).all()
    assert (merged["n"] == merged["n_cli"]).all()


def test_cli_publishes_the_same_table_as_the_events_page(demo_small, tmp_path):
    """`gridmap events` writes :func:`events.published_table`: small counts and their
    complements hidden (the Events page shows the same table)."""
    from gridmap.cli import main
    from gridmap.ingest import read_layer

    out = tmp_path / "ev.csv"
    code = main(["events", "--incidents", str(demo_small / "incidents.parquet"),
                 "--grids", str(demo_small / "grids.gpkg"), "--by", "grid",
                 "--min-count", "5", "--out", str(out)])
    assert code in (0, 1)
    got = pd.read_csv(out, dtype={"unit": str}).set_index("unit")
    inc = read_layer(demo_small / "incidents.parquet", kind="incidents").data
    grids = gpd.read_file(demo_small / "grids.gpkg", layer="grids")
    raw = events.closed_loop(inc, grids, by="grid").table
    want = events.published_table(raw, k=5).astype({"unit": str}).set_index("unit")
    counts = ["n", "reported", "dispatched", "handled", "closed", "overdue", "closed_late",
              "open_overdue"]
    pd.testing.assert_frame_equal(got.loc[want.index, counts].astype(float),
                                  want[counts].astype(float), check_dtype=False)
    # complements were needed here: blanks that hide counts of k or more
    rawc = raw.astype({"unit": str}).set_index("unit").loc[want.index, counts]
    assert (got.loc[want.index, counts].isna() & (rawc >= 5)).to_numpy().any()


def _one_or_none_blank(raw: pd.Series, shown: pd.Series) -> bool:
    """No blank, or at least two, among the nonzero cells of one relation (or only one
    nonzero cell: the relation's total is that cell)."""
    nonzero = raw > 0
    blanks = int((shown.isna() & nonzero).sum())
    return blanks != 1 or int(nonzero.sum()) == 1


def test_published_trend_hides_small_counts_and_their_complements(demo_small):
    """Against the raw trend: small counts blank, visible counts unchanged, rates blank with
    their counts, and every published relation — each unit over its periods, each period
    over the units, the total's periods — keeps no blank or at least two."""
    from gridmap.ingest import read_layer

    inc = read_layer(demo_small / "incidents.parquet", kind="incidents").data
    grids = gpd.read_file(demo_small / "grids.gpkg", layer="grids")
    res = events.closed_loop(inc, grids, by="community")
    raw = events.closed_loop_trend(res, freq="week")
    pub = events.published_trend(res, freq="week", k=5)
    assert pub.index.equals(raw.index)
    assert pub[["period", "unit"]].equals(raw[["period", "unit"]])
    for col in ("reported", "closed"):
        small = (raw[col] > 0) & (raw[col] < 5)
        assert small.any()  # the case is exercised
        assert pub[col][small].isna().all()
        shown = pub[col].notna()
        assert (pub[col][shown] == raw[col][shown]).all()
        total = raw["unit"] == "(all)"
        assert _one_or_none_blank(raw[col][total], pub[col][total])
        units = raw[~total]
        for key in ("unit", "period"):
            for _, idx in units.groupby(key).groups.items():
                assert _one_or_none_blank(raw[col][idx], pub[col][idx]), (col, key, idx)
    assert pub["closure_rate"][pub["reported"].isna() | pub["closed"].isna()].isna().all()
    assert pub["median_hours"][pub["closed"].isna()].isna().all()
    # complements were needed: some blanks hide counts of k or more
    assert (pub["reported"].isna() & (raw["reported"] >= 5)).any()


def test_cli_trend_is_the_published_trend(demo_small, tmp_path):
    from gridmap.cli import main
    from gridmap.ingest import read_layer

    out = tmp_path / "ev.csv"
    code = main(["events", "--incidents", str(demo_small / "incidents.parquet"),
                 "--grids", str(demo_small / "grids.gpkg"), "--by", "community",
                 "--min-count", "5", "--trend", "month", "--out", str(out)])
    assert code in (0, 1)
    got = pd.read_csv(tmp_path / "ev.trend.csv", dtype={"unit": str}, parse_dates=["period"])
    inc = read_layer(demo_small / "incidents.parquet", kind="incidents").data
    grids = gpd.read_file(demo_small / "grids.gpkg", layer="grids")
    want = events.published_trend(events.closed_loop(inc, grids, by="community"),
                                  freq="month", k=5).reset_index(drop=True)
    assert got["unit"].tolist() == want["unit"].astype(str).tolist()
    for col in ("reported", "closed", "closure_rate"):
        np.testing.assert_allclose(got[col].astype(float), want[col].astype(float))
