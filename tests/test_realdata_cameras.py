"""Camera density, coverage and occlusion on the real public data in ../shared/realdata."""

from __future__ import annotations

import csv

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gridmap.assign import assign_points
from gridmap.coverage import (
    camera_views,
    coverage,
    exact_coverage,
    split_approaches,
    view_parameters,
)
from gridmap.crs import metric_crs
from gridmap.density import camera_density
from gridmap.ingest import read_layer

pytestmark = pytest.mark.realdata

APPROACHES = ["FIRST APPROACH", "SECOND APPROACH", "THIRD APPROACH"]


def _sjoin_counts(points: gpd.GeoDataFrame, polys: gpd.GeoDataFrame) -> np.ndarray:
    j = gpd.sjoin(points, polys[[polys.geometry.name]], predicate="within")
    return j["index_right"].value_counts().reindex(polys.index, fill_value=0).to_numpy()


def test_sf_block_groups_osm_cameras_match_sjoin(realdata) -> None:
    blocks = read_layer(realdata / "sf" / "SFCrime_blocks.shp", kind="grids").data
    cams = read_layer(realdata / "us_west_osm" / "surveillance_nodes.json",
                      kind="cameras").data
    assert blocks.crs.to_epsg() == 4326
    a = assign_points(cams, blocks)
    ours = a.counts().to_numpy()
    ref = _sjoin_counts(cams, blocks)
    boundary = np.bincount(a.index[a.index >= 0], minlength=len(blocks)) - ref
    # identical per polygon except points exactly on a shared boundary (sjoin drops them)
    on_edge = ~(a.grid_ids.isna().to_numpy()) & ~cams.within(
        blocks.geometry.iloc[a.index.clip(0)].set_axis(cams.index)).to_numpy()
    assert boundary.sum() == on_edge.sum()
    np.testing.assert_array_equal(ours - boundary, ref)
    assert 1000 < ours.sum() < 1400  # the README: about 1,251 OSM cameras in San Francisco
    assert a.n_outside == len(cams) - ours.sum()
    dens = camera_density(cams, blocks)
    assert dens.table["cameras"].sum() == ours.sum()
    assert any("urban target" in n for n in dens.notes)  # block groups have no zone


def test_chicago_approaches_as_azimuths(realdata) -> None:
    areas = read_layer(realdata / "chicago" / "community_areas_2020.geojson",
                       kind="grids").data
    facing = {"NB": 180.0, "SB": 0.0, "EB": 270.0, "WB": 90.0,
              "NEB": 225.0, "NWB": 135.0, "SEB": 315.0, "SWB": 45.0}
    for name in ("Red_Light_Camera_Locations.csv", "Speed_Camera_Locations.csv"):
        path = realdata / "chicago" / name
        with path.open(encoding="utf-8-sig") as fh:
            raw = list(csv.DictReader(fh))
        cams = read_layer(path, kind="cameras").data
        views = split_approaches(cams, APPROACHES)
        # "NA" (no approach) is read as missing
        expected = [facing[r[c]] for r in raw for c in APPROACHES if r.get(c) not in ("", "NA", None)]
        assert views["azimuth_deg"].tolist() == expected
        a = assign_points(cams, areas)
        np.testing.assert_array_equal(a.counts().to_numpy(), _sjoin_counts(cams, areas))
        # every approach is a sector pointing where the rule says
        poly = camera_views(views.assign(kind="bullet", hfov_deg=40.0, range_m=60.0),
                            crs=metric_crs(views))
        origin = views.to_crs(poly.crs).geometry
        c = poly.geometry.centroid
        bearing = np.degrees(np.arctan2(c.x.to_numpy() - origin.x.to_numpy(),
                                        c.y.to_numpy() - origin.y.to_numpy())) % 360
        off = (bearing - views["azimuth_deg"].to_numpy() + 180.0) % 360.0 - 180.0
        assert np.abs(off).max() < 0.5
        # a location with two approaches is still one point
        dens = camera_density(views, areas)
        assert dens.table["points"].sum() == len(cams) - a.n_outside
        assert dens.table["cameras"].sum() == len(views) - int(
            (assign_points(views, areas).index < 0).sum())


def test_chicago_coverage_agrees_with_exact_union(realdata) -> None:
    areas = read_layer(realdata / "chicago" / "community_areas_2020.geojson",
                       kind="grids").data
    cams = read_layer(realdata / "chicago" / "Speed_Camera_Locations.csv", kind="cameras").data
    views = split_approaches(cams, APPROACHES).assign(kind="bullet", hfov_deg=60.0,
                                                      range_m=150.0)
    res = coverage(views, areas, cell_m=5.0, blind_spots=False)
    crs = metric_crs(areas)
    ex = exact_coverage(res.views.to_crs(crs), areas.to_crs(crs))
    diff = np.abs(ex["covered_pct"].to_numpy() - res.grids["covered_pct"].to_numpy())
    assert diff.max() <= 0.5
    assert (res.grids["covered_pct"] > 0).sum() >= 30


def test_geneva_direction_and_type(realdata) -> None:
    cams = read_layer(realdata / "geneva" / "osm_surveillance_switzerland.json",
                      kind="cameras").data
    raw = cams["camera_id"].astype(str)
    p = view_parameters(cams)
    kinds = cams["kind"].astype("string").fillna("")
    # camera:type dome → a disc; fixed → a bullet's sector where a direction is given
    assert (p.loc[(kinds == "dome").to_numpy(), "shape"] == "disc").all()
    fixed = ((kinds == "bullet") & cams["azimuth_deg"].notna()).to_numpy()
    assert fixed.sum() > 100
    assert (p.loc[fixed, "shape"] == "sector").all()
    np.testing.assert_allclose(p.loc[fixed, "azimuth_deg"], cams.loc[fixed, "azimuth_deg"])
    # the range "190-100" sweeps clockwise from 190° to 100°: 270° wide, centred on 325°
    wide = (cams["hfov_deg"] == 270).fillna(False).to_numpy(dtype=bool)
    assert wide.sum() == 1
    assert cams.loc[wide, "azimuth_deg"].iloc[0] == pytest.approx(325.0)
    assert len(raw) == len(cams)
    city = gpd.read_file(realdata / "geneva" / "geneva_city" / "ville_de_geneve.shp")
    assert city.crs.to_epsg() == 2056
    grid = city.assign(grid_id="Ville de Genève")[["grid_id", "geometry"]]
    res = coverage(cams, grid, cell_m=1.0, blind_spots=False)
    inside = int((assign_points(cams, grid).index >= 0).sum())
    assert res.grids["cameras"].iloc[0] == inside
    ex = exact_coverage(res.views.to_crs(2056), grid)
    assert res.grids["covered_pct"].iloc[0] == pytest.approx(ex["covered_pct"].iloc[0],
                                                             abs=0.5)
    assert 0 < res.grids["covered_pct"].iloc[0] < 5


def _overpass_buildings(realdata) -> gpd.GeoDataFrame:
    from gridmap.osm import read_overpass

    b = read_overpass(realdata / "osm" / "overpass_sf_innersunset_buildings_2017.json.gz")
    return b[b.geom_type == "Polygon"].reset_index(drop=True)


def test_occlusion_by_osm_buildings(realdata) -> None:
    buildings = _overpass_buildings(realdata)
    crs = metric_crs(buildings)
    bm = buildings.to_crs(crs)
    blocked_area = shapely.union_all(bm.geometry.values)
    # cameras in the streets: random points not inside any building
    rng = np.random.default_rng(2)
    xmin, ymin, xmax, ymax = bm.total_bounds
    pts = shapely.points(rng.uniform(xmin, xmax, 400), rng.uniform(ymin, ymax, 400))
    pts = pts[~shapely.intersects(blocked_area, pts)][:40]
    cams = gpd.GeoDataFrame({
        "camera_id": [f"c{i}" for i in range(len(pts))],
        "kind": ["bullet", "dome"] * (len(pts) // 2),
        "azimuth_deg": rng.uniform(0, 360, len(pts)), "hfov_deg": 90.0, "range_m": 60.0,
    }, geometry=pts, crs=crs)
    free = camera_views(cams, crs=crs)
    seen = camera_views(cams, buildings=bm, crs=crs)
    assert seen["occluded"].sum() >= len(cams) // 2
    for f, s in zip(free.geometry, seen.geometry, strict=True):
        assert s.area <= f.area + 1e-6
        assert s.difference(f).area < 1e-3  # never beyond the unblocked view
        # nothing inside a building is seen (only grazing slivers between rays)
        assert s.intersection(blocked_area).area < 0.02 * f.area
    # each ray's end point is at the full range or on a building outline
    outline = shapely.boundary(blocked_area)
    for cam, s, r in zip(cams.geometry, seen.geometry, cams["range_m"], strict=True):
        ring = np.asarray(s.exterior.coords)
        d = np.hypot(ring[:, 0] - cam.x, ring[:, 1] - cam.y)
        ends = ring[d > 1e-6]
        at_range = np.isclose(np.hypot(ends[:, 0] - cam.x, ends[:, 1] - cam.y), r, atol=1e-6)
        dist = shapely.distance(outline, shapely.points(ends[~at_range]))
        assert (dist < 1e-6).all()


def test_coverage_with_osm_buildings_and_roads(realdata) -> None:
    """A grid over the Inner Sunset: occlusion lowers coverage; raster agrees with exact."""
    from gridmap.osm import read_overpass

    buildings = _overpass_buildings(realdata)
    crs = metric_crs(buildings)
    bm = buildings.to_crs(crs)
    xmin, ymin, xmax, ymax = bm.total_bounds
    grid = gpd.GeoDataFrame({"grid_id": ["sunset"]},
                            geometry=[shapely.box(xmin, ymin, xmax, ymax)], crs=crs)
    rng = np.random.default_rng(4)
    pts = shapely.points(rng.uniform(xmin, xmax, 300), rng.uniform(ymin, ymax, 300))
    pts = pts[~shapely.intersects(shapely.union_all(bm.geometry.values), pts)][:60]
    cams = gpd.GeoDataFrame({"camera_id": [f"c{i}" for i in range(len(pts))],
                             "kind": "ptz", "range_m": 50.0}, geometry=pts, crs=crs)
    free = coverage(cams, grid, cell_m=1.0, blind_spots=False)
    blocked = coverage(cams, grid, buildings=bm, cell_m=1.0)
    assert blocked.grids["covered_pct"].iloc[0] < free.grids["covered_pct"].iloc[0] - 5
    ex = exact_coverage(blocked.views.to_crs(crs), grid)
    assert blocked.grids["covered_pct"].iloc[0] == pytest.approx(ex["covered_pct"].iloc[0],
                                                                 abs=0.5)
    assert len(blocked.blind_spots) > 0
    roads = read_overpass(realdata / "osm" / "overpass_sf_mission_roads_2017.json.gz")
    roads = roads[roads.geom_type == "LineString"]
    assert len(pd.unique(roads["highway"])) > 1


def test_cli_on_chicago(realdata, tmp_path, capsys) -> None:
    from gridmap.cli import main

    areas = str(realdata / "chicago" / "community_areas_2020.geojson")
    cams = str(realdata / "chicago" / "Speed_Camera_Locations.csv")
    out = tmp_path / "cov.gpkg"
    assert main(["coverage", "--grids", areas, "--cameras", cams, "--approaches",
                 ",".join(APPROACHES), "--cell", "5", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "230 views from the approach columns" in text
    assert "grid id column: 'community_code'" in text  # no grid id in the file: chosen
    views = gpd.read_file(out, layer="views")
    assert len(views) == 230
    assert set(views["azimuth_deg"].round()) <= {0.0, 90.0, 180.0, 270.0, 45.0, 135.0,
                                                  225.0, 315.0}
    assert main(["density", "--grids", areas, "--cameras", cams, "--target", "urban=1"]) == 0
