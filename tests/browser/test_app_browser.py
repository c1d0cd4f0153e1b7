"""The app in headless Chromium with every non-localhost request blocked.

Proves the map draws offline: Leaflet, the grid polygons, the clustered camera
points and the legends all come from this machine; then opens every page listed
in app.PAGES through the navigation, offline, without errors. Screenshots go to
test-artifacts/ (the overview in both languages, and one per page).
"""

from __future__ import annotations

import ast
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from _st_ready import wait_ready as _ready
from playwright.sync_api import expect

from gridmap.ingest import read_layer
from layers.cameras import camera_points

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
MAP_FRAME = "iframe[title='streamlit_folium.st_folium']"
# streamlit-folium names the map `map_div`; collect the tooltip of every camera marker
_TOOLTIPS_JS = """() => {
    const tips = [];
    map_div.eachLayer(layer => {
        if (layer.getLayers && layer.options && layer.options.chunkedLoading) {
            layer.getLayers().forEach(m => {
                const c = m.getTooltip()._content;
                tips.push(typeof c === 'function' ? c(m) : c);
            });
        }
    });
    return tips;
}"""
_RENDER_JS = """(el, html) => {
    const div = document.createElement('div');
    div.innerHTML = html;
    return [div.querySelectorAll('img').length, div.textContent.includes('<img src=x')];
}"""
TIMEOUT = 60_000


def _open(page, url: str):
    page.goto(url, timeout=TIMEOUT)
    page.wait_for_selector("[data-test-script-state='notRunning']", timeout=TIMEOUT)
    frame = page.frame_locator(MAP_FRAME)
    frame.locator(".leaflet-container").wait_for(state="visible", timeout=TIMEOUT)
    frame.locator("path.leaflet-interactive").first.wait_for(state="attached", timeout=TIMEOUT)
    return frame


def _wait_for(measure, ok, page, *, tries: int = 40):
    """Measure until ``ok`` holds (markers are added in chunks); return the last value."""
    value = measure()
    for _ in range(tries):
        if ok(value):
            break
        page.wait_for_timeout(250)
        value = measure()
    return value





def _settle(page, frame) -> None:
    """Wait for Leaflet's zoom animation to end before a screenshot."""
    expect(frame.locator(".leaflet-zoom-anim")).to_have_count(0, timeout=TIMEOUT)
    page.wait_for_timeout(800)


def _camera_points_drawn(frame) -> int:
    """Points on the map: single markers plus the counts written on cluster icons."""
    singles = frame.locator(".gridmap-camera").count()
    clustered = sum(int(t) for t in frame.locator(".marker-cluster span").all_inner_texts())
    return singles + clustered


def test_overview_draws_offline_in_english(offline_page, app_url, app_data, screenshot):
    page, watch = offline_page("en-US")
    frame = _open(page, app_url)
    expect(page.get_by_role("heading", name="One-network overview")).to_be_visible()
    expect(page.get_by_text("Synthetic demo district — not real data").first).to_be_visible()

    grids = gpd.read_file(app_data / "grids.gpkg", layer="grids")
    raw_points = pd.read_csv(app_data / "cameras.csv", dtype=str)["point_id"].nunique()
    # one SVG path per grid; the incidents layer is off when the map opens
    expect(frame.locator("path.leaflet-interactive")).to_have_count(len(grids), timeout=TIMEOUT)
    # ingest may reject a few planted bad rows; nothing else is lost
    drawn = _wait_for(lambda: _camera_points_drawn(frame),
                      lambda n: 0.9 * raw_points <= n <= raw_points, page)
    assert 0.9 * raw_points <= drawn <= raw_points, (drawn, raw_points)
    expect(frame.locator(".gridmap-legend[data-legend='grids']")).to_contain_text("Grids by street")
    expect(frame.locator(".gridmap-legend[data-legend='cameras']")).to_be_visible()
    expect(frame.locator(".gridmap-legend[data-legend='incidents']")).to_have_count(0)

    # every tooltip the browser assembles equals the escaped text built in Python
    tips = frame.locator(".leaflet-container").evaluate(_TOOLTIPS_JS)
    cameras = read_layer(app_data / "cameras.csv", kind="cameras").data
    expected = camera_points(cameras, lang="en")["tip"].tolist()
    assert sorted(tips) == sorted(expected)
    hostile = [t for t in tips if "&lt;img src=x onerror=alert(1)&gt;" in t]
    assert len(hostile) == 1
    # rendered as HTML, the payload stays text: no <img> element appears
    assert frame.locator(".leaflet-container").evaluate(_RENDER_JS, hostile[0]) == [0, True]

    # switching the incidents layer on draws a second set of grid polygons and its legend
    frame.locator(".leaflet-control-layers-overlays label", has_text="Incidents per grid").click()
    expect(frame.locator(".gridmap-legend[data-legend='incidents']")).to_be_visible()
    expect(frame.locator("path.leaflet-interactive")).to_have_count(2 * len(grids))
    _settle(page, frame)
    screenshot(page, "overview-en")
    watch.assert_clean()


def test_language_follows_browser_and_switch(offline_page, app_url, screenshot):
    page, watch = offline_page("zh-CN")
    frame = _open(page, app_url)
    expect(page.get_by_role("heading", name="一张网总览")).to_be_visible()
    expect(frame.locator(".gridmap-legend[data-legend='grids']")).to_contain_text("网格（按街道）")
    _settle(page, frame)
    screenshot(page, "overview-zh")

    page.locator("[data-testid='stSidebar']").get_by_text("English", exact=True).click()
    expect(page.get_by_role("heading", name="One-network overview")).to_be_visible(timeout=TIMEOUT)
    # the old map stays on screen until the rerun ends; then only the new one is left
    page.wait_for_selector("[data-test-script-state='notRunning']", timeout=TIMEOUT)
    expect(page.locator(MAP_FRAME)).to_have_count(1, timeout=TIMEOUT)
    frame = page.frame_locator(MAP_FRAME)
    expect(frame.locator(".gridmap-legend[data-legend='grids']")).to_contain_text(
        "Grids by street", timeout=TIMEOUT
    )
    expect(frame.locator(".gridmap-legend[data-legend='cameras']")).to_contain_text(
        "Camera point status"
    )
    watch.assert_clean()


def _pages() -> list[str]:
    """Page scripts listed in app.PAGES (read from the source: importing app.py runs it)."""
    tree = ast.parse((ROOT / "app.py").read_text(encoding="utf-8"))
    return [
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Page"
        and node.args and isinstance(node.args[0], ast.Constant)
    ]


def test_pages_are_listed():
    pages = _pages()
    assert pages[0] == "app_pages/overview.py"
    assert all((ROOT / p).is_file() for p in pages)


@pytest.mark.slow
@pytest.mark.parametrize("script", _pages())
def test_every_page_opens_offline(offline_page, app_url, screenshot, script):
    name = Path(script).stem
    page, watch = offline_page("en-US")
    page.goto(app_url, timeout=TIMEOUT)
    _ready(page)
    if script != _pages()[0]:
        # through the navigation, as a person would (a deep link makes Streamlit probe
        # /<page>/_stcore/ first, which answers 404 by design)
        page.locator(f"[data-testid='stSidebarNav'] a[href$='/{name}']").click()
        page.wait_for_url(f"**/{name}", timeout=TIMEOUT)
        _ready(page)
    expect(page.locator("[data-testid='stException']")).to_have_count(0)
    expect(page.locator("[data-testid='stSidebar']")).to_contain_text("Basemap")
    maps = page.locator(MAP_FRAME)
    for i in range(maps.count()):
        frame = page.frame_locator(MAP_FRAME).nth(i)
        frame.locator(".leaflet-container").wait_for(state="attached", timeout=TIMEOUT)
        _settle(page, frame)
    screenshot(page, f"page-{name}")
    watch.assert_clean()
