"""The Cameras page without a browser (AppTest), on the small demo district."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from gridmap.density import camera_density
from gridmap.ingest import read_layer

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def data_dir(demo_small, tmp_path_factory) -> Path:
    dst = tmp_path_factory.mktemp("cameras_app") / "data"
    shutil.copytree(demo_small, dst)
    return dst


@pytest.fixture
def page(data_dir, monkeypatch) -> AppTest:
    monkeypatch.setenv("GRIDMAP_DATA_DIR", str(data_dir))
    if str(ROOT) not in sys.path:
        monkeypatch.syspath_prepend(str(ROOT))
    maps: list = []
    monkeypatch.setattr("streamlit_folium.st_folium",
                        lambda m, **kw: maps.append(m.get_root().render()) or {})
    at = AppTest.from_file(str(ROOT / "app_pages" / "cameras.py"), default_timeout=180)
    at.session_state["ws.lang"] = "en"
    at.maps = maps  # type: ignore[attr-defined]
    return at


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_page_shows_density_coverage_and_ids(page, data_dir) -> None:
    at = page.run()
    assert not at.exception
    assert at.title[0].value == "Cameras"
    cams = read_layer(data_dir / "cameras.csv", kind="cameras").data
    grids = read_layer(data_dir / "grids.gpkg", kind="grids", layer="grids").data
    expected = camera_density(cams, grids).summary.set_index("zone").loc["all"]
    assert _metric(at, "Units meeting target") == (f"{int(expected['units_met'])} / "
                                                   f"{int(expected['units'])}")
    assert _metric(at, "Overall completion") == f"{expected['completion_pct']:.2f}%"
    density = at.dataframe[0].value
    assert len(density) == len(grids)
    assert {"completion_pct", "shortfall", "with_planned_pct"} <= set(density.columns)
    html = at.maps[-1]
    assert 'data-legend' in html or "gridmap-legend" in html
    assert "Density compliance" in html
    assert "Camera views" in html
    # the GB/T 28181 tab lists the planted errors
    findings = next(d.value for d in at.dataframe if "finding" in d.value.columns)
    assert {"malformed", "not a camera", "district mismatch"} <= set(findings["finding"])


def test_targets_and_units_change_the_table(page) -> None:
    at = page.run()
    at.number_input(key="cameras.urban").set_value(10.0).run()
    at.number_input(key="cameras.rural").set_value(1.0).run()
    assert not at.exception
    table = at.dataframe[0].value
    assert set(table["target"].round(2)) <= {10.0, 1.0}
    at.selectbox(key="cameras.by").set_value("community").run()
    assert not at.exception
    assert len(at.dataframe[0].value) == 4


def test_suggest_sites(page) -> None:
    at = page.run()
    at.number_input(key="cameras.k").set_value(3)
    at.button(key="cameras.run_sites").click().run()
    assert not at.exception
    sites = next(d.value for d in at.dataframe if "gain" in d.value.columns)
    assert sites["rank"].tolist() == [1, 2, 3]
    assert (pd.Series(sites["gain"]).diff().dropna() <= 0).all()
    assert "Suggested sites" in at.maps[-1]
