"""Tests for layers.partition: deviation colours, escaped tooltips, issues and unit lines."""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import shapely

from layers.partition import deviation_colour, issues_layer, plan_layer, unit_lines


def _grids():
    boxes = [shapely.box(120 + i * 0.01, 30, 120.01 + i * 0.01, 30.01) for i in range(3)]
    return gpd.GeoDataFrame(
        {"grid_id": ["G1", "<b>G2</b>", "G3"], "n_units": [3, 4, 5],
         "population": [90.0, 100.0, 125.0], "population_target": [100.0] * 3,
         "population_dev": [-0.1, 0.0, 0.25]},
        geometry=boxes, crs=4326,
    )


def test_deviation_colour_classes():
    assert deviation_colour(0.0) == "#f7f7f7"
    assert deviation_colour(0.25) == "#b2182b"
    assert deviation_colour(-0.07) == "#67a9cf"
    assert deviation_colour(float("nan")) == "#cccccc"


def test_plan_layer_colours_selection_and_escaping():
    layer, leg = plan_layer(_grids(), field="population", lang="en", selected=["G3"], locked=["G1"])
    m = folium.Map(tiles=None)
    layer.add_to(m)
    leg.add_to(m)
    html = m.get_root().render()
    feats = layer.data["features"]
    tips = {f["properties"]["grid_id"]: f["properties"]["tip"] for f in feats}
    assert tips["<b>G2</b>"].startswith("<b>&lt;b&gt;G2&lt;/b&gt;</b>")  # the id is escaped
    assert "<b>G2</b>" not in html  # never raw in the page
    styles = {f["properties"]["grid_id"]: layer.style_function(f) for f in feats}
    assert styles["G3"]["weight"] > styles["G1"]["weight"]
    assert styles["G1"]["dashArray"]
    assert styles["G3"]["fillColor"] == "#b2182b"
    assert "Deviation from target" in html


def test_issues_and_unit_lines():
    issues = gpd.GeoDataFrame(
        {"kind": ["gap", "invalid"], "grids": ["A,B", "C"], "detail": ["x", "<script>"]},
        geometry=[shapely.box(120, 30, 120.001, 30.001), shapely.Point(120.5, 30.5)], crs=4326,
    )
    group = issues_layer(issues, lang="en")
    m = folium.Map(tiles=None)
    group.add_to(m)
    html = m.get_root().render()
    assert "&lt;script&gt;" in html
    kinds = [type(c).__name__ for c in group._children.values()]
    assert kinds.count("GeoJson") == 1
    assert kinds.count("CircleMarker") == 1
    units = _grids()
    assert unit_lines(units, max_units=2) is None
    assert unit_lines(units) is not None
    assert np.isfinite(units.total_bounds).all()
