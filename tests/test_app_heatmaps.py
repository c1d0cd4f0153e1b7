"""The Heatmaps page without a browser (AppTest), on the small demo district.

``streamlit_folium.st_folium`` is replaced by a stub that keeps the map it is
given, so the rendered HTML can be checked (image overlay, legend, no raw points).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest


@pytest.fixture
def page(app_page):
    return app_page("heatmaps.py")


def test_page_draws_a_density_overlay_without_raw_points(page, app_data_dir):
    at, state = page
    at.run()
    assert not at.exception
    assert at.title[0].value == "People, places and events"
    html = state["html"]
    assert "data:image/png;base64" in html
    assert "heat-events" in html  # the legend of the incident raster
    assert "points per km" in html  # in real units (the ² is JSON-escaped)
    inc = pd.read_parquet(app_data_dir / "incidents.parquet")
    assert str(inc["incident_id"].iloc[0]) not in html
    grids = gpd.read_file(app_data_dir / "grids.gpkg", layer="grids")
    assert len(at.dataframe[0].value) == len(grids)


def test_hour_filter_counts_match(page, app_data_dir):
    at, _ = page
    at.run()
    at.slider(key="heatmaps.hours").set_value((18, 23))
    at.run()
    assert not at.exception
    inc = pd.read_parquet(app_data_dir / "incidents.parquet")
    kept = int(pd.to_datetime(inc["reported_at"]).dt.hour.between(18, 23).sum())
    assert any(f"{kept:,} of {len(inc):,}" in c.value for c in at.caption)


def test_month_slider_has_one_frame_per_month(page, app_data_dir):
    at, state = page
    at.run()
    at.radio(key="heatmaps.time").set_value("month")
    at.multiselect(key="heatmaps.layers").set_value(["people", "places", "events", "hotspots"])
    at.run()
    assert not at.exception
    inc = pd.read_parquet(app_data_dir / "incidents.parquet")
    months = pd.to_datetime(inc["reported_at"]).dt.strftime("%Y-%m").nunique()
    assert len(at.select_slider[0].options) == months
    assert state["html"].count("data:image/png;base64") == 3
    assert "Hot spot, 99% confidence" in state["html"]


def test_grid_table_blanks_a_complement_in_the_community(page, app_data_dir):
    """With k just above a community's smallest grid count, that grid is the community's
    only small count: its community total minus the other grids would give it back, so the
    next smallest grid of the community is blanked too; every community then has no blank or
    at least two."""
    from gridmap.i18n import label_columns

    grids = gpd.read_file(app_data_dir / "grids.gpkg", layer="grids")
    inc = gpd.read_parquet(app_data_dir / "incidents.parquet")
    joined = gpd.sjoin(inc, grids.to_crs(inc.crs)[["grid_id", "geometry"]], predicate="within")
    grids["n"] = grids["grid_id"].map(joined["grid_id"].value_counts()).fillna(0).astype(int)
    first = grids.sort_values(["community_code", "n"]).groupby("community_code").head(2)
    two = first.groupby("community_code")["n"].agg(["min", "max"])
    two = two[two["max"] > two["min"]]
    k = int(two["min"].min()) + 1  # that community's smallest grid is below k, its next is not
    assert 1 < k <= 50
    comm = two["min"].idxmin()
    at, _ = page
    at.run()
    at.number_input(key="heatmaps.k").set_value(k)
    at.run()
    assert not at.exception
    gid_h, n_h = label_columns(pd.DataFrame(columns=["grid_id", "incidents"]), "en").columns
    shown = at.dataframe[0].value.set_index(gid_h)[n_h]
    shown = shown.reindex(grids["grid_id"].astype(str).to_numpy())
    blank = shown.isna().to_numpy()
    n = grids["n"].to_numpy()
    assert blank[(n > 0) & (n < k)].all()  # every small count
    assert (shown[~blank].astype(int).to_numpy() == n[~blank]).all()  # the rest as sjoin
    in_comm = (grids["community_code"] == comm).to_numpy()
    assert ((n > 0) & (n < k) & in_comm).sum() == 1  # primary only would leave one blank
    order = np.argsort(np.where(in_comm, n, np.iinfo(int).max), kind="stable")
    assert blank[order[1]]  # … its next smallest grid is the complement
    for code in grids["community_code"].unique():
        sel = (grids["community_code"] == code).to_numpy()
        assert (blank & sel & (n > 0)).sum() != 1 or ((n > 0) & sel).sum() == 1
    # a blank count's composite score and Gi* would give it back: blanked with it
    table = at.dataframe[0].value.set_index(gid_h).reindex(shown.index)
    derived = [c for c in label_columns(
        pd.DataFrame(columns=["composite", "gi_z", "gi_p", "hotspot"]), "en").columns
        if c in table.columns]
    assert len(derived) == 4
    assert table.loc[blank, derived].isna().all().all()
    assert table.loc[~blank, derived[0]].notna().all()  # the others keep their score
