"""OpenStreetMap input: direction text, Overpass elements, camera tags."""

from __future__ import annotations

import gzip
import json

import pytest
import shapely

from gridmap import DataError, ReadError
from gridmap.ingest import read_layer
from gridmap.osm import overpass_to_frame, parse_direction, read_overpass


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90", (90.0, None)), ("90°", (90.0, None)), ("-90", (270.0, None)),
        ("360", (0.0, None)), ("405", (45.0, None)), (135, (135.0, None)),
        ("N", (0.0, None)), ("NNE", (22.5, None)), ("ne", (45.0, None)), ("SW", (225.0, None)),
        ("NNW", (337.5, None)), ("north", (0.0, None)), ("north-east", (45.0, None)),
        ("东北", (45.0, None)), ("西", (270.0, None)),
        # Ranges: the sector swept clockwise from the first to the second value.
        ("90-270", (180.0, 180.0)), ("270-90", (0.0, 180.0)), ("0-360", (180.0, 360.0)),
        ("350-10", (0.0, 20.0)), ("NW-NE", (0.0, 90.0)), ("90 to 180", (135.0, 90.0)),
        # Traffic approaches: the camera faces the oncoming vehicles.
        ("NB", (180.0, None)), ("SB", (0.0, None)), ("EB", (270.0, None)), ("WB", (90.0, None)),
        # Several OSM values: the first one.
        ("0;180", (0.0, None)),
    ],
)
def test_parse_direction(text, expected):
    assert parse_direction(text) == expected


@pytest.mark.parametrize("text", ["", "  ", "up", "12a", "N-x", None, float("nan")])
def test_parse_direction_rejects_what_it_cannot_read(text):
    with pytest.raises(DataError, match="direction"):
        parse_direction(text)


def _elements():
    nodes = [
        {"type": "node", "id": 1, "lat": 0.0, "lon": 0.0},
        {"type": "node", "id": 2, "lat": 0.0, "lon": 0.001},
        {"type": "node", "id": 3, "lat": 0.001, "lon": 0.001},
        {"type": "node", "id": 4, "lat": 0.001, "lon": 0.0},
        {"type": "node", "id": 5, "lat": 0.002, "lon": 0.0},
        {"type": "node", "id": 6, "lat": 0.0005, "lon": 0.0005,
         "tags": {"man_made": "surveillance", "camera:type": "dome"}},
        {"type": "node", "id": 7, "lat": 0.003, "lon": 0.003},  # free-standing, untagged
        {"type": "node", "id": 10, "lat": 0.0002, "lon": 0.0002},
        {"type": "node", "id": 11, "lat": 0.0002, "lon": 0.0004},
        {"type": "node", "id": 12, "lat": 0.0004, "lon": 0.0004},
        {"type": "node", "id": 13, "lat": 0.0004, "lon": 0.0002},
    ]
    ways = [
        {"type": "way", "id": 100, "nodes": [1, 2, 3, 4, 1], "tags": {"building": "yes"}},
        {"type": "way", "id": 101, "nodes": [4, 5], "tags": {"highway": "residential"}},
        {"type": "way", "id": 102, "nodes": [1, 2, 3, 4, 1], "tags": {"highway": "pedestrian"}},
        {"type": "way", "id": 103, "nodes": [1, 999], "tags": {"highway": "service"}},
        {"type": "way", "id": 104, "nodes": [10, 11, 12, 13, 10]},
    ]
    relation = {"type": "relation", "id": 200, "tags": {"type": "multipolygon", "building": "yes"},
                "members": [{"type": "way", "ref": 100, "role": "outer"},
                            {"type": "way", "ref": 104, "role": "inner"}]}
    route = {"type": "relation", "id": 201, "tags": {"type": "route"}, "members": []}
    return nodes + ways + [relation, route]


def test_overpass_features_and_geometries():
    frame = overpass_to_frame(_elements())
    by_id = {(t, i): g for t, i, g in zip(frame.osm_type, frame.osm_id, frame.geometry, strict=True)}
    # Way vertices (1-5, 10-13) are not features; the tagged node and the lone node are.
    assert sorted(i for t, i in by_id if t == "node") == [6, 7]
    assert by_id[("way", 100)].geom_type == "Polygon"
    assert by_id[("way", 100)].area == pytest.approx(1e-6)
    assert by_id[("way", 101)].geom_type == "LineString"
    assert by_id[("way", 102)].geom_type == "LineString"  # closed highway without area=yes
    assert by_id[("way", 103)] is None  # node 999 is missing from the answer
    assert by_id[("relation", 200)].area == pytest.approx(1e-6 - 4e-8)  # outer minus inner
    assert ("relation", 201) not in by_id
    assert frame.crs.to_epsg() == 4326
    cams = frame[frame.osm_id == 6]
    assert cams["camera:type"].iloc[0] == "dome"
    assert frame.loc[frame.osm_id == 100, "camera:type"].iloc[0] == ""


def test_read_overpass_gz_and_bare_list(tmp_path):
    gz = tmp_path / "answer.json.gz"
    with gzip.open(gz, "wt", encoding="utf-8") as fh:
        json.dump({"version": 0.6, "elements": _elements()}, fh)
    plain = tmp_path / "list.json"
    plain.write_text(json.dumps(_elements()), encoding="utf-8")
    a, b = read_overpass(gz), read_overpass(plain)
    assert len(a) == len(b) == 8
    assert a.geometry.equals(b.geometry)


def test_out_geom_ways_carry_their_coordinates():
    way = {"type": "way", "id": 5, "nodes": [1, 2, 3, 1], "tags": {"building": "yes"},
           "geometry": [{"lat": 0, "lon": 0}, {"lat": 0, "lon": 1}, {"lat": 1, "lon": 1},
                        {"lat": 0, "lon": 0}]}
    frame = overpass_to_frame([way])
    assert frame.geometry.iloc[0].equals(shapely.Polygon([(0, 0), (1, 0), (1, 1)]))


def test_read_overpass_refuses_other_json(tmp_path):
    path = tmp_path / "x.json"
    path.write_text(json.dumps([{"id": 1, "lat": 1, "lon": 2}]), encoding="utf-8")
    with pytest.raises(ReadError, match="not an Overpass answer"):
        read_overpass(path)


def test_camera_tags_map_to_camera_columns(tmp_path):
    def node(i, **tags):
        return {"type": "node", "id": i, "lat": 46.2 + i * 1e-4, "lon": 6.14,
                "tags": {"man_made": "surveillance", **tags}}

    elements = [
        node(1, **{"camera:type": "fixed", "camera:direction": "NE", "height": "5 m"}),
        node(2, **{"camera:type": "dome", "camera:direction": "90-270", "camera:angle": "15°"}),
        node(3, **{"camera:type": "panning", "camera:direction": "200",
                   "surveillance:type": "camera"}),
        node(4, **{"camera:direction": "upwards"}),
    ]
    path = tmp_path / "cams.json"
    path.write_text(json.dumps({"elements": elements}), encoding="utf-8")
    result = read_layer(path, kind="cameras")
    data = result.data.set_index("camera_id")
    assert data.loc["1", "kind"] == "bullet"
    assert data.loc["2", "kind"] == "dome"
    assert data.loc["3", "kind"] == "ptz"
    assert data.loc["1", "azimuth_deg"] == 45.0
    assert data.loc["2", "azimuth_deg"] == 180.0
    assert data.loc["2", "hfov_deg"] == 180.0
    assert data.loc["3", "azimuth_deg"] == 200.0
    assert data.loc["1", "height_m"] == 5.0
    assert data.loc["2", "tilt_deg"] == 15.0
    assert data.loc["3", "surveillance_type"] == "camera"
    assert shapely.equals(data.loc["1", "geometry"], shapely.Point(6.14, 46.2 + 1e-4))
    rep = result.report
    assert rep.total == 4
    assert rep.rejected == 0
    # fixed→bullet, panning→ptz and the NE/range directions are repairs; "upwards" is emptied.
    assert rep.repairs["vocabulary normalised"] == 2
    assert rep.repairs["direction parsed"] == 2
    assert rep.repairs["value left empty"] == 1
    assert data["azimuth_deg"].isna().tolist() == [False, False, False, True]
