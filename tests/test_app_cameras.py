"""The Cameras page without a browser (AppTest), on the small demo district."""

from __future__ import annotations

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from gridmap.density import camera_density
from gridmap.i18n import column_label
from gridmap.ingest import read_layer


@pytest.fixture
def page(app_page) -> AppTest:
    at, state = app_page("cameras.py")
    at.maps = state["maps"]  # type: ignore[attr-defined]
    return at


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def _table(at: AppTest, column: str, index: int | None = None) -> pd.DataFrame:
    """A shown table (the first with ``column``, or number ``index``), headers back to names.

    The page labels headers in English; this maps them back to the library's names.
    """
    frames = [d.value for d in at.dataframe]
    frame = frames[index] if index is not None else next(
        f for f in frames if column_label(column, "en") in f.columns)
    return frame.rename(columns={label: name for name in _NAMES
                                 if (label := column_label(name, "en")) in frame.columns})


_NAMES = ("completion_pct", "shortfall", "with_planned_pct", "target", "finding", "gain", "rank")


def test_page_shows_density_coverage_and_ids(page, app_data_dir) -> None:
    at = page.run()
    assert not at.exception
    assert at.title[0].value == "Cameras"
    cams = read_layer(app_data_dir / "cameras.csv", kind="cameras").data
    grids = read_layer(app_data_dir / "grids.gpkg", kind="grids", layer="grids").data
    expected = camera_density(cams, grids).summary.set_index("zone").loc["all"]
    assert _metric(at, "Units meeting target") == (f"{int(expected['units_met'])} / "
                                                   f"{int(expected['units'])}")
    assert _metric(at, "Overall completion") == f"{expected['completion_pct']:.2f}%"
    density = _table(at, "completion_pct", 0)
    assert len(density) == len(grids)
    assert {"completion_pct", "shortfall", "with_planned_pct"} <= set(density.columns)
    html = at.maps[-1]
    assert 'data-legend' in html or "gridmap-legend" in html
    assert "Density compliance" in html
    assert "Camera views" in html
    # the GB/T 28181 tab lists the planted errors
    findings = _table(at, "finding")
    assert {"malformed", "not a camera", "district mismatch"} <= set(findings["finding"])


def test_targets_and_units_change_the_table(page) -> None:
    at = page.run()
    at.number_input(key="cameras.urban").set_value(10.0).run()
    at.number_input(key="cameras.rural").set_value(1.0).run()
    assert not at.exception
    table = _table(at, "target", 0)
    assert set(table["target"].round(2)) <= {10.0, 1.0}
    at.selectbox(key="cameras.by").set_value("community").run()
    assert not at.exception
    assert len(at.dataframe[0].value) == 4


def test_suggest_sites(page) -> None:
    at = page.run()
    at.number_input(key="cameras.k").set_value(3)
    at.button(key="cameras.run_sites").click().run()
    assert not at.exception
    sites = _table(at, "gain")
    assert sites["rank"].tolist() == [1, 2, 3]
    assert (pd.Series(sites["gain"]).diff().dropna() <= 0).all()
    assert "Suggested sites" in at.maps[-1]
