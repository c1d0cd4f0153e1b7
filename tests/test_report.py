"""Report layout: escaping, sections, PDF output."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from gridmap.report import Report

EVIL = "<img src=x onerror=alert(1)>"


def _report() -> Report:
    r = Report("District report 区县报告", subtitle=EVIL, sources=[("cameras", EVIL, "2025-12-31")])
    r.add_text("Summary", "two\n\nparagraphs")
    r.add_table("Ranking 排名", pd.DataFrame({"name": [EVIL, "南湖街道"], "score": [1.5, 2.25]}))
    fig, ax = plt.subplots()
    ax.bar(["a", "b"], [1, 2])
    r.add_figure("Chart", fig)
    plt.close(fig)
    return r


def test_html_escapes_every_user_text():
    text = _report().to_html()
    assert EVIL not in text
    assert text.count("&lt;img src=x onerror=alert(1)&gt;") == 3  # subtitle, table cell, source
    assert "南湖街道" in text
    assert "2.25" in text
    assert text.count("data:image/png;base64,") == 1
    assert text.count("<h2>") == 4  # three sections + sources


def test_pdf_has_title_page_plus_one_page_per_section(tmp_path):
    pdf = _report().write_pdf(tmp_path / "r.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    # title page + text + table + figure + sources
    assert pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") == 5


def test_long_tables_continue_on_new_pages():
    r = Report("t")
    r.add_table("big", pd.DataFrame({"i": range(100)}))
    pdf = r.to_pdf()
    pages = pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")
    assert pages == 1 + 3  # title page + ceil(100 / 38)


def test_chinese_pdf_draws_with_an_embedded_cjk_font():
    """The Chinese text is drawn with a CJK font embedded in the PDF, not as missing glyphs.

    ``./run test`` installs ``fonts-wqy-microhei``; matplotlib's font cache may
    predate it, which ``cjk_font`` handles by registering the system file.
    """
    import re

    from gridmap.report import cjk_font

    font = cjk_font()
    assert font is not None, "no CJK font installed: apt-get install fonts-wqy-microhei"
    r = Report("区县报告")
    r.add_table("排名", pd.DataFrame({"街道": ["南湖街道", "新嘉街道"], "得分": [1.5, 2.25]}))
    pdf = r.to_pdf()
    embedded = {name.split(b"+")[-1].decode() for name in
                re.findall(rb"/BaseFont /([A-Za-z0-9+\-]+)", pdf)}
    assert font.replace(" ", "") in embedded, embedded
    assert not r.warnings
