"""The Events page without a browser (AppTest): drill-down street → community → grid."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest

from gridmap.assign import assign_points


@pytest.fixture
def page(app_page):
    return app_page("events.py")


def test_drill_down_from_street_to_grid(page, app_data_dir):
    at, state = page
    at.run()
    assert not at.exception
    assert at.subheader[0].value == "Streets, ranked"
    grids = gpd.read_file(app_data_dir / "grids.gpkg", layer="grids")
    inc = gpd.read_parquet(app_data_dir / "incidents.parquet")
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
