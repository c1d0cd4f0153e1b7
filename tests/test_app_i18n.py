"""Every table header, metric label and chart axis of the app pages follows the language.

Each page of ``app.PAGES`` (except Events, tested with its own page) runs under
AppTest on the small demo district, once in Chinese and once in English, with
the clicks that reveal its hidden tables (suggested camera sites, saved and
compared grid versions, an upload with rejected rows). After every run the
headers of every ``st.dataframe``, the metric labels and the titles and fields
of every chart are collected. In Chinese each must contain a CJK character (or
be in :data:`ALLOW`); in English none may be a snake_case library name; and
each header must differ between the two languages.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from streamlit.testing.v1 import AppTest

from gridmap.density import camera_density
from gridmap.i18n import _VALUES, label_columns
from gridmap.validate import validate_coverage

ROOT = Path(__file__).resolve().parents[1]
#: Headers that read the same in both languages.
ALLOW = frozenset({"ID", "GB/T 28181"})
#: Pages tested elsewhere for this (their owner keeps their headers bilingual).
OWNED_ELSEWHERE = frozenset({"events.py"})
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_SNAKE = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)+$")

#: The columns of the file uploaded on the Data page: a person's own headers,
#: shown as they are in the rejected rows (not translated).
UPLOAD_COLUMNS = ("camera_id", "name", "lon", "lat")


def _pages() -> list[str]:
    """Script names of ``app.PAGES``, read from app.py (importing it would run the app)."""
    tree = ast.parse((ROOT / "app.py").read_text(encoding="utf-8"))
    scripts = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Page":
            path = node.args[0]
            assert isinstance(path, ast.Constant)
            scripts.append(Path(path.value).name)
    assert scripts, "no Page(...) entries found in app.py"
    return scripts


class Seen:
    """Headers and labels collected over the runs of one page, in order."""

    def __init__(self, keep: tuple[str, ...] = ()) -> None:
        self.keep = keep  # headers exempt from the checks
        self.tables: list[list[str]] = []
        self.cells: set[str] = set()  # text cells of the tables
        self.metrics: list[str] = []
        self.axes: list[str] = []

    def collect(self, at: AppTest) -> None:
        assert not at.exception, at.exception
        self.tables += [[str(c) for c in df.value.columns] for df in at.dataframe]
        for df in at.dataframe:
            for col in df.value.columns:
                if str(col) not in self.keep and df.value[col].dtype == object:
                    self.cells.update(v for v in df.value[col] if isinstance(v, str))
        self.metrics += [m.label for m in at.metric]
        for chart in at.get("vega_lite_chart"):
            self.axes += _chart_labels(json.loads(chart.proto.spec))

    def headers(self) -> list[str]:
        return [h for cols in self.tables for h in cols if h not in self.keep]


def _chart_labels(spec: dict) -> list[str]:
    """Axis titles and the fields shown in tooltips of a Vega-Lite spec."""
    out = []
    for channel in ("x", "y", "color"):
        enc = spec.get("encoding", {}).get(channel)
        if enc:
            out.append(str(enc.get("title") or enc.get("field") or ""))
    out += [str(t.get("title") or t["field"]) for t in spec.get("encoding", {}).get("tooltip", [])]
    return out


# ------------------------------------------------------------------ visiting the pages


def _visit_cameras(at: AppTest, seen: Seen) -> None:
    at.number_input(key="cameras.k").set_value(3)
    at.button(key="cameras.run_sites").click().run()
    seen.collect(at)


def _visit_grids(at: AppTest, seen: Seen) -> None:
    at.text_input(key="grids.vname").input("v1").run()
    at.button(key="grids.do_save").click().run()
    seen.collect(at)
    at.button(key="grids.do_compare").click().run()
    seen.collect(at)


def _visit_data(at: AppTest, seen: Seen) -> None:
    csv = (b"camera_id,name,lon,lat\n"
           b"a1,gate,120.75,30.75\n"
           b"a2,no place,,\n"
           b"a3,far,200.5,95.1\n")
    at.file_uploader(key="data.file.cameras").upload("cams.csv", csv).run()
    seen.collect(at)


VISITS: dict[str, Callable[[AppTest, Seen], None]] = {
    "cameras.py": _visit_cameras,
    "grids.py": _visit_grids,
    "data.py": _visit_data,
}


def _run(app_page: Callable[..., Any], script: str, lang: str, data_dir: Path) -> Seen:
    for saved in data_dir.glob("partition_*m.gpkg"):  # grid versions of an earlier run
        saved.unlink()
    at, _ = app_page(script, lang=lang, render=False)
    seen = Seen(keep=UPLOAD_COLUMNS if script == "data.py" else ())
    at.run()
    seen.collect(at)
    if script in VISITS:
        VISITS[script](at, seen)
    return seen


@pytest.fixture
def uploads(tmp_path, monkeypatch) -> Path:
    """Data page uploads go to this test's folder."""
    monkeypatch.setenv("GRIDMAP_UPLOAD_DIR", str(tmp_path / "uploads"))
    return tmp_path / "uploads"


def test_app_pages_are_found() -> None:
    pages = _pages()
    assert {"overview.py", "data.py", "cameras.py", "grids.py", "heatmaps.py",
            "report.py", "events.py"} <= set(pages)


@pytest.mark.parametrize("script", [p for p in _pages() if p not in OWNED_ELSEWHERE])
def test_headers_labels_and_axes_follow_the_language(script, app_page, app_data_dir,
                                                     uploads) -> None:
    zh = _run(app_page, script, "zh", app_data_dir)
    en = _run(app_page, script, "en", app_data_dir)
    assert zh.tables or zh.metrics or zh.axes, f"{script} showed no table, metric or chart"
    assert [len(t) for t in zh.tables] == [len(t) for t in en.tables]
    for kind, zh_labels, en_labels in (
        ("table header", zh.headers(), en.headers()),
        ("metric label", zh.metrics, en.metrics),
        ("chart label", zh.axes, en.axes),
    ):
        assert len(zh_labels) == len(en_labels), kind
        not_zh = sorted({h for h in zh_labels if not _CJK.search(h) and h not in ALLOW})
        assert not not_zh, f"{script}: {kind}s without Chinese in zh: {not_zh}"
        raw_en = sorted({h for h in en_labels if "_" in h or _SNAKE.match(h)})
        assert not raw_en, f"{script}: {kind}s that are library names in en: {raw_en}"
        same = sorted({z for z, e in zip(zh_labels, en_labels, strict=True)
                       if z == e and z not in ALLOW})
        assert not same, f"{script}: {kind}s identical in zh and en: {same}"
    # the library's own words in cells (urban, met, hot 95%...) are shown in Chinese too
    english_words = {texts["en"] for vocab in _VALUES.values() for texts in vocab.values()
                     if texts["en"] != texts["zh"]}
    left = sorted(zh.cells & english_words)
    assert not left, f"{script}: library words left in English in zh tables: {left}"


def test_the_data_page_keeps_the_uploaded_headers(app_page, app_data_dir, uploads) -> None:
    """Rejected rows show the person's own column names next to the labelled report columns."""
    seen = _run(app_page, "data.py", "en", app_data_dir)
    rejected = seen.tables[-1]
    assert [c for c in rejected if c in UPLOAD_COLUMNS] == list(UPLOAD_COLUMNS)
    assert len(rejected) > len(UPLOAD_COLUMNS)  # plus the report's own, labelled columns


def test_tables_the_demo_run_does_not_show_have_labels() -> None:
    """Validation issues and cameras outside every grid (none in the demo) are labelled too."""
    x0, y0 = 540_000.0, 3_402_000.0
    grids = gpd.GeoDataFrame(  # two 500 m squares overlapping by 100 m
        {"grid_id": ["A", "B"], "zone": "urban"},
        geometry=[shapely.box(x0, y0, x0 + 500, y0 + 500),
                  shapely.box(x0 + 400, y0, x0 + 900, y0 + 500)],
        crs="EPSG:4549",
    )
    issues = validate_coverage(grids).issues
    assert "overlap" in set(issues["kind"])
    # as the Grids page shows them (strict: an unlabelled column raises)
    for table in (issues["kind"].value_counts().rename_axis("kind").reset_index(),
                  pd.DataFrame(issues.drop(columns="geometry"))):
        assert len(label_columns(table, "zh", strict=True).columns) == len(table.columns)
    cams = gpd.GeoDataFrame(
        {"camera_id": ["in", "out"], "point_id": ["P1", "P2"], "status": "online"},
        geometry=[shapely.Point(x0 + 100, y0 + 100), shapely.Point(x0 + 5000, y0 + 5000)],
        crs="EPSG:4549",
    )
    outside = camera_density(cams, grids).outside
    assert outside["camera_id"].tolist() == ["out"]
    shown = pd.DataFrame(outside[["camera_id", "point_id", "status"]])  # as the Cameras page
    assert list(label_columns(shown, "en", strict=True).columns) == [
        "Camera ID", "Point ID", "Status"]
