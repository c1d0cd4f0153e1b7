"""Tests for gridmap.edit: merge, split, move, lock, undo/redo."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gridmap import DataError
from gridmap.edit import PlanEditor, merge_grids, move_units, split_grid, split_grid_by_line

X0, Y0 = 500_000.0, 3_400_000.0


def lattice(nx: int, ny: int) -> gpd.GeoDataFrame:
    cols = np.tile(np.arange(nx), ny)
    rows = np.repeat(np.arange(ny), nx)
    boxes = shapely.box(X0 + cols * 100, Y0 + rows * 100, X0 + (cols + 1) * 100, Y0 + (rows + 1) * 100)
    return gpd.GeoDataFrame({"col": cols, "row": rows, "households": 1.0 + cols}, geometry=boxes,
                            crs="EPSG:4549")


@pytest.fixture
def plan():
    """A 6×4 lattice in three vertical strips: A (cols 0–1), B (2–3), C (4–5)."""
    units = lattice(6, 4)
    return units, pd.Series(np.array(["A", "B", "C"])[units["col"] // 2], index=units.index)


def test_merge_neighbours_only(plan):
    units, a = plan
    merged = merge_grids(units, a, ["A", "B"])
    assert merged.value_counts().to_dict() == {"A": 16, "C": 8}
    with pytest.raises(DataError, match="do not touch"):
        merge_grids(units, a, ["A", "C"])
    with pytest.raises(DataError, match="locked"):
        merge_grids(units, a, ["A", "B"], locked=["B"])
    assert a.value_counts().to_dict() == {"A": 8, "B": 8, "C": 8}  # input untouched


def test_move_units_checks_adjacency_and_contiguity(plan):
    units, a = plan
    # move the B cells of column 2 to A: both stay connected
    col2 = units.index[units["col"] == 2].tolist()
    moved = move_units(units, a, col2, "A")
    assert moved.value_counts().to_dict() == {"A": 12, "B": 4, "C": 8}
    with pytest.raises(DataError, match="do not touch"):
        move_units(units, a, [units.index[(units["col"] == 5) & (units["row"] == 0)][0]], "A")
    # taking the middle rows of column 3 out of B (after col 2 went to A) cuts B in two
    middle = units.index[(units["col"] == 3) & units["row"].isin([1, 2])].tolist()
    with pytest.raises(DataError, match="cut grid 'B' in two"):
        move_units(units, moved, middle, "C")
    with pytest.raises(DataError, match="empty grid"):
        move_units(units, a, units.index[a == "B"].tolist(), "A")


def test_split_by_line_sides(plan):
    units, a = plan
    # a horizontal line at y = 210 m through grid C: rows 0–1 below (centres 50, 150), 2–3 above
    line = shapely.LineString([(X0 + 395, Y0 + 210), (X0 + 605, Y0 + 210)])
    out, ids = split_grid_by_line(units, a, "C", line)
    assert ids == ["C", "C-2"]
    c_rows = units.loc[out[out.isin(ids)].index, "row"]
    by_side = c_rows.groupby(out[out.isin(ids)]).agg(set)
    assert sorted(map(sorted, by_side)) == [[0, 1], [2, 3]]
    with pytest.raises(DataError, match="does not cut"):
        split_grid_by_line(units, a, "C", shapely.LineString([(X0, Y0 + 900), (X0 + 50, Y0 + 900)]))
    # a line drawn in lon/lat is reprojected
    line_ll = gpd.GeoSeries([line], crs="EPSG:4549").to_crs(4326).iloc[0]
    out2, _ = split_grid_by_line(units, a, "C", line_ll, line_crs=4326)
    assert out2.equals(out)


def test_split_into_balanced_parts(plan):
    units, a = plan
    out, ids = split_grid(units, a, "C", 2, balance=["households"], tolerance=0.0)
    assert ids == ["C", "C-2"]
    s = units["households"].groupby(out).sum()
    assert s["C"] == s["C-2"] == 22  # columns 4 and 5 hold 5 and 6 per cell: 44 in all


def test_editor_undo_redo_lock_and_stats(plan):
    units, a = plan
    ed = PlanEditor(units, a, fields=["households"])
    stats = ed.stats().set_index("grid_id")
    assert stats["households"].to_dict() == {"A": 12.0, "B": 28.0, "C": 44.0}
    assert stats.loc["A", "households_dev"] == pytest.approx(12 / 28 - 1)
    ed.merge(["A", "B"])
    assert ed.stats()["grid_id"].tolist() == ["A", "C"]
    ed.split("C", 2)
    assert ed.assignment.nunique() == 3
    assert ed.history == ["merge A, B into A", "split C into 2 balanced parts"]
    assert ed.undo() == "split C into 2 balanced parts"
    assert ed.undo() == "merge A, B into A"
    assert ed.assignment.equals(a)
    assert not ed.can_undo
    ed.redo()
    assert ed.assignment.nunique() == 2
    ed.lock(["C"])
    with pytest.raises(DataError, match="locked"):
        ed.split("C", 2)
    ed.undo()  # undo the lock
    assert "C" not in ed.locked
    ed.move([units.index[(units["col"] == 3) & (units["row"] == 0)][0]], "C")  # a new edit...
    assert not ed.can_redo  # ...clears the redo stack
    grids = ed.grids()
    assert grids["n_units"].sum() == 24
    assert ed.unit_at(shapely.Point(X0 + 150, Y0 + 50)) == 1


def test_editor_fixed_target(plan):
    units, a = plan
    ed = PlanEditor(units, a, fields=["households"], target={"households": 30.0})
    assert ed.stats().set_index("grid_id").loc["C", "households_dev"] == pytest.approx(44 / 30 - 1)


def test_editor_grids_follow_every_state(plan):
    """grids() is dissolved once per plan state, but always shows the current state and
    hands out a frame the caller may change."""
    units, a = plan
    ed = PlanEditor(units, a, fields=["households"])
    first = ed.grids()
    assert sorted(first["grid_id"]) == ["A", "B", "C"]
    first.loc[first.index[0], "households"] = -1.0
    first = first.set_geometry(first.geometry.buffer(-10))
    again = ed.grids().set_index("grid_id")
    assert again.loc["A", "households"] == 12.0
    assert again.loc["A"].geometry.area == pytest.approx(200 * 400)
    ed.merge(["A", "B"])
    merged = ed.grids().set_index("grid_id")
    assert merged.loc["A", "households"] == 40.0
    assert merged.loc["A"].geometry.area == pytest.approx(400 * 400)
    ed.undo()
    assert sorted(ed.grids()["grid_id"]) == ["A", "B", "C"]
    ed.redo()
    assert ed.grids().set_index("grid_id").loc["A", "n_units"] == 16
