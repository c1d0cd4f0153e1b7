"""Tests for gridmap.assign: point-in-polygon assignment with a boundary rule."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point, box

from gridmap import CRSError, SchemaError
from gridmap import assign as assign_mod
from gridmap.assign import _assign_strtree, assign_points, pick_grid_id

METRIC = "EPSG:4549"
X0, Y0 = 500_000.0, 3_400_000.0


@pytest.fixture
def grid2x2() -> gpd.GeoDataFrame:
    """Four 100 m squares: A (SW), B (SE), C (NW), D (NE)."""
    cells = [
        box(X0, Y0, X0 + 100, Y0 + 100),
        box(X0 + 100, Y0, X0 + 200, Y0 + 100),
        box(X0, Y0 + 100, X0 + 100, Y0 + 200),
        box(X0 + 100, Y0 + 100, X0 + 200, Y0 + 200),
    ]
    return gpd.GeoDataFrame(
        {"grid_id": ["A", "B", "C", "D"], "zone": ["urban"] * 4},
        geometry=cells, crs=METRIC,
    )


def _pts(xy: list[tuple[float, float]], crs: str = METRIC) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"pid": range(len(xy))}, geometry=[Point(x, y) for x, y in xy], crs=crs
    )


def test_interior_points_by_hand(grid2x2: gpd.GeoDataFrame) -> None:
    pts = _pts([(X0 + 50, Y0 + 50), (X0 + 150, Y0 + 50), (X0 + 50, Y0 + 150),
                (X0 + 150, Y0 + 150), (X0 + 10, Y0 + 10)])
    a = assign_points(pts, grid2x2)
    assert a.index.dtype == np.int64
    assert a.index.tolist() == [0, 1, 2, 3, 0]
    assert a.grid_ids.tolist() == ["A", "B", "C", "D", "A"]
    assert a.grid_id == "grid_id"
    assert a.counts().tolist() == [2, 1, 1, 1]
    assert a.n_outside == 0


def test_boundary_points_go_to_first_listed_grid(grid2x2: gpd.GeoDataFrame) -> None:
    # on A|B edge, on A|C edge, the centre corner (A, B, C, D), B|D edge, outer edge of D
    pts = _pts([(X0 + 100, Y0 + 50), (X0 + 50, Y0 + 100), (X0 + 100, Y0 + 100),
                (X0 + 150, Y0 + 100), (X0 + 200, Y0 + 150)])
    a = assign_points(pts, grid2x2)
    assert a.index.tolist() == [0, 0, 0, 1, 3]
    # every point counted exactly once
    assert a.counts().sum() == len(pts)
    # reversing the grid order flips the choice to the other side
    rev = grid2x2.iloc[::-1]
    b = assign_points(pts, rev)
    assert b.grid_ids.tolist() == ["B", "C", "D", "D", "D"]


def test_outside_points_listed_not_dropped(grid2x2: gpd.GeoDataFrame) -> None:
    pts = _pts([(X0 - 1, Y0 + 50), (X0 + 50, Y0 + 50), (X0 + 500, Y0 + 500)])
    pts.loc[3] = [3, None]
    a = assign_points(pts, grid2x2)
    assert a.index.tolist() == [-1, 0, -1, -1]
    assert a.outside.tolist() == [0, 2, 3]
    assert a.grid_ids.isna().tolist() == [True, False, True, True]
    assert a.counts().sum() == 1


def test_weights_and_alignment(grid2x2: gpd.GeoDataFrame) -> None:
    g = grid2x2.set_index(pd.Index([10, 20, 30, 40]))
    pts = _pts([(X0 + 50, Y0 + 50), (X0 + 60, Y0 + 50), (X0 + 150, Y0 + 150), (X0 - 5, Y0)])
    a = assign_points(pts, g)
    w = a.counts(weights=[1.5, 2.0, 4.0, 100.0])
    assert w.index.tolist() == [10, 20, 30, 40]
    assert w.tolist() == [3.5, 0.0, 0.0, 4.0]
    with pytest.raises(ValueError, match="one weight per point"):
        a.counts(weights=[1.0])


def test_reprojects_points_and_accepts_arrays(grid2x2: gpd.GeoDataFrame) -> None:
    pts = _pts([(X0 + 50, Y0 + 50), (X0 + 150, Y0 + 150)])
    lonlat = pts.to_crs("EPSG:4326")
    a = assign_points(lonlat, grid2x2)
    assert a.index.tolist() == [0, 3]
    xy = np.column_stack([lonlat.geometry.x, lonlat.geometry.y])
    b = assign_points(xy, grid2x2)
    assert b.index.tolist() == [0, 3]
    c = assign_points(np.array([[X0 + 150, Y0 + 50]]), grid2x2, crs=METRIC)
    assert c.grid_ids.tolist() == ["B"]


def test_input_errors(grid2x2: gpd.GeoDataFrame) -> None:
    pts = _pts([(X0 + 50, Y0 + 50)])
    with pytest.raises(CRSError):
        assign_points(pts.set_crs(None, allow_override=True), grid2x2)
    lines = gpd.GeoDataFrame(geometry=[shapely.LineString([(X0, Y0), (X0 + 1, Y0 + 1)])],
                             crs=METRIC)
    with pytest.raises(SchemaError, match="Points"):
        assign_points(lines, grid2x2)
    with pytest.raises(SchemaError, match="no column"):
        assign_points(pts, grid2x2, grid_id="nope")
    with pytest.raises(SchemaError, match=r"\(N, 2\)"):
        assign_points(np.zeros((3, 3)), grid2x2)


def test_pick_grid_id(grid2x2: gpd.GeoDataFrame) -> None:
    assert pick_grid_id(grid2x2) == "grid_id"
    g = grid2x2.rename(columns={"grid_id": "code"})
    assert pick_grid_id(g) == "code"  # zone is not unique
    assert pick_grid_id(g[["zone", "geometry"]]) is None
    dup = grid2x2.assign(grid_id=["A", "A", "B", "C"])
    with pytest.raises(SchemaError, match="duplicate"):
        pick_grid_id(dup, "grid_id")


def _voronoi_grids(n: int, seed: int) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    pts = shapely.multipoints(rng.uniform(0, 1000, size=(n, 2)) + np.array([X0, Y0]))
    frame = box(X0, Y0, X0 + 1000, Y0 + 1000)
    cells = shapely.get_parts(shapely.voronoi_polygons(pts, extend_to=frame))
    cells = shapely.intersection(cells, frame)
    return gpd.GeoDataFrame({"grid_id": [f"g{i}" for i in range(len(cells))]},
                            geometry=cells, crs=METRIC)


@pytest.mark.parametrize("seed", [0, 1])
def test_matches_sjoin_within_on_voronoi(seed: int) -> None:
    grids = _voronoi_grids(60, seed)
    rng = np.random.default_rng(seed + 10)
    xy = rng.uniform(-50, 1050, size=(5000, 2)) + np.array([X0, Y0])
    # add points exactly on polygon vertices (always on a boundary)
    verts = shapely.get_coordinates(grids.geometry.values)[:200]
    xy = np.vstack([xy, verts])
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=METRIC)
    a = assign_points(pts, grids)
    j = gpd.sjoin(pts, grids, predicate="within", how="left")
    assert j.index.is_unique  # a partition: nobody strictly inside two grids
    sj = j["index_right"].fillna(-1).astype(np.int64).to_numpy()
    matched = sj >= 0
    np.testing.assert_array_equal(a.index[matched], sj[matched])
    # every point sjoin leaves out is either outside everything or on a boundary
    extra = ~matched & (a.index >= 0)
    assert extra.sum() >= 150  # the vertices
    on_edge = shapely.intersects(shapely.boundary(grids.geometry.values[a.index[extra]]),
                                 pts.geometry.values[extra])
    assert on_edge.all()
    # ...and then gets the lowest-positioned grid that covers it
    ref = _assign_strtree(xy[:, 0], xy[:, 1], grids.geometry.values)
    np.testing.assert_array_equal(a.index, ref)
    outside = ~shapely.intersects(shapely.box(X0, Y0, X0 + 1000, Y0 + 1000),
                                  pts.geometry.values)
    np.testing.assert_array_equal(np.sort(a.outside), np.flatnonzero(outside))


def test_empty_points_and_nan_coordinates_are_outside(grid2x2: gpd.GeoDataFrame) -> None:
    pts = gpd.GeoDataFrame(geometry=[Point(X0 + 50, Y0 + 50), Point(), None,
                                     Point(X0 + 150, Y0 + 150)], crs=METRIC)
    a = assign_points(pts, grid2x2)
    assert a.index.tolist() == [0, -1, -1, 3]
    b = assign_points(np.array([[np.nan, Y0], [X0 + 50, Y0 + 50]]), grid2x2, crs=METRIC)
    assert b.index.tolist() == [-1, 0]


def _ring(cx: float, cy: float, r: float, n: int) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.column_stack([cx + r * np.cos(t), cy + r * np.sin(t)])


def test_holes_multipolygons_overlaps_and_many_vertices() -> None:
    """Every awkward shape, checked against GEOS point by point."""
    donut = shapely.Polygon(_ring(X0 + 200, Y0 + 200, 150, 40),
                            holes=[_ring(X0 + 200, Y0 + 200, 60, 30)])
    islands = shapely.MultiPolygon([box(X0 + 400, Y0, X0 + 450, Y0 + 50),
                                    box(X0 + 500, Y0 + 500, X0 + 560, Y0 + 540)])
    overlap = box(X0 + 300, Y0 + 100, X0 + 420, Y0 + 220)  # overlaps the donut
    in_hole = box(X0 + 180, Y0 + 180, X0 + 220, Y0 + 220)  # fills part of the hole
    wiggly = shapely.Polygon(_ring(X0 + 700, Y0 + 300, 120, 3000))  # > 512 edges
    grids = gpd.GeoDataFrame({"grid_id": list("abcde")},
                             geometry=[donut, islands, overlap, in_hole, wiggly], crs=METRIC)
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 850, size=(20_000, 2)) + np.array([X0, Y0])
    verts = shapely.get_coordinates(grids.geometry.values)
    mids = (verts[:-1] + verts[1:]) / 2  # mostly on edges
    xy = np.vstack([xy, verts, mids, [[X0 + 200, Y0 + 200], [X0 + 330, Y0 + 180]]])
    a = assign_points(xy, grids, crs=METRIC)
    ref = _assign_strtree(xy[:, 0], xy[:, 1], grids.geometry.values)
    np.testing.assert_array_equal(a.index, ref)
    # centre of the hole is only in the small square; the overlap goes to the donut (listed first)
    assert a.grid_ids.iloc[-2] == "d"
    assert a.grid_ids.iloc[-1] == "a"
    assert (a.index == 4).sum() > 1000


@pytest.mark.parametrize("seed", range(4))
def test_random_grids_with_points_on_edges_match_geos(seed: int) -> None:
    rng = np.random.default_rng(seed)
    # axis-aligned grid cells (many points exactly on edges) plus Voronoi cells
    grids = _voronoi_grids(int(rng.integers(5, 300)), seed)
    xy = rng.uniform(-10, 1010, size=(3000, 2)).round(0) + np.array([X0, Y0])
    verts = shapely.get_coordinates(grids.geometry.values)
    w = rng.random((len(verts) - 1, 1))
    on_edges = verts[:-1] * w + verts[1:] * (1 - w)
    xy = np.vstack([xy, on_edges, verts])
    a = assign_points(xy, grids, crs=METRIC)
    ref = _assign_strtree(xy[:, 0], xy[:, 1], grids.geometry.values)
    np.testing.assert_array_equal(a.index, ref)
    squares = gpd.GeoDataFrame(
        geometry=[box(X0 + i * 50, Y0 + j * 50, X0 + i * 50 + 50, Y0 + j * 50 + 50)
                  for i in range(20) for j in range(20)], crs=METRIC,
    ).sample(frac=1, random_state=seed)
    b = assign_points(xy, squares, crs=METRIC)
    ref = _assign_strtree(xy[:, 0], xy[:, 1], squares.geometry.values)
    np.testing.assert_array_equal(b.index, ref)
    assert b.counts().sum() + b.n_outside == len(xy)


def test_parallel_loop_gives_the_same_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    import gridmap.assign as mod

    grids = _voronoi_grids(80, 7)
    rng = np.random.default_rng(8)
    xy = rng.uniform(-20, 1020, size=(4000, 2)) + np.array([X0, Y0])
    xy = np.vstack([xy, shapely.get_coordinates(grids.geometry.values)])
    serial = assign_points(xy, grids, crs=METRIC).index
    monkeypatch.setattr(mod, "_PARALLEL_FROM", 0)
    parallel = assign_points(xy, grids, crs=METRIC).index
    np.testing.assert_array_equal(serial, parallel)
    np.testing.assert_array_equal(parallel, _assign_strtree(xy[:, 0], xy[:, 1],
                                                            grids.geometry.values))


@pytest.mark.parametrize("seed", range(6))
def test_points_on_the_outer_edge_of_the_extent(seed: int) -> None:
    """Extents with awkward numbers: rounding must not push edge points outside."""
    rng = np.random.default_rng(100 + seed)
    x0, y0 = X0 + rng.uniform(0, 1), Y0 + rng.uniform(0, 1)
    w, h = rng.uniform(100, 900, 2) + rng.uniform(0, 1, 2) / 3
    frame = box(x0, y0, x0 + w, y0 + h)
    seeds = shapely.multipoints(rng.uniform([x0, y0], [x0 + w, y0 + h], size=(40, 2)))
    cells = shapely.intersection(
        shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=frame)), frame)
    grids = gpd.GeoDataFrame(geometry=cells, crs=METRIC)
    t = rng.random((500, 1))
    edge = np.vstack([np.column_stack([x0 + w * t[:, 0], np.full(500, y0)]),
                      np.column_stack([x0 + w * t[:, 0], np.full(500, y0 + h)]),
                      np.column_stack([np.full(500, x0), y0 + h * t[:, 0]]),
                      np.column_stack([np.full(500, x0 + w), y0 + h * t[:, 0]]),
                      shapely.get_coordinates(cells)])
    a = assign_points(edge, grids, crs=METRIC)
    ref = _assign_strtree(edge[:, 0], edge[:, 1], grids.geometry.values)
    np.testing.assert_array_equal(a.index, ref)
    assert (a.index[:2000] >= 0).mean() > 0.99  # the frame's edges are grid edges


def test_index_reuse_same_geometries_and_never_stale(grid2x2: gpd.GeoDataFrame,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The cell index is built once per array of geometry objects, and never reused for others."""
    built: list[int] = []
    real = assign_mod._build_index

    def counting(polys):
        built.append(len(polys))
        return real(polys)

    monkeypatch.setattr(assign_mod, "_build_index", counting)
    monkeypatch.setattr(assign_mod, "_INDEX_CACHE", {})
    x0, y0 = grid2x2.total_bounds[:2]
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy([x0 + 50, x0 + 150], [y0 + 50, y0 + 150]),
                           crs=grid2x2.crs)
    first = assign_points(pts, grid2x2).index
    second = assign_points(pts, grid2x2).index
    assert built == [4]  # the second call found the index
    np.testing.assert_array_equal(first, second)
    # new geometries (a shifted copy): a new index, and the answers follow the new shapes
    moved = grid2x2.copy()
    moved["geometry"] = grid2x2.geometry.translate(10_000, 0)
    assert (assign_points(pts, moved).index == -1).all()
    assert built == [4, 4]
    # the cache is bounded
    for i in range(assign_mod._INDEX_CACHE_SIZE + 3):
        g = grid2x2.copy()
        g["geometry"] = grid2x2.geometry.translate(i + 1.0, 0)
        assign_points(pts, g)
    assert len(assign_mod._INDEX_CACHE) == assign_mod._INDEX_CACHE_SIZE
