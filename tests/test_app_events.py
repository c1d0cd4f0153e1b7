"""The Events page without a browser (AppTest): drill-down street → community → grid."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from gridmap.assign import assign_points

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def data_dir(demo_small, tmp_path_factory) -> Path:
    dst = tmp_path_factory.mktemp("events_app") / "data"
    shutil.copytree(demo_small, dst)
    return dst


@pytest.fixture
def page(data_dir, monkeypatch):
    monkeypatch.setenv("GRIDMAP_DATA_DIR", str(data_dir))
    if str(ROOT) not in sys.path:
        monkeypatch.syspath_prepend(str(ROOT))
    state: dict = {}

    def fake(m, **kw):
        state["html"] = m.get_root().render()
        return {}

    monkeypatch.setattr("streamlit_folium.st_folium", fake)
    at = AppTest.from_file(str(ROOT / "app_pages" / "events.py"), default_timeout=180)
    at.session_state["ws.lang"] = "en"
    return at, state


def test_drill_down_from_street_to_grid(page, data_dir):
    at, state = page
    at.run()
    assert not at.exception
    assert at.subheader[0].value == "Streets, ranked"
    grids = gpd.read_file(data_dir / "grids.gpkg", layer="grids")
    inc = gpd.read_parquet(data_dir / "incidents.parquet")
    inside = int((assign_points(inc, grids).index >= 0).sum())
    assert at.metric[0].value == f"{inside:,}"
    assert "Closure rate" in state["html"]

    code = sorted(grids["street_code"].astype(str).unique())[0]
    at.selectbox(key="events.street").set_value(code)
    at.run()
    assert not at.exception
    assert at.subheader[0].value == "Communities, ranked"
    n_comm = grids.loc[grids["street_code"].astype(str) == code, "community_code"].nunique()
    assert len(at.dataframe[0].value) == n_comm

    comm = grids.loc[grids["street_code"].astype(str) == code, "community_code"].astype(str)
    at.selectbox(key="events.community").set_value(comm.iloc[0])
    at.run()
    assert not at.exception
    assert at.subheader[0].value == "Grids, ranked"
    n_grids = int((grids["community_code"].astype(str) == comm.iloc[0]).sum())
    table = at.dataframe[0].value
    assert len(table[table["unit"] != "(outside every grid)"]) <= n_grids


def test_deadline_changes_overdue(page):
    at, _ = page
    at.run()
    same_day = at.metric[2].value
    at.selectbox(key="events.deadline").set_value("72h")
    at.run()
    assert not at.exception
    assert int(at.metric[2].value.replace(",", "")) <= int(same_day.replace(",", ""))
    assert isinstance(at.dataframe[0].value, pd.DataFrame)
