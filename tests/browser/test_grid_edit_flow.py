"""Edit a grid → save a version → compare, on the Grids page in headless Chromium, offline.

A planner saves the current plan as version "before", merges two neighbouring
grids (the pair sharing the longest border, found here with shapely from the
grids file), watches the live balance figures change (one grid fewer, the
target residents per grid up by k/(k-1)), saves "merged" and compares the two
versions. The units the comparison reports as moved are counted independently
from the unit → grid table downloaded before the merge; the table downloaded
after the merge shows those units in the merged grid and nothing else changed.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from _st_ready import wait_ready as _ready
from playwright.sync_api import expect

from gridmap.crs import to_metric

pytestmark = pytest.mark.browser

TIMEOUT = 60_000
MAP_FRAME = "iframe[title='streamlit_folium.st_folium']"



def _neighbours(grids: gpd.GeoDataFrame) -> tuple[str, str]:
    """The two grids sharing the longest border (metres, in a metric CRS)."""
    g = to_metric(grids[["grid_id", "geometry"]]).reset_index(drop=True)
    pairs = gpd.sjoin(g, g, predicate="touches")
    pairs = pairs[pairs["grid_id_left"] < pairs["grid_id_right"]]
    length = [
        g.geometry.iloc[i].intersection(g.geometry.iloc[j]).length
        for i, j in zip(pairs.index, pairs["index_right"], strict=True)
    ]
    best = pairs.iloc[max(range(len(length)), key=length.__getitem__)]
    return str(best["grid_id_left"]), str(best["grid_id_right"])


def _inside(grids: gpd.GeoDataFrame, grid_id: str) -> tuple[float, float, float]:
    """(lat, lon, radius_m): the centre of the grid's largest inscribed circle, in WGS84.

    A click there falls on a 200 m unit lying (almost) wholly in that grid when
    the radius exceeds the unit's half-diagonal, so the page must select that grid.
    """
    g = to_metric(grids[grids["grid_id"].astype(str) == grid_id][["geometry"]])
    circle = shapely.maximum_inscribed_circle(g.geometry.iloc[0])
    centre = gpd.GeoSeries([shapely.get_point(circle, 0)], crs=g.crs).to_crs(4326).iloc[0]
    return centre.y, centre.x, circle.length


def _click_map(page, lat: float, lon: float) -> None:
    """Click the Leaflet map at a WGS84 position (no basemap: drawn without a shift)."""
    frame = page.frame_locator(MAP_FRAME)
    container = frame.locator(".leaflet-container")
    x, y = container.evaluate(
        "(el, ll) => { const p = map_div.latLngToContainerPoint(ll); return [p.x, p.y]; }",
        [lat, lon])
    box = container.bounding_box()
    assert 0 < x < box["width"], (x, box)
    assert 0 < y < box["height"], (y, box)
    container.click(position={"x": x, "y": y})


def _metric(page, label: str) -> str:
    box = page.get_by_test_id("stMetric").filter(
        has=page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True))
    return box.get_by_test_id("stMetricValue").inner_text().strip()


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def _download(page, button: str, filename: str) -> str:
    """The text of a file downloaded from the Versions tab (written when clicked)."""
    page.get_by_role("tab", name="Versions & downloads").click()
    with page.expect_download(timeout=TIMEOUT) as info:
        page.get_by_role("button", name=button).click()
    download = info.value
    assert download.suggested_filename == filename
    return Path(download.path()).read_text(encoding="utf-8-sig")


def _assignment(page) -> pd.DataFrame:
    """The unit → grid table, downloaded from the Versions tab."""
    text = _download(page, "Download unit → grid table (CSV)", "unit_grid.csv")
    return pd.read_csv(io.StringIO(text), dtype=str).set_index("unit_id")["grid_id"]


def _save_version(page, name: str) -> None:
    page.get_by_role("tab", name="Versions & downloads").click()
    box = page.get_by_test_id("stTextInput").filter(has_text="Version name").locator("input")
    box.fill(name)
    box.press("Enter")
    _ready(page)
    page.get_by_role("button", name="Save version").click()
    expect(page.get_by_text(f"Saved version {name}.")).to_be_visible(timeout=TIMEOUT)
    _ready(page)


def _choose(page, label: str, option: str) -> None:
    page.get_by_test_id("stSelectbox").filter(has_text=label).click()
    page.get_by_role("option", name=option, exact=True).click()
    _ready(page)


def test_merge_save_compare(offline_page, app_url, app_data, screenshot):
    grids = gpd.read_file(app_data / "grids.gpkg", layer="grids")
    keep, gone = _neighbours(grids)
    page, watch = offline_page("en-US")
    page.goto(app_url, timeout=TIMEOUT)
    _ready(page)
    page.locator("[data-testid='stSidebarNav'] a[href$='/grids']").click()
    page.wait_for_url("**/grids", timeout=TIMEOUT)
    _ready(page)
    expect(page.get_by_role("heading", name="Grid partition")).to_be_visible()
    page.frame_locator(MAP_FRAME).locator("path.leaflet-interactive").first.wait_for(
        state="attached", timeout=TIMEOUT)
    expect(page.locator("[data-testid='stException']")).to_have_count(0)

    # the plan starts as the grids of the file
    k0 = int(_number(_metric(page, "Grids")))
    assert k0 == len(grids)
    target0 = _number(_metric(page, "Target residents per grid"))
    before = _assignment(page)
    assert sorted(before.unique()) == sorted(grids["grid_id"].astype(str))
    _save_version(page, "before")
    screenshot(page, "grid-edit-1-saved-before")

    # select one grid by clicking the map, its neighbour with the widget, and merge them
    page.get_by_role("tab", name="Edit").click()
    lat, lon, radius = _inside(grids, keep)
    assert radius > 200 * 2**0.5 * 0.85, radius  # deep enough inside for an unambiguous unit
    _click_map(page, lat, lon)
    expect(page.get_by_text(re.compile(rf"Clicked unit \S+ \(in {keep}\)"))).to_be_visible(
        timeout=TIMEOUT)
    _ready(page)
    select = page.get_by_test_id("stMultiSelect").filter(has_text="Selected grids")
    expect(select).to_contain_text(keep)
    select.locator("input").click()
    select.locator("input").press_sequentially(gone)
    page.get_by_role("option", name=gone, exact=True).click()
    _ready(page)
    page.keyboard.press("Escape")  # close the drop-down
    expect(page.get_by_role("option", name=keep, exact=True)).to_have_count(0)
    expect(select).to_contain_text(keep)
    expect(select).to_contain_text(gone)
    screenshot(page, "grid-edit-2-selected")
    page.get_by_role("button", name="Merge").click()
    _ready(page)
    expect(page.get_by_test_id("stMetric").filter(has_text=re.compile(r"^Grids"))
           ).to_contain_text(str(k0 - 1), timeout=TIMEOUT)
    k1 = int(_number(_metric(page, "Grids")))
    assert k1 == k0 - 1
    # same residents over one grid fewer: the target per grid grows by k/(k-1)
    target1 = _number(_metric(page, "Target residents per grid"))
    assert abs(target1 - target0 * k0 / (k0 - 1)) <= 1.0, (target0, target1)
    page.get_by_text("Edit history").click()
    expect(page.get_by_text(f"1. merge {keep}, {gone} into {keep}")).to_be_visible()
    expect(page.locator("[data-testid='stException']")).to_have_count(0)
    screenshot(page, "grid-edit-3-merged")

    # only the units of the merged-away grid changed grid, all into the kept one
    after = _assignment(page)
    moved = before.index[before != after.reindex(before.index)]
    assert set(moved) == set(before.index[before == gone])
    assert (after[moved] == keep).all()
    assert gone not in set(after)
    assert len(moved) > 0
    # the grids and their codes are downloaded as the plan is now: one grid fewer
    plan = gpd.read_file(io.StringIO(_download(page, "Download grids (GeoJSON)",
                                               "grids.geojson")))
    assert sorted(plan["grid_id"].astype(str)) == sorted(set(after))
    assert plan.crs.to_epsg() == 4326
    codes = pd.read_csv(io.StringIO(_download(page, "Download grid codes (CSV)",
                                              "grid_codes.csv")), dtype=str)
    assert sorted(codes["grid_id"]) == sorted(set(after))
    assert codes["code"].is_unique

    _save_version(page, "merged")
    screenshot(page, "grid-edit-4-saved-merged")
    _choose(page, "Compare: version A", "before")
    _choose(page, "version B", "merged")
    page.get_by_role("button", name="Compare", exact=True).click()
    _ready(page)
    # the kept grid grew and the other one disappeared: two grids changed
    expect(page.get_by_text(f"{len(moved)} units changed grid; 2 grids changed.")).to_be_visible(
        timeout=TIMEOUT)
    panel = page.get_by_role("tabpanel", name="Versions & downloads")
    expect(panel.get_by_test_id("stDataFrame")).to_have_count(2)  # saved versions, comparison
    expect(page.locator("[data-testid='stException']")).to_have_count(0)
    screenshot(page, "grid-edit-5-compared")
    watch.assert_clean()
