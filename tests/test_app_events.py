"""The Events page without a browser (AppTest): drill-down street → community → grid,
bilingual headers, per-incident deadlines and downloads built when clicked."""

from __future__ import annotations

import io
import re

import geopandas as gpd
import pandas as pd
import pytest

from gridmap import events
from gridmap.assign import assign_points
from gridmap.i18n import tr


@pytest.fixture
def page(app_page):
    return app_page("events.py")


@pytest.fixture
def excel_writes(monkeypatch) -> list[int]:
    """Counts every ``pandas.ExcelWriter`` opened (one per Excel file built)."""
    opened: list[int] = []
    original = pd.ExcelWriter

    def counting(*args, **kw):
        opened.append(1)
        return original(*args, **kw)

    monkeypatch.setattr(pd, "ExcelWriter", counting)
    return opened


def _layers(app_data_dir):
    grids = gpd.read_file(app_data_dir / "grids.gpkg", layer="grids")
    inc = gpd.read_parquet(app_data_dir / "incidents.parquet")
    return grids, inc


def test_drill_down_from_street_to_grid(page, app_data_dir):
    at, state = page
    at.run()
    assert not at.exception
    assert at.subheader[0].value == "Streets, ranked"
    grids, inc = _layers(app_data_dir)
    inside = int((assign_points(inc, grids).index >= 0).sum())
    assert at.metric[0].value == f"{inside:,}"
    assert "Closure rate" in state["html"]

    code = sorted(grids["street_code"].astype(str).unique())[0]
    at.selectbox(key="events.street").set_value(code)
    at.run()
    assert not at.exception
    assert at.subheader[0].value == "Communities, ranked"
    n_comm = grids.loc[grids["street_code"].astype(str) == code, "community_code"].nunique()
    assert len(at.dataframe[0].value) == n_comm
    # the street's cases: those sjoin puts in its grids
    joined = gpd.sjoin(inc, grids.to_crs(inc.crs)[["street_code", "geometry"]],
                       predicate="within")
    assert at.metric[0].value == f"{int((joined['street_code'].astype(str) == code).sum()):,}"

    comm = grids.loc[grids["street_code"].astype(str) == code, "community_code"].astype(str)
    at.selectbox(key="events.community").set_value(comm.iloc[0])
    at.run()
    assert not at.exception
    assert at.subheader[0].value == "Grids, ranked"
    n_grids = int((grids["community_code"].astype(str) == comm.iloc[0]).sum())
    table = at.dataframe[0].value
    assert len(table[table["Grid ID"] != "(outside every grid)"]) <= n_grids


def _no_library_names(columns) -> None:
    raw = [c for c in columns if re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)*", str(c))]
    assert not raw, f"headers show library names {raw}"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_table_headers_are_in_the_page_language(app_page, app_data_dir, lang):
    at, _ = app_page("events.py", lang=lang, render=False)
    at.run()
    assert not at.exception
    shown = at.dataframe[0].value
    _no_library_names(shown.columns)
    assert shown.columns[0] == tr("events.col.rank", lang)
    expected = [tr("events.col.rank", lang), tr("events.col.unit.street", lang),
                tr("events.col.n", lang), tr("events.col.closure_rate", lang),
                tr("events.col.on_time_rate", lang), tr("events.col.overdue", lang)]
    assert set(expected) <= set(shown.columns)
    # the shown counts are the library's, renamed: cases per street as sjoin counts them
    grids, inc = _layers(app_data_dir)
    joined = gpd.sjoin(inc, grids.to_crs(inc.crs)[["street_code", "geometry"]],
                       predicate="within")
    per_street = joined["street_code"].astype(str).value_counts()
    got = shown.set_index(tr("events.col.unit.street", lang))[tr("events.col.n", lang)]
    assert {u: int(v) for u, v in got.items()} == per_street.to_dict()
    # the trend charts' series are named in the page language too
    assert _chart_series(at) == [
        {tr("events.trend.reported", lang), tr("events.trend.closed", lang)},
        {tr("events.col.closure_rate", lang), tr("events.col.on_time_rate", lang)},
    ]


def _chart_series(at) -> list[set[str]]:
    """The series names (colour field) of every line chart on the page, in order."""
    import pyarrow as pa

    out = []
    for el in at.get("vega_lite_chart"):
        (data,) = el.proto.datasets
        table = pa.ipc.open_stream(data.data.data).read_all()
        colour = next(c for c in table.column_names if c.startswith("color --"))
        out.append(set(table.column(colour).to_pylist()))
    return out

def test_deadline_options_and_overdue(page, app_data_dir):
    at, _ = page
    at.run()
    box = at.selectbox(key="events.deadline")
    assert box.value == "own"  # the demo incidents carry time_limit_h
    grids, inc = _layers(app_data_dir)
    own = events.closed_loop(inc, grids, by="street")
    inside = own.table[own.table["unit"] != events.OUTSIDE]
    assert at.metric[2].value == f"{int(inside['overdue'].sum()):,}"
    values = {}
    for option in ("same-day", "72h"):
        at.selectbox(key="events.deadline").set_value(option)
        at.run()
        assert not at.exception
        ref = events.closed_loop(inc, grids, by="street", deadline=option, time_limit=None)
        inside = ref.table[ref.table["unit"] != events.OUTSIDE]
        assert at.metric[2].value == f"{int(inside['overdue'].sum()):,}"
        values[option] = int(at.metric[2].value.replace(",", ""))
    assert values["72h"] < values["same-day"]


def test_excel_is_built_only_when_clicked(page, downloads, excel_writes):
    at, _ = page
    at.run()
    assert not at.exception
    assert excel_writes == []  # nothing built while the page runs
    _, data, kw = [c for c in downloads if c[2].get("key") == "events.dl.xlsx"][-1]
    assert callable(data)
    assert kw.get("on_click") == "ignore"
    sheets = pd.read_excel(io.BytesIO(data()), sheet_name=None)
    assert len(excel_writes) == 1
    ranking, trend = sheets["ranking"], sheets["trend"]
    # downloads keep the library's column names
    assert {"unit", "n", "closure_rate", "overdue", "rank"} <= set(ranking.columns)
    assert {"period", "unit", "reported", "closed"} <= set(trend.columns)
    assert set(trend["unit"]) == {"(all)", *ranking["unit"].astype(str)}  # every unit's trend
    # small counts (1 to k - 1, k = 5) are blanked in the trend
    counts = trend[["reported", "closed"]].to_numpy().ravel()
    counts = counts[~pd.isna(counts)]
    assert not ((counts >= 1) & (counts < 5)).any()


def test_grid_table_blanks_complements(page, app_data_dir):
    """A grid's one dispatched case (1 < k) next to its published n and closed would be
    n − closed; the page blanks a complement in each such row, and every column (the area's
    totals are published above the table) and every row relation (n = statuses, overdue =
    late + open) ends with no blank or at least two."""
    at, _ = page
    at.run()
    grids, inc = _layers(app_data_dir)
    street = sorted(grids["street_code"].astype(str).unique())[0]
    at.selectbox(key="events.street").set_value(street)
    at.run()
    comm = sorted(grids.loc[grids["street_code"].astype(str) == street, "community_code"]
                  .astype(str).unique())[0]
    at.selectbox(key="events.community").set_value(comm)
    at.run()
    assert not at.exception
    # the raw counts: the library's table of the community's incidents (as sjoin finds them)
    area = grids[grids["community_code"].astype(str) == comm]
    mine = gpd.sjoin(inc, area.to_crs(inc.crs)[["geometry"]], predicate="within").index
    times = pd.concat([pd.to_datetime(inc[c]) for c in ("reported_at", "closed_at")])
    raw = events.closed_loop(inc.loc[mine.unique()], area, by="grid",
                             now=times.max()).table.set_index("unit")
    names = {c: tr(f"events.col.{c}", "en") for c in
             ["n", *events.INCIDENT_STATUSES, "overdue", "closed_late", "open_overdue"]}
    shown = at.dataframe[0].value.set_index(tr("events.col.unit.grid", "en"))
    shown = shown[list(names.values())].rename(columns={v: c for c, v in names.items()})
    raw = raw.loc[shown.index, list(names)]
    blank = shown.isna()
    assert ((shown.astype(float) == raw.astype(float)) | blank).all().all()
    assert (blank | ~((raw > 0) & (raw < 5))).all().all()  # every small count
    relations = [[(u, c) for u in raw.index] for c in names]  # each column: area total
    for u in raw.index:
        relations += [[(u, c) for c in ("n", *events.INCIDENT_STATUSES)],
                      [(u, c) for c in ("overdue", "closed_late", "open_overdue")]]
    for cells in relations:
        nonzero = [x for x in cells if raw.at[x] > 0]
        assert sum(bool(blank.at[x]) for x in nonzero) != 1 or len(nonzero) == 1, cells
    # the case the rule is for: a small dispatched count beside n and closed
    leak = (raw["dispatched"].between(1, 4)) & (raw["n"] == raw["dispatched"] + raw["closed"])
    assert leak.any()
    assert blank.loc[leak, "closed"].all()
