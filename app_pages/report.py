"""District report page: the key figures and the district report (HTML and PDF downloads)."""

from __future__ import annotations

import streamlit as st

from app_pages._workspace import DemoData, current, load
from gridmap import GridmapError
from gridmap.district import District, data_sources, district_report
from gridmap.i18n import register, tr

register({
    "report.month": {"zh": "报告月份（YYYY-MM，留空取最近完整月）",
                     "en": "Report month (YYYY-MM, empty: latest full month)"},
    "report.k": {"zh": "少于该数的事件数不公布", "en": "Do not publish incident counts below"},
    "report.figures": {"zh": "关键指标", "en": "Key figures"},
    "report.html": {"zh": "下载 HTML 报告", "en": "Download HTML report"},
    "report.pdf": {"zh": "下载 PDF 报告", "en": "Download PDF report"},
})


@st.cache_resource(show_spinner=False, max_entries=4)
def build(_data: DemoData, data_key: str, lang: str, month: str, k: int, synthetic: bool):
    """Key-figure table, report HTML and PDF bytes (read-only, shared)."""
    d = District(_data.grids, _data.cameras, _data.incidents, streets=_data.streets,
                 communities=_data.communities)
    m = month.strip() or None
    report = district_report(d, lang=lang, month=m, k=k, synthetic=synthetic,
                             sources=data_sources(_data.path, lang=lang))
    return d.figures(month=m).table(lang), report.to_html(), report.to_pdf()


ws = current()
data = load(ws)
lang = ws.lang
st.title(tr("page.report", lang))
month = st.text_input(tr("report.month", lang), key="report.month")
k = int(st.number_input(tr("report.k", lang), min_value=1, max_value=50, value=5,
                        key="report.k"))
try:
    table, html_text, pdf = build(data, ws.data_key, lang, month, k, ws.synthetic)
except GridmapError as exc:
    st.error(str(exc))
    st.stop()
st.subheader(tr("report.figures", lang))
st.dataframe(table, hide_index=True, use_container_width=True)
c1, c2 = st.columns(2)
c1.download_button(tr("report.html", lang), html_text.encode("utf-8"), "district_report.html",
                   mime="text/html", key="report.dl_html")
c2.download_button(tr("report.pdf", lang), pdf, "district_report.pdf",
                   mime="application/pdf", key="report.dl_pdf")
