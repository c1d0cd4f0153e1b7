"""Events page (事件闭环): closed-loop tables, charts and a map, street → community → grid.

Pick a street to see its communities, then a community to see its grids. Every
level shows the ranked table (counts by status, closure rate, median and p90
hours to close, overdue cases against the deadline — by default each
incident's own time limit ``time_limit_h`` when the data has one), the weekly or
monthly trend and a map of the grids coloured by one metric. Counts of 1 to
k − 1 are suppressed in what is shown and downloaded. Table headers are shown in
the workspace language; the downloads keep the library's column names.
"""

from __future__ import annotations

import io

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st

from app_pages._workspace import (
    DemoData,
    current,
    download_table,
    load,
    new_map,
    render_map,
    require,
)
from gridmap import GridmapError
from gridmap.assign import assign_points
from gridmap.events import (
    DEFAULT_TIME_LIMIT,
    OUTSIDE,
    ClosedLoop,
    closed_loop,
    published_table,
    published_trend,
)
from gridmap.export import neutralise_formulas
from gridmap.i18n import register, tr
from gridmap.schema import INCIDENT_STATUSES
from layers.base import to_display
from layers.events import METRICS, closed_loop_layer
from layers.grids import boundary_layer

register({
    "events.title": {"zh": "事件闭环管理", "en": "Closed-loop incident handling"},
    "events.deadline": {"zh": "办结时限", "en": "Deadline"},
    "events.deadline.own": {"zh": "各事件自身时限（time_limit_h，缺失者当日）",
                            "en": "Each incident's own limit (time_limit_h; same day if missing)"},
    "events.deadline.same-day": {"zh": "日清日结（当日）", "en": "Same day (日清日结)"},
    "events.deadline.24h": {"zh": "24 小时", "en": "24 hours"},
    "events.deadline.48h": {"zh": "48 小时", "en": "48 hours"},
    "events.deadline.72h": {"zh": "72 小时", "en": "72 hours"},
    "events.street": {"zh": "街道", "en": "Street"},
    "events.community": {"zh": "社区", "en": "Community"},
    "events.all": {"zh": "（全部）", "en": "(all)"},
    "events.level.street": {"zh": "各街道排名", "en": "Streets, ranked"},
    "events.level.community": {"zh": "各社区排名", "en": "Communities, ranked"},
    "events.level.grid": {"zh": "各网格排名", "en": "Grids, ranked"},
    "events.metric": {"zh": "地图指标", "en": "Map metric"},
    "events.trend": {"zh": "趋势", "en": "Trend"},
    "events.trend.week": {"zh": "按周", "en": "Weekly"},
    "events.trend.month": {"zh": "按月", "en": "Monthly"},
    "events.k": {"zh": "最小公开数 k", "en": "Minimum count k"},
    "events.cases": {"zh": "事件数", "en": "Cases"},
    "events.closure": {"zh": "结案率", "en": "Closure rate"},
    "events.overdue": {"zh": "超期", "en": "Overdue"},
    "events.median": {"zh": "办结时长中位数（时）", "en": "Median hours to close"},
    "events.now": {"zh": "未结事件按 {now} 判定超期", "en": "Open cases judged at {now}"},
    "events.downloads": {"zh": "下载", "en": "Downloads"},
    "events.outside": {"zh": "{n} 件事件不在任何网格内（单独列出）",
                       "en": "{n} incidents lie outside every grid (listed separately)"},
    "events.outside_unit": {"zh": "（不在任何网格内）", "en": "(outside every grid)"},
    # table headers and chart series (the downloads keep the library's column names)
    "events.col.rank": {"zh": "排名", "en": "Rank"},
    "events.col.unit.street": {"zh": "街道代码", "en": "Street code"},
    "events.col.unit.community": {"zh": "社区代码", "en": "Community code"},
    "events.col.unit.grid": {"zh": "网格编号", "en": "Grid ID"},
    "events.col.name": {"zh": "名称", "en": "Name"},
    "events.col.score": {"zh": "考核得分", "en": "Score"},
    "events.col.n": {"zh": "事件数", "en": "Cases"},
    "events.col.reported": {"zh": "已上报", "en": "Reported"},
    "events.col.dispatched": {"zh": "已派遣", "en": "Dispatched"},
    "events.col.handled": {"zh": "已处置", "en": "Handled"},
    "events.col.closed": {"zh": "已结案", "en": "Closed"},
    "events.col.closure_rate": {"zh": "结案率", "en": "Closure rate"},
    "events.col.on_time_rate": {"zh": "按时办结率", "en": "On-time rate"},
    "events.col.median_hours": {"zh": "办结时长中位数（时）", "en": "Median hours to close"},
    "events.col.p90_hours": {"zh": "办结时长 P90（时）", "en": "90th percentile hours"},
    "events.col.overdue": {"zh": "超期", "en": "Overdue"},
    "events.col.closed_late": {"zh": "超期办结", "en": "Closed late"},
    "events.col.open_overdue": {"zh": "未结超期", "en": "Open past deadline"},
    "events.col.bad_times": {"zh": "结案早于上报", "en": "Closed before reported"},
    "events.col.closed_no_time": {"zh": "结案无时间", "en": "Closed, no time"},
    "events.col.speed": {"zh": "速度分（0–1）", "en": "Speed (0–1)"},
    "events.col.suppressed": {"zh": "含隐去的小数", "en": "Small counts hidden"},
    "events.trend.reported": {"zh": "上报数", "en": "Reported"},
    "events.trend.closed": {"zh": "其中已结案", "en": "Of which closed"},
})

# shown columns, in order (a table's other columns are not shown)
_SHOWN = ("rank", "unit", "name", "score", "n", *INCIDENT_STATUSES, "closure_rate",
          "on_time_rate", "median_hours", "p90_hours", "overdue", "closed_late",
          "open_overdue", "bad_times", "closed_no_time", "speed", "suppressed")
_PERCENT = ("closure_rate", "on_time_rate")

_DEADLINES = ("same-day", "24h", "48h", "72h")
_OWN = "own"  # each incident's own time limit (DEFAULT_TIME_LIMIT column)
_ALL = "__all__"


@st.cache_data(show_spinner=False, max_entries=4)
def _grid_of_incidents(_data: DemoData, data_key: str) -> np.ndarray:
    """Position in the grids of each incident's grid (-1: outside every grid)."""
    return assign_points(_data.incidents, _data.grids).index


@st.cache_data(show_spinner=False, max_entries=16)
def loop_for(_data: DemoData, data_key: str, level: str, street: str, community: str,
             deadline: str) -> ClosedLoop:
    """Closed-loop metrics at ``level`` for the grids of the chosen street/community.

    ``deadline`` is one of ``_DEADLINES`` (every case against it) or ``_OWN``.
    Open cases are judged at the latest time in the whole data, whatever the area.
    """
    grids = _data.grids
    keep = pd.Series(True, index=grids.index)
    if street != _ALL and "street_code" in grids:
        keep &= grids["street_code"].astype(str) == street
    if community != _ALL and "community_code" in grids:
        keep &= grids["community_code"].astype(str) == community
    keep = keep.to_numpy()
    sub = grids[keep]
    inc = _data.incidents
    if not keep.all():
        # incidents of the chosen area: those whose grid is one of its grids
        inc = inc[np.isin(_grid_of_incidents(_data, data_key), np.flatnonzero(keep))]
    own = deadline == _OWN
    return closed_loop(inc, sub, by=level, deadline="same-day" if own else deadline,
                       time_limit="auto" if own else None, now=_latest(_data, data_key))


@st.cache_data(show_spinner=False, max_entries=4)
def _latest(_data: DemoData, data_key: str) -> pd.Timestamp | None:
    """The latest report or closure time in the data (open cases are judged then);
    ``None`` when no time is readable (closed_loop then says so)."""
    inc = _data.incidents
    times = [pd.to_datetime(inc[c], errors="coerce").max() for c in ("reported_at", "closed_at")
             if c in inc.columns]
    times = [t for t in times if pd.notna(t)]
    return max(times) if times else None


def _shown_table(published: pd.DataFrame, level: str, lang: str) -> tuple[pd.DataFrame, dict]:
    """The ranking with headers in ``lang`` (and its column formats), for display only."""
    cols = [c for c in _SHOWN if c in published.columns]
    shown = published[cols].copy()
    shown["unit"] = shown["unit"].astype(str).replace({OUTSIDE: tr("events.outside_unit", lang)})
    headers = {c: tr("events.col.unit." + level if c == "unit" else f"events.col.{c}", lang)
               for c in cols}
    config = {headers[c]: st.column_config.NumberColumn(format="percent")
              for c in _PERCENT if c in headers}
    return shown.rename(columns=headers), config


def _names(data: DemoData, level: str) -> dict:
    return {"street": data.street_names, "community": data.community_names}.get(level, {})


def _excel(frames: dict[str, pd.DataFrame]) -> bytes:
    buf = io.BytesIO()
    with pd.ExcelWriter(buf) as xl:
        for sheet, frame in frames.items():
            neutralise_formulas(frame).to_excel(xl, sheet_name=sheet[:31], index=False)
    return buf.getvalue()


def main() -> None:
    ws = current()
    lang = ws.lang
    st.title(tr("events.title", lang))
    if ws.synthetic:
        st.info(tr("demo.label", lang), icon=":material/science:")
    try:
        data = load(ws)
        require(data, "incidents", lang=lang)
    except GridmapError as exc:
        st.error(tr("ws.load_error", lang, error=str(exc)))
        return
    grids = data.grids
    c1, c2, c3, c4 = st.columns(4)
    deadlines = ((_OWN,) if DEFAULT_TIME_LIMIT in data.incidents.columns else ()) + _DEADLINES
    deadline = c1.selectbox(tr("events.deadline", lang), deadlines,
                            format_func=lambda d: tr(f"events.deadline.{d}", lang),
                            key="events.deadline")
    streets = sorted(grids["street_code"].dropna().astype(str).unique()) \
        if "street_code" in grids else []
    snames = data.street_names
    street = c2.selectbox(tr("events.street", lang), [_ALL, *streets], key="events.street",
                          format_func=lambda s: tr("events.all", lang) if s == _ALL
                          else str(snames.get(s, s)))
    community = _ALL
    if street != _ALL and "community_code" in grids:
        comms = sorted(grids.loc[grids["street_code"].astype(str) == street, "community_code"]
                       .dropna().astype(str).unique())
        cnames = data.community_names
        community = c3.selectbox(tr("events.community", lang), [_ALL, *comms],
                                 key="events.community",
                                 format_func=lambda s: tr("events.all", lang) if s == _ALL
                                 else str(cnames.get(s, s)))
    k = int(c4.number_input(tr("events.k", lang), 0, 50, 5, 1, key="events.k"))
    if street == _ALL and streets:
        level = "street"
    elif community == _ALL and "community_code" in grids:
        level = "community"
    else:
        level = "grid"
    try:
        res = loop_for(data, ws.data_key, level, street, community, deadline)
        grid_res = loop_for(data, ws.data_key, "grid", street, community, deadline)
    except GridmapError as exc:
        st.error(str(exc))
        return

    table = res.table.copy()
    inside = table[table["unit"] != OUTSIDE]
    m1, m2, m3, m4 = st.columns(4)
    n = int(inside["n"].sum())
    closed = int(inside["closed"].sum())
    m1.metric(tr("events.cases", lang), f"{n:,}")
    m2.metric(tr("events.closure", lang), f"{closed / n:.1%}" if n else "–")
    m3.metric(tr("events.overdue", lang), f"{int(inside['overdue'].sum()):,}")
    cases = res.cases
    med = cases.loc[cases["unit"] != OUTSIDE, "hours"].median()
    m4.metric(tr("events.median", lang), f"{med:.1f}" if pd.notna(med) else "–")
    st.caption(tr("events.now", lang, now=f"{res.now:%Y-%m-%d %H:%M}"))
    names = _names(data, level)
    if names and "name" not in table:
        table.insert(1, "name", table["unit"].map(lambda u: names.get(u, u)))
    # small counts hidden, and every cell their published totals would reveal
    published = published_table(table, k=k)
    st.subheader(tr(f"events.level.{level}", lang))
    view, config = _shown_table(published, level, lang)
    st.dataframe(view, hide_index=True, width="stretch", column_config=config)
    outside = table[table["unit"] == OUTSIDE]
    if len(outside):
        n_out = int(outside["n"].iloc[0])
        # a small count is published as "<k", like every other count on the page
        st.caption(tr("events.outside", lang, n=n_out if n_out >= k else f"<{k}"))

    freq = st.radio(tr("events.trend", lang), ["week", "month"], horizontal=True,
                    format_func=lambda f: tr(f"events.trend.{f}", lang), key="events.freq")
    overall = published_trend(res, freq=freq, units=[], k=k).set_index("period")
    t1, t2 = st.columns(2)
    series = {"reported": tr("events.trend.reported", lang),
              "closed": tr("events.trend.closed", lang),
              "closure_rate": tr("events.col.closure_rate", lang),
              "on_time_rate": tr("events.col.on_time_rate", lang)}
    overall = overall.rename(columns=series).rename_axis(tr("events.trend", lang))
    t1.line_chart(overall[[series["reported"], series["closed"]]])
    t2.line_chart(overall[[series["closure_rate"], series["on_time_rate"]]])

    metric = st.radio(tr("events.metric", lang), METRICS, horizontal=True,
                      format_func=lambda mtr: tr(f"eventslayer.{mtr}", lang),
                      key="events.metric")
    area = grids
    if street != _ALL:
        area = area[area["street_code"].astype(str) == street]
    if community != _ALL:
        area = area[area["community_code"].astype(str) == community]
    shown = to_display(gpd.GeoDataFrame(area), ws.datum)
    try:
        m = new_map(ws, shown.total_bounds)
        layer, leg = closed_loop_layer(shown, grid_res.table, metric=metric, lang=lang,
                                       min_count=k)
        layer.add_to(m)
        leg.add_to(m)
        boundary_layer(shown).add_to(m)
        folium.LayerControl(collapsed=True, position="topright").add_to(m)
    except GridmapError as exc:
        st.error(str(exc))
        return
    render_map(m, key="events.map")

    st.subheader(tr("events.downloads", lang))
    d1, d2 = st.columns(2)
    with d1:
        download_table(published, f"closed_loop_{level}.csv", lang, "events.dl.csv", label="CSV")
    ranking = published.copy()
    # built when clicked: the ranking and every unit's trend, library column names
    with d2:
        st.download_button(
            "Excel",
            lambda: _excel({"ranking": ranking, "trend": published_trend(res, freq=freq, k=k)}),
            file_name=f"closed_loop_{level}.xlsx", key="events.dl.xlsx", on_click="ignore",
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


main()
