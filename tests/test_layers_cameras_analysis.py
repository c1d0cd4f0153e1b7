"""Tests for layers.cameras_analysis: tooltips assembled on hover from labels sent once,
escaped user text, rounded coordinates, styles and legends."""

from __future__ import annotations

import json
import re

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gridmap.i18n import tr
from layers.cameras_analysis import (
    COMPLETION_COLOURS,
    STATUS_FILL,
    TipPolygons,
    TipSpec,
    blind_spot_layer,
    compliance_layer,
    sites_layer,
    views_layer,
)

XSS = "<img src=x onerror=alert(1)>"
X0, Y0, STEP = 120.75, 30.75, 0.01
# a vertex offset no display rounding keeps (≈ 1.4 cm)
JITTER = 1.234567891e-7


def _squares() -> list[shapely.Polygon]:
    """A 2×2 block of 0.01° squares (lon/lat), corners offset by :data:`JITTER`."""
    return [shapely.box(X0 + i * STEP + JITTER, Y0 + j * STEP + JITTER,
                        X0 + (i + 1) * STEP + JITTER, Y0 + (j + 1) * STEP + JITTER)
            for j in range(2) for i in range(2)]


def _table(**overrides) -> gpd.GeoDataFrame:
    """A density table of four units as :func:`gridmap.density.camera_density` returns it."""
    cols = {
        "unit": ["g1", "g2", "g3", "g4"],
        "zone": ["urban", "urban", "rural", "rural"],
        "points": np.array([3, 0, 1234, 7], dtype=np.int64),
        "density_per_km2": [1234.5678, 0.0, 12.0, -0.0001],
        "target": [8.0, 8.0, 70.0, 8.0],
        "completion_pct": [40.0, 50.0, 99.0, 200.0],
        "shortfall": np.array([5, 8, 0, 0], dtype=np.int64),
        "status": ["short", "short", "met", "unknown"],
        "with_planned_pct": [94.375, float("nan"), 100.0, 250.0],
    }
    cols.update(overrides)
    return gpd.GeoDataFrame(cols, geometry=_squares(), crs=4326)


def _render(*layers) -> str:
    m = folium.Map(tiles=None)
    for layer in layers:
        m.add_child(layer)
    return m.get_root().render()


def _views() -> gpd.GeoDataFrame:
    fan = shapely.Polygon([(X0, Y0), (X0 + 0.0004, Y0 + 0.0003), (X0 + 0.0003, Y0 + 0.0004)])
    disc = shapely.Point(X0 + 0.002, Y0 + 0.002).buffer(0.0003)
    return gpd.GeoDataFrame(
        {"camera_id": [XSS, "C2", "C3"], "kind": ["bullet", "dome", "bullet"],
         "range_m": [57.4, 120.5, np.nan], "occluded": [False, True, False]},
        geometry=[fan, disc, shapely.box(X0, Y0, X0 + 0.0001, Y0 + 0.0001)], crs=4326,
    )


@pytest.mark.parametrize(
    ("lang", "labels"),
    [
        ("en", ["Points: ", "Density (per km²): ", "Target: ", "Completion: ", "Shortfall: ",
                "With planned: "]),
        ("zh", ["点位: ", "密度（个/平方公里）: ", "目标: ", "完成率: ", "缺口: ", "含规划: "]),
    ],
)
def test_compliance_sends_each_label_once(lang, labels):
    layer, _ = compliance_layer(_table(), lang=lang)
    html = _render(layer)
    for label in labels:
        assert html.count(label) == 1, label
    # the status words are a lookup sent once, not repeated per unit
    payload = json.loads(layer.payload)
    assert payload["tip"]["lookups"] == [[tr("camlayer.met", lang), tr("camlayer.short", lang)]]
    assert html.count(f'"{tr("camlayer.short", lang)}"') == 1


def test_compliance_rows_hold_the_values_for_hover():
    layer, _ = compliance_layer(_table(), lang="en", names={"g1": "Grid one", "g2": "g2"})
    payload = json.loads(layer.payload)
    # title, id (only when the name differs), points, density, target, completion,
    # shortfall, with planned, status (0 met, 1 short, None otherwise)
    assert payload["rows"] == [
        ["Grid one", "g1", 3, 1234.57, 8.0, 40.0, 5, 94.38, 1],
        ["g2", None, 0, 0.0, 8.0, 50.0, 8, None, 1],
        ["g3", None, 1234, 12.0, 70.0, 99.0, 0, 100.0, 0],
        ["g4", None, 7, 0.0, 8.0, 200.0, 0, 250.0, None],
    ]
    assert layer.payload in _render(layer)
    # the text the browser assembles (the same function is checked against Chromium
    # in tests/browser/test_escaping.py)
    assert layer.spec.text(payload["rows"][0]) == (
        "Grid one (g1)\nPoints: 3\nDensity (per km²): 1,234.57\nTarget: 8.00\n"
        "Completion: 40.00% (Short)\nShortfall: 5\nWith planned: 94.38%"
    )
    assert layer.spec.text(payload["rows"][1]).splitlines()[-1] == "With planned: —%"
    assert layer.spec.text(payload["rows"][2]).splitlines()[1] == "Points: 1,234"
    # no status: nothing in brackets; -0.0001 shows as 0.00, not -0.00
    assert layer.spec.text(payload["rows"][3]).splitlines()[2:5] == [
        "Density (per km²): 0.00", "Target: 8.00", "Completion: 200.00%"]


def test_compliance_fills_by_status_and_by_completion():
    layer, leg = compliance_layer(_table(), lang="en", fill_by="status")
    fills = [layer.styles[i]["fillColor"] for i in layer.style_index]
    assert fills == [STATUS_FILL["short"], STATUS_FILL["short"], STATUS_FILL["met"], "#9e9e9e"]
    assert "Met" in leg.html
    assert "Short" in leg.html
    layer, leg = compliance_layer(_table(), lang="en", fill_by="completion")
    fills = [layer.styles[i]["fillColor"] for i in layer.style_index]
    # classes: < 50, 50–80, 80–100, 100–150, ≥ 150 (a bound belongs to the class above)
    assert fills == [COMPLETION_COLOURS[0], COMPLETION_COLOURS[1], COMPLETION_COLOURS[2],
                     COMPLETION_COLOURS[4]]
    assert "≥ 150%" in leg.html
    with pytest.raises(ValueError, match="fill_by"):
        compliance_layer(_table(), fill_by="colour")


def test_compliance_coordinates_rounded_and_no_other_properties():
    layer, _ = compliance_layer(_table(), lang="en")
    payload = json.loads(layer.payload)
    assert set(payload) == {"g", "rows", "s", "styles", "hl", "tip"}
    expected = [np.round(shapely.get_coordinates(g), 5) for g in _squares()]
    got = [np.asarray(ring, dtype=float) for poly in payload["g"] for ring in poly]
    assert len(got) == 4
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_array_equal(a, b)
    # no coordinate carries more than 5 decimals
    numbers = re.findall(r"\d+\.(\d+)", json.dumps(payload["g"]))
    assert max(len(d) for d in numbers) <= 5


def test_user_text_never_reaches_the_page_as_html():
    table = _table(unit=["g1", XSS, "g3", "g4"])
    comp, _ = compliance_layer(table, lang="en", names={"g1": XSS})
    views, _ = views_layer(_views(), lang="en")
    blind = gpd.GeoDataFrame({"grid_id": [XSS], "area_m2": [812.4], "incidents": [2]},
                             geometry=[_squares()[0]], crs=4326)
    spots, _ = blind_spot_layer(blind, lang="en")
    sites = gpd.GeoDataFrame({"rank": [1], "site_id": [XSS], "gain": [3.5], "grid_id": [XSS]},
                             geometry=[shapely.Point(X0, Y0)], crs=4326)
    group, _ = sites_layer(sites, lang="en")
    html = _render(comp, views, spots, group)
    assert XSS not in html
    assert "<img" not in html
    # sent as JSON text (the browser makes it a text node) ...
    assert html.count("\\u003cimg src=x onerror=alert(1)\\u003e") >= 4
    # ... or HTML-escaped in Python (site tooltips)
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    # and shown literally, as text
    rows = json.loads(comp.payload)["rows"]
    assert comp.spec.text(rows[0]).startswith(f"{XSS} (g1)\n")
    assert comp.spec.text(rows[1]).startswith(f"{XSS}\n")
    assert views.spec.text(views.rows[0]) == f"Camera {XSS} · bullet · Range 57 m"
    assert spots.spec.text(spots.rows[0]) == f"Blind spots · Grid {XSS}\nArea: 812 m²"


def test_script_json_cannot_close_the_script():
    table = _table(unit=["</script><script>alert(1)</script>", "g2", "g3", "g4"])
    layer, _ = compliance_layer(table, lang="en")
    html = _render(layer)
    assert "</script><script>alert(1)" not in html
    assert json.loads(layer.payload)["rows"][0][0] == "</script><script>alert(1)</script>"


@pytest.mark.parametrize(("lang", "word", "range_label"),
                         [("en", "dome", "Range"), ("zh", "球机", "视距")])
def test_views_layer_rows_kinds_and_styles(lang, word, range_label):
    layer, gate = views_layer(_views(), lang=lang, min_zoom=15)
    assert gate.min_zoom == 15
    assert gate.layer is layer
    assert layer.rows == [[XSS, 0, 57], ["C2", 1, 120], ["C3", 0, None]]
    assert layer.spec.lookups == [[tr("kind.bullet", lang), tr("kind.dome", lang)]]
    assert layer.spec.text(layer.rows[1]) == (
        f"{tr('camlayer.tip.camera', lang)} C2 · {word} · {range_label} 120 m")
    assert layer.spec.text(layer.rows[2]).endswith(" — m")
    colours = [layer.styles[i]["color"] for i in layer.style_index]
    assert colours == ["#1565c0", "#0d47a1", "#1565c0"]  # the occluded view is darker
    html = _render(layer, gate)
    assert html.count(f"{range_label} ") == 1
    numbers = re.findall(r"\d+\.(\d+)", json.dumps(layer.coords))
    assert max(len(d) for d in numbers) <= 6
    np.testing.assert_array_equal(np.asarray(layer.coords[0][0]),
                                  np.round(shapely.get_coordinates(_views().geometry[0]), 6))


def test_views_layer_without_optional_columns():
    bare = _views()[["geometry"]]
    layer, _ = views_layer(bare, lang="en")
    assert layer.rows == [[None, None, None]] * 3
    assert layer.spec.text(layer.rows[0]) == "Camera — · — · Range — m"


def test_blind_spots_drop_empty_geometries_with_their_rows():
    blind = gpd.GeoDataFrame(
        {"grid_id": ["A", "B", "C"], "area_m2": [1500.6, 900.0, 400.4], "incidents": [0, 1, 2]},
        geometry=[_squares()[0], shapely.Polygon(), _squares()[3]], crs=4326,
    )
    layer, leg = blind_spot_layer(blind, lang="zh", show=False)
    assert layer.rows == [["A", 1501], ["C", 400]]
    assert len(layer.coords) == 2
    assert layer.style_index is None  # one style for all
    assert layer.spec.text(layer.rows[1]) == "监控盲区 · 网格 C\n面积: 400 m²"
    html = _render(layer, leg)
    assert html.count("面积: ") == 1
    assert "监控盲区" in leg.html
    assert not layer.show


def test_tip_polygons_checks_its_inputs():
    spec = TipSpec(lines=[[{"c": 0}]])
    with pytest.raises(ValueError, match="rows"):
        TipPolygons(_squares(), [["a"]], spec, styles=[{}], name="x")
    with pytest.raises(ValueError, match="style indices"):
        TipPolygons(_squares(), [["a"]] * 4, spec, styles=[{}, {}], style_index=[0], name="x")
    with pytest.raises(ValueError, match="styles"):
        TipPolygons(_squares(), [["a"]] * 4, spec, styles=[], name="x")


def test_tip_spec_optional_and_bold_parts():
    spec = TipSpec(lines=[[{"c": 0, "b": 1}, {"c": 1, "o": [" (", ")"]}],
                          ["n: ", {"c": 2, "d": 1}, {"c": 3, "l": 0, "o": [" [", "]"]}]],
                   lookups=[["x", "y"]])
    assert spec.text(["a", None, 1234.5, 1]) == "a\nn: 1,234.5 [y]"
    assert spec.text([None, "b", None, None]) == "— (b)\nn: —"


def test_compliance_payload_is_smaller_than_per_feature_tooltips():
    # hand-built equivalent of the previous layer: the full tooltip text per feature
    table = pd.concat([_table()] * 50, ignore_index=True)
    table = gpd.GeoDataFrame(table, geometry="geometry", crs=4326)
    layer, _ = compliance_layer(table, lang="en")
    payload = json.loads(layer.payload)
    per_feature = sum(len(layer.spec.text(r)) for r in payload["rows"])
    assert len(json.dumps(payload["rows"])) < per_feature / 2


def test_views_layer_of_no_views_renders_an_empty_layer():
    empty = _views().iloc[:0]
    layer, gate = views_layer(empty, lang="en")
    assert layer.rows == []
    assert layer.coords == []
    assert '"g":[]' in _render(layer, gate)
