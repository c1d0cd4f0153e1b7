"""Tests for gridmap.rebalance (minimum-change rebalancing) and ``gridmap rebalance``."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gridmap import SchemaError
from gridmap.cli import main
from gridmap.metrics import dissolve_plan, units_moved
from gridmap.partition import partition_units
from gridmap.rebalance import rebalance_plan

X0, Y0 = 500_000.0, 3_400_000.0


def lattice(nx: int, ny: int, *, seed: int | None = None) -> gpd.GeoDataFrame:
    cols = np.tile(np.arange(nx), ny)
    rows = np.repeat(np.arange(ny), nx)
    boxes = shapely.box(X0 + cols * 100, Y0 + rows * 100, X0 + (cols + 1) * 100, Y0 + (rows + 1) * 100)
    hh = (np.ones(nx * ny) if seed is None
          else np.round(np.random.default_rng(seed).lognormal(3.0, 0.5, nx * ny)))
    return gpd.GeoDataFrame({"col": cols, "row": rows, "households": hh}, geometry=boxes,
                            crs="EPSG:4549")


def quadrants(units: gpd.GeoDataFrame, n: int) -> pd.Series:
    half = n // 2
    q = (units["col"] >= half).astype(int) + 2 * (units["row"] >= half).astype(int)
    return ("Q" + q.astype(str)).rename("grid_id")


def connected(units, assignment) -> bool:
    return all(shapely.union_all(m.geometry.values).geom_type == "Polygon"
               for _, m in units.groupby(assignment))


def test_balanced_plan_is_left_alone():
    units = lattice(12, 12)
    plan = quadrants(units, 12)
    res = rebalance_plan(units, existing=plan, parts=4, tolerance=0.01)
    assert res.metrics["units_moved"] == 0
    assert res.assignment.equals(plan.reindex(units.index))
    assert res.moved.empty
    assert (res.changes["n_units_out"] == 0).all()


def test_four_into_five_moves_less_than_a_redraw():
    units = lattice(12, 12)
    plan = quadrants(units, 12)
    res = rebalance_plan(units, existing=plan, parts=5, tolerance=0.05)
    counts = res.assignment.value_counts()
    assert len(counts) == 5
    assert ((counts / (144 / 5) - 1).abs() <= 0.05).all()  # 28–30 cells each
    assert connected(units, res.assignment)
    moved = int((res.assignment != plan).sum())
    assert res.metrics["units_moved"] == moved
    assert moved >= 28  # the new grid alone holds at least 28 cells that all moved
    scratch = partition_units(units, parts=5, tolerance=0.05)
    assert moved < units_moved(scratch.assignment, plan).sum()
    # old ids are kept; the new grid is named after the grid it came from
    assert set(plan.unique()) <= set(res.assignment.unique())
    new = set(res.assignment.unique()) - set(plan.unique())
    assert len(new) == 1
    assert next(iter(new)).startswith("Q")


def test_changes_table_accounts_for_every_unit():
    units = lattice(12, 12, seed=3)
    plan = quadrants(units, 12)
    res = rebalance_plan(units, existing=plan, parts=6, balance=["households"], tolerance=0.03)
    t = res.changes.set_index("grid_id")
    after = t["n_units_before"] - t["n_units_out"] + t["n_units_in"]
    assert (after == t["n_units_after"]).all()
    assert t["n_units_out"].sum() == t["n_units_in"].sum() == res.metrics["units_moved"]
    hh_moved = units["households"][res.assignment != plan].sum()
    assert t["households_out"].sum() == pytest.approx(hh_moved)
    assert res.metrics["households_moved"] == pytest.approx(hh_moved)
    assert res.metrics["area_moved_m2"] == pytest.approx(10_000 * res.metrics["units_moved"])
    s = units["households"].groupby(res.assignment).sum()
    assert (s / s.mean() - 1).abs().max() <= 0.03
    assert len(res.moved) == res.metrics["units_moved"]


def test_locked_grid_never_changes():
    units = lattice(12, 12, seed=4)
    plan = quadrants(units, 12)
    res = rebalance_plan(units, existing=plan, parts=5, balance=["households"],
                         tolerance=0.05, locked=["Q0"])
    q0 = plan == "Q0"
    assert (res.assignment[q0] == "Q0").all()
    assert (res.assignment[~q0] != "Q0").all()
    assert res.grids.set_index("grid_id").loc["Q0", "status"] == "locked"


def test_fewer_grids_merges_the_lightest():
    units = lattice(12, 12)
    plan = quadrants(units, 12)
    res = rebalance_plan(units, existing=plan, parts=3, tolerance=0.05)
    counts = res.assignment.value_counts()
    assert len(counts) == 3
    assert ((counts / 48 - 1).abs() <= 0.05).all()
    assert connected(units, res.assignment)
    assert any("merged" in p for p in res.problems)


def test_existing_grids_as_polygons():
    units = lattice(8, 8)
    plan = quadrants(units, 8)
    grids = dissolve_plan(units, plan)
    res = rebalance_plan(units, grids=grids, parts=4)
    assert res.previous.equals(plan.astype(str).reindex(units.index))
    assert res.metrics["units_moved"] == 0


def test_errors():
    units = lattice(4, 4)
    plan = quadrants(units, 4)
    with pytest.raises(ValueError, match="exactly one"):
        rebalance_plan(units, parts=2)
    with pytest.raises(SchemaError, match="locked"):
        rebalance_plan(units, existing=plan, locked=["nope"])


def test_cli_rebalance(tmp_path, capsys):
    units = lattice(10, 10, seed=5)
    units["unit_id"] = [f"c{i:03d}" for i in range(len(units))]
    plan = quadrants(units, 10)
    grids = dissolve_plan(units, plan)
    units.to_file(tmp_path / "units.gpkg")
    grids.to_file(tmp_path / "grids.gpkg")
    out = tmp_path / "new.geojson"
    code = main(["rebalance", "--grids", str(tmp_path / "grids.gpkg"), "--units",
                 str(tmp_path / "units.gpkg"), "--parts", "5", "--balance", "households",
                 "--tolerance", "0.05", "--out", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    assert "4 → 5 grids" in text
    changes = pd.read_csv(tmp_path / "new.changes.csv", encoding="utf-8-sig")
    moved = pd.read_csv(tmp_path / "new.moved.csv", encoding="utf-8-sig")
    assert changes["n_units_in"].sum() == len(moved)
    assert len(gpd.read_file(out)) == 5
