"""Tests of the Streamlit app without a browser (streamlit.testing AppTest).

The app reads a tiny hand-made data folder (``GRIDMAP_DATA_DIR``): 2×2 grids in
two streets and three communities, 5 cameras on 3 points, 7 incidents of which
one lies outside every grid — so every key figure is known in advance.
"""

from __future__ import annotations

import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from streamlit.testing.v1 import AppTest

from gridmap import GridmapError

ROOT = Path(__file__).resolve().parents[1]
X0, Y0, SIDE = 540_000.0, 3_402_000.0, 500.0


def _write_folder(path: Path) -> None:
    boxes = [
        shapely.box(X0 + i * SIDE, Y0 + j * SIDE, X0 + (i + 1) * SIDE, Y0 + (j + 1) * SIDE)
        for i in range(2) for j in range(2)
    ]
    grids = gpd.GeoDataFrame(
        {
            "grid_id": ["G00", "G01", "G10", "G11"],
            "name": ["网格00", "网格01", "网格10", "网格11"],
            "district_code": "330402",
            "street_code": ["S1", "S1", "S2", "S2"],
            "community_code": ["C1", "C2", "C3", "C3"],
            "zone": "urban",
        },
        geometry=boxes, crs="EPSG:4549",
    ).to_crs(4326)
    path.mkdir(parents=True)
    grids.to_file(path / "grids.gpkg", layer="grids")
    streets = grids.dissolve("street_code").reset_index()[["street_code", "geometry"]]
    streets["name"] = ["南湖街道", "新兴街道"]
    streets.to_file(path / "grids.gpkg", layer="streets")
    communities = grids.dissolve("community_code").reset_index()[["community_code", "geometry"]]
    communities["name"] = ["一社区", "二社区", "三社区"]
    communities.to_file(path / "grids.gpkg", layer="communities")

    def lonlat(xy):
        pts = gpd.GeoSeries([shapely.Point(X0 + x, Y0 + y) for x, y in xy], crs=4549).to_crs(4326)
        return pts.x.round(8), pts.y.round(8)

    lon, lat = lonlat([(100, 100), (104, 100), (700, 300), (700, 300), (300, 800)])
    pd.DataFrame(
        {
            "camera_id": ["c1", "c2", "c3", "c4", "c5"],
            "point_id": ["P1", "P1", "P2", "P2", "P3"],
            "kind": ["dome", "bullet", "ptz", "dome", "other"],
            "status": ["online", "online", "online", "offline", "planned"],
            "lon": lon, "lat": lat,
        }
    ).to_csv(path / "cameras.csv", index=False)
    xy = [(100, 100), (120, 110), (130, 90), (700, 300), (710, 320), (300, 800), (5000, 5000)]
    gpd.GeoDataFrame(
        {"incident_id": [f"E{i}" for i in range(len(xy))], "category": "road"},
        geometry=[shapely.Point(X0 + x, Y0 + y) for x, y in xy], crs=4549,
    ).to_crs(4326).to_parquet(path / "incidents.parquet")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("app") / "data"
    _write_folder(path)
    return path


@pytest.fixture
def app(data_dir, monkeypatch) -> AppTest:
    monkeypatch.setenv("GRIDMAP_DATA_DIR", str(data_dir))
    monkeypatch.delenv("TIANDITU_KEY", raising=False)
    if str(ROOT) not in sys.path:
        monkeypatch.syspath_prepend(str(ROOT))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["ws.lang"] = "en"
    return at.run()


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_overview_runs_and_shows_key_figures(app):
    assert not app.exception
    assert _metrics(app) == {
        "Grids": "4", "Streets": "2", "Communities": "3",
        "Camera points": "3", "Cameras": "5", "Incidents": "7",
    }
    assert app.title[0].value == "One-network overview"
    assert "Synthetic demo district — not real data" in app.info[0].value
    assert "合成演示数据（非真实数据）" in app.info[0].value
    # the incident outside every grid is counted, not dropped
    assert any("1 incidents lie outside every grid" in c.value for c in app.caption)


def test_language_switch_changes_labels(app):
    app.radio(key="ws.lang").set_value("zh").run()
    assert not app.exception
    assert app.title[0].value == "一张网总览"
    assert set(_metrics(app)) == {"网格", "街道", "社区", "监控点位", "摄像机", "事件"}
    assert app.radio(key="overview.colour_by").options == ["按街道", "按社区"]
    app.radio(key="ws.lang").set_value("en").run()
    assert app.title[0].value == "One-network overview"


def test_colour_by_community_and_amap_basemap_run(app):
    app.radio(key="overview.colour_by").set_value("community_code").run()
    assert not app.exception
    app.selectbox(key="ws.basemap").set_value("amap").run()
    assert not app.exception
    assert any("internet" in c.value for c in app.sidebar.caption)


def test_custom_basemap_waits_for_a_url(app):
    app.selectbox(key="ws.basemap").set_value("custom").run()
    assert not app.exception
    assert any("Enter a tile URL" in i.value for i in app.sidebar.info)
    assert not app.error
    app.text_input(key="ws.custom_url").input("https://t.example.org/{z}/{y}.png").run()
    assert any("lacks {x}" in e.value for e in app.error)
    app.text_input(key="ws.custom_url").input("https://t.example.org/{z}/{x}/{y}.png").run()
    assert not app.error
    assert not app.exception


def test_tianditu_without_key_warns(app):
    app.selectbox(key="ws.basemap").set_value("tianditu").run()
    assert any("TIANDITU_KEY" in w.value for w in app.sidebar.warning)
    # the map cannot be built without the key: a clear error, no exception
    assert not app.exception
    assert any("TIANDITU_KEY" in e.value for e in app.error)


def test_bad_data_folder_shows_a_fix(tmp_path, monkeypatch):
    bad = tmp_path / "not-demo"
    bad.mkdir()
    (bad / "notes.txt").write_text("x")
    monkeypatch.setenv("GRIDMAP_DATA_DIR", str(bad))
    if str(ROOT) not in sys.path:
        monkeypatch.syspath_prepend(str(ROOT))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["ws.lang"] = "en"
    at.run()
    assert not at.exception
    assert any("GRIDMAP_DATA_DIR" in e.value for e in at.error)


def test_first_run_generates_the_demo_district(tmp_path, monkeypatch):
    target = tmp_path / "fresh" / "demo"
    monkeypatch.setenv("GRIDMAP_DATA_DIR", str(target))
    monkeypatch.setenv("GRIDMAP_DEMO_SCALE", "small")
    if str(ROOT) not in sys.path:
        monkeypatch.syspath_prepend(str(ROOT))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["ws.lang"] = "en"
    at.run()
    assert not at.exception
    for name in ("grids.gpkg", "cameras.csv", "incidents.parquet"):
        assert (target / name).is_file()
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".demo-")]
    grids = gpd.read_file(target / "grids.gpkg", layer="grids")
    incidents = pd.read_parquet(target / "incidents.parquet")
    figures = _metrics(at)
    assert figures["Grids"] == f"{len(grids):,}"
    assert figures["Incidents"] == f"{len(incidents):,}"

    # the other layers of the folder, for pages to come
    import importlib

    workspace = importlib.import_module("app_pages._workspace")
    ws = workspace.Workspace(lang="en", source="demo", data_dir=target, basemap="none")
    places = workspace.load_extra(ws, "places")
    assert len(places) == len(pd.read_csv(target / "places.csv"))
    assert places.crs.to_epsg() == 4326
    assert workspace.load_extra(ws, "boundary").geom_type.isin(["Polygon", "MultiPolygon"]).all()
    assert workspace.population_path(ws).is_file()
    with pytest.raises(GridmapError, match="unknown layer"):
        workspace.load_extra(ws, "people")
