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
    # blind spots cut by tile edges are merged back
    assert len(tiled.blind_spots) == len(whole.blind_spots)
    assert tiled.blind_spots["area_m2"].sum() == pytest.approx(
        whole.blind_spots["area_m2"].sum(), rel=1e-3)


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
