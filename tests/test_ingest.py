"""Ingestion: readers, coordinate detection, repairs, rejections and row accounting."""

from __future__ import annotations

import zipfile

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Transformer

from gridmap import CRSError, ReadError, SchemaError
from gridmap.coords import bd09_to_wgs84, gcj02_to_wgs84
from gridmap.ingest import (
    REASONS,
    guess_kind,
    ingest_frame,
    read_layer,
)


def write(path, text, encoding="utf-8"):
    path.write_text(text, encoding=encoding)
    return path


def status_of(result) -> list[str]:
    return result.report.records["status"].tolist()


def assert_accounted(report):
    assert report.accepted + report.repaired + report.rejected == report.total
    assert len(report.records) == report.total == len(report.original)
    assert report.records["row"].tolist() == list(range(1, report.total + 1))


# --------------------------------------------------------------------------- reading tables


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_encodings(tmp_path, encoding):
    path = write(tmp_path / "places.csv", "编号,名称,经度,纬度\nP1,南湖,120.75,30.75\n", encoding)
    result = read_layer(path, kind="places")
    assert result.data["place_id"].tolist() == ["P1"]
    assert result.data["name"].tolist() == ["南湖"]
    assert result.data.geometry.iloc[0].equals(shapely.Point(120.75, 30.75))


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_csv_delimiter_sniffed(tmp_path, sep):
    text = sep.join(["id", "lon", "lat", "name"]) + "\n" + sep.join(["a", "6.1", "46.2", "x y"])
    result = read_layer(write(tmp_path / "p.csv", text + "\n"), kind="places")
    assert result.data.geometry.iloc[0].equals(shapely.Point(6.1, 46.2))
    assert result.data["name"].iloc[0] == "x y"


@pytest.mark.parametrize(
    ("lon", "lat"),
    [("lon", "lat"), ("LNG", "LAT"), ("Long", "Latitude"), ("LONGITUDE ", " LATITUDE"),
     ("经度", "纬度"), ("X", "Y"), ("lng_gcj02", "lat_gcj02"), ("Point X", "Point Y")],
)
def test_coordinate_columns_detected(tmp_path, lon, lat):
    if lon == "Point X":  # not a recognised spelling: must be named explicitly
        path = write(tmp_path / "p.csv", f"id,{lon},{lat}\na,120.1,30.2\n")
        with pytest.raises(ReadError, match="no longitude column found"):
            read_layer(path, kind="places")
        result = read_layer(path, kind="places", lon="Point X", lat="point y")
    else:
        result = read_layer(write(tmp_path / "p.csv", f"id,{lon},{lat}\na,120.1,30.2\n"),
                            kind="places")
    assert result.data.geometry.iloc[0].equals(shapely.Point(120.1, 30.2))


def test_missing_longitude_column_error_names_columns_and_fix(tmp_path):
    path = write(tmp_path / "incidents.csv", "id,place,lat\n1,x,30\n")
    with pytest.raises(ReadError) as err:
        read_layer(path)
    message = str(err.value)
    assert message.startswith(f"{path}: no longitude column found; columns are ['id', 'place', 'lat']")
    assert "--lon COLUMN" in message
    assert "\n" not in message


def test_unknown_lon_option_is_a_read_error(tmp_path):
    path = write(tmp_path / "p.csv", "id,lon,lat\n1,120,30\n")
    with pytest.raises(ReadError, match="no column 'east'"):
        read_layer(path, lon="east")


def test_excel(tmp_path):
    path = tmp_path / "cams.xlsx"
    pd.DataFrame({"设备编号": ["C001", "C002"], "经度": [120.75, 120.76], "纬度": [30.75, 30.76],
                  "在线状态": ["在线", "离线"]}).to_excel(path, index=False)
    result = read_layer(path, kind="cameras")
    assert result.data["camera_id"].tolist() == ["C001", "C002"]
    assert result.data["status"].tolist() == ["online", "offline"]
    assert result.data.geometry.x.tolist() == [120.75, 120.76]


def test_ids_keep_leading_zeros_and_long_codes(tmp_path):
    text = "id,gb28181_id,lon,lat\n007,33040200001320000001,120.1,30.1\n"
    data = read_layer(write(tmp_path / "c.csv", text), kind="cameras").data
    assert data["camera_id"].iloc[0] == "007"
    assert data["gb28181_id"].iloc[0] == "33040200001320000001"


def test_malformed_line_is_rejected_not_lost(tmp_path):
    text = "id,lon,lat\na,120.1,30.1\nb,120.2,30.2,extra,cells\nc,120.3,30.3\n"
    result = read_layer(write(tmp_path / "p.csv", text), kind="places")
    assert status_of(result) == ["accepted", "rejected", "accepted"]
    assert result.report.reasons == {"malformed line": 1}
    assert result.data["place_id"].tolist() == ["a", "c"]


# --------------------------------------------------------------------------- numbers


def test_thousands_separator_coordinates_rejected_with_reason(tmp_path):
    text = "id;lat;lon\n1;462.289.778;61.225.376\n2;46.204;61.534\n3;462.052;614.066\n4;;\n"
    result = read_layer(write(tmp_path / "gva.csv", text), kind="cameras")
    rec = result.report.records
    assert rec["status"].tolist() == ["rejected"] * 4
    assert rec["detail"].iloc[0].startswith(
        "unparseable coordinate: '462.289.778' looks like a number with thousands separators")
    # In a column full of such values, "46.204" is ambiguous, not a latitude.
    assert "'46.204' is ambiguous" in rec["detail"].iloc[1]
    assert rec["reason"].tolist() == ["unparseable coordinate"] * 3 + ["missing coordinate"]
    assert len(result.data) == 0


def test_one_three_digit_group_in_a_clean_column_is_a_number(tmp_path):
    text = "id,lon,lat\n1,120.125,30.250\n2,120.5,30.5\n"
    result = read_layer(write(tmp_path / "p.csv", text), kind="places")
    assert result.report.rejected == 0
    assert result.data.geometry.x.tolist() == [120.125, 120.5]


@pytest.mark.parametrize(
    ("lon", "lat", "x", "y"),
    [('"120,75"', '"30,5"', 120.75, 30.5),                        # decimal comma
     ("120°45'0\"E", "30°30'0\"N", 120.75, 30.5),                  # DMS
     ("120.75E", "30.5N", 120.75, 30.5),                           # hemisphere letters
     ("74.0W", "40.5N", -74.0, 40.5),
     ("１２０.７５", "３０.５", 120.75, 30.5)],                      # full-width digits
)
def test_number_formats_repaired(tmp_path, lon, lat, x, y):
    result = read_layer(write(tmp_path / "p.csv", f"id,lon,lat\na,{lon},{lat}\n"), kind="places")
    assert status_of(result) == ["repaired"]
    assert result.report.repairs == {"number format read": 1}
    geom = result.data.geometry.iloc[0]
    assert geom.x == pytest.approx(x)
    assert geom.y == pytest.approx(y)


def test_missing_unparseable_out_of_range_and_zero(tmp_path):
    text = ("id,lon,lat\n"
            "a,,30\n"          # missing
            "b,n/a,30\n"       # missing marker
            "c,abc,30\n"       # unparseable
            "d,200,30\n"       # out of range
            "e,0,0\n"          # placeholder
            "f,120,30\n")      # fine
    result = read_layer(write(tmp_path / "p.csv", text), kind="places")
    assert result.report.records["reason"].tolist() == [
        "missing coordinate", "missing coordinate", "unparseable coordinate", "out of range",
        "missing coordinate", ""]
    assert "'abc' is not a number" in result.report.records["detail"].iloc[2]
    assert "longitude 200 is outside -180..180" in result.report.records["detail"].iloc[3]
    assert result.data["place_id"].tolist() == ["f"]


# --------------------------------------------------------------------------- swapped order


def test_swapped_lat_lon_detected_when_lat_exceeds_90(tmp_path):
    text = "id,lon,lat\na,30.75,120.75\nb,120.76,30.76\n"
    result = read_layer(write(tmp_path / "p.csv", text), kind="places")
    assert status_of(result) == ["repaired", "accepted"]
    assert result.report.repairs == {"lat/lon swapped": 1}
    assert result.data.geometry.iloc[0].equals(shapely.Point(120.75, 30.75))


def test_swapped_detected_by_china_for_gcj02_input(tmp_path):
    # Kashgar (75.99°E, 39.47°N) written the wrong way round: both orders are valid degrees,
    # only the China box says which one is right.
    text = "id,lon,lat\na,39.47,75.99\n"
    result = read_layer(write(tmp_path / "p.csv", text), kind="places", coords="gcj02")
    assert status_of(result) == ["repaired"]
    x, y = gcj02_to_wgs84(75.99, 39.47)
    assert result.data.geometry.iloc[0].x == pytest.approx(float(x))
    assert result.data.geometry.iloc[0].y == pytest.approx(float(y))


def test_swapped_detected_by_study_area(tmp_path):
    geneva = shapely.box(6.0, 46.1, 6.3, 46.3)
    text = "id,lon,lat\na,46.2,6.1\nb,6.2,46.2\nc,8.5,47.4\n"
    result = read_layer(write(tmp_path / "p.csv", text), kind="places", study_area=geneva)
    assert status_of(result) == ["repaired", "accepted", "rejected"]
    assert result.report.reasons == {"outside study area": 1}
    assert result.data.geometry.iloc[0].equals(shapely.Point(6.1, 46.2))


def test_wkt_point_lat_lon_order_detected(tmp_path):
    text = 'id,geometry\na,POINT (30.75 120.75)\nb,POINT (120.8 30.8)\nc,POINT (\nd,\n'
    result = read_layer(write(tmp_path / "p.csv", text), kind="places")
    assert status_of(result) == ["repaired", "accepted", "rejected", "rejected"]
    assert result.report.repairs == {"POINT (lat lon) order detected": 1}
    assert result.report.reasons == {"unparseable geometry": 1, "missing geometry": 1}
    assert result.data.geometry.iloc[0].equals(shapely.Point(120.75, 30.75))


def test_socrata_lat_lon_text_column(tmp_path):
    text = 'ID,LOCATION\n1,"(41.92499, -87.6779)"\n'
    result = read_layer(write(tmp_path / "p.csv", text), kind="places")
    assert result.data.geometry.iloc[0].equals(shapely.Point(-87.6779, 41.92499))


def test_wkt_polygons_round_trip_through_csv(tmp_path):
    grids = gpd.GeoDataFrame({"grid_id": ["g1", "g2"]},
                             geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)], crs=4326)
    path = tmp_path / "grids.csv"
    pd.DataFrame({"grid_id": grids.grid_id, "geometry": grids.geometry.to_wkt()}).to_csv(
        path, index=False)
    result = read_layer(path, kind="grids")
    assert result.data.geometry.equals(grids.geometry)


# --------------------------------------------------------------------------- coordinate systems


def test_gcj02_and_bd09_converted_to_wgs84(tmp_path):
    text = "id,lng,lat\na,120.75,30.75\nb,-74.0,40.7\n"
    path = write(tmp_path / "p.csv", text)
    gcj = read_layer(path, kind="places", coords="gcj02").data
    bd = read_layer(path, kind="places", coords="bd09").data
    gx, gy = gcj02_to_wgs84(120.75, 30.75)
    bx, by = bd09_to_wgs84(120.75, 30.75)
    assert gcj.geometry.iloc[0].x == pytest.approx(float(gx), abs=1e-12)
    assert gcj.geometry.iloc[0].y == pytest.approx(float(gy), abs=1e-12)
    assert bd.geometry.iloc[0].x == pytest.approx(float(bx), abs=1e-12)
    assert bd.geometry.iloc[0].y == pytest.approx(float(by), abs=1e-12)
    # New York is outside China: GCJ-02 leaves it unchanged.
    assert gcj.geometry.iloc[1].equals(shapely.Point(-74.0, 40.7))
    assert gcj.crs.to_epsg() == 4326


def test_projected_csv_input(tmp_path):
    to_gk = Transformer.from_crs(4326, 4549, always_xy=True)
    x, y = to_gk.transform(120.75, 30.75)
    path = write(tmp_path / "p.csv", f"id,x,y\na,{x:.3f},{y:.3f}\n")
    data = read_layer(path, kind="places", crs="EPSG:4549").data
    assert data.geometry.iloc[0].x == pytest.approx(120.75, abs=1e-7)
    assert data.geometry.iloc[0].y == pytest.approx(30.75, abs=1e-7)


def test_projected_csv_without_crs_is_rejected_with_a_hint(tmp_path):
    path = write(tmp_path / "p.csv", "id,x,y\na,500000.0,3400000.0\nb,500100.0,3400100.0\n")
    report = read_layer(path, kind="places").report
    assert report.reasons == {"out of range": 2}
    assert any("pass crs=EPSG:N" in note for note in report.notes)


def test_coords_and_crs_disagreeing_is_an_error(tmp_path):
    path = write(tmp_path / "p.csv", "id,lon,lat\na,120,30\n")
    with pytest.raises(CRSError, match="disagree"):
        read_layer(path, coords="gcj02", crs="EPSG:4549")


def test_vector_file_reprojected_and_gcj02_undone(tmp_path):
    box = shapely.box(120.70, 30.70, 120.72, 30.72)
    gk = gpd.GeoDataFrame({"grid_id": ["g"]}, geometry=[box], crs=4326).to_crs(4549)
    gk.to_file(tmp_path / "g.gpkg")
    data = read_layer(tmp_path / "g.gpkg", kind="grids").data
    assert data.crs.to_epsg() == 4326
    got = shapely.get_coordinates(data.geometry.iloc[0])
    assert np.abs(got - shapely.get_coordinates(box)).max() < 1e-9
    gpd.GeoDataFrame({"grid_id": ["g"]}, geometry=[box], crs=4326).to_file(tmp_path / "j.geojson")
    conv = read_layer(tmp_path / "j.geojson", kind="grids", coords="gcj02").data
    xy = shapely.get_coordinates(box)
    wx, wy = gcj02_to_wgs84(xy[:, 0], xy[:, 1])
    np.testing.assert_allclose(shapely.get_coordinates(conv.geometry.iloc[0]),
                               np.column_stack([wx, wy]), atol=1e-9)


def test_geojson_with_metres_labelled_degrees_is_rejected_with_a_hint(tmp_path):
    path = tmp_path / "g.geojson"
    path.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", '
                    '"properties": {"grid_id": "g"}, "geometry": {"type": "Polygon", '
                    '"coordinates": [[[500000, 3400000], [500100, 3400000], [500100, 3400100], '
                    '[500000, 3400000]]]}}]}', encoding="utf-8")
    report = read_layer(path, kind="grids").report
    assert report.reasons == {"out of range": 1}
    assert any("pass crs=EPSG:N" in note for note in report.notes)
    data = read_layer(path, kind="grids", crs="EPSG:4549").data
    assert 119 < data.geometry.iloc[0].centroid.x < 121


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_vector_without_crs_in_metres_is_a_read_error(tmp_path):
    frame = gpd.GeoDataFrame({"grid_id": ["g"]}, geometry=[shapely.box(5e5, 3.4e6, 5.1e5, 3.41e6)])
    frame.to_file(tmp_path / "g.shp")
    (tmp_path / "g.prj").unlink(missing_ok=True)
    with pytest.raises(ReadError, match="no CRS and its coordinates are not degrees"):
        read_layer(tmp_path / "g.shp", kind="grids")
    data = read_layer(tmp_path / "g.shp", kind="grids", crs="EPSG:4549").data
    assert 119 < data.geometry.iloc[0].centroid.x < 121


# --------------------------------------------------------------------------- vector formats


@pytest.fixture
def two_grids():
    return gpd.GeoDataFrame(
        {"网格编码": ["G1", "G2"], "城乡": ["城区", "农村"], "人口": [1200, 800]},
        geometry=[shapely.box(120.7, 30.7, 120.71, 30.71), shapely.box(120.71, 30.7, 120.72, 30.71)],
        crs=4326,
    )


@pytest.mark.parametrize("ext", [".geojson", ".gpkg", ".shp", ".parquet", ".zip"])
def test_vector_formats(tmp_path, two_grids, ext):
    if ext == ".zip":
        two_grids.rename(columns={"网格编码": "grid_code"}).to_file(tmp_path / "g.shp",
                                                                    encoding="utf-8")
        path = tmp_path / "g.zip"
        with zipfile.ZipFile(path, "w") as zf:
            for part in tmp_path.glob("g.*"):
                if part.suffix != ".zip":
                    zf.write(part, part.name)
    elif ext == ".parquet":
        path = tmp_path / "g.parquet"
        two_grids.to_parquet(path)
    else:
        path = tmp_path / f"g{ext}"
        frame = two_grids.rename(columns={"网格编码": "grid_code"}) if ext == ".shp" else two_grids
        frame.to_file(path, encoding="utf-8") if ext == ".shp" else frame.to_file(path)
    result = read_layer(path, kind="grids")
    assert result.data["grid_id"].tolist() == ["G1", "G2"]
    assert result.data["zone"].tolist() == ["urban", "rural"]
    assert result.data["人口"].tolist() == [1200, 800]  # unknown columns kept untouched
    assert result.report.repairs == {"vocabulary normalised": 2}
    assert shapely.equals(result.data.geometry.values, two_grids.geometry.values).all()


def test_geopackage_layers(tmp_path, two_grids):
    path = tmp_path / "g.gpkg"
    two_grids.to_file(path, layer="zones")
    two_grids.head(1).to_file(path, layer="streets")
    with pytest.raises(ReadError, match=r"holds 2 layers \['zones', 'streets'\]"):
        read_layer(path)
    assert len(read_layer(path, layer="streets").data) == 1
    two_grids.head(1).to_file(path, layer="grids")
    result = read_layer(path)  # the layer named like a kind, said in the notes
    assert len(result.data) == 1
    assert "layer 'grids' (others: ['zones', 'streets']" in result.report.notes[0]


def test_invalid_polygon_made_valid_and_other_geometry_problems(tmp_path):
    bowtie = shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
    frame = gpd.GeoDataFrame(
        {"grid_id": ["bow", "ok", "line", "empty"]},
        geometry=[bowtie, shapely.box(2, 0, 3, 1), shapely.LineString([(0, 0), (1, 1)]), None],
        crs=4326,
    )
    result = ingest_frame(frame, kind="grids")
    assert status_of(result) == ["repaired", "accepted", "rejected", "rejected"]
    assert result.report.reasons == {"wrong geometry type": 1, "missing geometry": 1}
    fixed = result.data.geometry.iloc[0]
    assert fixed.is_valid
    assert fixed.area == pytest.approx(0.5)  # two triangles of 0.25
    assert "Self-intersection" in result.report.records["repairs"].iloc[0]


def test_points_layer_rejects_polygons_but_places_take_a_point_inside(tmp_path):
    frame = gpd.GeoDataFrame({"id": ["a", "b"]},
                             geometry=[shapely.Point(1, 1), shapely.box(0, 0, 2, 2)], crs=4326)
    cams = ingest_frame(frame, kind="cameras")
    assert status_of(cams) == ["accepted", "rejected"]
    assert "Polygon where Point expected" in cams.report.records["detail"].iloc[1]
    places = ingest_frame(frame, kind="places")
    assert status_of(places) == ["accepted", "repaired"]
    assert shapely.box(0, 0, 2, 2).contains(places.data.geometry.iloc[1])


# --------------------------------------------------------------------------- unreadable files


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [("missing.csv", None, "no such file"),
     ("empty.csv", b"", "file is empty"),
     ("bad.zip", b"PK\x03\x04 not really a zip", "not a valid zip archive"),
     ("data.xyz", b"1,2,3", "unknown file format '.xyz'"),
     ("broken.gpkg", b"SQLite format 3\x00" + b"\x00" * 100, "not a valid GeoPackage"),
     ("broken.json", b'{"type": "FeatureCollection", "features": [', "not valid JSON"),
     ("list.json", b'{"a": 1}', "neither GeoJSON, an Overpass answer nor a list"),
     ("old.xls", b"\xd0\xcf\x11\xe0", "old .xls workbooks are not supported"),
     ("population.tif", b"II*\x00", "is a raster")],
)
@pytest.mark.filterwarnings("ignore:GPKG")
def test_unreadable_files_raise_one_line_read_error(tmp_path, name, content, problem):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ReadError) as err:
        read_layer(path)
    message = str(err.value)
    assert message.startswith(str(path))
    assert problem in message
    assert "\n" not in message
    assert err.value.fix  # every error says what to do


# --------------------------------------------------------------------------- columns, kinds, ids


def test_aliases_vocabulary_and_unknown_columns(tmp_path):
    text = ("摄像机编号,经度,纬度,摄像机类型,在线状态,方位角,安装高度,备注\n"
            "C1,120.75,30.75,枪机,在线,90,6,东门\n"
            "C2,120.76,30.76,fixed,离线,NE,5.5 m,\n"
            "C3,120.77,30.77,bullet,online,45,4,x\n"
            "C4,120.78,30.78,飞碟,故障,,,\n")
    result = read_layer(write(tmp_path / "cams.csv", text), kind="cameras")
    d = result.data
    assert d["camera_id"].tolist() == ["C1", "C2", "C3", "C4"]
    assert d["kind"].tolist() == ["bullet", "bullet", "bullet", "other"]
    assert d["status"].tolist() == ["online", "offline", "online", "offline"]
    assert d["azimuth_deg"].tolist()[:3] == [90.0, 45.0, 45.0]
    assert np.isnan(d["azimuth_deg"].iloc[3])
    assert d["height_m"].tolist()[:3] == [6.0, 5.5, 4.0]
    assert d["备注"].iloc[0] == "东门"
    assert pd.isna(d["备注"].iloc[1])
    assert status_of(result) == ["repaired", "repaired", "accepted", "repaired"]
    assert "kind '飞碟' → 'other'" in result.report.records["repairs"].iloc[3]


def test_columns_option_and_header_normalisation(tmp_path):
    text = "Camera ID,Site,lon,lat,Direction\na,s1,120.1,30.1,10\n"
    result = read_layer(write(tmp_path / "c.csv", text), kind="cameras",
                        columns={"Site": "point_id"})
    assert result.data["camera_id"].iloc[0] == "a"
    assert result.data["point_id"].iloc[0] == "s1"
    assert result.data["azimuth_deg"].iloc[0] == 10.0
    with pytest.raises(ReadError, match="columns= names 'Nope'"):
        read_layer(write(tmp_path / "c.csv", text), kind="cameras", columns={"Nope": "point_id"})


def test_no_source_column_is_lost_when_names_clash(tmp_path):
    text = "id,lon,lat,Title,name,geometry\na,120.1,30.1,南湖,nanhu,POINT (0 0)\n"
    result = read_layer(write(tmp_path / "p.csv", text), kind="places", columns={"Title": "name"})
    row = result.data.iloc[0]
    assert row["name"] == "南湖"
    assert row["name_source"] == "nanhu"
    assert row["geometry_source"] == "POINT (0 0)"
    assert row.geometry.equals(shapely.Point(120.1, 30.1))


def test_vocabulary_column_found_by_alias_must_fit(tmp_path):
    # "type" is an alias of the camera kind, but these values are not camera kinds.
    text = "id,lon,lat,type\n1,120.1,30.1,alpr\n2,120.2,30.2,cctv\n"
    result = read_layer(write(tmp_path / "c.csv", text), kind="cameras")
    assert result.data["type"].tolist() == ["alpr", "cctv"]
    assert result.data["kind"].isna().all()
    assert result.report.accepted == 2


def test_duplicate_ids_rejected_and_missing_ids_generated(tmp_path):
    text = "id,lon,lat,note\na,120.1,30.1,x\na,120.1,30.1,x\n,120.2,30.2,y\na,120.3,30.3,x\n,120.4,30.4,w\n"
    path = write(tmp_path / "p.csv", text)
    result = read_layer(path, kind="places")
    rec = result.report.records
    assert rec["status"].tolist() == ["accepted", "rejected", "repaired", "rejected", "repaired"]
    assert rec["detail"].iloc[1] == "duplicate id: 'a' first at row 1; the whole record repeats it"
    assert rec["detail"].iloc[3] == "duplicate id: 'a' first at row 1"
    assert result.data["place_id"].tolist() == ["a", "place-3", "place-5"]
    assert read_layer(path, kind="places").data["place_id"].equals(result.data["place_id"])


def test_generated_ids_avoid_existing_ones(tmp_path):
    text = "id,lon,lat\nplace-2,120.1,30.1\n,120.2,30.2\n"
    data = read_layer(write(tmp_path / "p.csv", text), kind="places").data
    assert data["place_id"].tolist() == ["place-2", "place-2-1"]


def test_incident_dates_and_defaults(tmp_path):
    text = ("事件编号,lon,lat,上报时间,结案时间,处置状态\n"
            "E1,120.1,30.1,2024-03-05 10:20,2024-03-06,已结案\n"
            "E2,120.2,30.2,2024年3月7日,,已派遣\n"
            "E3,120.3,30.3,someday,,上报\n")
    result = read_layer(write(tmp_path / "e.csv", text), kind="incidents")
    d = result.data
    assert d["reported_at"].tolist()[:2] == [pd.Timestamp("2024-03-05 10:20"),
                                             pd.Timestamp("2024-03-07")]
    assert pd.isna(d["reported_at"].iloc[2])
    assert d["closed_at"].iloc[0] == pd.Timestamp("2024-03-06")
    assert d["status"].tolist() == ["closed", "dispatched", "reported"]
    assert d["weight"].tolist() == [1.0, 1.0, 1.0]
    assert "reported_at 'someday' unreadable" in result.report.records["repairs"].iloc[2]


def test_incident_times_with_mixed_offsets_become_utc():
    frame = pd.DataFrame({"id": ["a", "b"], "lon": ["120", "121"], "lat": ["30", "31"],
                          "上报时间": ["2024-01-01T10:00:00+08:00", "2024-01-02T10:00:00Z"]})
    result = ingest_frame(frame, kind="incidents")
    assert result.data["reported_at"].tolist() == [pd.Timestamp("2024-01-01 02:00", tz="UTC"),
                                                   pd.Timestamp("2024-01-02 10:00", tz="UTC")]
    assert "reported_at mixes time zones: converted to UTC" in result.report.notes


def test_camera_point_ids_derived_from_location(tmp_path):
    text = "id,lon,lat\na,120.1,30.1\nb,120.1,30.1\nc,120.2,30.2\n"
    data = read_layer(write(tmp_path / "c.csv", text), kind="cameras").data
    assert data["point_id"].tolist() == ["pt-1", "pt-1", "pt-3"]
    assert data["status"].tolist() == ["unknown"] * 3


@pytest.mark.parametrize(
    ("columns", "types", "name", "kind"),
    [(["name"], ["Polygon"], "x.gpkg", "grids"),
     (["id", "azimuth", "lon", "lat"], [], "x.csv", "cameras"),
     (["id", "FIRST APPROACH"], [], "x.csv", "cameras"),
     (["id", "camera:type"], ["Point"], "x.json", "cameras"),
     (["事件编号", "上报时间"], [], "x.csv", "incidents"),
     (["id", "name"], [], "my_cameras.csv", "cameras"),
     (["id", "name"], [], "poi.csv", "places"),
     (["id", "name"], ["Point"], "x.csv", "places")],
)
def test_guess_kind(columns, types, name, kind):
    got, why = guess_kind(columns, types, name=name)
    assert got == kind
    assert why.startswith(f"kind guessed: {kind}")


def test_guess_kind_refuses_lines():
    with pytest.raises(SchemaError, match="LineString geometries match no layer kind"):
        guess_kind(["highway"], ["LineString"], name="roads.json")


def test_unknown_kind_is_a_schema_error(tmp_path):
    path = write(tmp_path / "p.csv", "id,lon,lat\na,1,2\n")
    with pytest.raises(SchemaError, match="unknown layer kind 'population'"):
        read_layer(path, kind="population")


# --------------------------------------------------------------------------- report


def test_rejected_rows_carry_original_values(tmp_path):
    text = "id,lon,lat,note\na,abc,30,keep me\nb,120,30,fine\n"
    report = read_layer(write(tmp_path / "p.csv", text), kind="places").report
    rows = report.rejected_rows()
    assert rows.columns.tolist()[:3] == ["row", "reason", "detail"]
    assert rows[["row", "id", "lon", "note"]].values.tolist() == [[1, "a", "abc", "keep me"]]
    d = report.to_dict()
    assert {k: d[k] for k in ("total", "accepted", "repaired", "rejected")} == {
        "total": 2, "accepted": 1, "repaired": 0, "rejected": 1}
    assert d["reasons"] == {"unparseable coordinate": 1}
    assert "rejected" in report.summary()
    assert set(report.reasons) <= set(REASONS)


def test_ingest_frame_does_not_mutate_input():
    frame = pd.DataFrame({"id": ["a", "a"], "lon": ["30.1", "120.2"], "lat": ["120.1", "30.2"]})
    before = frame.copy()
    result = ingest_frame(frame, kind="places")
    pd.testing.assert_frame_equal(frame, before)
    assert status_of(result) == ["repaired", "rejected"]


def test_unpacking_result(tmp_path):
    data, report = read_layer(write(tmp_path / "p.csv", "id,lon,lat\na,1,2\n"), kind="places")
    assert len(data) == 1
    assert report.total == 1


cell = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(lambda v: f"{v}"),
    st.floats(-200, 200).map(lambda v: f"{v:.5f}"),
    st.sampled_from(["", "NaN", "n/a", "462.289.778", "46.204", "1,5", "120°30'E", "(empty)",
                     "0", "-0", "1e400", "  ", "POINT (1 2)", "东经120"]),
    st.text(max_size=6),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.tuples(st.sampled_from(["a", "b", "c", "", "a "]), cell, cell),
                     min_size=0, max_size=25),
       swap=st.booleans(), kind=st.sampled_from(["cameras", "incidents", "places"]))
def test_row_accounting_holds_for_any_input(rows, swap, kind):
    frame = pd.DataFrame(rows, columns=["id", "lat", "lon"] if swap else ["id", "lon", "lat"])
    result = ingest_frame(frame.astype(str), kind=kind)
    report = result.report
    assert_accounted(report)
    assert len(result.data) == report.accepted + report.repaired
    assert (report.records.loc[report.records.status == "rejected", "reason"] != "").all()
    if len(result.data):
        assert result.data.geometry.x.abs().max() <= 180
        assert result.data.geometry.y.abs().max() <= 90
        assert result.data[LAYER_ID[kind]].is_unique


LAYER_ID = {"cameras": "camera_id", "incidents": "incident_id", "places": "place_id"}

text_cell = st.one_of(cell, st.text(alphabet=st.characters(blacklist_categories=("Cs",),
                                                           blacklist_characters="\x00"),
                                    max_size=8))


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(st.sampled_from(["a", "b", "", "7"]), cell, cell, text_cell),
                     min_size=1, max_size=15),
       sep=st.sampled_from([",", ";", "\t"]))
def test_row_accounting_holds_for_any_csv_file(tmp_path_factory, rows, sep):
    import csv

    path = tmp_path_factory.mktemp("csv") / "rows.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter=sep)
        writer.writerow(["id", "lon", "lat", "note"])
        writer.writerows(rows)
    result = read_layer(path, kind="places")
    assert_accounted(result.report)
    assert result.report.total == len(rows)
    assert len(result.data) == result.report.accepted + result.report.repaired


def test_moved_names_are_still_importable_from_ingest():
    import gridmap.convert
    import gridmap.datum
    import gridmap.ingest

    moved = {"ConvertSummary": gridmap.convert, "convert_file": gridmap.convert,
             "DatumCheck": gridmap.datum, "detect_datum_offset": gridmap.datum}
    for name, module in moved.items():
        assert name in gridmap.ingest.__all__
        assert getattr(gridmap.ingest, name) is getattr(module, name)
