"""Tests for gridmap.density: camera points per km² against targets."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from gridmap import SchemaError
from gridmap.density import camera_density, point_groups

METRIC = "EPSG:4549"
X0, Y0 = 500_000.0, 3_400_000.0
S = 500.0  # 0.25 km² squares


@pytest.fixture
def grids() -> gpd.GeoDataFrame:
    """A (SW, urban), B (SE, urban), C (NW, rural), D (NE, rural)."""
    return gpd.GeoDataFrame(
        {
            "grid_id": list("ABCD"),
            "zone": ["urban", "urban", "rural", "rural"],
            "community_code": ["c1", "c2", "c1", "c2"],
            "street_code": ["s"] * 4,
            "district_code": ["330402"] * 4,
        },
        geometry=[box(X0, Y0, X0 + S, Y0 + S), box(X0 + S, Y0, X0 + 2 * S, Y0 + S),
                  box(X0, Y0 + S, X0 + S, Y0 + 2 * S),
                  box(X0 + S, Y0 + S, X0 + 2 * S, Y0 + 2 * S)],
        crs=METRIC,
    )


@pytest.fixture
def cameras() -> gpd.GeoDataFrame:
    rows = [
        # A: P1 (2 online), P2 (1 offline), P3 planned
        ("a1", "P1", "online", X0 + 100, Y0 + 100, None),
        ("a2", "P1", "online", X0 + 100, Y0 + 100, None),
        ("a3", "P2", "offline", X0 + 200, Y0 + 100, None),
        ("a4", "P3", "planned", X0 + 300, Y0 + 100, None),
        # C: no point ids: 3 m apart -> one point, 20 m away -> another
        ("c1", None, "online", X0 + 100, Y0 + S + 100, None),
        ("c2", None, "online", X0 + 103, Y0 + S + 100, None),
        ("c3", None, "online", X0 + 100, Y0 + S + 120, None),
        # D: an NVR (not a camera channel)
        ("d1", "PD", "online", X0 + S + 100, Y0 + S + 100, "33040200011180000001"),
        # outside every grid
        ("x1", "PX", "online", X0 - 50, Y0 - 50, None),
    ]
    # B: 18 single-camera points
    rows += [(f"b{i}", f"PB{i}", "online", X0 + S + 20 + 20 * i, Y0 + 250, None)
             for i in range(18)]
    frame = pd.DataFrame(rows, columns=["camera_id", "point_id", "status", "x", "y",
                                        "gb28181_id"])
    return gpd.GeoDataFrame(frame.drop(columns=["x", "y"]),
                            geometry=gpd.points_from_xy(frame["x"], frame["y"]), crs=METRIC)


def test_grid_table_by_hand(grids: gpd.GeoDataFrame, cameras: gpd.GeoDataFrame) -> None:
    res = camera_density(cameras, grids)
    t = res.table.set_index("unit")
    assert t.loc["A", "area_km2"] == pytest.approx(0.25)
    assert t.loc["A", ["cameras", "points", "online", "planned_points"]].tolist() == [3, 2, 2, 1]
    assert t.loc["A", "density_per_km2"] == 8.0
    assert t.loc["A", "target"] == 70.0
    assert t.loc["A", "completion_pct"] == round(100 * 8 / 70, 2)
    assert t.loc["A", "shortfall"] == 16  # ceil(70 * 0.25 - 2)
    assert t.loc["A", "status"] == "short"
    assert t.loc["A", "with_planned_pct"] == round(100 * 12 / 70, 2)
    assert t.loc["B", "points"] == 18
    assert t.loc["B", "completion_pct"] == round(100 * 72 / 70, 2)
    assert t.loc["B", ["shortfall", "status"]].tolist() == [0, "met"]
    assert t.loc["C", ["cameras", "points"]].tolist() == [3, 2]
    assert t.loc["C", ["completion_pct", "status"]].tolist() == [100.0, "met"]
    assert t.loc["D", ["cameras", "points"]].tolist() == [0, 0]
    assert t.loc["D", "shortfall"] == 2
    assert res.outside["camera_id"].tolist() == ["x1"]
    assert res.not_cameras["camera_id"].tolist() == ["d1"]
    assert res.grid_id == "grid_id"
    assert any("grid id column" in n for n in res.notes)
    assert res.table.crs == grids.crs
    assert res.table.geometry.area.round(0).tolist() == [S * S] * 4


def test_summary_rows(grids: gpd.GeoDataFrame, cameras: gpd.GeoDataFrame) -> None:
    s = camera_density(cameras, grids).summary.set_index("zone")
    assert s.index.tolist() == ["rural", "urban", "all"]
    assert s.loc["urban", ["units", "units_met", "points", "cameras"]].tolist() == [2, 1, 20, 21]
    assert s.loc["urban", "density_per_km2"] == 40.0
    assert s.loc["urban", "shortfall"] == 16  # the units' shortfalls added: 16 + 0
    assert s.loc["all", "points"] == 22
    assert s.loc["all", "target"] == pytest.approx((70 * 0.5 + 8 * 0.5) / 1.0)


def test_by_zone_and_community(grids: gpd.GeoDataFrame, cameras: gpd.GeoDataFrame) -> None:
    z = camera_density(cameras, grids, by="zone").table.set_index("unit")
    assert z.loc["urban", "points"] == 20
    assert z.loc["urban", "shortfall"] == 15  # ceil(70 * 0.5 - 20)
    assert z.loc["rural", "density_per_km2"] == 4.0
    c = camera_density(cameras, grids, by="community").table.set_index("unit")
    assert c.loc["c1", "points"] == 4
    assert c.loc["c1", "target"] == pytest.approx(39.0)  # area-weighted 70 and 8
    assert c.loc["c1", "area_km2"] == pytest.approx(0.5)
    assert c.geometry.area.round(0).tolist() == [2 * S * S] * 2


def test_targets_column_and_camera_counts(grids: gpd.GeoDataFrame,
                                          cameras: gpd.GeoDataFrame) -> None:
    t = camera_density(cameras, grids, targets={"urban": 8, "Rural": 4}).table.set_index("unit")
    assert t.loc["A", ["target", "status"]].tolist() == [8.0, "met"]
    assert t.loc["D", "target"] == 4.0
    g = grids.assign(my_target=[10.0, np.nan, 12.0, 1.0])
    res = camera_density(cameras, g, target_col="my_target")
    t = res.table.set_index("unit")
    assert t["target"].tolist() == [10.0, 70.0, 12.0, 1.0]
    assert any("my_target" in n for n in res.notes)
    cams = camera_density(cameras, grids, count="cameras").table.set_index("unit")
    assert cams.loc["A", "density_per_km2"] == 12.0
    assert cams.loc["A", "with_planned_pct"] == round(100 * 16 / 70, 2)
    with pytest.raises(SchemaError, match="target column"):
        camera_density(cameras, grids, target_col="nope")


def test_missing_zone_takes_urban_target_and_says_so(grids, cameras) -> None:
    res = camera_density(cameras, grids.drop(columns="zone"))
    assert (res.table["target"] == 70.0).all()
    assert any("urban target" in n for n in res.notes)


def test_inputs_not_mutated(grids: gpd.GeoDataFrame, cameras: gpd.GeoDataFrame) -> None:
    g0, c0 = grids.copy(), cameras.copy()
    camera_density(cameras, grids, by="community")
    pd.testing.assert_frame_equal(grids, g0)
    pd.testing.assert_frame_equal(cameras, c0)


def test_point_groups_chain_within_radius() -> None:
    xs = [0, 4, 8, 20, 100]
    cams = gpd.GeoDataFrame({"camera_id": list("abcde"),
                             "point_id": [None, None, "pt-3", None, "KEEP"]},
                            geometry=[Point(X0 + x, Y0) for x in xs], crs=METRIC)
    p = point_groups(cams)
    assert p.iloc[0] == p.iloc[1] == p.iloc[2]  # 0-4-8 m chained
    assert p.iloc[3] != p.iloc[0]
    assert p.iloc[4] == "KEEP"
    assert p.nunique() == 3


def test_demo_points_match_independent_sjoin(demo_small) -> None:
    from gridmap.gb28181 import parse_ids
    from gridmap.ingest import read_layer

    cams = read_layer(demo_small / "cameras.csv", kind="cameras").data
    grids = read_layer(demo_small / "grids.gpkg", kind="grids", layer="grids").data
    res = camera_density(cams, grids)
    parsed = parse_ids(cams["gb28181_id"])
    real = ~(parsed["valid"] & (parsed["device_class"] != "camera")).to_numpy()
    built = cams[real & (cams["status"] != "planned").to_numpy()]
    j = gpd.sjoin(built, grids[["grid_id", "geometry"]], predicate="within")
    expected = j.groupby("grid_id")["point_id"].nunique()
    got = res.table.set_index("unit")["points"]
    assert got.sum() == expected.sum()
    pd.testing.assert_series_equal(got[expected.index], expected, check_names=False,
                                   check_dtype=False)
    # some grids meet the targets and some do not, as the demo intends
    assert set(res.table["status"]) == {"met", "short"}


# --------------------------------------------------------------------------- CLI


def test_cli_density_demo(demo_small, tmp_path, capsys) -> None:
    from gridmap.cli import main

    out = tmp_path / "density.csv"
    code = main(["density", "--grids", str(demo_small / "grids.gpkg"), "--cameras",
                 str(demo_small / "cameras.csv"), "--by", "community", "--out", str(out),
                 "--ids-out", str(tmp_path / "ids.csv")])
    text = capsys.readouterr().out
    assert code == 0
    assert "grid id column: 'grid_id'" in text
    assert "Summary by zone" in text
    assert "GB/T 28181 findings" in text
    table = pd.read_csv(out, dtype={"unit": str})
    assert len(table) == 4
    assert {"completion_pct", "shortfall", "with_planned_pct"} <= set(table.columns)
    ids = pd.read_csv(tmp_path / "ids.csv")
    assert set(ids["finding"]) >= {"malformed", "not a camera", "district mismatch"}


def test_cli_density_outside_and_bad_target(grids, cameras, tmp_path, capsys) -> None:
    from gridmap.cli import main

    g = tmp_path / "g.gpkg"
    grids.to_file(g, layer="grids")
    c = tmp_path / "c.geojson"
    cameras.to_crs(4326).to_file(c)
    out = tmp_path / "d.geojson"
    code = main(["density", "--grids", str(g), "--cameras", str(c), "--target", "urban=8",
                 "--out", str(out)])
    assert code == 1  # x1 lies outside every grid
    assert "1 camera(s) outside every grid" in capsys.readouterr().out
    written = gpd.read_file(out)
    assert written.set_index("unit").loc["A", "status"] == "met"
    assert pd.read_csv(tmp_path / "d.outside.csv")["camera_id"].tolist() == ["x1"]
    assert main(["density", "--grids", str(g), "--cameras", str(c), "--target", "urban"]) == 2
    assert "ZONE=NUMBER" in capsys.readouterr().err
