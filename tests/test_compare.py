"""Tests for gridmap.compare and ``gridmap compare``."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gridmap.cli import main
from gridmap.compare import compare_plans, plot_changes
from gridmap.metrics import dissolve_plan

X0, Y0 = 500_000.0, 3_400_000.0


@pytest.fixture
def two_plans():
    cols = np.tile(np.arange(4), 2)
    rows = np.repeat(np.arange(2), 4)
    boxes = shapely.box(X0 + cols * 100, Y0 + rows * 100, X0 + (cols + 1) * 100, Y0 + (rows + 1) * 100)
    units = gpd.GeoDataFrame({"households": np.arange(1.0, 9.0)}, geometry=boxes, crs="EPSG:4549")
    before = pd.Series(["A", "A", "B", "B", "A", "A", "B", "B"], index=units.index)
    after = pd.Series(["A", "A", "A", "B", "A", "A", "B", "C"], index=units.index)
    b = dissolve_plan(units, before).assign(code=["001", "002"])
    a = dissolve_plan(units, after)
    return units, before, after, b, a


def test_per_grid_table_and_moves(two_plans):
    units, _, _, b, a = two_plans
    comp = compare_plans(b, a, units=units, fields=["households"])
    t = comp.table.set_index("grid_after")
    assert comp.summary["units_moved"] == 2  # cells 2 (B→A) and 7 (B→C)
    assert comp.summary["households_moved"] == 3 + 8
    assert t.loc["A", "status"] == "changed"
    assert t.loc["C", "status"] == "added"
    assert t.loc["A", "households_before"] == 1 + 2 + 5 + 6
    assert t.loc["A", "households_after"] == 1 + 2 + 3 + 5 + 6
    assert t.loc["A", "units_in"] == 1
    assert t.loc["B", "units_out"] == 2
    assert t.loc["A", "code_before"] == "001"
    assert t.loc["A", "households_dev_before"] == pytest.approx(14 / 18 - 1)
    assert sorted(comp.moved["unit"].tolist()) == [2, 7]
    # the changed area is exactly the two moved cells
    assert comp.summary["area_changed_m2"] == pytest.approx(20_000)
    assert comp.changes["area_m2"].sum() == pytest.approx(20_000)


def test_match_by_overlap_when_ids_differ(two_plans):
    units, _, _, b, a = two_plans
    renamed = a.assign(grid_id=a["grid_id"].map({"A": "X", "B": "Y", "C": "Z"}))
    comp = compare_plans(b, renamed, units=units)
    assert comp.summary["matched_by"] == "overlap"
    assert comp.summary["units_moved"] == 2
    matched = comp.after.set_index("grid_id")["matched_before"]
    assert matched[["X", "Y"]].tolist() == ["A", "B"]
    assert pd.isna(matched["Z"])


def test_without_units_areas_only(two_plans):
    _, _, _, b, a = two_plans
    comp = compare_plans(b, a)
    assert comp.moved.empty
    assert comp.summary["area_changed_m2"] == pytest.approx(20_000)
    fig = plot_changes(comp)
    assert fig.axes


def test_cli_compare(tmp_path, two_plans, capsys):
    units, _, _, b, a = two_plans
    b.to_file(tmp_path / "before.gpkg")
    a.to_file(tmp_path / "after.gpkg")
    units.to_file(tmp_path / "units.gpkg")
    out = tmp_path / "cmp"
    assert main(["compare", "--before", str(tmp_path / "before.gpkg"), "--after",
                 str(tmp_path / "after.gpkg"), "--units", str(tmp_path / "units.gpkg"),
                 "--field", "households", "--out", str(out)]) == 0
    assert "units moved: 2" in capsys.readouterr().out
    table = pd.read_csv(out / "grids.csv", encoding="utf-8-sig")
    assert len(table) == 3
    assert len(pd.read_csv(out / "moved_units.csv", encoding="utf-8-sig")) == 2
    assert (out / "changes.png").stat().st_size > 1000
    assert json.loads((out / "summary.json").read_text())["units_moved"] == 2
    assert len(gpd.read_file(out / "changes.gpkg", layer="changes")) >= 1
