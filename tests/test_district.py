"""District key figures, the 定量化考核 ranking and the district report on a hand-made district.

Four 500 m square grids in EPSG:4549 (0.25 km² each), two streets, three
communities, an urban target of 8 points per km² (2 points per grid):

======  ======  =========  ==========================  ========================
grid    street  community  camera points (built)        incidents
======  ======  =========  ==========================  ========================
G00     S1      C1         P1 (2 cameras), P2 → 100 %  e1, e2 (late), e3
G01     S1      C2         P3 → 50 %                    e4 (open, overdue)
G10     S2      C3         P4, P5, P6 → 150 %           e5, e6
G11     S2      C3         P9; P7 planned → 50 %        e7 (open, overdue), e8
======  ======  =========  ==========================  ========================

plus camera P8 and incident e9 outside every grid. Every figure below is worked
out by hand in the comments.
"""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point, box

from gridmap import DataError
from gridmap.crs import to_metric
from gridmap.district import (
    DEFAULT_RANK_WEIGHTS,
    District,
    data_sources,
    deadline_text,
    district_report,
    grid_workers,
    latest_full_month,
    month_change,
    monthly_counts,
    parent_units,
    ranking_table,
    read_meta,
)
from gridmap.ingest import read_layer

X0, Y0, SIDE = 540_000.0, 3_402_000.0, 500.0
TARGETS = {"urban": 8.0}
EVIL = "<img src=x onerror=alert(1)>"


def _grids() -> gpd.GeoDataFrame:
    cells = {"G00": (0, 0), "G01": (0, 1), "G10": (1, 0), "G11": (1, 1)}
    return gpd.GeoDataFrame(
        {
            "grid_id": list(cells),
            "name": [f"网格{g[1:]}" for g in cells],
            "district_code": "330402",
            "street_code": ["S1", "S1", "S2", "S2"],
            "community_code": ["C1", "C2", "C3", "C3"],
            "zone": "urban",
        },
        geometry=[shapely.box(X0 + i * SIDE, Y0 + j * SIDE, X0 + (i + 1) * SIDE,
                              Y0 + (j + 1) * SIDE) for i, j in cells.values()],
        crs="EPSG:4549",
    )


def _at(cell: tuple[int, int], dx: float = 100.0, dy: float = 100.0) -> shapely.Point:
    return shapely.Point(X0 + cell[0] * SIDE + dx, Y0 + cell[1] * SIDE + dy)


G00, G01, G10, G11 = (0, 0), (0, 1), (1, 0), (1, 1)


def _cameras() -> gpd.GeoDataFrame:
    rows = [  # camera, point, status, location
        ("c1", "P1", "online", _at(G00, 100, 100)),
        ("c2", "P1", "online", _at(G00, 101, 100)),
        ("c3", "P2", "offline", _at(G00, 300, 300)),
        ("c4", "P3", "online", _at(G01)),
        ("c5", "P4", "online", _at(G10, 50, 50)),
        ("c6", "P5", "online", _at(G10, 200, 200)),
        ("c7", "P6", "online", _at(G10, 400, 400)),
        ("c8", "P7", "planned", _at(G11, 50, 50)),
        ("c9", "P9", "online", _at(G11, 300, 300)),
        ("c10", "P8", "online", shapely.Point(X0 + 5000, Y0 + 5000)),
    ]
    return gpd.GeoDataFrame(
        {"camera_id": [r[0] for r in rows], "point_id": [r[1] for r in rows],
         "status": [r[2] for r in rows]},
        geometry=[r[3] for r in rows], crs="EPSG:4549",
    )


def _incidents() -> gpd.GeoDataFrame:
    rows = [  # id, where, reported, closed (None: open), status
        ("e1", _at(G00), "2025-02-10 09:00", "2025-02-10 12:00", "closed"),
        ("e2", _at(G00, 200), "2025-03-05 10:00", "2025-03-06 09:00", "closed"),  # late
        ("e3", _at(G00, 300), "2025-03-20 08:00", "2025-03-20 09:00", "closed"),
        ("e4", _at(G01), "2025-03-15 10:00", None, "dispatched"),  # open past its day
        ("e5", _at(G10), "2025-02-20 08:00", "2025-02-20 10:00", "closed"),
        ("e6", _at(G10, 250), "2025-03-31 22:00", "2025-03-31 23:30", "closed"),
        ("e7", _at(G11), "2025-03-10 08:00", None, "reported"),  # open past its day
        ("e8", _at(G11, 250), "2025-03-11 08:00", "2025-03-11 09:00", "closed"),
        ("e9", shapely.Point(X0 + 5000, Y0 + 5000), "2025-03-12 08:00", "2025-03-12 09:00",
         "closed"),
    ]
    return gpd.GeoDataFrame(
        {"incident_id": [r[0] for r in rows], "category": "road",
         "reported_at": pd.to_datetime([r[2] for r in rows]),
         "closed_at": pd.to_datetime([r[3] for r in rows]),
         "status": [r[4] for r in rows]},
        geometry=[r[1] for r in rows], crs="EPSG:4549",
    )


def _streets() -> gpd.GeoDataFrame:
    g = _grids()
    s = g.dissolve("street_code").reset_index()[["street_code", "geometry"]]
    s["name"] = [EVIL, "新兴街道"]
    return s


def _district(**kw) -> District:
    return District(_grids(), _cameras(), _incidents(), streets=_streets(), targets=TARGETS, **kw)


# ---------------------------------------------------------------- key figures


def test_key_figures_match_hand_counts():
    f = _district().figures()
    assert (f.grids, f.grid_workers, f.streets, f.communities) == (4, 4, 2, 3)
    assert (f.cameras, f.camera_points) == (10, 9)  # P1..P9
    assert f.grids_met == 2  # G00 (100 %), G10 (150 %)
    assert f.grids_met_share == 0.5
    assert f.cameras_outside == 1
    assert (f.incidents, f.incidents_outside) == (9, 1)
    assert f.closure_rate == pytest.approx(7 / 9)
    assert (f.overdue, f.open_overdue) == (3, 2)  # e2 late; e4, e7 open
    assert f.now == pd.Timestamp("2025-03-31 23:30")
    m = f.month
    assert (str(m.month), str(m.previous), m.n, m.n_previous) == ("2025-03", "2025-02", 7, 2)
    assert m.change_pct == pytest.approx(250.0)
    assert m.full


def test_key_figures_follow_each_incidents_own_time_limit():
    inc = _incidents()
    # e2 (closed after 23 h) gets 48 h: on time; e3 (closed after 1 h) gets 0.5 h: late;
    # e4 (open for 397.5 h at "now") gets 720 h: not overdue; the rest keep the same day
    inc["time_limit_h"] = inc["incident_id"].map({"e2": 48.0, "e3": 0.5, "e4": 720.0})
    d = District(_grids(), _cameras(), inc, streets=_streets(), targets=TARGETS)
    f = d.figures()
    assert f.time_limit == "time_limit_h"
    assert (f.overdue, f.open_overdue) == (2, 1)  # e3 late; e7 open past its day
    assert "time_limit_h" in deadline_text(f, "en")
    assert "time_limit_h" in deadline_text(f, "zh")
    same_day = District(_grids(), _cameras(), inc, streets=_streets(), targets=TARGETS,
                        time_limit=None).figures()
    assert same_day.time_limit is None
    assert (same_day.overdue, same_day.open_overdue) == (3, 2)  # as without the column
    assert deadline_text(same_day, "en") == "same day (日清日结)"


def test_key_figures_table_is_bilingual():
    f = _district().figures()
    en, zh = f.table("en"), f.table("zh")
    assert list(en.columns) == ["Figure", "Value"]
    assert list(zh.columns) == ["指标", "数值"]
    values = dict(zip(en["Figure"], en["Value"], strict=True))
    assert values["Grids meeting density target"] == "50.0% (2 of 4)"
    assert values["Incidents in 2025-03"] == "7"
    assert values["Change on the month before"] == "+250.0%"
    assert values["Closure rate"] == "77.8%"
    assert "网格员" in set(zh["指标"])


def test_workers_column_overrides_one_per_grid():
    grids = _grids().assign(workers=[2, np.nan, 1, 3])
    assert grid_workers(grids) == 7  # missing → 1
    assert grid_workers(_grids()) == 4
    with pytest.raises(DataError, match="negative"):
        grid_workers(grids.assign(workers=[-1, 1, 1, 1]))
    d = District(grids, _cameras(), _incidents(), targets=TARGETS)
    assert d.figures().grid_workers == 7


def test_months():
    inc = _incidents()
    counts = monthly_counts(inc)
    assert counts.to_dict() == {pd.Period("2025-02", "M"): 2, pd.Period("2025-03", "M"): 7}
    assert str(latest_full_month(inc)) == "2025-03"
    # the data end on 30 March: March is not full; February is the latest month that could
    # be, but the data start on 10 February, so it is flagged partial too
    early = inc[inc["reported_at"] < "2025-03-30"]
    assert str(latest_full_month(early)) == "2025-02"
    m = month_change(early)
    assert (m.n, m.n_previous, m.full) == (2, 0, False)
    assert np.isnan(m.change_pct)  # nothing the month before
    assert month_change(inc, month="2025-02").n == 2
    with pytest.raises(DataError, match="outside the incident data"):
        month_change(inc, month="2024-12")
    with pytest.raises(DataError, match="YYYY-MM"):
        month_change(inc, month="March")


# -------------------------------------------------------------------- ranking


def test_street_ranking_without_population():
    r = _district().ranking("street").set_index("unit")
    # S1: density 3 points / (0.5 km² × 8) = 75 %; 4 incidents, 3 closed, 2 overdue (e2, e4)
    # S2: 4 points / 4 = 100 %; 4 incidents, 3 closed, 1 overdue (e7)
    assert r.loc["S1", "completion_pct"] == pytest.approx(75.0)
    assert r.loc["S2", "completion_pct"] == pytest.approx(100.0)
    assert r[["incidents", "closed", "overdue"]].loc["S1"].tolist() == [4, 3, 2]
    assert r[["incidents", "closed", "overdue"]].loc["S2"].tolist() == [4, 3, 1]
    # weights without residents: 0.3, 0.3, 0.2 over 0.8
    assert r.loc["S1", "score"] == pytest.approx(100 * (0.3 * .75 + 0.3 * .75 + 0.2 * .5) / .8)
    assert r.loc["S2", "score"] == pytest.approx(100 * (0.3 * 1 + 0.3 * .75 + 0.2 * .75) / .8,
                                                abs=0.005)
    assert r["rank"].to_dict() == {"S2": 1, "S1": 2}
    assert r["per_1000"].isna().all()
    assert r.loc["S1", "name"] == EVIL  # names from the streets layer, as given


def test_street_ranking_with_population_per_grid():
    r = _district(population=[100, 100, 200, 600]).ranking("street").set_index("unit")
    # S1: 4 per 200 residents = 20 per 1,000 (worst → 0); S2: 4 per 800 = 5 (best → 1)
    assert r.loc["S1", "per_1000"] == pytest.approx(20.0)
    assert r.loc["S2", "per_1000"] == pytest.approx(5.0)
    assert r.loc["S1", "score"] == pytest.approx(100 * (0.3 * .75 + 0.3 * .75 + 0.2 * .5 + 0))
    assert r.loc["S2", "score"] == pytest.approx(100 * (0.3 + 0.3 * .75 + 0.2 * .75 + 0.2))


def test_community_ranking_and_units_without_incidents():
    r = _district().ranking("community").set_index("unit")
    # C1: 3 incidents all closed, 1 late, 100 %; C2: 1 open overdue, 50 %; C3 as S2
    assert r.loc["C1", "score"] == pytest.approx(100 * (0.3 + 0.3 + 0.2 * 2 / 3) / .8, abs=0.005)
    assert r.loc["C2", "score"] == pytest.approx(100 * (0.3 * .5) / .8)
    assert r["rank"].to_dict() == {"C1": 1, "C3": 2, "C2": 3}
    # without e4, C2 has no incidents: full marks for closure and overdue
    inc = _incidents()
    d = District(_grids(), _cameras(), inc[inc["incident_id"] != "e4"], targets=TARGETS)
    c2 = d.ranking("community").set_index("unit").loc["C2"]
    assert c2["incidents"] == 0
    assert c2["score"] == pytest.approx(100 * (0.3 * .5 + 0.3 + 0.2) / .8)


def test_ranking_weights_and_ties():
    only_density = _district().ranking("community", weights={"density": 1.0})
    by_unit = only_density.set_index("unit")
    assert by_unit["score"].to_dict() == pytest.approx({"C1": 100.0, "C2": 50.0, "C3": 100.0})
    assert by_unit["rank"].to_dict() == {"C1": 1, "C3": 1, "C2": 3}  # ties share the rank
    with pytest.raises(ValueError, match="unknown ranking parts"):
        _district().ranking("street", weights={"speed": 1.0})
    with pytest.raises(ValueError, match="street"):
        _district().ranking("grid")
    assert set(DEFAULT_RANK_WEIGHTS) == {"density", "closure", "overdue", "rate"}


def test_inputs_are_not_modified():
    grids, cams, inc = _grids(), _cameras(), _incidents()
    before = (grids.copy(), cams.copy(), inc.copy())
    d = District(grids, cams, inc, targets=TARGETS)
    d.figures()
    d.ranking("street")
    district_report(d, lang="en")
    for after, orig in zip((grids, cams, inc), before, strict=True):
        pd.testing.assert_frame_equal(after, orig)


def test_no_incidents():
    d = District(_grids(), _cameras(), _incidents().iloc[:0], targets=TARGETS)
    f = d.figures()
    assert (f.incidents, f.month) == (0, None)
    assert np.isnan(f.closure_rate)
    r = d.ranking("street")
    assert (r["incidents"] == 0).all()
    assert district_report(d, lang="zh").to_html().startswith("<!DOCTYPE html>")


def _rank(units, incidents, overdue) -> pd.DataFrame:
    """A ranking as District.ranking returns it, the columns ranking_table reads."""
    n = np.asarray(incidents, dtype=float)
    return pd.DataFrame({
        "unit": units, "name": units, "rank": np.arange(1, len(units) + 1),
        "score": 50.0, "completion_pct": 100.0, "incidents": incidents, "overdue": overdue,
        "closure_rate": np.where(n > 0, 0.5, np.nan),
        "overdue_share": np.where(n > 0, np.asarray(overdue) / np.maximum(n, 1), np.nan),
        "per_1000": np.nan, "part_rate": np.nan})


def test_ranking_table_withholds_what_the_district_total_gives_away():
    # district total 35: A's 3 alone blank would be 35 − 12 − 20; C's overdue 2 would be its
    # share 10 % × 20. So B's count (the next smallest) is withheld (*), with its rates.
    rank = _rank(["A", "B", "C"], [3, 12, 20], [0, 6, 2])
    t = ranking_table(rank, lang="en", k=5, with_rate=False).set_index("Code")
    assert t["Incidents"].tolist() == ["<5", "*", "20"]
    assert t["Closure %"].tolist() == ["<5", "*", "50.0"]
    assert t["Overdue %"].tolist() == ["<5", "*", "<5"]
    # each column holds no blank or two: no count is the total minus the rest
    shown = t["Incidents"].isin(["<5", "*"])
    assert shown.sum() != 1
    assert rank["incidents"].tolist() == [3, 12, 20]  # input untouched


def test_ranking_table_within_parents_and_parent_units():
    # communities X1, X2 of street S1 (total 33, published in the street ranking), Y1, Y2
    # of S2: only X1 is small, so X2 (not the district-wide smallest, Y1) is withheld
    rank = _rank(["X1", "X2", "Y1", "Y2"], [3, 30, 8, 9], [0, 0, 0, 0])
    alone = ranking_table(rank, lang="en", k=5, with_rate=False)["Incidents"].tolist()
    assert alone == ["<5", "30", "*", "9"]
    within = {"X1": "S1", "X2": "S1", "Y1": "S2", "Y2": "S2"}
    t = ranking_table(rank, lang="en", k=5, with_rate=False, within=within)
    assert t["Incidents"].tolist() == ["<5", "*", "8", "9"]
    g = _grids()
    assert parent_units(g, "community") == {"C1": "S1", "C2": "S1", "C3": "S2"}
    assert parent_units(g, "street") is None
    assert parent_units(g.drop(columns="street_code"), "community") is None
    with pytest.raises(ValueError, match="street"):
        parent_units(g, "grid")


def test_report_community_ranking_withholds_a_complement_within_its_street():
    # k = 2: C2 has 1 incident; its street S1 (4 incidents, shown in the street ranking)
    # would give it away as 4 − 3, so C1's 3 is withheld; C3 (street S2) is shown
    html = district_report(_district(), lang="en", k=2).to_html()
    part = html[html.index("Ranking of communities"):]
    part = part[:part.index("</table>")]
    cells = re.findall(r"<td[^>]*>(.*?)</td>", part)
    row = {c: cells[i - 7:i] for i, c in enumerate(cells) if c in ("C1", "C2", "C3")}
    assert row["C2"][4] == "&lt;2"
    assert row["C1"][4] == "*"
    assert row["C3"][4] == "4"
    assert "withheld so that a total cannot reveal a count below 2" in html


# --------------------------------------------------------------------- report


def test_report_html_holds_ranking_escaped_and_suppressed():
    rep = district_report(_district(), lang="en", k=5, name="Test district")
    text = rep.to_html()
    assert EVIL not in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text
    assert "Ranking of streets" in text
    assert "Ranking of communities" in text
    assert "新兴街道" in text
    # every unit has 1–4 incidents: the counts and their rates are shown as "<5"
    assert text.count("&lt;5") >= 4
    assert "Test district grid management and video network report" in text
    assert text.count("data:image/png;base64,") == 4  # two maps, two charts
    assert "Density compliance by street" in text
    assert "1 incidents lie outside every grid" in text


def test_report_unsuppressed_shows_hand_counts_and_is_chinese():
    rep = district_report(_district(), lang="zh", k=0)
    text = rep.to_html()
    assert "定量化考核排名：街道" in text
    assert "<th>排名</th>" in text
    assert "<th>得分</th>" in text
    assert "84.38" in text or "84.37" in text  # S2's score
    assert "68.75" in text  # S1's score
    assert "Ranking" not in text


def test_report_pdf(tmp_path):
    rep = district_report(_district(), lang="zh")
    pdf = rep.write_pdf(tmp_path / "r.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    pages = pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")
    assert pages == 1 + len(rep.sections)  # every section fits on one page here


def test_data_sources_and_meta(tmp_path):
    (tmp_path / "cameras.csv").write_text("camera_id\n", encoding="utf-8")
    (tmp_path / "meta.json").write_text(
        '{"synthetic": true, "generator": "gridmap.demo", "generator_version": 1, '
        '"scale": "small", "seed": 0, "district": {"name": "禾城示范区"}}', encoding="utf-8")
    (tmp_path / ".hidden").write_text("x", encoding="utf-8")
    src = data_sources(tmp_path, lang="en")
    assert src["file"].tolist() == ["cameras.csv", "meta.json"]
    assert src.loc[0, "description"] == "camera table"
    assert "Synthetic demo district" in src.loc[1, "description"]
    assert "scale small" in src.loc[1, "description"]
    assert src["modified"].str.match(r"\d{4}-\d\d-\d\d \d\d:\d\d$").all()
    assert read_meta(tmp_path)["district"]["name"] == "禾城示范区"
    assert read_meta(tmp_path / "nowhere") == {}
    (tmp_path / "meta.json").write_text("{broken", encoding="utf-8")
    with pytest.raises(DataError, match=r"meta\.json"):
        read_meta(tmp_path)


# ------------------------------------------- 1 km² grids, and the small demo against sjoin

CRS = "EPSG:4549"
TX0, TY0 = 500_000.0, 3_400_000.0


def _tiny() -> District:
    """2×2 grids of 1 km² in EPSG:4549; target 2 built points per km²."""
    grids = gpd.GeoDataFrame(
        {"grid_id": ["A", "B", "C", "D"], "zone": ["urban"] * 4,
         "street_code": ["s1", "s1", "s2", "s2"], "community_code": ["c1", "c2", "c3", "c3"],
         "street_name": [EVIL, EVIL, "南湖街道", "南湖街道"]},
        geometry=[box(TX0 + i * 1000, TY0 + j * 1000, TX0 + (i + 1) * 1000, TY0 + (j + 1) * 1000)
                  for j in (0, 1) for i in (0, 1)], crs=CRS)
    pts = [(100, 100, "p1", "online"), (150, 100, "p1", "offline"), (800, 800, "p2", "online"),
           (1500, 500, "p3", "online"), (500, 1500, "p4", "planned"), (5000, 5000, "p5", "online")]
    cameras = gpd.GeoDataFrame(
        {"camera_id": [f"k{i}" for i in range(len(pts))], "point_id": [p[2] for p in pts],
         "status": [p[3] for p in pts]},
        geometry=[Point(TX0 + p[0], TY0 + p[1]) for p in pts], crs=CRS)
    inc = [  # x, y, reported, closed_at, status
        (100, 100, "2025-01-03 09:00", "2025-01-03 15:00", "closed"),
        (200, 200, "2025-01-05 09:00", None, "reported"),          # open, overdue
        (1500, 500, "2025-01-20 09:00", "2025-01-21 10:00", "closed"),  # closed late
        (1500, 1500, "2025-02-02 09:00", "2025-02-02 10:00", "closed"),
        (500, 1500, "2025-02-10 09:00", "2025-02-10 11:00", "closed"),
        (9000, 9000, "2025-02-15 09:00", "2025-02-15 12:00", "closed"),  # outside every grid
        (600, 600, "2025-02-20 09:00", "2025-02-20 11:00", "closed"),
        (700, 700, "2025-02-28 09:00", "2025-02-28 11:00", "closed"),
    ]
    incidents = gpd.GeoDataFrame(
        {"incident_id": [f"i{n}" for n in range(len(inc))],
         "reported_at": pd.to_datetime([r[2] for r in inc]),
         "closed_at": pd.to_datetime([r[3] for r in inc]),
         "status": [r[4] for r in inc]},
        geometry=[Point(TX0 + r[0], TY0 + r[1]) for r in inc], crs=CRS)
    return District(grids, cameras, incidents, targets={"urban": 2.0, "rural": 1.0})


def test_tiny_district_figures_match_hand_counts():
    d = _tiny()
    grids_before = d.grids.copy()
    f = d.figures()
    assert (f.grids, f.streets, f.communities, f.grid_workers) == (4, 2, 3, 4)
    # points: p1..p5 (planned p4 included in the point count), six camera rows
    assert (f.camera_points, f.cameras) == (5, 6)
    # built points per grid: A has p1, p2 (2/km² -> met), B has p3 (1), C only planned, D none
    assert f.grids_met == 1
    assert f.grids_met_share == pytest.approx(0.25)
    assert f.cameras_outside == 1
    assert f.incidents_outside == 1
    assert f.incidents == 8
    assert f.closure_rate == pytest.approx(7 / 8)
    assert f.overdue == 2
    assert f.open_overdue == 1
    assert str(f.month.month) == "2025-02"
    assert f.month.full
    assert (f.month.n, f.month.n_previous) == (5, 3)
    assert f.month.change_pct == pytest.approx(100 * (5 - 3) / 3)
    pd.testing.assert_frame_equal(d.grids, grids_before)


def test_month_helpers_partial_month():
    t = pd.DataFrame({"reported_at": pd.to_datetime(["2025-01-10", "2025-02-10", "2025-03-05"])})
    assert str(latest_full_month(t)) == "2025-02"
    mc = month_change(t, month="2025-03")
    assert (mc.n, mc.n_previous, mc.full) == (1, 1, False)


def test_tiny_report_html_escaped_and_pdf():
    r = district_report(_tiny(), lang="en", k=1)
    html = r.to_html()
    assert EVIL not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "南湖街道" in html
    assert r.to_pdf().startswith(b"%PDF")


def test_demo_figures_match_independent_counts(demo_small):
    grids = read_layer(demo_small / "grids.gpkg", kind="grids").data
    cams = read_layer(demo_small / "cameras.csv", kind="cameras").data
    inc = read_layer(demo_small / "incidents.parquet", kind="incidents").data
    f = District(grids, cams, inc).figures()
    assert f.grids == len(grids)
    assert f.cameras == len(cams)
    assert f.camera_points == cams["point_id"].nunique()
    assert f.closure_rate == pytest.approx((inc["status"] == "closed").mean())
    # density target: built points per km² in a metric CRS, by sjoin
    mg = to_metric(grids)
    built = cams[cams["status"] != "planned"].to_crs(mg.crs)
    j = gpd.sjoin(built, mg[["grid_id", "geometry"]], predicate="within")
    pts = j.groupby("grid_id")["point_id"].nunique().reindex(mg["grid_id"], fill_value=0)
    dens = pts.to_numpy() / (mg.area.to_numpy() / 1e6)
    target = mg["zone"].map({"urban": 70.0, "rural": 8.0}).to_numpy()
    assert f.grids_met == int((dens >= target).sum())
    outside = len(inc) - len(gpd.sjoin(inc, grids[["geometry"]], predicate="intersects")
                             .index.unique())
    assert f.incidents_outside == outside
    months = pd.to_datetime(inc["reported_at"]).dt.tz_localize(None).dt.to_period("M")
    counts = months.value_counts()
    assert f.month.n == counts.get(f.month.month, 0)
    assert f.month.n_previous == counts.get(f.month.previous, 0)
    assert np.isfinite(f.closure_rate)


# ------------------------------------------------------------------------ CLI


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory) -> Path:
    """The hand-made district written as ``gridmap demo`` lays a folder out."""
    path = tmp_path_factory.mktemp("district") / "data"
    path.mkdir()
    _grids().to_crs(4326).to_file(path / "grids.gpkg", layer="grids")
    _streets().to_crs(4326).to_file(path / "grids.gpkg", layer="streets")
    cams = _cameras().to_crs(4326)
    pd.DataFrame(cams.drop(columns="geometry")).assign(
        lon=cams.geometry.x.round(8), lat=cams.geometry.y.round(8),
    ).to_csv(path / "cameras.csv", index=False)
    _incidents().to_crs(4326).to_parquet(path / "incidents.parquet")
    return path


@pytest.mark.parametrize("suffix", [".html", ".pdf"])
def test_cli_writes_both_formats(tiny_folder, tmp_path, capsys, suffix):
    from gridmap.cli import main

    out = tmp_path / f"report{suffix}"
    code = main(["report", "--data", str(tiny_folder), "--out", str(out), "--lang", "en",
                 "--month", "2025-02", "--min-count", "0"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "written to" in printed
    assert "1 incident(s) lie outside every grid" in printed
    data = out.read_bytes()
    if suffix == ".pdf":
        assert data.startswith(b"%PDF")
    else:
        text = data.decode("utf-8")
        assert "Month 2025-02 (against 2025-01)" in text
        assert "&lt;img src=x onerror=alert(1)&gt;" in text
        assert EVIL not in text
        # the CLI uses the default urban target, 70 points per km²: S1 has 3 points on
        # 0.5 km², 3 / 35 of its target; closure 0.75, overdue part 0.5 (nothing suppressed)
        s1 = 100 * (0.3 * 3 / 35 + 0.3 * 0.75 + 0.2 * 0.5) / 0.8
        assert f"<td>{s1:.2f}</td>" in text
        assert "cameras.csv" in text


def test_cli_refuses_bad_input(tiny_folder, tmp_path, capsys):
    from gridmap.cli import main

    assert main(["report", "--data", str(tiny_folder), "--out", str(tmp_path / "r.doc")]) == 2
    assert ".html or .pdf" in capsys.readouterr().err
    assert main(["report", "--data", str(tiny_folder), "--out", str(tmp_path / "r.html"),
                 "--month", "2026-01"]) == 2
    assert "outside the incident data" in capsys.readouterr().err
    assert main(["report", "--data", str(tmp_path / "none"), "--out",
                 str(tmp_path / "r.html")]) == 2


def test_report_incident_map_withholds_complements_within_communities():
    """One community of four grids with 1, 6, 7 and 0 incidents, k = 5: the 1 is small and
    its community's total (14, in the ranking) minus 7 and 6 would give it back, so the 6
    (the smallest other) is grey too; the 7 keeps its colour and the 0 the zero colour."""
    from matplotlib.colors import to_hex

    import gridmap.district as dist

    grids = _grids().assign(street_code="S1", community_code="C1")
    where = [G00] + [G01] * 6 + [G10] * 7
    incidents = gpd.GeoDataFrame(
        {"incident_id": [f"e{i}" for i in range(len(where))], "category": "road",
         "reported_at": pd.Timestamp("2025-03-01 09:00"),
         "closed_at": pd.Timestamp("2025-03-01 10:00"), "status": "closed"},
        geometry=[_at(c, 50 + 20 * i, 100) for i, c in enumerate(where)], crs="EPSG:4549")
    d = District(grids, _cameras(), incidents, targets=TARGETS)
    assert d.incidents_per_grid.tolist() == [1, 6, 7, 0]
    fig = dist._map_incidents(d, "en", 5)
    faces = [to_hex(c) for c in fig.axes[0].collections[0].get_facecolors()]
    assert faces[0] == faces[1] == dist._SUPPRESSED
    assert faces[2] not in (dist._SUPPRESSED, dist._ZERO)
    assert faces[3] == dist._ZERO
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "fewer than 5, or would let one be worked out (withheld)" in labels
