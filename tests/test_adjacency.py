"""Tests for gridmap.adjacency: shared borders, barriers, island links."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from libpysal.weights import Queen, Rook

from gridmap import CRSError, DataError
from gridmap.adjacency import link_islands, unit_graph

X0, Y0 = 500_000.0, 3_400_000.0


def lattice(nx: int, ny: int, size: float = 100.0, *, dx: float = 0.0) -> gpd.GeoDataFrame:
    boxes = [
        shapely.box(X0 + dx + c * size, Y0 + r * size, X0 + dx + (c + 1) * size, Y0 + (r + 1) * size)
        for r in range(ny)
        for c in range(nx)
    ]
    return gpd.GeoDataFrame({"col": [c for _ in range(ny) for c in range(nx)]}, geometry=boxes,
                            crs="EPSG:4549")


def test_two_by_two_rook_and_queen():
    units = lattice(2, 2)
    rook = unit_graph(units)
    e = rook.edges()
    # 4 shared sides of 100 m each, no diagonal
    assert len(e) == 4
    assert np.allclose(e["length"], 100.0)
    assert set(map(tuple, e[["i", "j"]].to_numpy())) == {(0, 1), (0, 2), (1, 3), (2, 3)}
    queen = unit_graph(units, contiguity="queen")
    eq = queen.edges()
    assert len(eq) == 6  # plus the two diagonals, which share a point only
    diag = eq[eq["length"] == 0]
    assert set(map(tuple, diag[["i", "j"]].to_numpy())) == {(0, 3), (1, 2)}
    assert np.allclose(rook.area, 10_000.0)
    assert np.allclose(rook.outer_length(), 200.0)


@pytest.mark.parametrize(("kind", "builder"), [("rook", Rook), ("queen", Queen)])
def test_matches_libpysal_on_a_lattice(kind, builder):
    units = lattice(6, 5)
    g = unit_graph(units, contiguity=kind)
    w = builder.from_dataframe(units, use_index=False)
    for i in range(g.n):
        assert sorted(g.neighbours(i).tolist()) == sorted(w.neighbors[i])


def test_graph_in_degrees_is_reprojected_to_metres():
    units = lattice(3, 1).to_crs(4326)
    g = unit_graph(units)
    assert np.allclose(g.edges()["length"], 100.0, rtol=1e-3)
    assert not g.crs.is_geographic


def test_barrier_crossing_between_representative_points():
    units = lattice(4, 1)
    # a road at x = 190 m runs between the centres of cells 1 (150) and 2 (250)
    road = gpd.GeoDataFrame(
        geometry=[shapely.LineString([(X0 + 190, Y0 - 50), (X0 + 190, Y0 + 150)])], crs="EPSG:4549"
    )
    e = unit_graph(units, barriers=road).edges()
    crossing = set(map(tuple, e.loc[e["barrier"], ["i", "j"]].to_numpy()))
    assert crossing == {(1, 2)}


def test_barrier_along_a_shared_border():
    units = lattice(4, 1)
    road = gpd.GeoDataFrame(geometry=[shapely.LineString([(X0 + 300, Y0), (X0 + 300, Y0 + 100)])],
                            crs="EPSG:4549")
    e = unit_graph(units, barriers=[road]).edges()
    assert set(map(tuple, e.loc[e["barrier"], ["i", "j"]].to_numpy())) == {(2, 3)}


def test_snap_tolerance_bridges_small_gaps():
    a = lattice(1, 1)
    b = lattice(1, 1, dx=100.5)
    units = gpd.GeoDataFrame(geometry=list(a.geometry) + list(b.geometry), crs="EPSG:4549")
    assert len(unit_graph(units).edges()) == 0
    e = unit_graph(units, snap_tolerance=1.0).edges()
    assert len(e) == 1
    assert e["length"].iloc[0] == pytest.approx(100.0, abs=1.0)


def test_link_islands_joins_nearest_units():
    main = lattice(2, 2)
    island = lattice(1, 1, dx=700.0)  # 500 m east of the main block
    units = gpd.GeoDataFrame(geometry=list(main.geometry) + list(island.geometry), crs="EPSG:4549")
    g = unit_graph(units)
    assert len(np.unique(g.components())) == 2
    linked, links = link_islands(g)
    assert len(np.unique(linked.components())) == 1
    assert len(links) == 1
    # nearest main cell to the island is the east cell of each row (x centre 150 vs 750)
    assert set(links[["u", "v"]].iloc[0]) in ({1, 4}, {3, 4})
    assert links["distance_m"].iloc[0] == pytest.approx(600.0)
    assert links["island_units"].iloc[0] == 1
    assert linked.virtual.sum() == 2  # both directions
    assert len(np.unique(linked.components(virtual=False))) == 2


def test_link_islands_stays_inside_groups():
    units = lattice(4, 1)
    groups = np.array([0, 0, 1, 1])
    g = unit_graph(units).restrict(groups)
    assert len(g.edges()) == 2  # the edge between cells 1 and 2 is dropped
    linked, links = link_islands(g, groups=groups)
    assert links.empty  # each group is connected on its own
    assert len(np.unique(linked.components())) == 2


def test_subgraph_keeps_lengths_and_order():
    g = unit_graph(lattice(3, 3))
    sub = g.subgraph(np.array([4, 1, 7]))
    assert list(sub.index) == [4, 1, 7]
    e = sub.edges()
    assert set(map(tuple, e[["i", "j"]].to_numpy())) == {(0, 1), (0, 2)}
    assert np.allclose(e["length"], 100.0)


def test_errors():
    units = lattice(2, 1)
    with pytest.raises(ValueError, match="contiguity"):
        unit_graph(units, contiguity="bishop")
    with pytest.raises(CRSError):
        unit_graph(units.set_crs(None, allow_override=True))
    empty = units.copy()
    empty.loc[0, "geometry"] = shapely.Polygon()
    with pytest.raises(DataError, match="empty geometry"):
        unit_graph(empty)
