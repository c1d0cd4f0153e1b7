"""User text reaches the browser only as text: an HTML payload as camera id, camera name,
grid name and in a rejected row, uploaded and shown in tooltips and tables.

Every dialog the page (or the map's frame) opens is recorded: ``alert(1)`` would be
one. The payload must also appear literally where it is shown, and no ``<img>``
element with ``src=x`` may exist anywhere. On the Cameras page the compliance and
view tooltips, assembled in the browser on hover, are read as well: the grid's
tooltip must be exactly the text :class:`layers.cameras_analysis.TipSpec` gives for
the density table computed here from the same files.
"""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from _st_ready import wait_ready as _ready
from playwright.sync_api import expect

from gridmap.density import camera_density
from gridmap.ingest import read_layer
from layers.cameras_analysis import compliance_layer

pytestmark = pytest.mark.browser

XSS = "<img src=x onerror=alert(1)>"
TIMEOUT = 60_000
MAP_FRAME = "iframe[title='streamlit_folium.st_folium']"

# open the tooltip of the camera point whose tooltip carries the (escaped) payload
_OPEN_CAMERA_TIP = """() => new Promise(resolve => {
    let found = null, group = null;
    map_div.eachLayer(layer => {
        if (layer.getLayers && layer.options && layer.options.chunkedLoading) {
            layer.getLayers().forEach(m => {
                const c = m.getTooltip()._content;
                const text = typeof c === 'function' ? c(m) : c;
                if (text.includes('&lt;img src=x')) { found = m; group = layer; }
            });
        }
    });
    if (!found) { resolve(false); return; }
    group.zoomToShowLayer(found, () => { found.openTooltip(); resolve(true); });
})"""
# hover (a mouseover event) the grid polygon whose tooltip carries the payload
_OPEN_GRID_TIP = """() => {
    let hit = false;
    map_div.eachLayer(layer => {
        if (hit || !layer.feature || !layer.feature.properties) { return; }
        const tip = String(layer.feature.properties.tip || '');
        if (tip.includes('&lt;img src=x')) {
            map_div.fitBounds(layer.getBounds());
            layer.fire('mouseover', {latlng: layer.getBounds().getCenter()}, true);
            hit = true;
        }
    });
    return hit;
}"""

# tooltips built in the browser (layers.cameras_analysis.TipPolygons) are DOM elements:
# hover the feature whose tooltip text holds the raw payload and ``marker``
_OPEN_BUILT_TIP = """(el, marker) => {
    let hit = false;
    map_div.eachLayer(layer => {
        if (hit || !layer.feature || !layer.getTooltip || !layer.getTooltip()) { return; }
        const c = layer.getTooltip()._content;
        const tip = typeof c === 'function' ? c(layer) : null;
        if (!tip || typeof tip === 'string') { return; }
        if (tip.textContent.includes('<img src=x') && tip.textContent.includes(marker)) {
            map_div.fitBounds(layer.getBounds(), {animate: false});
            layer.fire('mouseover', {latlng: layer.getBounds().getCenter()}, true);
            hit = true;
        }
    });
    return hit;
}"""
# zoom (without animation) to the payload camera's point, where the views are drawn
_ZOOM_TO_CAMERA = """() => {
    let at = null;
    map_div.eachLayer(layer => {
        if (layer.getLayers && layer.options && layer.options.chunkedLoading) {
            layer.getLayers().forEach(m => {
                const c = m.getTooltip()._content;
                const text = typeof c === 'function' ? c(m) : c;
                if (text.includes('&lt;img src=x')) { at = m.getLatLng(); }
            });
        }
    });
    if (!at) { return false; }
    map_div.setView(at, 18, {animate: false});
    return true;
}"""


PAGE_TITLES = {"data": "Data", "overview": "One-network overview", "cameras": "Cameras"}


def _goto(page, name: str) -> None:
    """Open a page through the sidebar navigation (the overview is the app's root)."""
    title = PAGE_TITLES[name]
    page.locator("[data-testid='stSidebarNav']").get_by_role("link", name=title,
                                                              exact=True).click()
    expect(page.get_by_role("heading", name=title, exact=True)).to_be_visible(timeout=TIMEOUT)
    _ready(page)


def _upload(page, kind: str, path: Path) -> None:
    page.get_by_role("tab", name=kind, exact=True).click()
    box = page.locator("[data-testid='stFileUploader']").filter(has_text=f"Upload a {kind} file")
    box.locator("input[type=file]").set_input_files(str(path))
    expect(page.get_by_text(f"{path.name}: ", exact=False)).to_be_visible(timeout=TIMEOUT)
    _ready(page)


def _hostile_files(app_data: Path, folder: Path) -> tuple[Path, Path]:
    """Grids with the payload as one grid's name; cameras with it as one camera's id and
    name, and in a row rejected for its coordinates."""
    grids = gpd.read_file(app_data / "grids.gpkg", layer="grids")
    grids.loc[0, "name"] = XSS
    grids_file = folder / "hostile_grids.geojson"
    grids.to_file(grids_file, driver="GeoJSON")
    cams = read_layer(app_data / "cameras.csv", kind="cameras").data
    table = pd.DataFrame(cams.drop(columns="geometry"))
    table["lon"], table["lat"] = cams.geometry.x.round(7), cams.geometry.y.round(7)
    table.loc[0, ["camera_id", "name"]] = [XSS, XSS]
    bad = table.iloc[[1]].assign(camera_id=XSS, name=XSS, lon="not a number")
    cams_file = folder / "hostile_cameras.csv"
    pd.concat([table, bad]).to_csv(cams_file, index=False)
    return grids_file, cams_file


def _compliance_tip(grids_file: Path, cams_file: Path) -> str:
    """The compliance tooltip of the payload-named grid, from the same files, by the library."""
    grids = read_layer(grids_file, kind="grids").data
    cams = read_layer(cams_file, kind="cameras").data
    gid = grids["grid_id"].iloc[0]
    table = camera_density(cams, grids).table
    layer, _ = compliance_layer(table[table["unit"] == gid], lang="en", names={gid: XSS})
    return layer.spec.text(layer.rows[0])


def _check_built_tips(frame, container, grids_file: Path, cams_file: Path) -> None:
    """Hover the payload grid (compliance) and the payload camera's view; read the text."""
    assert container.evaluate(_OPEN_BUILT_TIP, "Completion") is True
    tip = frame.locator(".leaflet-tooltip", has_text="Completion")
    expect(tip).to_contain_text(XSS, timeout=TIMEOUT)
    expect(tip.locator("img")).to_have_count(0)
    assert tip.inner_text() == _compliance_tip(grids_file, cams_file)
    assert container.evaluate(_ZOOM_TO_CAMERA) is True
    assert container.evaluate(_OPEN_BUILT_TIP, "Range") is True
    view_tip = frame.locator(".leaflet-tooltip", has_text="Range")
    expect(view_tip).to_contain_text(XSS, timeout=TIMEOUT)
    expect(view_tip.locator("img")).to_have_count(0)
    assert re.fullmatch(rf"Camera {re.escape(XSS)} · \S.* · Range [\d,]+ m",
                        view_tip.inner_text())


def _no_injected_image(page) -> None:
    for frame in page.frames:
        assert frame.locator("img[src='x']").count() == 0, frame.url


def test_payload_is_text_in_tables_and_tooltips(offline_page, app_url, app_data, screenshot,
                                                 tmp_path):
    grids_file, cams_file = _hostile_files(app_data, tmp_path)
    page, watch = offline_page("en-US")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(app_url, timeout=TIMEOUT)
    _ready(page)
    _goto(page, "data")
    _upload(page, "grids", grids_file)
    _upload(page, "cameras", cams_file)

    # tables: the rejected row's name is a cell of text
    panel = page.get_by_role("tabpanel", name="cameras")
    expect(panel.get_by_text(XSS, exact=True).first).to_be_attached()
    _no_injected_image(page)
    screenshot(page, "escaping-data")

    page.get_by_role("button", name="Use my uploads").click()
    expect(page.locator("[data-testid='stSidebar']").get_by_text(
        "Uploaded in this session: grids, cameras")).to_be_visible(timeout=TIMEOUT)
    _ready(page)

    for name in ("overview", "cameras"):
        _goto(page, name)
        frame = page.frame_locator(MAP_FRAME).first
        container = frame.locator(".leaflet-container")
        container.wait_for(state="visible", timeout=TIMEOUT)
        frame.locator("path.leaflet-interactive").first.wait_for(state="attached",
                                                                 timeout=TIMEOUT)
        # the camera point's tooltip, opened as a hover would
        assert container.evaluate(_OPEN_CAMERA_TIP) is True
        tip = frame.locator(".leaflet-tooltip", has_text="onerror")
        expect(tip).to_contain_text(XSS, timeout=TIMEOUT)
        expect(tip.locator("img")).to_have_count(0)
        if name == "overview":  # grid tooltips: the overview draws the grids by name
            assert container.evaluate(_OPEN_GRID_TIP) is True
            expect(frame.locator(".leaflet-tooltip", has_text="onerror")).not_to_have_count(0)
            for text in frame.locator(".leaflet-tooltip", has_text="onerror").all_inner_texts():
                assert XSS in text
        else:  # compliance and view tooltips, assembled in the browser
            _check_built_tips(frame, container, grids_file, cams_file)
        _no_injected_image(page)
        screenshot(page, f"escaping-{name}")

    page.wait_for_timeout(500)  # an onerror handler would have fired by now
    assert dialogs == []
    watch.assert_clean()
