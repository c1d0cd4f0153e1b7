"""The Heatmaps page without a browser (AppTest), on the small demo district.

``streamlit_folium.st_folium`` is replaced by a stub that keeps the map it is
given, so the rendered HTML can be checked (image overlay, legend, no raw points).
"""

from __future__ import annotations

import geopandas as gpd
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
