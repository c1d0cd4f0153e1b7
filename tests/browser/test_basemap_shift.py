"""Switching the basemap to AMap shifts what the map draws to GCJ-02, in headless Chromium.

With no basemap the camera points are drawn at their WGS84 positions; after the
sidebar basemap is switched to AMap/Gaode (whose tiles are in GCJ-02) every
point must move by the GCJ-02 offset, computed here independently with
:func:`gridmap.coords.wgs84_to_gcj02` from the cameras file. AMap tile requests
never leave the machine: the test answers them with a blank local PNG and only
checks that they went to AMap.
"""

from __future__ import annotations

import base64
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest
from _st_ready import wait_ready as _ready
from playwright.sync_api import expect
from pyproj import Geod

from gridmap.coords import wgs84_to_gcj02
from gridmap.ingest import read_layer

pytestmark = pytest.mark.browser

TIMEOUT = 60_000
MAP_FRAME = "iframe[title='streamlit_folium.st_folium']"
# a 1×1 transparent PNG, served for every AMap tile instead of the network
BLANK_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
# streamlit-folium names the map `map_div`: [lat, lng] of every camera marker in its cluster
_MARKERS_JS = """() => {
    const out = [];
    map_div.eachLayer(layer => {
        if (layer.getLayers && layer.options && layer.options.chunkedLoading) {
            layer.getLayers().forEach(m => { const p = m.getLatLng(); out.push([p.lat, p.lng]); });
        }
    });
    return out;
}"""
_TILES_JS = """() => {
    const urls = [];
    map_div.eachLayer(layer => { if (layer._url) { urls.push(layer._url); } });
    return urls;
}"""



def _markers(page, n_expected: int) -> np.ndarray:
    """Marker positions ``(n, 2)`` as (lat, lng), once all chunks are on the map."""
    frame = page.frame_locator(MAP_FRAME)
    container = frame.locator(".leaflet-container")
    container.wait_for(state="visible", timeout=TIMEOUT)
    pts: list = []
    for _ in range(120):
        pts = container.evaluate(_MARKERS_JS)
        if len(pts) == n_expected:
            break
        page.wait_for_timeout(250)
    assert len(pts) == n_expected, (len(pts), n_expected)
    return np.asarray(pts, dtype=float)


def _expected_points(app_data: Path) -> np.ndarray:
    """Camera points (lat, lon) in WGS84 from the file: the mean of each point's cameras."""
    cams = read_layer(app_data / "cameras.csv", kind="cameras").data
    frame = cams.assign(lon=cams.geometry.x, lat=cams.geometry.y)
    pid = frame["point_id"].astype(object).where(frame["point_id"].notna(), frame["camera_id"])
    mean = frame.groupby(pid.astype(str), sort=False)[["lat", "lon"]].mean()
    return mean.to_numpy()


def _match(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    """Largest distance (degrees) from each wanted point to its nearest drawn point."""
    d = np.abs(got[None, :, :] - want[:, None, :]).max(axis=2)
    return d.min(axis=1)


def test_amap_shifts_cameras_to_gcj02(offline_page, app_url, app_data, screenshot):
    page, watch = offline_page("en-US")
    tiles: list[str] = []

    def tile(route):
        tiles.append(route.request.url)
        route.fulfill(status=200, content_type="image/png", body=BLANK_PNG)

    page.route("https://*.is.autonavi.com/**", tile)
    want = _expected_points(app_data)  # WGS84 (lat, lon)
    page.goto(app_url, timeout=TIMEOUT)
    _ready(page)
    before = _markers(page, len(want))
    # with no basemap the points are where the file puts them (markers carry 6 decimals)
    assert _match(before, want).max() < 1e-6
    frame = page.frame_locator(MAP_FRAME)
    assert frame.locator(".leaflet-container").evaluate(_TILES_JS) == []
    screenshot(page, "basemap-none")

    sidebar = page.locator("[data-testid='stSidebar']")
    sidebar.get_by_test_id("stSelectbox").filter(has_text="Basemap").click()
    page.get_by_role("option", name="AMap / Gaode (GCJ-02)").click()
    expect(page.locator(MAP_FRAME)).to_have_count(1, timeout=TIMEOUT)
    _ready(page)
    frame = page.frame_locator(MAP_FRAME)
    expect(frame.locator(".leaflet-tile-container img").first).to_be_attached(timeout=TIMEOUT)
    urls = frame.locator(".leaflet-container").evaluate(_TILES_JS)
    assert len(urls) == 1, urls
    assert urlparse(urls[0]).hostname == "webrd0{s}.is.autonavi.com", urls
    after = _markers(page, len(want))

    # the same points, moved by the GCJ-02 offset computed independently from the file
    glon, glat = wgs84_to_gcj02(want[:, 1], want[:, 0])
    want_gcj = np.column_stack([glat, glon])
    assert _match(after, want_gcj).max() < 1e-6
    # ... which is the offset of the points drawn before (each rounded to 1e-6°)
    blon, blat = wgs84_to_gcj02(before[:, 1], before[:, 0])
    assert _match(after, np.column_stack([blat, blon])).max() < 2e-6
    # and nothing stayed where it was: near Jiaxing the shift is a few hundred metres
    _, _, metres = Geod(ellps="WGS84").inv(want[:, 1], want[:, 0], glon, glat)
    assert metres.min() > 300, metres.min()
    assert metres.max() < 700, metres.max()
    assert _match(after, want).min() > 1e-6  # no point is left at its WGS84 position

    screenshot(page, "basemap-amap")
    assert tiles, "no AMap tile was requested"
    assert {urlparse(u).hostname for u in tiles} <= {f"webrd0{i}.is.autonavi.com" for i in "1234"}
    watch.assert_clean()
