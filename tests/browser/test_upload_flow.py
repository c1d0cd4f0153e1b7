"""Upload → analysis → download in headless Chromium, offline.

A planner uploads grids (the small demo's GeoPackage) and a cameras CSV written
from half the small demo's cameras with one malformed line, reads the ingest report, downloads
the rejected row, switches the data source to "my uploads", opens the Cameras
page and downloads its density table — whose camera counts are checked against
an independent ``geopandas.sjoin`` of the uploaded files.
"""

from __future__ import annotations

import io
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from _st_ready import wait_ready as _ready
from playwright.sync_api import expect

from gridmap.ingest import read_layer

pytestmark = pytest.mark.browser

TIMEOUT = 60_000
BROKEN_LINE = "BROKEN,LINE,with,far,too,many,fields,1,2,3,4,5,6,7,8,9,10,11,12,13,14\n"



def _goto(page, name: str) -> None:
    """Open a page through the sidebar navigation, as a person would."""
    page.locator(f"[data-testid='stSidebarNav'] a[href$='/{name}']").click()
    page.wait_for_url(f"**/{name}", timeout=TIMEOUT)
    _ready(page)


def _upload(page, kind: str, path: Path) -> None:
    page.get_by_role("tab", name=kind, exact=True).click()
    box = page.locator("[data-testid='stFileUploader']").filter(has_text=f"Upload a {kind} file")
    box.locator("input[type=file]").set_input_files(str(path))
    expect(page.get_by_text(f"{path.name}: ", exact=False)).to_be_visible(timeout=TIMEOUT)
    _ready(page)


def _cameras_csv(app_data: Path, out: Path) -> gpd.GeoDataFrame:
    """Every other camera of the small demo as a plain lon/lat CSV, plus one malformed line.

    Half the cameras: the density table then differs from the demo district's.
    """
    cams = read_layer(app_data / "cameras.csv", kind="cameras").data.iloc[::2]
    cams = cams.reset_index(drop=True)
    table = pd.DataFrame(cams.drop(columns=["geometry", "gb28181_id"]))
    table["lon"], table["lat"] = cams.geometry.x.round(7), cams.geometry.y.round(7)
    out.write_text(table.to_csv(index=False) + BROKEN_LINE, encoding="utf-8")
    return cams


def test_upload_analyse_download(offline_page, app_url, app_data, screenshot, tmp_path):
    cams_file = tmp_path / "my_cameras.csv"
    cams = _cameras_csv(app_data, cams_file)
    grids = gpd.read_file(app_data / "grids.gpkg", layer="grids")
    page, watch = offline_page("en-US")
    page.goto(app_url, timeout=TIMEOUT)
    _ready(page)
    _goto(page, "data")

    _upload(page, "grids", app_data / "grids.gpkg")
    expect(page.get_by_text(f"grids.gpkg: {len(grids)} of {len(grids)} rows read")).to_be_visible()
    _upload(page, "cameras", cams_file)
    n = len(cams)
    expect(page.get_by_text(f"my_cameras.csv: {n} of {n + 1} rows read")).to_be_visible()
    panel = page.get_by_role("tabpanel", name="cameras")
    expect(panel.get_by_test_id("stMetric").filter(has_text="Rejected")).to_contain_text("1")
    screenshot(page, "upload-data")

    # the rejected line, downloaded through gridmap.export
    with page.expect_download(timeout=TIMEOUT) as info:
        panel.get_by_role("button", name="Download rejected rows (CSV)").click()
    download = info.value
    assert download.suggested_filename == "cameras_rejected.csv"
    rejected = pd.read_csv(download.path(), dtype=str, encoding="utf-8-sig")
    assert rejected["row"].tolist() == [str(n + 1)]
    assert rejected["reason"].tolist() == ["malformed line"]

    # analyse the uploads
    page.get_by_role("button", name="Use my uploads").click()
    sidebar = page.locator("[data-testid='stSidebar']")
    expect(sidebar.get_by_text("Uploaded in this session: grids, cameras")).to_be_visible(
        timeout=TIMEOUT)
    _ready(page)
    _goto(page, "cameras")
    expect(page.locator("[data-testid='stException']")).to_have_count(0)
    expect(page.get_by_role("tab", name="Density table")).to_be_visible()
    expect(page.get_by_role("tabpanel", name="Density table").get_by_test_id("stDataFrame")
           ).to_be_visible()
    expect(page.get_by_text("not real data")).to_have_count(0)  # uploads are not synthetic
    screenshot(page, "upload-cameras")

    with page.expect_download(timeout=TIMEOUT) as info:
        page.get_by_role("tabpanel", name="Density table").get_by_role(
            "button", name="Download (CSV)").click()
    download = info.value
    assert download.suggested_filename == "density_grid.csv"
    table = pd.read_csv(io.StringIO(Path(download.path()).read_text(encoding="utf-8-sig")),
                        dtype={"unit": str})
    assert sorted(table["unit"]) == sorted(grids["grid_id"].astype(str))
    # built cameras per grid, counted independently of gridmap
    built = cams[cams["status"] != "planned"]
    joined = gpd.sjoin(built, grids[["grid_id", "geometry"]], predicate="within")
    expected = joined.groupby("grid_id").size()
    got = table.set_index("unit")["cameras"]
    assert got.sum() == len(joined)
    for gid, count in got.items():
        assert count == expected.get(gid, 0), gid
    online = joined[joined["status"] == "online"].groupby("grid_id").size()
    assert table.set_index("unit")["online"].to_dict() == {
        gid: online.get(gid, 0) for gid in table["unit"]}
    watch.assert_clean()
