"""Tests of the Data page, the "my uploads" data source and sign-in (AppTest, no browser).

Uploads are small hand-made files around 2×2 square grids of 500 m in EPSG:4549
(two streets, three communities), so every count is known in advance.
"""

from __future__ import annotations

import ast
import gc
import io
import os
import sys
import time
import tomllib
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
import streamlit
from rasterio.transform import Affine
from streamlit.testing.v1 import AppTest

from gridmap.coords import transform_lonlat

ROOT = Path(__file__).resolve().parents[1]
X0, Y0, SIDE = 540_000.0, 3_402_000.0, 500.0
PASSWORD = "correct horse 马 battery"


# ------------------------------------------------------------------ fixtures


def _grids() -> gpd.GeoDataFrame:
    boxes = [
        shapely.box(X0 + i * SIDE, Y0 + j * SIDE, X0 + (i + 1) * SIDE, Y0 + (j + 1) * SIDE)
        for i in range(2) for j in range(2)
    ]
    return gpd.GeoDataFrame(
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


def _lonlat(xy: list[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 longitude/latitude of points given in metres from the grids' corner."""
    pts = gpd.GeoSeries([shapely.Point(X0 + x, Y0 + y) for x, y in xy], crs=4549).to_crs(4326)
    return pts.x.to_numpy(), pts.y.to_numpy()


CAMERA_XY = [(100, 100), (104, 100), (700, 300), (700, 300), (300, 800)]


def _cameras_csv() -> bytes:
    """5 cameras on 3 points (as in tests/test_app.py)."""
    lon, lat = _lonlat(CAMERA_XY)
    return pd.DataFrame({
        "camera_id": ["c1", "c2", "c3", "c4", "c5"],
        "point_id": ["P1", "P1", "P2", "P2", "P3"],
        "kind": ["dome", "bullet", "ptz", "dome", "other"],
        "status": ["online", "online", "online", "offline", "planned"],
        "lon": lon.round(8), "lat": lat.round(8),
    }).to_csv(index=False).encode()


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory) -> Path:
    """A tiny demo folder, so the app starts (on the demo source) without generating one."""
    path = tmp_path_factory.mktemp("data_page") / "demo"
    path.mkdir()
    _grids().to_file(path / "grids.gpkg", layer="grids")
    (path / "cameras.csv").write_bytes(_cameras_csv())
    lon, lat = _lonlat([(50, 50)])
    gpd.GeoDataFrame({"incident_id": ["E1"], "category": ["road"]},
                     geometry=shapely.points(lon, lat), crs=4326).to_parquet(
        path / "incidents.parquet")
    return path


@pytest.fixture(autouse=True)
def _importable(monkeypatch):
    """``app_pages`` is imported from the project root, as ``streamlit run app.py`` does."""
    if str(ROOT) not in sys.path:
        monkeypatch.syspath_prepend(str(ROOT))


@pytest.fixture
def upload_root(tmp_path) -> Path:
    return tmp_path / "uploads"


@pytest.fixture
def env(demo_dir, upload_root, monkeypatch):
    monkeypatch.setenv("GRIDMAP_DATA_DIR", str(demo_dir))
    monkeypatch.setenv("GRIDMAP_UPLOAD_DIR", str(upload_root))
    monkeypatch.delenv("GRIDMAP_PASSWORD", raising=False)
    monkeypatch.delenv("TIANDITU_KEY", raising=False)


def _new_app(lang: str = "en") -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["ws.lang"] = lang
    return at


@pytest.fixture
def page(env) -> AppTest:
    """The app opened on the Data page."""
    at = _new_app().run()
    at.switch_page("app_pages/data.py").run()
    assert not at.exception
    return at


@pytest.fixture
def downloads(monkeypatch) -> list[tuple[str, object, dict]]:
    """Every ``st.download_button`` call: (label, data, options); the button still renders."""
    calls: list[tuple[str, object, dict]] = []
    original = streamlit.download_button

    def record(label, data, **kw):
        calls.append((label, data, kw))
        return original(label, data, **kw)

    monkeypatch.setattr(streamlit, "download_button", record)
    return calls


def _upload(at: AppTest, kind: str, name: str, content: bytes) -> AppTest:
    at.file_uploader(key=f"data.file.{kind}").upload(name, content).run()
    assert not at.exception, at.exception
    return at


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _uploads(at: AppTest):
    return at.session_state["ws.uploads"]


def _button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


# ------------------------------------------------------------------ uploads and reports


def test_upload_csv_shows_the_ingest_report(page):
    lon, lat = _lonlat([(100, 100), (300, 300), (600, 600)])
    csv = (
        "camera_id,name,lon,lat\n"
        f"a1,gate,{lon[0]},{lat[0]}\n"
        "a2,no place,,\n"                       # missing coordinate
        f"a1,again,{lon[1]},{lat[1]}\n"         # duplicate id
        f"a3,\"=HYPERLINK(\"\"http://x\"\")\",{lon[2]},{lat[2]}\n"
        "a4,far,200.5,95.1\n"                    # out of range
    ).encode()
    _upload(page, "cameras", "cams.csv", csv)
    assert _metrics(page) == {"Rows": "5", "Accepted": "2", "Repaired": "0", "Rejected": "3"}
    assert any(s.value.startswith("cams.csv: 2 of 5 rows read") for s in page.success)
    reasons = page.dataframe[1].value
    assert dict(zip(reasons["Reason"], reasons["Rows"], strict=True)) == {
        "missing coordinate": 1, "duplicate id": 1, "out of range": 1}
    rejected = page.dataframe[-1].value
    assert rejected["Row"].tolist() == [2, 3, 5]
    assert rejected["name"].tolist() == ["no place", "again", "far"]
    # the stored layer is what the pages will read
    stored = gpd.read_parquet(_uploads(page).layer_path("cameras"))
    assert stored["camera_id"].tolist() == ["a1", "a3"]
    status = page.dataframe[0].value.set_index("Layer")
    assert status.loc["cameras", "Rows kept"] == 2
    assert status.loc["cameras", "Rows rejected"] == 3
    assert status.loc["grids", "File"] == "not uploaded"
    # the session folder's path is never shown; the file name is
    assert not any(str(_uploads(page).path) in e.value for e in page.error)


def test_rejected_rows_download_neutralises_formulas(page, downloads):
    lon, lat = _lonlat([(100, 100)])
    csv = (
        "camera_id,name,lon,lat\n"
        f"k1,ok,{lon[0]},{lat[0]}\n"
        "k2,=1+2,,\n"
        "k3,@SUM(A1),abc,30\n"
        "k4,-5,,\n"
    ).encode()
    _upload(page, "cameras", "cams.csv", csv)
    label, data, kw = next(c for c in downloads if c[2].get("key") == "data.dl_rejected.cameras")
    assert label == "Download rejected rows (CSV)"
    assert kw["file_name"] == "cameras_rejected.csv"
    text = (data() if callable(data) else data).decode("utf-8-sig")
    back = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    assert back["row"].tolist() == ["2", "3", "4"]
    # formulas get a leading quote; a negative number stays a number
    assert back["name"].tolist() == ["'=1+2", "'@SUM(A1)", "-5"]
    assert back["reason"].tolist() == ["missing coordinate", "unparseable coordinate",
                                       "missing coordinate"]


def test_column_mapping_when_detection_fails(page):
    lon, lat = _lonlat([(100, 100), (600, 700)])
    csv = (f"ident,pos_a,pos_b\nq1,{lon[0]},{lat[0]}\nq2,{lon[1]},{lat[1]}\n").encode()
    _upload(page, "cameras", "odd.csv", csv)
    assert any("no longitude column found" in e.value for e in page.error)
    assert any("odd.csv" in e.value for e in page.error)
    assert not _uploads(page).layer_path("cameras").exists()
    assert page.selectbox(key="data.map_lon.cameras").options == [
        "(automatic)", "ident", "pos_a", "pos_b"]
    page.selectbox(key="data.map_lon.cameras").set_value("pos_a")
    page.selectbox(key="data.map_lat.cameras").set_value("pos_b")
    page.selectbox(key="data.map_id.cameras").set_value("ident")
    _button(page, "Read again with these columns").click().run()
    assert not page.exception
    assert not page.error
    assert _metrics(page)["Accepted"] == "2"
    stored = gpd.read_parquet(_uploads(page).layer_path("cameras"))
    assert stored["camera_id"].tolist() == ["q1", "q2"]
    np.testing.assert_allclose(stored.geometry.x, lon, atol=1e-9)
    np.testing.assert_allclose(stored.geometry.y, lat, atol=1e-9)


def _zip(members: dict[str, bytes], *, compression=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


@pytest.mark.parametrize(("name", "content", "message"), [
    ("bad.zip", b"PK\x03\x04 this is not a zip", "not a valid zip archive"),
    ("evil.zip", _zip({"../../evil.csv": b"a,b\n1,2\n"}), "path traversal"),
    ("bomb.zip", _zip({"zeros.csv": b"0" * 3_000_000}), "decompression bomb"),
    ("cams.exe", b"MZ\x90\x00", "unknown format '.exe'"),
    ("two.zip", _zip({"a.csv": b"x,y\n1,2\n", "b.csv": b"x,y\n1,2\n"}), "expected one layer"),
    ("empty.csv", b"", "file is empty"),
])
def test_bad_uploads_show_a_message_not_an_exception(page, name, content, message):
    _upload(page, "cameras", name, content)
    assert not page.exception
    assert any(message in e.value for e in page.error), [e.value for e in page.error]
    assert not _uploads(page).layer_path("cameras").exists()
    # nothing escaped the session folder
    assert not (_uploads(page).path.parent / "evil.csv").exists()


def test_zipped_shapefile_grids(page, tmp_path):
    shp = tmp_path / "shp"
    shp.mkdir()
    # shapefile fields hold 10 characters: short header aliases, as real exports have
    short = _grids().to_crs(4549).rename(columns={
        "district_code": "district", "street_code": "street", "community_code": "community"})
    short.to_file(shp / "grids.shp", encoding="utf-8")
    members = {p.name: p.read_bytes() for p in shp.iterdir()}
    _upload(page, "grids", "grids.zip", _zip(members))
    assert not page.error
    stored = gpd.read_parquet(_uploads(page).layer_path("grids"))
    assert stored.crs.to_epsg() == 4326
    assert sorted(stored["grid_id"]) == ["G00", "G01", "G10", "G11"]
    # streets and communities are dissolved from the grids' codes
    streets = gpd.read_parquet(_uploads(page).layer_path("streets"))
    assert sorted(streets["street_code"]) == ["S1", "S2"]
    expected = _grids().to_crs(4549).dissolve("street_code").area.sort_index().to_numpy()
    np.testing.assert_allclose(streets.to_crs(4549).sort_values("street_code").area, expected,
                               rtol=1e-6)


# ------------------------------------------------------------------ coordinate systems


def test_gcj02_cameras_warn_and_the_fix_rereads_them(page):
    # a 6×6 lattice inside the grids, written in GCJ-02 (as exported from AMap)
    xy = [(80 + 168 * i, 80 + 168 * j) for i in range(6) for j in range(6)]
    lon, lat = _lonlat(xy)
    glon, glat = transform_lonlat(lon, lat, source="wgs84", target="gcj02")
    csv = pd.DataFrame({"camera_id": [f"c{i}" for i in range(len(xy))],
                        "lng": glon.round(8), "lat": glat.round(8)}).to_csv(index=False).encode()
    _upload(page, "grids", "grids.geojson", _grids().to_json().encode())
    _upload(page, "cameras", "amap.csv", csv)
    warning = next(w.value for w in page.warning if "Coordinate systems disagree" in w.value)
    assert "GCJ-02" in warning
    assert "choose GCJ-02 as the coordinate system of the cameras upload" in warning
    _button(page, "Read cameras as GCJ-02").click().run()
    assert not page.exception
    assert page.selectbox(key="data.crs.cameras").value == "gcj02"
    assert not any("Coordinate systems disagree" in w.value for w in page.warning)
    assert any("no datum offset found" in c.value for c in page.caption)
    stored = gpd.read_parquet(_uploads(page).layer_path("cameras"))
    # back within 1e-5° (about 1 m) of where the cameras are
    np.testing.assert_allclose(stored.geometry.x, lon, atol=1e-5)
    np.testing.assert_allclose(stored.geometry.y, lat, atol=1e-5)


def test_epsg_choice_reads_projected_coordinates(page):
    csv = b"camera_id,lon,lat\np1,540100,3402100\np2,540700,3402300\n"
    _upload(page, "cameras", "metres.csv", csv)
    assert _metrics(page)["Rejected"] == "2"  # out of range as degrees
    page.selectbox(key="data.crs.cameras").set_value("epsg").run()
    assert any("Enter an EPSG code" in i.value for i in page.info)
    page.text_input(key="data.epsg.cameras").input("4549").run()
    assert not page.exception
    assert _metrics(page)["Accepted"] == "2"
    stored = gpd.read_parquet(_uploads(page).layer_path("cameras"))
    lon, lat = _lonlat([(100, 100), (700, 300)])
    np.testing.assert_allclose(stored.geometry.x, lon, atol=1e-9)
    np.testing.assert_allclose(stored.geometry.y, lat, atol=1e-9)
    status = page.dataframe[0].value.set_index("Layer")
    assert status.loc["cameras", "Coordinates"] == "EPSG:4549"
    page.text_input(key="data.epsg.cameras").input("not-a-code").run()
    assert any("is not a number" in e.value for e in page.error)
    assert not page.exception


# ------------------------------------------------------------------ rasters and shapes


def _tif(path: Path, values: np.ndarray, crs: str | None) -> bytes:
    with rasterio.open(path, "w", driver="GTiff", width=values.shape[1], height=values.shape[0],
                       count=1, dtype="float32", crs=crs,
                       transform=Affine(500.0, 0.0, X0, 0.0, -500.0, Y0 + 1000)) as ds:
        ds.write(values.astype("float32"), 1)
    return path.read_bytes()


def test_population_raster_and_its_crs(page, tmp_path):
    content = _tif(tmp_path / "pop.tif", np.array([[1.0, 2.0], [3.0, 4.0]]), None)
    _upload(page, "population", "pop.tif", content)
    assert any("has no CRS" in e.value for e in page.error)
    assert not _uploads(page).layer_path("population").exists()
    assert page.selectbox(key="data.crs.population").options == [
        "Automatic (the file's, else WGS84)", "WGS84 (GPS)", "CGCS2000", "EPSG code…"]
    page.selectbox(key="data.crs.population").set_value("epsg").run()
    page.text_input(key="data.epsg.population").input("EPSG:4549").run()
    assert not page.error
    assert [s.value for s in page.success] == [
        "2 × 2 pixels, EPSG:4549, pixel size 500 × 500, 10 persons in all."]
    with rasterio.open(_uploads(page).layer_path("population")) as ds:
        assert ds.crs.to_epsg() == 4549
        assert float(ds.read(1).sum()) == pytest.approx(10.0)


def test_roads_keep_lines_and_reject_the_rest(page):
    lon, lat = _lonlat([(0, 500), (1000, 500), (500, 0), (500, 1000)])
    roads = gpd.GeoDataFrame(
        {"road_id": ["r1", "r2", "r3"], "name": ["east-west", "north-south", "a point"]},
        geometry=[shapely.LineString([(lon[0], lat[0]), (lon[1], lat[1])]),
                  shapely.LineString([(lon[2], lat[2]), (lon[3], lat[3])]),
                  shapely.Point(lon[0], lat[0])],
        crs=4326,
    )
    _upload(page, "roads", "roads.geojson", roads.to_json().encode())
    assert _metrics(page) == {"Rows": "3", "Accepted": "2", "Repaired": "0", "Rejected": "1"}
    rejected = page.dataframe[-1].value
    assert rejected["road_id"].tolist() == ["r3"]
    assert rejected["Details"].tolist() == ["wrong geometry type: Point"]
    stored = gpd.read_parquet(_uploads(page).layer_path("roads"))
    assert stored["road_id"].tolist() == ["r1", "r2"]
    page.button(key="data.remove.roads").click().run()
    assert not _uploads(page).layer_path("roads").exists()
    assert not page.metric


# ------------------------------------------------------------------ the data source


def test_uploads_become_every_pages_data_source(page):
    _upload(page, "grids", "grids.geojson", _grids().to_json().encode())
    _upload(page, "cameras", "cameras.csv", _cameras_csv())
    page.button(key="data.use_uploads").click().run()
    assert page.selectbox(key="ws.source").value == "uploads"
    assert any("Uploaded in this session: grids, cameras" in c.value for c in page.sidebar.caption)
    page.switch_page("app_pages/overview.py").run()
    assert not page.exception
    assert _metrics(page) == {
        "Grids": "4", "Streets": "2", "Communities": "3",
        "Camera points": "3", "Cameras": "5", "Incidents": "0",
    }
    # uploads are not synthetic: no demo label
    assert not any("not real data" in i.value for i in page.info)
    page.switch_page("app_pages/cameras.py").run()
    assert not page.exception
    density = page.dataframe[0].value
    assert len(density) == 4  # one row per uploaded grid


def test_missing_uploads_say_what_to_upload(env):
    at = _new_app()
    at.session_state["ws.source"] = "uploads"
    at.run()
    assert not at.exception
    assert any("No grids layer uploaded in this session" in e.value for e in at.error)
    assert any("Nothing uploaded in this session yet" in c.value for c in at.sidebar.caption)


def test_sessions_are_kept_apart_and_cleaned_up(env, upload_root):
    a, b = _new_app().run(), _new_app().run()
    for at in (a, b):
        at.switch_page("app_pages/data.py").run()
    _upload(a, "cameras", "cameras.csv", _cameras_csv())
    folder_a, folder_b = _uploads(a).path, _uploads(b).path
    assert folder_a != folder_b
    assert folder_a.parent == folder_b.parent == upload_root
    assert _uploads(a).present() == ["cameras"]
    assert _uploads(b).present() == []
    assert not b.metric  # b sees nothing of a's upload
    del a
    gc.collect()
    assert not folder_a.exists()  # the session's state went away, and its folder with it
    assert folder_b.exists()


def test_stale_session_folders_are_purged(upload_root, monkeypatch):
    from app_pages._uploads import UploadSession, purge_stale

    monkeypatch.setenv("GRIDMAP_UPLOAD_TTL_HOURS", "2")
    upload_root.mkdir(parents=True)
    old = upload_root / "session-old"
    recent = upload_root / "session-recent"
    other = upload_root / "not-a-session"
    for p in (old, recent, other):
        (p / "layers").mkdir(parents=True)
    three_hours_ago = time.time() - 3 * 3600
    for p in (old, other):
        os.utime(p, (three_hours_ago, three_hours_ago))
    up = UploadSession(upload_root)  # a new session purges first
    assert not old.exists()
    assert recent.exists()
    assert other.exists()
    assert up.path.exists()
    up.close()
    assert not up.path.exists()
    # three hours on, the recent session folder is stale too; other folders are never touched
    assert purge_stale(upload_root, max_age_hours=2, now=time.time() + 3 * 3600) == [recent]
    assert other.exists()


def test_outlines_take_names_from_the_street_layer():
    from app_pages._uploads import outlines

    names = pd.DataFrame({"street_code": ["S1", "S2"], "name": ["南湖街道", "新兴街道"]})
    streets = outlines(_grids(), "street_code", names)
    assert dict(zip(streets["street_code"], streets["name"], strict=True)) == {
        "S1": "南湖街道", "S2": "新兴街道"}
    assert outlines(_grids().drop(columns="street_code"), "street_code") is None
    # communities carry their parents' codes and grid counts, as the demo's layer does
    communities = outlines(_grids(), "community_code").set_index("community_code")
    assert communities["street_code"].to_dict() == {"C1": "S1", "C2": "S1", "C3": "S2"}
    assert communities["district_code"].to_dict() == dict.fromkeys(("C1", "C2", "C3"), "330402")
    assert communities["n_grids"].to_dict() == {"C1": 1, "C2": 1, "C3": 2}


def _page_scripts() -> list[str]:
    """The page scripts of app.PAGES (read from the source: importing app.py runs it)."""
    tree = ast.parse((ROOT / "app.py").read_text(encoding="utf-8"))
    return [node.args[0].value for node in ast.walk(tree)
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Page"
            and node.args and isinstance(node.args[0], ast.Constant)]


def test_every_page_runs_on_partial_uploads(page, tmp_path):
    """Pages read whatever was uploaded; a missing layer gives a message, never an exception."""
    _upload(page, "grids", "grids.geojson", _grids().to_json().encode())
    page.button(key="data.use_uploads").click().run()
    scripts = _page_scripts()
    assert "app_pages/data.py" in scripts
    for script in scripts:  # grids only
        page.switch_page(script).run()
        assert not page.exception, (script, page.exception)
    page.switch_page("app_pages/grids.py").run()
    assert any("No roads layer uploaded" in e.value for e in page.error)
    # grids, cameras, roads and a population raster: still no incidents
    page.switch_page("app_pages/data.py").run()
    _upload(page, "cameras", "cameras.csv", _cameras_csv())
    lon, lat = _lonlat([(0, 500), (1000, 500)])
    roads = gpd.GeoDataFrame({"road_id": ["r1"]}, crs=4326,
                             geometry=[shapely.LineString(zip(lon, lat, strict=True))])
    _upload(page, "roads", "roads.geojson", roads.to_json().encode())
    _upload(page, "population", "pop.tif",
            _tif(tmp_path / "pop.tif", np.full((2, 2), 25.0), "EPSG:4549"))
    for script in scripts:
        page.switch_page(script).run()
        assert not page.exception, (script, page.exception)


# ------------------------------------------------------------------ exports


def test_table_bytes_neutralise_csv_and_xlsx():
    from openpyxl import load_workbook

    from app_pages._workspace import table_bytes

    df = pd.DataFrame({"id": ["=cmd|'/c calc'!A1", "+1+1", "@x", "-2.5", "ok"],
                       "n": [1, -2, 3, 4, 5]})
    text = table_bytes(df, "t.csv").decode("utf-8-sig")
    back = pd.read_csv(io.StringIO(text), dtype=str)
    assert back["id"].tolist() == ["'=cmd|'/c calc'!A1", "'+1+1", "'@x", "-2.5", "ok"]
    assert back["n"].tolist() == ["1", "-2", "3", "4", "5"]
    sheet = load_workbook(io.BytesIO(table_bytes(df, "t.xlsx"))).active
    assert [c.value for c in sheet["A"]][1:] == ["'=cmd|'/c calc'!A1", "'+1+1", "'@x", "-2.5",
                                                 "ok"]
    from gridmap import GridmapError

    with pytest.raises(GridmapError, match=r"\.csv or \.xlsx"):
        table_bytes(df, "t.html")


def test_config_limits_uploads_and_hides_error_details():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["client"]["showErrorDetails"] == "none"
    assert config["client"]["disableDataExport"] is True  # exports only via download_table
    from app_pages._uploads import upload_limits

    assert upload_limits().max_bytes == config["server"]["maxUploadSize"] * 1024 * 1024


# ------------------------------------------------------------------ sign-in


def test_password_gate_refuses_a_wrong_password_and_admits_the_right_one(env, monkeypatch):
    monkeypatch.setenv("GRIDMAP_PASSWORD", PASSWORD)
    at = _new_app().run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Sign in"]
    assert not at.selectbox  # no workspace, no page before signing in
    at.text_input(key="auth.password").input("guess")
    _button(at, "Sign in").click().run()
    assert [e.value for e in at.error] == ["Wrong password."]
    assert [t.value for t in at.title] == ["Sign in"]
    assert not at.metric
    at.text_input(key="auth.password").input(PASSWORD)
    _button(at, "Sign in").click().run()
    assert not at.exception
    assert [t.value for t in at.title] == ["One-network overview"]
    assert _metrics(at)["Grids"] == "4"
    assert PASSWORD not in repr(at.session_state)  # only a digest is kept
    # a new password signs the session out
    monkeypatch.setenv("GRIDMAP_PASSWORD", "another one")
    at.run()
    assert [t.value for t in at.title] == ["Sign in"]


def test_oidc_sign_in_when_secrets_have_an_auth_section(env):
    at = _new_app()
    at.secrets["auth"] = {
        "redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32,
        "client_id": "gridmap", "client_secret": "s",
        "server_metadata_url": "https://id.example.org/.well-known/openid-configuration",
    }
    at.user = {"is_logged_in": False}
    at.run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Sign in"]
    assert at.button(key="auth.login").label == "Sign in with your organisation account"
    at.user = {"is_logged_in": True, "name": "Li Wei", "email": "li@example.org"}
    at.run()
    assert not at.exception
    assert [t.value for t in at.title] == ["One-network overview"]
    assert any("Signed in as Li Wei" in c.value for c in at.sidebar.caption)
