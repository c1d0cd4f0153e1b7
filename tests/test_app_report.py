"""The Report and Overview pages without a browser (AppTest): key figures, rankings, downloads.

The small demo is copied for this module and its first street renamed to an
HTML payload, which must reach the report only as escaped text.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest

from gridmap.assign import assign_points

EVIL = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module", autouse=True)
def evil_street(app_data_dir) -> str:
    """Rename the first street of the copied demo (the streets layer of grids.gpkg)."""
    path = app_data_dir / "grids.gpkg"
    streets = gpd.read_file(path, layer="streets")
    code = str(streets.loc[0, "street_code"])
    streets.loc[0, "name"] = EVIL
    streets.to_file(path, layer="streets", driver="GPKG")
    return code


def _values(table: pd.DataFrame) -> dict[str, str]:
    return dict(zip(table.iloc[:, 0], table.iloc[:, 1], strict=True))


def _file(downloads, key: str) -> bytes:
    """The bytes the latest run's download button delivers (built when clicked)."""
    _, data, _ = [c for c in downloads if c[2].get("key") == key][-1]
    return data() if callable(data) else data


def test_report_page_figures_rankings_and_downloads(app_page, app_data_dir, downloads):
    at, _ = app_page("report.py", render=False)
    at.run()
    assert not at.exception
    assert at.title[0].value == "District report"
    figures = _values(at.dataframe[0].value)
    cams = pd.read_csv(app_data_dir / "cameras.csv")
    inc = gpd.read_parquet(app_data_dir / "incidents.parquet")
    assert figures["Cameras"] == f"{len(cams):,}"
    assert figures["Camera points"] == f"{cams['point_id'].nunique():,}"
    assert figures["Closure rate"] == f"{100 * (inc['status'] == 'closed').mean():.1f}%"
    # the rankings: one row per street, then per community
    grids = gpd.read_file(app_data_dir / "grids.gpkg", layer="grids")
    streets, communities = at.dataframe[1].value, at.dataframe[2].value
    assert len(streets) == grids["street_code"].nunique()
    assert len(communities) == grids["community_code"].nunique()
    assert sorted(streets["Rank"]) == sorted(streets["Rank"].astype(int))
    assert EVIL in set(streets["Name"])  # a dataframe cell is text, not HTML
    # incidents per street, independently: those of its grids
    a = assign_points(inc, grids)
    per_street = pd.Series(grids["street_code"].to_numpy()[a.index[a.index >= 0]]).value_counts()
    shown = dict(zip(streets["Code"], streets["Incidents"], strict=True))
    for code, n in per_street.items():
        assert shown[code] == (f"{n:,}" if n >= 5 else "<5")

    html = _file(downloads, "report.dl_html").decode("utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert "Ranking of streets" in html
    assert "Ranking of communities" in html
    assert EVIL not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "Synthetic demo district — not real data" in html
    assert "meta.json" in html  # the data sources and their dates
    assert "incidents.parquet" in html
    pdf = _file(downloads, "report.dl_pdf")
    assert pdf.startswith(b"%PDF")
    assert pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") >= 10


def test_report_page_month_and_language(app_page, downloads):
    at, _ = app_page("report.py", render=False, lang="zh")
    at.run()
    assert not at.exception
    assert at.title[0].value == "区县报告"
    months = at.selectbox(key="report.month").options
    assert months == sorted(months, reverse=True)
    at.selectbox(key="report.month").set_value(months[-1]).run()
    assert not at.exception
    figures = _values(at.dataframe[0].value)
    assert f"本月事件（{months[-1]}）" in figures or \
        f"本月事件（{months[-1]}）（数据未覆盖整月）" in figures
    html = _file(downloads, "report.dl_html").decode("utf-8")
    assert "定量化考核排名：街道" in html
    assert f"报告月份 {months[-1]}" in html


def test_overview_lists_the_district_figures_and_rankings(app_page, app_data_dir, evil_street):
    at, _ = app_page("overview.py", render=False)
    at.run()
    assert not at.exception
    values = _values(at.dataframe[0].value)
    inc = pd.read_parquet(app_data_dir / "incidents.parquet")
    assert values["Closure rate"] == f"{100 * (inc['status'] == 'closed').mean():.1f}%"
    assert "Grids meeting density target" in values
    streets = at.dataframe[1].value
    assert streets.loc[streets["Code"] == evil_street, "Name"].item() == EVIL
    assert list(streets["Rank"].astype(int)) == sorted(streets["Rank"].astype(int))
