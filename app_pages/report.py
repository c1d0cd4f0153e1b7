"""District report page (区县报告): key figures, rankings, and the report as HTML and PDF.

Each download button builds its file when clicked (one click, no waiting when
the page opens); the report is cached per data folder, language, month and k.
The report itself is assembled by :func:`gridmap.district.district_report`.
"""

from __future__ import annotations

import streamlit as st

from app_pages._district import district
from app_pages._workspace import current, load, show_table
from gridmap import GridmapError
from gridmap.district import (
    District,
    data_sources,
    district_report,
    latest_full_month,
    parent_units,
    ranking_table,
    read_meta,
)
from gridmap.i18n import register, tr

register({
    "report.month": {"zh": "报告月份（与上月对比）", "en": "Report month (against the month before)"},
    "report.k": {"zh": "少于该数的事件数不公布", "en": "Do not publish incident counts below"},
    "report.figures": {"zh": "关键指标", "en": "Key figures"},
    "report.rankings": {"zh": "定量化考核排名", "en": "Rankings (定量化考核)"},
    "report.streets": {"zh": "街道", "en": "Streets"},
    "report.communities": {"zh": "社区", "en": "Communities"},
    "report.html": {"zh": "下载 HTML 报告", "en": "Download HTML report"},
    "report.pdf": {"zh": "下载 PDF 报告", "en": "Download PDF report"},
    "report.help": {
        "zh": "报告含地图（网格密度达标、各网格事件数）、密度达标表、定量化考核排名、图表及数据来源；"
              "点击按钮即生成并下载，PDF 约需几秒。",
        "en": "The report holds maps (grid density status, incidents per grid), compliance "
              "tables, the rankings, charts and the data sources; a button builds its file when "
              "clicked (the PDF takes a few seconds).",
    },
    "report.no_incidents": {"zh": "没有事件数据：报告只含监控密度部分。",
                            "en": "No incidents: the report holds the camera density part only."},
})


@st.cache_resource(show_spinner=False, max_entries=8)
def report_files(_d: District, _path: str, data_key: str, lang: str, month: str | None, k: int,
                 synthetic: bool) -> tuple[bytes, bytes]:
    """The report as HTML and PDF bytes (read-only, shared)."""
    district_meta = read_meta(_path).get("district")
    name = district_meta.get("name") if isinstance(district_meta, dict) else None
    report = district_report(_d, lang=lang, month=month, k=k, synthetic=synthetic, name=name,
                             sources=data_sources(_path, lang=lang))
    return report.to_html().encode("utf-8"), report.to_pdf()


@st.cache_data(show_spinner=False, max_entries=16)
def page_tables(_d: District, data_key: str, lang: str, month: str | None, k: int):
    """Key figures and the published rankings shown on the page."""
    ranks = {by: ranking_table(_d.ranking(by), lang=lang, k=k,
                               within=parent_units(_d.grids, by))
             for by in ("street", "community") if f"{by}_code" in _d.grids.columns}
    return _d.figures(month=month).table(lang), ranks


def main() -> None:
    ws = current()
    lang = ws.lang
    st.title(tr("page.report", lang))
    if ws.synthetic:
        st.info(tr("demo.label", lang), icon=":material/science:")
    try:
        data = load(ws)
        d = district(ws, data)
        months = [str(p) for p in d.monthly().index]
        latest = str(latest_full_month(d.incidents)) if months else None
    except GridmapError as exc:
        st.error(tr("ws.load_error", lang, error=str(exc)))
        return
    c1, c2 = st.columns(2)
    month = None
    if months:
        month = c1.selectbox(tr("report.month", lang), months[::-1], key="report.month",
                             index=months[::-1].index(latest))
    else:
        c1.info(tr("report.no_incidents", lang))
    k = int(c2.number_input(tr("report.k", lang), min_value=1, max_value=50, value=5,
                            key="report.k"))
    try:
        table, ranks = page_tables(d, ws.data_key, lang, month, k)
    except GridmapError as exc:
        st.error(str(exc))
        return

    st.caption(tr("report.help", lang))
    b1, b2 = st.columns(2)
    args = (d, str(data.path), ws.data_key, lang, month, k, ws.synthetic)
    with b1:
        st.download_button(tr("report.html", lang), lambda: report_files(*args)[0],
                           "district_report.html", mime="text/html", key="report.dl_html",
                           on_click="ignore", icon=":material/html:")
    with b2:
        st.download_button(tr("report.pdf", lang), lambda: report_files(*args)[1],
                           "district_report.pdf", mime="application/pdf", key="report.dl_pdf",
                           on_click="ignore", icon=":material/picture_as_pdf:")

    st.subheader(tr("report.figures", lang))
    show_table(table, lang, width="stretch")
    if ranks:
        st.subheader(tr("report.rankings", lang))
        label = {"street": "report.streets", "community": "report.communities"}
        tabs = st.tabs([tr(label[by], lang) for by in ranks])
        for tab, frame in zip(tabs, ranks.values(), strict=True):
            with tab:
                show_table(frame, lang, width="stretch")


main()
