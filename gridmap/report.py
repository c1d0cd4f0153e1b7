"""District reports in HTML and PDF.

A :class:`Report` is an ordered list of sections (text, tables, figures). It
renders to one self-contained HTML file (figures embedded as PNG, every cell
HTML-escaped, formula-like cells left as text) and to PDF through matplotlib,
so no browser or system library is needed to produce it. Chinese text in the
PDF needs a CJK font (Debian: ``fonts-wqy-microhei``); without one the PDF is
still written and :attr:`Report.warnings` says what to install.

The district-level assembly (which tables and maps go in) lives in
:func:`gridmap.report.district_report`; this module only knows how to lay out.
"""

from __future__ import annotations

import base64
import html
import io
import logging
import re
import unicodedata
import warnings
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["Report", "Section", "cjk_font"]

_CJK_FONTS = ("WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Noto Sans CJK SC", "Noto Sans SC",
              "Source Han Sans SC", "SimHei", "Microsoft YaHei", "PingFang SC")


_CJK_FILE_HINTS = ("wqy", "notosanscjk", "notoserifcjk", "sourcehan", "droidsansfallback")


def cjk_font() -> str | None:
    """Return the name of an installed font that can draw Chinese, or None.

    matplotlib keeps a font cache; a font installed after the cache was built
    (e.g. ``fonts-wqy-microhei`` installed by the run script) is not in it, so
    when none is known the system font folders are searched and such files are
    added for this process.
    """
    from matplotlib import font_manager

    def known() -> str | None:
        names = {f.name for f in font_manager.fontManager.ttflist}
        return next((n for n in _CJK_FONTS if n in names), None)

    font = known()
    if font is not None:
        return font
    for path in font_manager.findSystemFonts():
        if any(h in Path(path).name.lower().replace("-", "") for h in _CJK_FILE_HINTS):
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError):  # an unreadable font file: try the next one
                continue
    return known()


@dataclass
class Section:
    """One report section: a heading and one of text, a table or a figure."""

    title: str
    text: str | None = None
    table: pd.DataFrame | None = None
    figure: Any = None  # a matplotlib Figure
    note: str | None = None


@dataclass
class Report:
    """An ordered, renderable report.

    Parameters
    ----------
    title
        Report title.
    subtitle
        A line under the title (e.g. the district and the period).
    sources
        ``(name, description, date)`` rows listed at the end: the data sources
        and their dates.
    """

    title: str
    subtitle: str = ""
    sources: list[tuple[str, str, str]] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    created: datetime = field(default_factory=lambda: datetime.now().replace(microsecond=0))
    warnings: list[str] = field(default_factory=list)
    continued: str = " (cont.)"  # after the title of a section's second and later PDF pages

    def add_text(self, title: str, text: str) -> Report:
        """Append a text section."""
        self.sections.append(Section(title, text=text))
        return self

    def add_table(self, title: str, table: pd.DataFrame, *, note: str | None = None) -> Report:
        """Append a table section (copied)."""
        self.sections.append(Section(title, table=table.copy(), note=note))
        return self

    def add_figure(self, title: str, figure: Any, *, note: str | None = None) -> Report:
        """Append a matplotlib figure section."""
        self.sections.append(Section(title, figure=figure, note=note))
        return self

    # -- HTML -----------------------------------------------------------------
    def to_html(self) -> str:
        """Render a self-contained HTML document; all text is escaped."""
        e = html.escape
        parts = [
            "<!DOCTYPE html><html><head><meta charset='utf-8'>",
            f"<title>{e(self.title)}</title>",
            "<style>body{font-family:'WenQuanYi Micro Hei','Noto Sans CJK SC',sans-serif;"
            "margin:2em;color:#222}table{border-collapse:collapse;font-size:12px;margin:.5em 0}"
            "th,td{border:1px solid #bbb;padding:3px 6px;text-align:right}th{background:#eee}"
            "td:first-child,th:first-child{text-align:left}img{max-width:100%}"
            ".note{color:#666;font-size:12px}</style></head><body>",
            f"<h1>{e(self.title)}</h1>",
        ]
        if self.subtitle:
            parts.append(f"<p>{e(self.subtitle)}</p>")
        parts.append(f"<p class='note'>{e(self.created.isoformat(sep=' '))}</p>")
        for s in self.sections:
            parts.append(f"<h2>{e(s.title)}</h2>")
            if s.text is not None:
                parts.extend(f"<p>{e(p)}</p>" for p in s.text.split("\n\n"))
            if s.table is not None:
                parts.append(s.table.to_html(index=False, escape=True, na_rep="",
                                             float_format=lambda v: f"{v:,.2f}"))
            if s.figure is not None:
                parts.append(f"<img alt='{e(s.title)}' src='data:image/png;base64,"
                             f"{_png_base64(s.figure)}'>")
            if s.note:
                parts.append(f"<p class='note'>{e(s.note)}</p>")
        if self.sources:
            parts.append("<h2>Data sources / 数据来源</h2>")
            parts.append(pd.DataFrame(self.sources, columns=["source", "description", "date"])
                         .to_html(index=False, escape=True))
        parts.append("</body></html>")
        return "\n".join(parts)

    def write_html(self, path: str | Path) -> Path:
        """Write :meth:`to_html` to ``path``."""
        path = Path(path)
        path.write_text(self.to_html(), encoding="utf-8")
        return path

    # -- PDF ------------------------------------------------------------------
    def to_pdf(self) -> bytes:
        """Render the report as PDF bytes (A4 pages, one or more per section)."""
        import matplotlib

        matplotlib.use("Agg", force=False)
        font = cjk_font()
        if font is None:
            msg = ("no CJK font found: Chinese text in the PDF will not render; "
                   "install one (Debian: apt-get install fonts-wqy-microhei).")
            if msg not in self.warnings:
                self.warnings.append(msg)
        rc = {"font.family": [font, "DejaVu Sans"] if font else ["DejaVu Sans"],
              "axes.unicode_minus": False}
        # a CJK font without a bold face is drawn regular; say nothing about it per heading
        font_log = logging.getLogger("matplotlib.font_manager")
        level = font_log.level
        font_log.setLevel(logging.ERROR)
        try:
            return self._render_pdf(rc)
        finally:
            font_log.setLevel(level)

    def _render_pdf(self, rc: dict) -> bytes:
        import matplotlib.pyplot as plt
        from matplotlib.backends.backend_pdf import PdfPages

        buf = io.BytesIO()
        with plt.rc_context(rc), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Glyph .* missing")
            with PdfPages(buf, metadata={"Title": self.title}) as pdf:
                fig = _page()
                y = 0.92
                for text, size, extra in ((self.title, 20, {"weight": "bold"}),
                                          (self.subtitle, 12, {}),
                                          (self.created.isoformat(sep=" "), 9,
                                           {"color": "#666"})):
                    lines = _wrap(text, _LINE_WIDTH_PT / size)
                    fig.text(0.08, y, "\n".join(lines), fontsize=size, va="top", **extra)
                    y -= (len(lines) * 1.3 * size + 10) / _PAGE_HEIGHT_PT
                contents = "\n".join(f"{i + 1}. {s.title}" for i, s in enumerate(self.sections))
                fig.text(0.08, y - 0.02, contents, fontsize=11, va="top")
                pdf.savefig(fig)
                plt.close(fig)
                for s in self.sections:
                    for page in _section_pages(s, self.continued):
                        pdf.savefig(page)
                        plt.close(page)
                if self.sources:
                    src = Section("Data sources / 数据来源", table=pd.DataFrame(
                        self.sources, columns=["source", "description", "date"]))
                    for page in _section_pages(src, self.continued):
                        pdf.savefig(page)
                        plt.close(page)
        return buf.getvalue()

    def write_pdf(self, path: str | Path) -> Path:
        """Write :meth:`to_pdf` to ``path``."""
        path = Path(path)
        path.write_bytes(self.to_pdf())
        return path


def _png_base64(figure: Any) -> str:
    buf = io.BytesIO()
    figure.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _page():
    import matplotlib.pyplot as plt

    return plt.figure(figsize=(8.27, 11.69))  # A4 portrait


_ROWS_PER_PAGE = 38
_LINES_PER_PAGE = 46
_PAGE_HEIGHT_PT = 11.69 * 72
_LINE_WIDTH_PT = 0.84 * 8.27 * 72  # text from x = 0.08 to 0.92 of an A4 page
_TABLE_WIDTH_PT = 0.94 * 8.27 * 72
# full-width punctuation that must not start a line (禁则)
_NO_LINE_START = set("，。、；：？！）》」』】”’％,.;:?!)%")


def _char_em(ch: str) -> float:
    """Approximate advance of a character in ems: CJK and full-width 1, others 0.5."""
    return 1.0 if unicodedata.east_asian_width(ch) in ("W", "F") else 0.5


def _text_em(text: str) -> float:
    return sum(_char_em(ch) for ch in text)


_TOKENS = re.compile(r"[^\s\u2e80-\u9fff\u3000-\u303f\uff00-\uffef]+|\s+|.")


def _wrap(text: str, width_em: float) -> list[str]:
    """Break ``text`` into lines of at most ``width_em`` ems.

    Latin words stay whole (broken only when longer than a line); Chinese may
    break between any two characters, but never before closing punctuation.
    Existing line breaks are kept.
    """
    lines: list[str] = []
    for para in str(text).split("\n"):
        line, width = "", 0.0
        for tok in _TOKENS.findall(para):
            w = _text_em(tok)
            if tok.isspace():
                if line:
                    line, width = line + " ", width + w
                continue
            if width + w > width_em and line.strip() and tok[0] not in _NO_LINE_START:
                lines.append(line.rstrip())
                line, width = "", 0.0
            while w > width_em and len(tok) > 1:  # a word longer than a line
                cut = max(1, int(len(tok) * (width_em - width) / w))
                lines.append(line + tok[:cut])
                line, width, tok = "", 0.0, tok[cut:]
                w = _text_em(tok)
            line, width = line + tok, width + w
        lines.append(line.rstrip())
    return lines


def _column_widths(labels: list[str], cells: list[list[str]]) -> tuple[list[float], int]:
    """Column widths (fractions of the table) from the longest text, and a font size that fits."""
    ems = [max([_text_em(lab), *(_text_em(row[i]) for row in cells)]) + 1.2
           for i, lab in enumerate(labels)]
    total = sum(ems) or 1.0
    size = int(max(5, min(8, _TABLE_WIDTH_PT / total)))
    return [e / total for e in ems], size


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return "" if pd.isna(v) else f"{v:,.2f}"
    return "" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)


def _section_pages(s: Section, continued: str = " (cont.)"):
    import matplotlib.pyplot as plt

    if s.figure is not None:
        buf = io.BytesIO()
        s.figure.savefig(buf, format="png", dpi=150, bbox_inches="tight")
        buf.seek(0)
        img = plt.imread(buf)
        fig = _page()
        fig.text(0.08, 0.95, s.title, fontsize=14, weight="bold")
        ax = fig.add_axes((0.06, 0.1, 0.88, 0.82))
        ax.imshow(img)
        ax.set_axis_off()
        if s.note:
            fig.text(0.08, 0.08, "\n".join(_wrap(s.note, _LINE_WIDTH_PT / 8)), fontsize=8,
                     color="#555", va="top")
        yield fig
    if s.text is not None:
        lines = _wrap(s.text, _LINE_WIDTH_PT / 10)
        for start in range(0, max(len(lines), 1), _LINES_PER_PAGE):
            fig = _page()
            suffix = "" if start == 0 else continued
            fig.text(0.08, 0.95, s.title + suffix, fontsize=14, weight="bold")
            fig.text(0.08, 0.9, "\n".join(lines[start:start + _LINES_PER_PAGE]), fontsize=10,
                     va="top", linespacing=1.5)
            yield fig
    if s.table is not None:
        table = s.table
        cells = [[_fmt(v) for v in row] for row in table.itertuples(index=False)]
        for start in range(0, max(len(cells), 1), _ROWS_PER_PAGE):
            fig = _page()
            suffix = "" if start == 0 else continued
            fig.text(0.05, 0.96, s.title + suffix, fontsize=14, weight="bold")
            ax = fig.add_axes((0.03, 0.05, 0.94, 0.88))
            ax.set_axis_off()
            chunk = cells[start:start + _ROWS_PER_PAGE] or [[""] * len(table.columns)]
            labels = [str(c) for c in table.columns]
            widths, size = _column_widths(labels, cells)
            t = ax.table(cellText=chunk, colLabels=labels, colWidths=widths,
                         loc="upper center", cellLoc="right")
            t.auto_set_font_size(False)
            t.set_fontsize(size)
            t.scale(1, 1.25)
            if s.note and start == 0:
                fig.text(0.05, 0.035, "\n".join(_wrap(s.note, _LINE_WIDTH_PT / 8)), fontsize=8,
                         color="#555", va="top")
            yield fig
