"""Tests for gridmap.partition and the ``gridmap partition`` command."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gridmap import DataError, InfeasibleError, SchemaError
from gridmap.cli import main
from gridmap.partition import (
    apportion,
    assign_parents,
    parse_balance,
    partition_units,
    reading_order,
)

X0, Y0 = 500_000.0, 3_400_000.0


def lattice(nx: int, ny: int, *, seed: int | None = None, size: float = 100.0) -> gpd.GeoDataFrame:
    cols = np.tile(np.arange(nx), ny)
    rows = np.repeat(np.arange(ny), nx)
    boxes = shapely.box(X0 + cols * size, Y0 + rows * size, X0 + (cols + 1) * size, Y0 + (rows + 1) * size)
    hh = (np.ones(nx * ny) if seed is None
          else np.round(np.random.default_rng(seed).lognormal(3.0, 0.8, nx * ny)))
    return gpd.GeoDataFrame({"col": cols, "row": rows, "households": hh}, geometry=boxes,
                            crs="EPSG:4549")


def sums(units: gpd.GeoDataFrame, assignment: pd.Series, field: str) -> pd.Series:
    return units[field].groupby(assignment).sum()


def connected(units: gpd.GeoDataFrame, assignment: pd.Series) -> bool:
    """Independent check: each grid's cells union to one polygon (squares share edges)."""
    for _, members in units.groupby(assignment):
        if shapely.union_all(members.geometry.values).geom_type != "Polygon":
            return False
    return True


def test_apportion_largest_remainder():
    assert apportion([5, 3, 2], 4).tolist() == [2, 1, 1]
    assert apportion([10, 10, 10], 7).tolist() in ([3, 2, 2], [2, 3, 2], [2, 2, 3])
    assert apportion([100, 1], 3).tolist() == [2, 1]  # minimum one each
    assert apportion([0.4, 0.35, 0.25], 10).tolist() == [4, 4, 2]  # remainders .5 and .5 vs .5
    with pytest.raises(InfeasibleError, match="at least"):
        apportion([1, 1, 1], 2)


def test_reading_order_west_east_then_north_south():
    # two rows of three points; the northern row comes first
    xy = np.array([[0, 0], [1, 0], [2, 0], [0, 1], [1, 1], [2, 1]], dtype=float)
    assert reading_order(xy, band=0.5).tolist() == [3, 4, 5, 0, 1, 2]


def test_parse_balance():
    fields = parse_balance(["households", "workload:2.5"])
    assert [(f.name, f.weight) for f in fields] == [("households", 1.0), ("workload", 2.5)]
    with pytest.raises(ValueError, match="number"):
        parse_balance(["x:heavy"])


def test_uniform_lattice_splits_exactly():
    units = lattice(10, 10)
    res = partition_units(units, parts=4, tolerance=0.0)
    counts = res.assignment.value_counts()
    assert len(counts) == 4
    assert (counts == 25).all()
    assert connected(units, res.assignment)
    assert res.metrics["all_contiguous"]
    assert res.balanced
    # four 5×5 squares is the optimum: 20 cut edges, Polsby-Popper π/4 each
    assert res.metrics["cut_edges"] == 20
    assert res.grids["polsby_popper"].to_numpy() == pytest.approx(np.pi / 4)


def test_lognormal_lattice_balanced_contiguous_deterministic():
    units = lattice(20, 20, seed=1)
    before = units.copy()
    res = partition_units(units, parts=6, balance=["households"], tolerance=0.01, seed=3)
    s = sums(units, res.assignment, "households")
    target = units["households"].sum() / 6
    assert len(s) == 6
    assert (s / target - 1).abs().max() <= 0.01
    assert connected(units, res.assignment)
    assert res.metrics["households_max_abs_dev"] == pytest.approx((s / target - 1).abs().max())
    assert res.metrics["mean_polsby_popper"] > 0.5
    again = partition_units(units, parts=6, balance=["households"], tolerance=0.01, seed=3)
    assert again.assignment.equals(res.assignment)
    pd.testing.assert_frame_equal(units, before)  # input untouched
    # grid ids run in reading order: G001 is the north-westernmost
    cent = res.grids.set_index("grid_id").geometry.centroid
    first = cent.loc["G001"]
    assert first.y >= cent.y.median()


def test_cut_edges_match_an_independent_count():
    units = lattice(12, 8, seed=2)
    res = partition_units(units, parts=5, balance=["households"], tolerance=0.02)
    lab = res.assignment.to_numpy()
    tree = shapely.STRtree(units.geometry.values)
    a, b = tree.query(units.geometry.values, predicate="touches")
    shared = shapely.length(shapely.intersection(units.geometry.values[a], units.geometry.values[b]))
    rook = (a < b) & (shared > 0)
    assert res.metrics["cut_edges"] == int((lab[a[rook]] != lab[b[rook]]).sum())


def test_multi_field_balance():
    units = lattice(16, 16, seed=4)
    units["workload"] = np.random.default_rng(9).integers(1, 20, len(units)).astype(float)
    res = partition_units(units, parts=4, balance=["households", "workload:1"], tolerance=0.05)
    for f in ("households", "workload"):
        s = sums(units, res.assignment, f)
        assert (s / s.mean() - 1).abs().max() <= 0.05


def test_target_size_sets_k():
    units = lattice(10, 10, seed=5)
    total = units["households"].sum()
    res = partition_units(units, target_size=total / 3.2, size_field="households", tolerance=0.05)
    assert res.assignment.nunique() == 3  # round(3.2)


def test_within_column_is_a_hard_constraint():
    units = lattice(12, 6, seed=6)
    units["community"] = np.where(units["col"] < 5, "A", "B")  # 30 and 42 cells
    res = partition_units(units, parts=5, balance=["households"], within="community", tolerance=0.05)
    per_grid = units["community"].groupby(res.assignment).nunique()
    assert (per_grid == 1).all()
    assert res.assignment.nunique() == 5
    assert set(res.grids["parent"]) == {"A", "B"}
    assert connected(units, res.assignment)


def test_within_layer_assigns_units_by_overlap():
    units = lattice(6, 2)
    parents = gpd.GeoDataFrame(
        {"cid": ["W", "E"]},
        geometry=[shapely.box(X0 - 1, Y0 - 1, X0 + 310, Y0 + 201),
                  shapely.box(X0 + 310, Y0 - 1, X0 + 601, Y0 + 201)],
        crs="EPSG:4549",
    )
    parent, straddle = assign_parents(units, parents, id_column="cid")
    assert (parent.to_numpy() == np.where(units["col"] < 3, "W", "E")).all()
    assert straddle["unit"].tolist() == [3, 9]  # cells 300–400 m: 10% lie in W
    res = partition_units(units, parts=2, within=parents, within_id="cid")
    assert (res.assignment.groupby(parent).nunique() == 1).all()
    assert any("straddle" in p for p in res.problems)


def test_barriers_move_the_boundary_onto_the_road():
    units = lattice(10, 4)
    # a north-south road between columns 3 and 4 (x = 420 m crosses the links 350 → 450)
    road = gpd.GeoDataFrame(geometry=[shapely.LineString([(X0 + 420, Y0 - 10), (X0 + 420, Y0 + 410)])],
                            crs="EPSG:4549")
    plain = partition_units(units, parts=2, tolerance=0.25)
    assert plain.metrics["cut_edges"] == 4
    with_road = partition_units(units, parts=2, tolerance=0.25, barriers=road)
    assert with_road.metrics["barrier_crossings"] == 0
    assert with_road.metrics["barrier_share"] == pytest.approx(1.0)
    # independent check: columns 0–3 together, 4–9 together
    left = with_road.assignment[units["col"] < 4]
    right = with_road.assignment[units["col"] >= 4]
    assert left.nunique() == 1
    assert right.nunique() == 1
    assert left.iloc[0] != right.iloc[0]


def test_indivisible_unit_is_infeasible_and_named():
    units = lattice(4, 4)
    units.loc[5, "households"] = 100.0  # more than a whole grid (total 115 / 2)
    with pytest.raises(InfeasibleError, match=r"unit\(s\) \[5\]"):
        partition_units(units, parts=2, balance=["households"])


def test_choke_point_is_infeasible_and_named():
    # two 3×3 blocks joined by one corridor cell holding 10; all other cells hold 1
    left = lattice(3, 3)
    corridor = gpd.GeoDataFrame({"households": [10.0]},
                                geometry=[shapely.box(X0 + 300, Y0 + 100, X0 + 400, Y0 + 200)],
                                crs="EPSG:4549")
    right = lattice(3, 3)
    right["geometry"] = right.translate(400)
    units = pd.concat([left[["households", "geometry"]], corridor, right[["households", "geometry"]]],
                      ignore_index=True)
    units = gpd.GeoDataFrame(units, geometry="geometry", crs="EPSG:4549")
    with pytest.raises(InfeasibleError, match=r"unit 9 is a choke point"):
        partition_units(units, parts=2, balance=["households"], tolerance=0.01)


def test_too_few_units():
    with pytest.raises(InfeasibleError, match="needs 5 grid"):
        partition_units(lattice(2, 2), parts=5)


def test_islands_are_linked_and_reported():
    main_block = lattice(4, 4)
    island = lattice(2, 2)
    island["geometry"] = island.translate(1000)
    units = gpd.GeoDataFrame(pd.concat([main_block, island], ignore_index=True), crs="EPSG:4549")
    res = partition_units(units, parts=2, tolerance=0.0)  # 10 cells each: the island needs 6 more
    assert len(res.island_links) == 1
    assert bool(res.island_links["inside_grid"].iloc[0])
    assert res.metrics["all_contiguous"]
    assert any("island link" in p for p in res.problems)
    assert res.assignment.value_counts().tolist() == [10, 10]


def test_argument_errors():
    units = lattice(3, 3)
    with pytest.raises(ValueError, match="exactly one"):
        partition_units(units, parts=2, target_size=3, size_field="households")
    with pytest.raises(ValueError, match="size_field"):
        partition_units(units, target_size=3)
    with pytest.raises(SchemaError, match="lacks column"):
        partition_units(units, parts=2, balance=["nope"])
    bad = units.copy()
    bad.loc[0, "households"] = -1
    with pytest.raises(DataError, match="negative"):
        partition_units(bad, parts=2, balance=["households"])


def test_cli_partition(tmp_path, capsys):
    units = lattice(8, 8, seed=7).to_crs(4326)
    units["unit_id"] = [f"u{i:02d}" for i in range(len(units))]
    src = tmp_path / "units.gpkg"
    units.to_file(src, layer="units")
    out = tmp_path / "plan.gpkg"
    code = main(["partition", "--units", str(src), "--parts", "3", "--balance", "households",
                 "--tolerance", "0.02", "--seed", "1", "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "grids: 3" in printed
    assert "contiguous: all" in printed
    grids = gpd.read_file(out, layer="grids")
    assert len(grids) == 3
    table = pd.read_csv(tmp_path / "plan.assignment.csv", encoding="utf-8-sig")
    assert sorted(table["unit_id"]) == sorted(units["unit_id"])
    s = units.set_index("unit_id")["households"].groupby(table.set_index("unit_id")["grid_id"]).sum()
    assert (s / s.mean() - 1).abs().max() <= 0.02
    metrics = json.loads((tmp_path / "plan.metrics.json").read_text(encoding="utf-8"))
    assert metrics["metrics"]["k"] == 3
    assert "units" in [name for name, _ in __import__("pyogrio").list_layers(out)]


def test_cli_partition_infeasible_exit_code(tmp_path, capsys):
    units = lattice(3, 3)
    units.loc[0, "households"] = 50.0
    src = tmp_path / "u.geojson"
    units.to_file(src)
    code = main(["partition", "--units", str(src), "--parts", "2", "--balance", "households",
                 "--out", str(tmp_path / "p.geojson")])
    assert code == 2
    assert "more households" in capsys.readouterr().err
