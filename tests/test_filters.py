"""Tests of gridmap.filters: categories, dates, hours (wrapping midnight), weekdays."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest

from gridmap import filters
from gridmap._errors import SchemaError


def _pts() -> gpd.GeoDataFrame:
    t = pd.to_datetime(["2024-03-04 08:10", "2024-03-05 23:30", "2024-03-09 01:00",
                        "2024-03-31 12:00", None, "2024-04-01 00:00"])
    return gpd.GeoDataFrame({"category": ["Theft", "fire", "theft ", "noise", "theft", "fire"],
                             "reported_at": t},
                            geometry=gpd.points_from_xy(range(6), range(6)), crs="EPSG:4549")


def test_parse_ranges():
    assert filters.parse_hours("18-23") == frozenset(range(18, 24))
    assert filters.parse_hours("22-2") == frozenset({22, 23, 0, 1, 2})
    assert filters.parse_weekdays("1-5,7") == frozenset({1, 2, 3, 4, 5, 7})
    with pytest.raises(ValueError, match="between 0 and 23"):
        filters.parse_hours("18-24")
    with pytest.raises(ValueError, match="cannot read"):
        filters.parse_weekdays("mon-fri")


def test_category_is_case_and_space_insensitive():
    res = filters.apply_filter(_pts(), filters.PointFilter.build(categories=["theft"]))
    assert res.data.index.tolist() == [0, 2, 4]
    assert res.report == {"input": 6, "category": 3, "kept": 3}


def test_end_date_includes_the_whole_day_and_missing_times_are_counted():
    spec = filters.PointFilter.build(start="2024-03-05", end="2024-03-31")
    res = filters.apply_filter(_pts(), spec)
    assert res.data.index.tolist() == [1, 2, 3]
    assert res.report["no_time"] == 1
    assert res.report["dates"] == 2
    assert res.report["kept"] == 3


def test_hours_wrap_midnight_and_weekdays_are_iso():
    res = filters.apply_filter(_pts(), filters.PointFilter.build(hours="22-2"))
    assert res.data.index.tolist() == [1, 2, 5]
    # 2024-03-09 is a Saturday (6), 2024-03-31 a Sunday (7)
    res = filters.apply_filter(_pts(), filters.PointFilter.build(weekdays="6-7"))
    assert res.data.index.tolist() == [2, 3]


def test_missing_column_and_backwards_range():
    with pytest.raises(SchemaError, match="reported_at"):
        filters.apply_filter(_pts().drop(columns="reported_at"),
                             filters.PointFilter.build(hours="1-2"))
    with pytest.raises(ValueError, match="before"):
        filters.PointFilter.build(start="2024-02-01", end="2024-01-01")


def test_describe():
    spec = filters.PointFilter.build(categories=["theft"], hours="18-19", weekdays="1")
    assert spec.describe() == "categories theft; hours 18,19; weekdays 1"
    assert filters.PointFilter().describe() == "no filter"
