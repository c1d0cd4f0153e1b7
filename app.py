"""gridmap app: the router. One shared sidebar, then the chosen page.

Run with ``./run app`` (or ``streamlit run app.py`` once ``static/vendor`` exists).
Adding a page is one line in :data:`PAGES` plus a file in ``app_pages/``;
the conventions are in ``app_pages/_workspace.py``.
"""

from __future__ import annotations

from typing import NamedTuple

import streamlit as st
from PIL import Image, ImageDraw

from app_pages._auth import gate
from app_pages._workspace import sidebar
from gridmap import district as _district  # noqa: F401  (registers page.report)
from gridmap.i18n import tr


class Page(NamedTuple):
    path: str  # script under app_pages/
    title: str  # i18n key of the title
    icon: str


def _favicon() -> Image.Image:
    """A small grid icon drawn here: a Material or emoji icon would come from a CDN."""
    img = Image.new("RGBA", (32, 32), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    for i, colour in enumerate(("#8dd3c7", "#fdb462", "#80b1d3", "#fb8072")):
        x, y = 2 + 15 * (i % 2), 2 + 15 * (i // 2)
        draw.rectangle([x, y, x + 13, y + 13], fill=colour, outline="#4a4a4a")
    return img


PAGES: list[Page] = [
    Page("app_pages/overview.py", "page.overview", ":material/map:"),
    Page("app_pages/data.py", "page.data", ":material/upload_file:"),
    Page("app_pages/grids.py", "page.grids", ":material/grid_view:"),
    Page("app_pages/heatmaps.py", "page.heatmaps", ":material/local_fire_department:"),
    Page("app_pages/events.py", "page.events", ":material/task_alt:"),
    Page("app_pages/cameras.py", "page.cameras", ":material/videocam:"),
    Page("app_pages/report.py", "page.report", ":material/summarize:"),
]

st.set_page_config(page_title="gridmap", page_icon=_favicon(), layout="wide")
gate()  # optional sign-in (app_pages/_auth.py); stops here until admitted
ws = sidebar()
nav = st.navigation(
    [
        st.Page(
            p.path, title=tr(p.title, ws.lang), icon=p.icon,
            url_path=p.path.rsplit("/", 1)[-1].removesuffix(".py"), default=i == 0,
        )
        for i, p in enumerate(PAGES)
    ]
)
nav.run()
