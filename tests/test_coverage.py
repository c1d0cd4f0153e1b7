"""Tests for gridmap.coverage: views, DORI ranges, per-grid coverage, blind spots."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, Point, box

import gridmap.coverage as cov
from gridmap.coverage import (
    camera_views,
    coverage,
    dori_range,
    exact_coverage,
    view_parameters,
)
from gridmap.crs import metric_crs

METRIC = "EPSG:4549"
X0, Y0 = 500_000.0, 3_400_000.0


def _cams(rows: list[dict]) -> gpd.GeoDataFrame:
    frame = pd.DataFrame(rows)
    geom = gpd.points_from_xy(frame.pop("x"), frame.pop("y"))
    if "camera_id" not in frame:
        frame["camera_id"] = [f"c{i}" for i in range(len(frame))]
    return gpd.GeoDataFrame(frame, geometry=geom, crs=METRIC)


def _grid(w: float = 100.0, h: float = 100.0, gid: str = "G") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"grid_id": [gid]}, geometry=[box(X0, Y0, X0 + w, Y0 + h)],
                            crs=METRIC)


# --------------------------------------------------------------------------- parameters


def test_dori_formula_by_hand() -> None:
    # d = H / (ppm * 2 * tan(hfov / 2)); tan(45°) = 1
    assert float(dori_range(1920, 90, "detection")) == pytest.approx(1920 / 50)
    assert float(dori_range(1920, 90, "observation")) == pytest.approx(1920 / 125)
    assert float(dori_range(1920, 90, "recognition")) == pytest.approx(1920 / 250)
    assert float(dori_range(1920, 90, "identification")) == pytest.approx(1920 / 500)
    assert float(dori_range(3840, 60, "recognition")) == pytest.approx(
        3840 / (125 * 2 * math.tan(math.radians(30))))
    assert float(dori_range(2560, 360, "recognition")) == pytest.approx(2560 / 250)
    with pytest.raises(ValueError, match="level"):
        dori_range(1920, 90, "glance")


def test_view_parameters_sources_and_shapes() -> None:
    cams = pd.DataFrame({
        "kind": ["bullet", "dome", "bullet", "ptz", None, "bullet", "bullet"],
        "azimuth_deg": [45.0, 10.0, np.nan, np.nan, 90.0, np.nan, np.nan],
        "hfov_deg": [40.0, np.nan, 90.0, np.nan, np.nan, np.nan, np.nan],
        "range_m": [80.0, np.nan, 60.0, 120.0, np.nan, 30.0, 30.0],
    })
    p = view_parameters(cams)
    assert p["shape"].tolist() == ["sector", "disc", "disc", "disc", "sector", "disc", "disc"]
    assert p["range_source"].tolist() == ["data", "default", "data", "data", "default",
                                          "data", "data"]
    assert p.loc[0, ["azimuth_deg", "hfov_deg", "range_m"]].tolist() == [45.0, 40.0, 80.0]
    assert p.loc[1, "range_m"] == 30.0  # dome default
    assert p.loc[1, "hfov_deg"] == 360.0
    # a bullet without azimuth: a disc of the sector's area
    assert p.loc[2, "range_m"] == pytest.approx(60.0 * math.sqrt(90 / 360))
    assert "no azimuth" in p.loc[2, "view_note"]
    assert p.loc[4, ["kind", "range_m"]].tolist() == ["other", 40.0]
    d = view_parameters(cams.assign(resolution_px=3840), level="recognition")
    assert d.loc[0, "range_m"] == pytest.approx(float(dori_range(3840, 40, "recognition")))
    assert d.loc[1, "range_m"] == pytest.approx(float(dori_range(3840, 90, "recognition")))
    assert set(d["range_source"]) == {"dori:recognition"}


def test_text_directions_use_the_documented_rule() -> None:
    cams = pd.DataFrame({"kind": ["bullet"] * 4,
                         "azimuth_deg": ["NB", "90-270", "SE", "EB"]})
    p = view_parameters(cams)
    assert p["azimuth_deg"].tolist() == [180.0, 180.0, 135.0, 270.0]
    assert p.loc[1, "hfov_deg"] == 180.0  # from the range
    assert p.loc[0, "hfov_deg"] == 60.0  # bullet default


def test_view_polygons_areas() -> None:
    cams = _cams([
        {"x": X0, "y": Y0, "kind": "bullet", "azimuth_deg": 30.0, "hfov_deg": 60.0,
         "range_m": 50.0},
        {"x": X0 + 500, "y": Y0, "kind": "dome", "range_m": 20.0},
        {"x": X0 + 900, "y": Y0, "kind": "bullet", "azimuth_deg": 0, "hfov_deg": 60,
         "range_m": 40, "status": "planned"},
    ]).assign(status=["online", "offline", "planned"])
    v = camera_views(cams)
    assert v.crs == cams.crs
    assert v["camera_id"].tolist() == ["c0", "c1"]  # planned left out
    assert v.geometry.area.iloc[0] == pytest.approx(math.pi * 50**2 / 6, rel=1e-3)
    assert v.geometry.area.iloc[1] == pytest.approx(math.pi * 20**2, rel=1e-3)
    # the sector points north-north-east: its centroid lies at bearing 30°
    c = v.geometry.iloc[0].centroid
    assert math.degrees(math.atan2(c.x - X0, c.y - Y0)) == pytest.approx(30.0, abs=0.1)
    everyone = camera_views(cams, statuses=None)
    assert len(everyone) == 3


def test_recorders_draw_no_view() -> None:
    cams = _cams([{"x": X0, "y": Y0, "kind": "dome", "gb28181_id": "33040200011180000001"},
                  {"x": X0, "y": Y0, "kind": "dome", "gb28181_id": "33040200011320000002"}])
    assert camera_views(cams)["camera_id"].tolist() == ["c1"]


# --------------------------------------------------------------------------- coverage


def test_disc_in_square_by_hand() -> None:
    grid = _grid()
    cams = _cams([{"x": X0 + 50, "y": Y0 + 50, "kind": "dome", "range_m": 30.0},
                  {"x": X0 + 70, "y": Y0 + 50, "kind": "dome", "range_m": 30.0}])
    res = coverage(cams, grid, cell_m=1.0)
    row = res.grids.iloc[0]
    # two discs r=30 with centres 20 apart: union and lens areas by formula
    r, d = 30.0, 20.0
    lens = 2 * r * r * math.acos(d / (2 * r)) - d / 2 * math.sqrt(4 * r * r - d * d)
    union = 2 * math.pi * r * r - lens
    assert row["covered_pct"] == pytest.approx(union / 100.0, abs=0.5)
    assert row["overlap_pct"] == pytest.approx(lens / 100.0, abs=0.5)
    assert row["cameras"] == 2
    assert row["area_km2"] == pytest.approx(0.01)
    # the unseen ring around the discs is one blind spot
    assert row["blind_spots"] == 1
    assert res.blind_spots["area_m2"].sum() == pytest.approx(10_000 - union, rel=0.02)


def test_sector_covers_half_and_blind_spot_is_the_other_half() -> None:
    grid = _grid(200.0, 100.0)
    # a 180° sector at the middle of the west edge facing east, range beyond the grid
    cams = _cams([{"x": X0, "y": Y0 + 50, "kind": "bullet", "azimuth_deg": 90.0,
                   "hfov_deg": 180.0, "range_m": 100.0}])
    res = coverage(cams, grid, cell_m=1.0, min_blind_m2=50.0)
    # the half disc minus the two half segments beyond y = 0 and y = 100
    expected = math.pi * 100**2 / 2 - (100**2 * math.acos(0.5) - 50 * math.sqrt(7500))
    assert res.grids["covered_pct"].iloc[0] == pytest.approx(
        100 * expected / 20_000, abs=0.5)
    ex = exact_coverage(camera_views(cams, crs=METRIC), grid)
    assert res.grids["covered_pct"].iloc[0] == pytest.approx(ex["covered_pct"].iloc[0],
                                                             abs=0.5)


def test_incidents_and_roads() -> None:
    grid = _grid()
    cams = _cams([{"x": X0, "y": Y0 + 50, "kind": "bullet", "azimuth_deg": 90.0,
                   "hfov_deg": 360.0, "range_m": 50.0}])
    incidents = gpd.GeoDataFrame(
        {"incident_id": ["seen", "far", "outside"]},
        geometry=[Point(X0 + 10, Y0 + 50), Point(X0 + 90, Y0 + 90), Point(X0 - 500, Y0)],
        crs=METRIC)
    road = gpd.GeoDataFrame(geometry=[LineString([(X0, Y0 + 50), (X0 + 100, Y0 + 50)])],
                            crs=METRIC)
    res = coverage(cams, grid, incidents=incidents, roads=road, cell_m=1.0,
                   min_blind_m2=10.0)
    row = res.grids.iloc[0]
    assert row["incidents"] == 2
    assert row["incidents_covered_pct"] == 50.0
    assert row["road_km"] == pytest.approx(0.1)
    assert row["road_covered_pct"] == pytest.approx(50.0, abs=2.5)
    unseen = res.incidents_uncovered.set_index("incident_id")
    assert sorted(unseen.index) == ["far", "outside"]
    assert bool(unseen.loc["far", "in_blind_spot"])
    assert unseen.loc["far", "grid_id"] == "G"
    assert not bool(unseen.loc["outside", "in_blind_spot"])
    assert res.blind_spots["incidents"].sum() == 1
    assert any("outside every grid" in n for n in res.notes)


def test_tiles_give_the_same_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    grids = gpd.GeoDataFrame({"grid_id": ["W", "E"]},
                             geometry=[box(X0, Y0, X0 + 60, Y0 + 60),
                                       box(X0 + 60, Y0, X0 + 120, Y0 + 60)], crs=METRIC)
    cams = _cams([{"x": X0 + 60, "y": Y0 + 30, "kind": "dome", "range_m": 25.0},
                  {"x": X0 + 20, "y": Y0 + 10, "kind": "bullet", "azimuth_deg": 45,
                   "hfov_deg": 70, "range_m": 40}])
    whole = coverage(cams, grids, cell_m=1.0)
    monkeypatch.setattr(cov, "_TILE", 16)
    tiled = coverage(cams, grids, cell_m=1.0)
    pd.testing.assert_frame_equal(pd.DataFrame(whole.grids.drop(columns="geometry")),
                                  pd.DataFrame(tiled.grids.drop(columns="geometry")))
    # blind spots cut by tile edges are merged back into the same outlines
    assert len(tiled.blind_spots) == len(whole.blind_spots)
    pd.testing.assert_frame_equal(pd.DataFrame(tiled.blind_spots.drop(columns="geometry")),
                                  pd.DataFrame(whole.blind_spots.drop(columns="geometry")))
    assert shapely.equals_exact(tiled.blind_spots.geometry.values,
                                whole.blind_spots.geometry.values, tolerance=1e-9).all()


def test_occlusion_by_a_wall() -> None:
    grid = _grid(200.0, 200.0)
    cam = _cams([{"x": X0 + 100, "y": Y0 + 100, "kind": "dome", "range_m": 60.0}])
    wall = gpd.GeoDataFrame(geometry=[box(X0 + 120, Y0 + 40, X0 + 125, Y0 + 160)],
                            crs=METRIC)
    free = coverage(cam, grid, cell_m=1.0)
    blocked = coverage(cam, grid, buildings=wall, cell_m=1.0)
    assert blocked.views["occluded"].all()
    view = blocked.views.to_crs(METRIC).geometry.iloc[0]
    # nothing is seen behind the wall, and the wall's own footprint is not seen
    assert view.intersection(box(X0 + 126, Y0 + 90, X0 + 160, Y0 + 110)).area == 0
    assert view.intersection(wall.geometry.iloc[0]).area < 1.0
    lost = free.grids["covered_pct"].iloc[0] - blocked.grids["covered_pct"].iloc[0]
    # the shadow: the part of the disc east of x=120 (minus nothing: the wall spans it)
    seg = 60**2 * math.acos(20 / 60) - 20 * math.sqrt(60**2 - 20**2)
    assert lost == pytest.approx(100 * seg / 40_000, abs=0.5)
    ex = exact_coverage(blocked.views.to_crs(METRIC), grid)
    assert blocked.grids["covered_pct"].iloc[0] == pytest.approx(ex["covered_pct"].iloc[0],
                                                                 abs=0.5)


def test_demo_raster_agrees_with_exact_union(demo_small) -> None:
    from gridmap.ingest import read_layer

    cams = read_layer(demo_small / "cameras.csv", kind="cameras").data
    grids = read_layer(demo_small / "grids.gpkg", kind="grids", layer="grids").data
    res = coverage(cams, grids, blind_spots=False)
    crs = metric_crs(grids)
    ex = exact_coverage(res.views.to_crs(crs), grids.to_crs(crs))
    diff = np.abs(ex["covered_pct"].to_numpy() - res.grids["covered_pct"].to_numpy())
    assert diff.max() <= 0.5
    odiff = np.abs(ex["overlap_pct"].to_numpy() - res.grids["overlap_pct"].to_numpy())
    assert odiff.max() <= 0.5
    assert (res.grids["covered_pct"] > 0).sum() > len(grids) // 2


def test_inputs_not_mutated() -> None:
    grid = _grid()
    cams = _cams([{"x": X0 + 50, "y": Y0 + 50, "kind": "dome", "range_m": 30.0}])
    g0, c0 = grid.copy(), cams.copy()
    coverage(cams, grid)
    pd.testing.assert_frame_equal(grid, g0)
    pd.testing.assert_frame_equal(cams, c0)


def test_views_cover_their_polygons_exactly() -> None:
    """The analytic raster and the polygon of each view agree (every kind)."""
    rng = np.random.default_rng(5)
    n = 40
    cams = _cams([{"x": X0 + rng.uniform(0, 300), "y": Y0 + rng.uniform(0, 300),
                   "kind": rng.choice(["bullet", "dome", "ptz", "hemisphere"]),
                   "azimuth_deg": rng.uniform(0, 360), "hfov_deg": rng.uniform(20, 200),
                   "range_m": rng.uniform(10, 80)} for _ in range(n)])
    grids = gpd.GeoDataFrame(
        {"grid_id": [f"g{i}{j}" for i in range(3) for j in range(3)]},
        geometry=[box(X0 + 100 * i, Y0 + 100 * j, X0 + 100 * (i + 1), Y0 + 100 * (j + 1))
                  for i in range(3) for j in range(3)], crs=METRIC)
    res = coverage(cams, grids, cell_m=1.0, blind_spots=False)
    ex = exact_coverage(res.views.to_crs(METRIC), grids)
    assert np.abs(ex["covered_pct"].to_numpy() - res.grids["covered_pct"].to_numpy()).max() < 0.5
    union = shapely.union_all(res.views.to_crs(METRIC).geometry.values)
    total = union.intersection(box(X0, Y0, X0 + 300, Y0 + 300)).area / 90_000 * 100
    assert res.grids["covered_pct"].mean() == pytest.approx(total, abs=0.3)


# --------------------------------------------------------------------------- CLI


def test_cli_coverage_demo(demo_small, tmp_path, capsys) -> None:
    import pyogrio

    from gridmap.cli import main

    out = tmp_path / "cov.gpkg"
    code = main(["coverage", "--grids", str(demo_small / "grids.gpkg"), "--cameras",
                 str(demo_small / "cameras.csv"), "--buildings",
                 str(demo_small / "buildings.gpkg"), "--roads", str(demo_small / "roads.gpkg"),
                 "--incidents", str(demo_small / "incidents.parquet"), "--cell", "4",
                 "--out", str(out)])
    text = capsys.readouterr().out
    assert code == 0
    assert "Coverage per grid" in text
    assert "view(s) cut by buildings" in text
    layers = {name for name, _ in pyogrio.list_layers(out)}
    assert layers == {"grids", "views", "blind_spots", "incidents_uncovered"}
    table = gpd.read_file(out, layer="grids")
    assert {"covered_pct", "overlap_pct", "road_covered_pct",
            "incidents_covered_pct"} <= set(table.columns)
    assert table["covered_pct"].between(0, 100).all()
    views = gpd.read_file(out, layer="views")
    assert views.crs.to_epsg() == 4326
    only = tmp_path / "views.geojson"
    assert main(["coverage", "--cameras", str(demo_small / "cameras.csv"), "--level",
                 "recognition", "--out", str(only)]) == 0
    v = gpd.read_file(only)
    assert set(v["range_source"]) == {"dori:recognition"}
    assert "area seen by at least one camera" in capsys.readouterr().out


# --------------------------------------------------------------------------- fast paths


def _reference(cams, grids, **kw):
    """The reference path: exact test of every point, rasterio polygons of every piece."""
    args = {"grid_id": None, "level": None, "buildings": None, "roads": None,
            "incidents": None, "cell_m": 2.0, "min_blind_m2": 200.0, "blind_spots": True,
            "statuses": cov.BUILT_STATUSES, "arc_step_deg": 1.0}
    return cov._coverage(cams, grids, **{**args, **kw}, fast=False)


def _assert_same_result(fast, ref) -> None:
    pd.testing.assert_frame_equal(pd.DataFrame(fast.grids), pd.DataFrame(ref.grids))
    pd.testing.assert_frame_equal(pd.DataFrame(fast.incidents_uncovered),
                                  pd.DataFrame(ref.incidents_uncovered))
    assert len(fast.blind_spots) == len(ref.blind_spots)
    a, b = fast.blind_spots, ref.blind_spots
    pd.testing.assert_frame_equal(pd.DataFrame(a.drop(columns="geometry")),
                                  pd.DataFrame(b.drop(columns="geometry")))
    assert shapely.equals_exact(a.geometry.values, b.geometry.values, tolerance=1e-9).all()


def _edge_points(views: gpd.GeoSeries, rng: np.random.Generator) -> np.ndarray:
    """Points on, just inside and just outside every view's edges, its vertices and apex."""
    out = []
    for ring in shapely.get_rings(shapely.get_parts(np.asarray(views))):
        ring = shapely.get_coordinates(ring)
        out.append(ring)  # vertices, the apex of a sector among them
        a, b = ring[:-1], ring[1:]
        keep = np.any(a != b, axis=1)
        a, b = a[keep], b[keep]
        t = rng.uniform(0, 1, size=(len(a), 1))
        on = a + t * (b - a)  # on an edge, up to rounding
        normal = np.column_stack([b[:, 1] - a[:, 1], a[:, 0] - b[:, 0]])
        normal /= np.hypot(*normal.T)[:, None]
        for d in (1e-9, 1e-6, 0.3, 1.0, 3.0):
            out += [on + d * normal, on - d * normal]
        out.append(on)
    return np.concatenate(out)


@pytest.mark.parametrize(("cell_m", "arc_step_deg", "walls"), [
    (1.0, 1.0, False), (5.0, 1.0, False), (1.0, 30.0, False), (1.0, 1.0, True), (5.0, 1.0, True)])
def test_fast_seen_equals_the_exact_test_on_and_near_view_edges(cell_m: float,
                                                                arc_step_deg: float,
                                                                walls: bool) -> None:
    rng = np.random.default_rng(11)
    cams = _cams([
        {"x": X0 + 50, "y": Y0 + 50, "kind": "bullet", "azimuth_deg": 30.0,
         "hfov_deg": 60.0, "range_m": 40.0},
        {"x": X0 + 150, "y": Y0 + 60, "kind": "dome", "range_m": 35.0},
        # wider than a half turn: the wedge is not convex
        {"x": X0 + 100, "y": Y0 + 150, "kind": "bullet", "azimuth_deg": 200.0,
         "hfov_deg": 270.0, "range_m": 30.0},
        {"x": X0 + 60, "y": Y0 + 160, "kind": "bullet", "azimuth_deg": 90.0,
         "hfov_deg": 180.0, "range_m": 25.0},
        # shorter than a cell: nothing in it is certain
        {"x": X0 + 20, "y": Y0 + 180, "kind": "dome", "range_m": 1.5},
        # two views sharing an apex
        {"x": X0 + 150, "y": Y0 + 150, "kind": "bullet", "azimuth_deg": 0.0,
         "hfov_deg": 40.0, "range_m": 30.0},
        {"x": X0 + 150, "y": Y0 + 150, "kind": "bullet", "azimuth_deg": 40.0,
         "hfov_deg": 40.0, "range_m": 30.0},
    ])
    grids = gpd.GeoDataFrame({"grid_id": ["A", "B"]},
                             geometry=[box(X0, Y0, X0 + 100, Y0 + 200),
                                       box(X0 + 100, Y0, X0 + 200, Y0 + 200)], crs=METRIC)
    # walls cutting views (one right beside a shared apex): views become polygons
    buildings = gpd.GeoDataFrame(geometry=[
        box(X0 + 60, Y0 + 55, X0 + 62, Y0 + 95), box(X0 + 160, Y0 + 40, X0 + 165, Y0 + 80),
        box(X0 + 85, Y0 + 120, X0 + 115, Y0 + 125), box(X0 + 150.2, Y0 + 150.2, X0 + 152, Y0 + 152),
    ], crs=METRIC) if walls else None
    views = camera_views(cams, crs=METRIC, arc_step_deg=arc_step_deg, buildings=buildings)
    assert views["occluded"].sum() == (5 if walls else 0)
    xy = np.concatenate([_edge_points(views.geometry, rng),
                         rng.uniform(0, 200, size=(5000, 2)) + np.array([X0, Y0])])
    # independent answer: how many view polygons intersect the point?
    pts = shapely.points(xy)
    n_views = np.zeros(len(xy), dtype=int)
    for poly in views.geometry:
        n_views += shapely.intersects(poly, pts)
    expected = n_views > 0
    assert expected.sum() > 1000
    assert (~expected).sum() > 1000
    incidents = gpd.GeoDataFrame({"incident_id": np.arange(len(xy))},
                                 geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=METRIC)
    res = coverage(cams, grids, incidents=incidents, cell_m=cell_m, arc_step_deg=arc_step_deg,
                   buildings=buildings)
    unseen = np.zeros(len(xy), dtype=bool)
    unseen[res.incidents_uncovered["incident_id"].to_numpy()] = True
    np.testing.assert_array_equal(~unseen, expected)
    # the raster decided most points; the exact test only the ones near an edge
    m_views = cov._views_metric(cams, level=None, buildings=buildings,
                                statuses=cov.BUILT_STATUSES, crs=METRIC,
                                arc_step_deg=arc_step_deg)
    known = cov._raster_coverage(m_views, grids, cell_m=cell_m, blind=False, min_m2=0.0,
                                 arc_step_deg=arc_step_deg, points=xy)[4]
    assert (known == 1).sum() > 500
    assert (known == 0).sum() > 500
    np.testing.assert_array_equal(expected[known == 1], True)
    np.testing.assert_array_equal(expected[known == 0], False)
    # a point on a view's vertex, in no other view, is left to the exact test
    vertices = shapely.get_coordinates(views.geometry.values)
    on_vertex = np.isin(xy[:, 0], vertices[:, 0]) & np.isin(xy[:, 1], vertices[:, 1])
    assert (on_vertex & (n_views == 1)).sum() > 30
    assert (known[on_vertex & (n_views == 1)] == -1).all()


def test_fast_path_equals_reference_on_the_small_demo(demo_small,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from gridmap.ingest import read_layer

    cams = read_layer(demo_small / "cameras.csv", kind="cameras").data
    grids = read_layer(demo_small / "grids.gpkg", kind="grids", layer="grids").data
    incidents = read_layer(demo_small / "incidents.parquet", kind="incidents").data
    roads = gpd.read_file(demo_small / "roads.gpkg")
    buildings = gpd.read_file(demo_small / "buildings.gpkg")
    monkeypatch.setattr(cov, "_TILE", 256)  # blind spots cut by tile edges
    for blds in (None, buildings):  # analytic views, and views cut by buildings
        kw = {"buildings": blds, "roads": roads, "incidents": incidents, "cell_m": 4.0,
              "min_blind_m2": 200.0}
        fast = coverage(cams, grids, **kw)
        ref = _reference(cams, grids, **kw)
        _assert_same_result(fast, ref)
        assert fast.grids["blind_spots"].sum() > 10
        assert fast.blind_spots["incidents"].sum() > 10
        assert fast.incidents_uncovered["in_blind_spot"].sum() > 10
        assert 0 < len(fast.incidents_uncovered) < len(incidents)
    assert ref.views["occluded"].sum() > 10


def _tile(label: np.ndarray, count: np.ndarray) -> tuple[cov._Tile, cov._Frame]:
    ny, nx = label.shape
    frame = cov._Frame(X0, Y0 + ny * 2.0, 2.0, nx, ny)
    return cov._Tile(0, 0, X0, frame.top, label, count), frame


def _random_rasters(seed: int, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    ny, nx = shape
    # a few grids (blocks of labels, some cells outside every grid) and random views
    label = (np.arange(ny)[:, None] // 9 * 3 + np.arange(nx)[None, :] // 13) % 4
    label = np.where(rng.uniform(size=shape) < 0.05, -1, label).astype(np.int32)
    count = (rng.uniform(size=shape) < 0.45).astype(np.uint8)
    # checkerboard patches: components meeting themselves at single vertices
    r, c = rng.integers(0, ny - 6), rng.integers(0, nx - 6)
    count[r:r + 6, c:c + 6] = (np.add.outer(np.arange(6), np.arange(6)) % 2).astype(np.uint8)
    return label, count


@pytest.mark.parametrize("seed", range(6))
def test_traced_polygons_equal_rasterio_shapes(seed: int) -> None:
    label, count = _random_rasters(seed, (40 + seed, 57))
    tile, frame = _tile(label, count)
    ours = cov._traced_pieces(tile, frame, min_cells=0)
    ref = cov._shapes_pieces(tile, frame)
    assert shapely.is_valid(ours.geom).all()
    # one polygon per 4-connected part, as rasterio finds them
    assert sorted(ours.label.tolist()) == sorted(ref.label.tolist())
    ref_geom = shapely.make_valid(ref.geom)
    for g in np.unique(ref.label):
        a = ours.geom[ours.label == g]
        b = ref_geom[ref.label == g]
        assert sorted(np.round(shapely.area(a), 6)) == sorted(np.round(shapely.area(b), 6))
        assert shapely.union_all(a).symmetric_difference(shapely.union_all(b)).area < 1e-6
        # each of ours is one of rasterio's
        tree = shapely.STRtree(b)
        for poly in a:
            cand = b[tree.query(poly)]
            assert (shapely.area(shapely.symmetric_difference(cand, poly)) < 1e-6).sum() == 1
    # seam flag: the part has a cell in the first/last row or column
    for poly, seam in zip(ours.geom, ours.seam, strict=True):
        x0, y0, x1, y1 = poly.bounds
        at_edge = (x0 <= X0 or y1 >= frame.top or x1 >= X0 + label.shape[1] * 2.0
                   or y0 <= frame.top - label.shape[0] * 2.0)
        assert bool(seam) == at_edge


def test_traced_pieces_leave_out_small_inner_parts_only() -> None:
    label = np.zeros((12, 12), dtype=np.int32)
    count = np.ones((12, 12), dtype=np.uint8)
    count[2:4, 2:4] = 0  # 4 cells inside: too small
    count[6:10, 3:8] = 0  # 20 cells inside: kept
    count[0, 9:11] = 0  # 2 cells on the tile edge: kept (may continue in the next tile)
    tile, frame = _tile(label, count)
    got = cov._traced_pieces(tile, frame, min_cells=10)
    assert sorted(shapely.area(got.geom).round(6)) == [2 * 4.0, 20 * 4.0]
    assert sorted(got.seam.tolist()) == [False, True]
    # a hole touching the outer ring at one vertex: valid, area by hand
    count = np.ones((6, 6), dtype=np.uint8)
    count[1:5, 1:5] = 0
    count[2, 2] = 1  # hole
    count[1, 1] = 1  # notch meeting the hole's corner diagonally
    got = cov._traced_pieces(*_tile(np.zeros((6, 6), dtype=np.int32), count), min_cells=0)
    assert len(got.geom) == 1
    assert shapely.is_valid(got.geom[0])
    assert got.geom[0].area == pytest.approx(14 * 4.0)


def test_canonical_outline_does_not_depend_on_the_ring_start() -> None:
    square = [(0, 0), (2, 0), (4, 0), (4, 4), (0, 4), (0, 2)]  # with collinear vertices
    hole = [(1, 1), (1, 2), (2, 2), (2, 1)]
    a = shapely.Polygon(square, [hole])
    b = shapely.Polygon(square[3:] + square[:3], [hole[2:] + hole[:2]])
    b = shapely.Polygon(b.exterior.coords[::-1], [b.interiors[0].coords[::-1]])
    ca, cb = cov._canonical(np.array([a, b], dtype=object))
    assert shapely.equals_exact(ca, cb, tolerance=0)
    assert len(ca.exterior.coords) == 5  # the corners only, closed
    assert ca.area == pytest.approx(15.0)


def test_points_in_boxes_by_brute_force() -> None:
    rng = np.random.default_rng(3)
    lo = rng.uniform(0, 1000, size=(300, 2))
    bounds = np.column_stack([lo, lo + rng.uniform(0, 80, size=(300, 2))])
    xy = rng.uniform(-50, 1100, size=(20_000, 2))
    xy[:300] = bounds[:, :2]  # on the boxes' corners and edges
    xy[300:600, 0] = bounds[:, 2]
    xy[600] = np.nan
    box_i, pt_i = cov._points_in_boxes(bounds, xy[:, 0].copy(), xy[:, 1].copy())
    inside = ((bounds[:, None, 0] <= xy[None, :, 0]) & (xy[None, :, 0] <= bounds[:, None, 2])
              & (bounds[:, None, 1] <= xy[None, :, 1]) & (xy[None, :, 1] <= bounds[:, None, 3]))
    b, p = np.nonzero(inside)
    assert sorted(zip(box_i.tolist(), pt_i.tolist(), strict=True)) == sorted(
        zip(b.tolist(), p.tolist(), strict=True))
    assert len(b) > 600
