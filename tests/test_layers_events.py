"""layers.events: the closed-loop choropleth shows the published table, never a small count."""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gridmap import events
from gridmap.i18n import tr
from layers.events import closed_loop_layer

X0, Y0 = 500_000.0, 3_400_000.0


def _grids() -> gpd.GeoDataFrame:
    boxes = [shapely.box(X0 + i * 1000, Y0, X0 + (i + 1) * 1000, Y0 + 1000) for i in range(4)]
    return gpd.GeoDataFrame({"grid_id": ["A", "B", "C", "D"]}, geometry=boxes,
                            crs="EPSG:4549").to_crs(4326)


def _table() -> pd.DataFrame:
    """A: 2 cases (small); B: 20 cases, 1 overdue; C: 9 cases; D: none.

    The area's total (31) is published above the map, so A's 2 could be worked out as
    31 − 20 − 9 unless one of B or C is withheld too: the smallest, C (9).
    """
    t = pd.DataFrame({
        "unit": ["A", "B", "C"],
        "n": [2, 20, 9],
        # the four statuses add up to n
        "reported": [0, 2, 0], "dispatched": [0, 3, 0], "handled": [1, 5, 0],
        "closed": [1, 10, 9],
        "overdue": [0, 1, 0], "closed_late": [0, 1, 0], "open_overdue": [0, 0, 0],
    })
    t["closure_rate"] = t["closed"] / t["n"]
    t["on_time_rate"] = (t["closed"] - t["closed_late"]) / t["n"]
    t["median_hours"] = [3.0, 10.0, 6.0]
    t["p90_hours"] = [4.0, 20.0, 9.0]
    t["score"] = [0.5, 0.6, 0.7]
    return t


def _tips(layer) -> dict[str, str]:
    feats = layer.data["features"]
    return {f["properties"]["tip"].split("</b>")[0].removeprefix("<b>"): f["properties"]
            for f in feats}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_small_counts_and_their_complement_are_withheld(lang):
    table = _table()
    pub = events.published_table(table, k=5).set_index("unit")
    # the library's own decision, checked by hand above: A small, C its complement
    assert pub["n"].isna().to_dict() == {"A": True, "B": False, "C": True}
    layer, _ = closed_loop_layer(_grids(), table, metric="closure_rate", lang=lang, min_count=5)
    props = _tips(layer)
    grey = tr("eventslayer.withheld", lang, k=5)
    for g in ("A", "C"):
        assert grey in props[g]["tip"]
        assert props[g]["fill"] == "#c7c7c7"
        assert "9" not in props[g]["tip"].split("</b>")[1]
    assert "20" in props["B"]["tip"]
    assert "50%" in props["B"]["tip"]  # 10 of 20 closed
    assert tr("eventslayer.none", lang) in props["D"]["tip"]
    assert props["D"]["fill"] == "#ffffff"


def test_a_small_metric_of_a_shown_grid_is_withheld():
    """B has 20 cases but 1 overdue: the overdue map withholds the 1, not the 20."""
    layer, leg = closed_loop_layer(_grids(), _table(), metric="overdue", lang="en", min_count=5)
    tip = _tips(layer)["B"]["tip"]
    assert "Overdue cases: withheld" in tip
    assert "Cases: 20" in tip
    assert _tips(layer)["B"]["fill"] == "#c7c7c7"
    m = folium.Map()
    layer.add_to(m)
    leg.add_to(m)
    assert tr("eventslayer.withheld", "en", k=5) in m.get_root().render()  # legend: grey


def test_the_table_passed_in_is_not_changed():
    table = _table()
    before = table.copy()
    closed_loop_layer(_grids(), table, metric="median_hours", lang="en", min_count=5)
    pd.testing.assert_frame_equal(table, before)
    assert np.isfinite(table["n"]).all()
