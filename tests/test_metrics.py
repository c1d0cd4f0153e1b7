"""Tests for gridmap.metrics against hand-computed values."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gridmap import DataError, SchemaError
from gridmap.adjacency import unit_graph
from gridmap.metrics import (
    balance_table,
    compactness,
    cut_edges,
    dissolve_plan,
    is_contiguous,
    match_labels,
    plan_metrics,
    units_moved,
)

X0, Y0 = 500_000.0, 3_400_000.0


def lattice(nx: int, ny: int, size: float = 100.0) -> gpd.GeoDataFrame:
    boxes = [shapely.box(X0 + c * size, Y0 + r * size, X0 + (c + 1) * size, Y0 + (r + 1) * size)
             for r in range(ny) for c in range(nx)]
    return gpd.GeoDataFrame({"v": np.arange(1.0, nx * ny + 1)}, geometry=boxes, crs="EPSG:4549")


def test_compactness_of_square_rectangle_and_l_shape():
    square = shapely.box(X0, Y0, X0 + 100, Y0 + 100)
    rect = shapely.box(X0, Y0, X0 + 200, Y0 + 100)
    ell = shapely.union_all([shapely.box(X0, Y0, X0 + 200, Y0 + 100),
                             shapely.box(X0, Y0 + 100, X0 + 100, Y0 + 200)])
    c = compactness(gpd.GeoDataFrame(geometry=[square, rect, ell], crs="EPSG:4549"))
    assert c["polsby_popper"].tolist() == pytest.approx([math.pi / 4, 2 * math.pi / 9,
                                                         4 * math.pi * 30_000 / 800**2])
    # Reock: square in a circle of radius 50√2; 2×1 rectangle radius 50√5
    assert c["reock"].iloc[0] == pytest.approx(2 / math.pi)
    assert c["reock"].iloc[1] == pytest.approx(20_000 / (math.pi * 50**2 * 5))
    assert c["convex_hull_ratio"].tolist() == pytest.approx([1.0, 1.0, 30_000 / 35_000])
    assert c["area_m2"].tolist() == pytest.approx([10_000, 20_000, 30_000])


def test_balance_table_by_hand():
    values = pd.DataFrame({"v": [1.0, 2.0, 3.0, 4.0]})
    table, summary = balance_table(values, pd.Series(["a", "a", "b", "b"]))
    assert table["v"].tolist() == [3.0, 7.0]
    assert table["v_dev"].tolist() == pytest.approx([-0.4, 0.4])
    assert summary["v"]["max_abs_dev"] == pytest.approx(0.4)
    assert summary["v"]["mean_abs_dev"] == pytest.approx(0.4)
    assert summary["v"]["range"] == pytest.approx(0.8)
    assert summary["v"]["cv"] == pytest.approx(0.4)
    # an explicit target
    table, _ = balance_table(values, pd.Series(["a", "a", "b", "b"]), targets=pd.Series({"v": 4.0}))
    assert table["v_dev"].tolist() == pytest.approx([-0.25, 0.75])


def test_cut_edges_and_contiguity():
    units = lattice(2, 2)  # 0 1 / 2 3 (row 0 at the bottom)
    g = unit_graph(units)
    cut = cut_edges(g, np.array([0, 1, 0, 1]))
    assert cut["cut_edges"] == 2
    assert cut["cut_length_m"] == pytest.approx(200.0)
    assert math.isnan(cut["barrier_share"])
    contig = is_contiguous(g, np.array([0, 1, 1, 0]))  # diagonals: not rook-contiguous
    assert not contig.any()
    assert is_contiguous(g, np.array([0, 0, 1, 1])).all()


def test_units_moved_ignores_relabelling():
    a = pd.Series(["x", "x", "y", "y", "y"])
    b = pd.Series(["p", "p", "q", "q", "p"])
    assert units_moved(a, b).sum() == 1
    assert units_moved(a, b, match="labels").sum() == 5
    assert match_labels(a, b) == {"x": "p", "y": "q"}


def test_dissolve_plan_and_plan_metrics():
    units = lattice(4, 2)
    plan = pd.Series(["A", "A", "B", "B", "A", "A", "B", "B"], index=units.index)
    grids = dissolve_plan(units, plan)
    assert grids["grid_id"].tolist() == ["A", "B"]
    assert grids["n_units"].tolist() == [4, 4]
    assert grids.area.tolist() == pytest.approx([40_000, 40_000])
    per_grid, summary = plan_metrics(units, plan, fields=["v"])
    # A holds 1+2+5+6 = 14, B 3+4+7+8 = 22; mean 18
    assert per_grid["v"].tolist() == [14.0, 22.0]
    assert summary["v_max_abs_dev"] == pytest.approx(4 / 18)
    assert summary["cut_edges"] == 2
    assert summary["mean_polsby_popper"] == pytest.approx(math.pi / 4)
    assert summary["all_contiguous"]
    moved = plan_metrics(units, plan, fields=["v"], reference=plan.replace({"A": "B", "B": "A"}))[1]
    assert moved["units_moved"] == 0


def test_plan_metrics_errors():
    units = lattice(2, 1)
    with pytest.raises(SchemaError, match="lacks"):
        plan_metrics(units, pd.Series(["A"], index=[0]))
    with pytest.raises(DataError, match="no grid"):
        plan_metrics(units, pd.Series(["A", None], index=units.index))
