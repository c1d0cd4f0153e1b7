"""The Grids page without a browser (AppTest), on the small demo district.

``streamlit_folium.st_folium`` is replaced by a stub returning a chosen map
state, so that clicks and drawn lines can be simulated.
"""

from __future__ import annotations

import sys
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def page(app_page):
    return app_page("grids.py", map_out={}, render=False)


def _editor(at):
    """The page's PlanEditor (200 m units, the default size)."""
    return at.session_state[f"grids.editor:{at.session_state['ws'].data_key}:200"]


def _grids(at) -> int:
    return int(next(m.value for m in at.metric if m.label == "Grids").replace(",", ""))


def test_page_shows_the_current_plan(page, demo_small):
    at, _ = page
    at.run()
    assert not at.exception
    assert at.title[0].value == "Grid partition"
    n = len(gpd.read_file(demo_small / "grids.gpkg", layer="grids"))
    assert _grids(at) == n
    assert any(m.label == "Max deviation" for m in at.metric)


def test_rebalance_then_undo(page):
    at, _ = page
    at.run()
    n = _grids(at)
    at.number_input(key="grids.parts").set_value(n + 2)
    at.slider(key="grids.tol").set_value(10.0)
    at.button(key="grids.run").click().run()
    assert not at.exception
    assert _grids(at) == n + 2
    assert any("Done:" in s.value for s in at.success)
    at.button(key="grids.do_undo").click().run()
    assert _grids(at) == n


def test_click_selects_and_merge(page):
    at, state = page
    at.run()
    ed = _editor(at)
    grids = ed.grids().to_crs(4326)
    # two grids that touch
    a = grids.iloc[0]
    touching = grids[grids.touches(a.geometry) & (grids["grid_id"] != a["grid_id"])]
    b = touching.iloc[0]
    for g in (a, b):
        p = g.geometry.representative_point()
        state["out"] = {"last_clicked": {"lat": p.y, "lng": p.x}}
        at.run()
    assert not at.exception
    assert set(at.multiselect(key="grids.sel").value) == {a["grid_id"], b["grid_id"]}
    n = _grids(at)
    at.button(key="grids.do_merge").click().run()
    assert _grids(at) == n - 1


def test_split_along_a_drawn_line(page):
    at, state = page
    at.run()
    ed = _editor(at)
    counts = ed.assignment.value_counts()
    gid = counts.index[0]  # the grid with the most units
    geom = ed.grids().to_crs(4326).set_index("grid_id").loc[gid].geometry
    _, miny, _, maxy = geom.bounds
    cx = shapely.centroid(geom).x
    line = {"type": "Feature", "properties": {},
            "geometry": {"type": "LineString", "coordinates": [[cx, miny - 0.001], [cx, maxy + 0.001]]}}
    state["out"] = {"all_drawings": [line]}
    at.run()
    at.multiselect(key="grids.sel").set_value([gid]).run()
    n = _grids(at)
    at.button(key="grids.do_line").click().run()
    assert not at.exception
    assert _grids(at) == n + 1


def test_versions_compare_downloads_and_validate(page, app_data_dir):
    at, _ = page
    at.run()
    at.text_input(key="grids.vname").input("before").run()
    at.button(key="grids.do_save").click().run()
    assert (app_data_dir / "partition_200m.gpkg").exists()
    n = _grids(at)
    at.number_input(key="grids.parts").set_value(n + 1)
    at.slider(key="grids.tol").set_value(10.0)
    at.button(key="grids.run").click().run()
    at.text_input(key="grids.vname").input("after").run()
    at.button(key="grids.do_save").click().run()
    at.selectbox(key="grids.va").set_value("before")
    at.selectbox(key="grids.vb").set_value("after")
    at.button(key="grids.do_compare").click().run()
    assert not at.exception
    assert any("units changed grid" in i.value for i in at.info)
    labels = [d.label for d in at.get("download_button")]
    assert "Download grid codes (CSV)" in labels
    at.button(key="grids.do_validate").click().run()
    assert not at.exception


def test_page_is_registered_in_the_app(app_data_dir, monkeypatch):
    monkeypatch.setenv("GRIDMAP_DATA_DIR", str(app_data_dir))
    if str(ROOT) not in sys.path:
        monkeypatch.syspath_prepend(str(ROOT))
    monkeypatch.setattr("streamlit_folium.st_folium", lambda m, **kw: {})
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.session_state["ws.lang"] = "zh"
    at.run()
    at.switch_page("app_pages/grids.py").run()
    assert not at.exception
    assert at.title[0].value == "网格划分"
