"""The Report page without a browser (AppTest): key figures and the two downloads."""

from __future__ import annotations

import pandas as pd


def test_report_page_figures_and_month(app_page, app_data_dir):
    at, _ = app_page("report.py", render=False)
    at.run()
    assert not at.exception
    table = at.dataframe[0].value
    cams = pd.read_csv(app_data_dir / "cameras.csv")
    values = dict(zip(table.iloc[:, 0], table.iloc[:, 1], strict=True))
    assert values["Cameras"] == f"{len(cams):,}"
    assert values["Camera points"] == f"{cams['point_id'].nunique():,}"
    assert len(at.get("download_button")) == 2

    at.text_input(key="report.month").set_value("not a month")
    at.run()
    assert not at.exception
    assert "YYYY-MM" in at.error[0].value


def test_overview_lists_the_district_figures(app_page, app_data_dir):
    at, _ = app_page("overview.py", render=False)
    at.run()
    assert not at.exception
    table = at.dataframe[0].value
    values = dict(zip(table.iloc[:, 0], table.iloc[:, 1], strict=True))
    inc = pd.read_parquet(app_data_dir / "incidents.parquet")
    closed = (inc["status"] == "closed").mean()
    assert values["Closure rate"] == f"{100 * closed:.1f}%"
