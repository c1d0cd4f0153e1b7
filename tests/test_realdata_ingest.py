"""Ingestion of the real public files in ``../shared/realdata``: one test per known trap.

Each test is skipped (with the reason) when the folder is absent. Expected
values are computed independently from the raw files (csv/json modules,
pyogrio, hand tables), never taken from gridmap's own output.
"""

from __future__ import annotations

import csv
import gzip
import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gridmap.coords import gcj02_to_wgs84
from gridmap.crs import to_metric
from gridmap.ingest import detect_datum_offset, read_layer
from gridmap.osm import read_overpass

pytestmark = pytest.mark.realdata

SQ_MI_KM2 = 2.589988


def test_geneva_corrupted_coordinates_are_rejected_with_reason(realdata):
    path = realdata / "geneva" / "cameras_raw_corrupted_coords.csv"
    with path.open(encoding="utf-8") as fh:
        raw = list(csv.DictReader(fh, delimiter=";"))
    result = read_layer(path, kind="cameras")
    rec = result.report.records
    assert result.report.total == len(raw) == 622
    assert len(result.data) == 0  # none silently misplaced
    empty = [not r["lat"] or not r["lon"] for r in raw]
    assert (rec["reason"] == "missing coordinate").tolist() == empty
    mangled = [bool(re.fullmatch(r"\d{1,3}(\.\d{3}){2,}", r["lat"])) for r in raw]
    assert sum(mangled) > 500
    for i in np.flatnonzero(mangled)[:50]:
        assert rec["reason"].iloc[i] == "unparseable coordinate"
        assert rec["detail"].iloc[i].startswith(
            f"unparseable coordinate: '{raw[i]['lat']}' looks like a number with thousands "
            "separators")
    assert result.report.reasons == {"unparseable coordinate": 622 - sum(empty),
                                     "missing coordinate": sum(empty)}


def test_shenzhen_gcj02_points_flagged_against_wgs84_streets(realdata):
    folder = realdata / "shenzhen"
    streets = gpd.read_file(folder / "streets_by_pinyin.geojson")
    for name in ("aed_points_gcj02.csv", "amap_poi_gcj02.csv"):
        as_given = read_layer(folder / name, kind="places").data
        flagged = detect_datum_offset(as_given, streets)
        assert flagged.suspected, flagged.message
        assert (flagged.datum, flagged.layer) == ("gcj02", "points")
        assert 300 < flagged.offset_m < 700
        converted = read_layer(folder / name, kind="places", coords="gcj02").data
        assert not detect_datum_offset(converted, streets).suspected


def test_chicago_upper_case_headers_and_approach_letters(realdata):
    # A camera enforcing NB traffic faces the oncoming vehicles, i.e. south.
    facing = {"NB": 180.0, "SB": 0.0, "EB": 270.0, "WB": 90.0,
              "NEB": 225.0, "NWB": 135.0, "SEB": 315.0, "SWB": 45.0}
    for name in ("Red_Light_Camera_Locations.csv", "Speed_Camera_Locations.csv"):
        path = realdata / "chicago" / name
        with path.open(encoding="utf-8-sig") as fh:
            raw = list(csv.DictReader(fh))
        result = read_layer(path)
        assert result.report.kind == "cameras"
        assert result.report.rejected == 0
        data = result.data
        assert len(data) == len(raw)
        np.testing.assert_allclose(data.geometry.x, [float(r["LONGITUDE"]) for r in raw])
        np.testing.assert_allclose(data.geometry.y, [float(r["LATITUDE"]) for r in raw])
        assert data["azimuth_deg"].tolist() == [facing[r["FIRST APPROACH"]] for r in raw]
        go_live = "GO LIVE DATE" if "GO LIVE DATE" in raw[0] else "GO-LIVE DATE"
        assert data[go_live].tolist() == [r[go_live] for r in raw]  # kept untouched


def test_sf_census_area_square_miles_agree_with_metric_km2(realdata):
    """``CENSUSAREA`` is land area in square miles rounded to 0.001, from EPSG:4269 polygons.

    Area is computed in the metric CRS gridmap picks (UTM 10N here). Block
    groups on the shore include water in their polygons, and the smallest ones
    lose precision to the rounding, so the check is: the median ratio within 1%,
    and most block groups within 1% plus their rounding error.
    """
    path = realdata / "sf" / "SFCrime_blocks.shp"
    assert gpd.read_file(path).crs.to_epsg() == 4269
    data = read_layer(path, kind="grids").data
    metric = to_metric(data)
    assert metric.crs.to_epsg() == 32610
    km2 = metric.area.to_numpy() / 1e6
    stated = data["CENSUSAREA"].to_numpy() * SQ_MI_KM2
    ratio = km2 / stated
    assert abs(np.median(ratio) - 1) < 0.01
    tolerance = 0.01 + 0.0005 / data["CENSUSAREA"].to_numpy()
    assert (np.abs(ratio - 1) <= tolerance).mean() > 0.6
    assert data["Population"].sum() == 805_235


def test_sf_incident_dates_without_times_parse(realdata):
    path = realdata / "sf" / "incidents_2012h2.csv"
    raw = pd.read_csv(path, dtype=str)
    result = read_layer(path, kind="incidents")
    report = result.report
    assert report.total == len(raw) == 13_472
    # Repeated incident numbers are rejected as duplicates, the first one kept.
    assert report.reasons == {"duplicate id": int(raw["IncidntNum"].duplicated().sum())}
    kept = raw.drop_duplicates("IncidntNum")
    expected = pd.to_datetime(kept["Date"], format="%Y-%m-%d").reset_index(drop=True)
    got = result.data["reported_at"]
    assert pd.api.types.is_datetime64_any_dtype(got)
    assert (got.dt.normalize() == got).all()
    pd.testing.assert_series_equal(got, expected, check_names=False, check_dtype=False)
    assert got.min() == pd.Timestamp("2012-07-01")
    assert got.max() == pd.Timestamp("2012-12-31")


def test_jiaxing_gcj02_districts_convert(realdata):
    path = realdata / "jiaxing" / "jiaxing_districts_gcj02.json"
    raw = json.loads(path.read_text(encoding="utf-8"))
    result = read_layer(path, kind="grids", coords="gcj02")
    data = result.data
    assert data["name"].tolist() == [f["properties"]["name"] for f in raw["features"]]
    assert "南湖区" in data["name"].tolist()
    nanhu = data[data["adcode"] == 330402].geometry.iloc[0]
    ring = raw["features"][data.index[data["adcode"] == 330402][0]]["geometry"]["coordinates"][0][0]
    gx, gy = np.array(ring).T
    wx, wy = gcj02_to_wgs84(gx, gy)
    np.testing.assert_allclose(shapely.get_coordinates(nanhu.geoms[0].exterior),
                               np.column_stack([wx, wy]), atol=1e-9)
    # The shift is the GCJ-02 offset: a few hundred metres, area unchanged to 0.1%.
    given = gpd.GeoSeries(shapely.points(gx, gy), crs=4326).to_crs(4549)
    moved = gpd.GeoSeries(shapely.points(wx, wy), crs=4326).to_crs(4549)
    assert 300 < np.median(given.distance(moved)) < 700
    before = to_metric(read_layer(path, kind="grids").data).area.sum()
    assert to_metric(data).area.sum() == pytest.approx(before, rel=1e-3)


def test_osm_overpass_buildings_and_roads(realdata):
    folder = realdata / "osm"
    for name, area in (("overpass_sf_innersunset_buildings_2017.json.gz", True),
                       ("overpass_piedmont_buildings_2017.json.gz", True),
                       ("overpass_sf_mission_roads_2017.json.gz", False)):
        with gzip.open(folder / name, "rt", encoding="utf-8") as fh:
            elements = json.load(fh)["elements"]
        ways = [e for e in elements if e["type"] == "way"]
        frame = read_overpass(folder / name)
        got = frame[frame.osm_type == "way"]
        assert sorted(got.osm_id) == sorted(w["id"] for w in ways)
        kind = "Polygon" if area else "LineString"
        closed = [w["id"] for w in ways if w["nodes"][0] == w["nodes"][-1] and "building" in w.get("tags", {})]
        typed = got.set_index("osm_id").geometry.geom_type
        if area:
            assert (typed.loc[closed] == kind).all()
            assert len(closed) > 500
        else:
            assert (typed == kind).all()
        # Every vertex of a way is the node of the same id.
        nodes = {e["id"]: (e["lon"], e["lat"]) for e in elements if e["type"] == "node"}
        first = ways[0]
        geom = got.set_index("osm_id").geometry.loc[first["id"]]
        ring = geom.exterior if geom.geom_type == "Polygon" else geom
        np.testing.assert_allclose(shapely.get_coordinates(ring),
                                   [nodes[n] for n in first["nodes"]])
    heights = read_overpass(folder / "overpass_sf_innersunset_buildings_2017.json.gz")["height"]
    assert (heights != "").sum() == 574


def test_us_west_json_list_read(realdata):
    path = realdata / "us_west_osm" / "surveillance_nodes.json"
    raw = json.loads(path.read_text(encoding="utf-8"))
    result = read_layer(path, kind="cameras")
    assert result.report.total == len(raw) == 18_078
    assert result.report.rejected == 0
    data = result.data
    assert data["camera_id"].tolist() == [str(r["id"]) for r in raw]
    np.testing.assert_allclose(data.geometry.x, [r["lon"] for r in raw])
    np.testing.assert_allclose(data.geometry.y, [r["lat"] for r in raw])
    assert data["type"].tolist() == [r["type"] for r in raw]  # kept: not a camera kind
