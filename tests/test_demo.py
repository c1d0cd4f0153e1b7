"""Tests of the synthetic demo district generator (gridmap.demo).

Invariants are checked on the ``small`` district (session fixture
``demo_small``) and, for the statistical patterns, on one ``default`` district
generated once for this module. Expected values come from independent
computations (shapely unions, geopandas joins, the pattern parameters stored in
``meta.json``), never from numbers the generator printed.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pyogrio
import pytest
import rasterio
import shapely

from gridmap import DataError
from gridmap.cli import main
from gridmap.crs import metric_crs
from gridmap.demo import FILES, LABEL, SCALES, district_complete, generate
from gridmap.schema import CAMERA_KINDS, CAMERA_STATUSES, INCIDENT_STATUSES

METRIC = metric_crs((120.75, 30.75))  # EPSG:4549


def _layers(folder):
    return {
        name: gpd.read_file(folder / "grids.gpkg", layer=name).to_crs(METRIC)
        for name in ("grids", "communities", "streets")
    }


def _boundary(folder):
    return gpd.read_file(folder / "boundary.geojson").to_crs(METRIC).geometry.iloc[0]


def _cameras(folder):
    df = pd.read_csv(folder / "cameras.csv", dtype={"gb28181_id": str, "camera_id": str, "point_id": str})
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df.lon, df.lat), crs=4326).to_crs(METRIC)


def _meta(folder):
    return json.loads((folder / "meta.json").read_text(encoding="utf-8"))


def _hashes(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def demo_default(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo_default")
    generate(out, scale="default", seed=0)
    return out


# --------------------------------------------------------------------------- files, labels


def test_every_file_written_and_labelled_synthetic(demo_small):
    for name in FILES.values():
        assert (demo_small / name).is_file(), name
    meta = _meta(demo_small)
    assert meta["synthetic"] is True
    assert meta["label"] == LABEL
    assert "not real data" in LABEL
    assert "合成演示数据" in LABEL
    assert (meta["scale"], meta["seed"]) == ("small", 0)
    for gpkg in ("grids.gpkg", "roads.gpkg", "buildings.gpkg"):
        for layer in pyogrio.list_layers(demo_small / gpkg)[:, 0]:
            info = pyogrio.read_info(demo_small / gpkg, layer=layer)
            assert info["layer_metadata"]["label"] == LABEL
            assert info["layer_metadata"]["synthetic"] == "true"
    parquet_meta = pq.read_schema(demo_small / "incidents.parquet").metadata
    assert json.loads(parquet_meta[b"gridmap"])["label"] == LABEL
    assert json.loads(parquet_meta[b"geo"])["primary_column"] == "geometry"
    with rasterio.open(demo_small / "population.tif") as src:
        assert src.tags()["label"] == LABEL
    boundary = json.loads((demo_small / "boundary.geojson").read_text(encoding="utf-8"))
    assert boundary["features"][0]["properties"]["label"] == LABEL


def test_files_read_back_in_wgs84_near_jiaxing(demo_small):
    grids = gpd.read_file(demo_small / "grids.gpkg", layer="grids")
    assert grids.crs.to_epsg() == 4326
    lon, lat = grids.union_all().centroid.coords[0]
    assert abs(lon - 120.75) < 0.05
    assert abs(lat - 30.75) < 0.05
    inc = gpd.read_parquet(demo_small / "incidents.parquet")
    assert inc.crs.to_epsg() == 4326
    assert set(inc.geom_type) == {"Point"}


# --------------------------------------------------------------------------- hierarchy and coverage


def test_small_scale_counts_and_codes(demo_small):
    lay = _layers(demo_small)
    grids, comms, streets = lay["grids"], lay["communities"], lay["streets"]
    assert (len(streets), len(comms), len(grids)) == (1, 4, 40)
    assert grids["grid_id"].is_unique
    assert (grids["district_code"] == "330499").all()
    assert grids["grid_id"].str.fullmatch(r"\d{15}").all()
    assert (grids["grid_id"].str[:12] == grids["community_code"]).all()
    assert (grids["community_code"].str[:9] == grids["street_code"]).all()
    assert (grids["street_code"].str[:6] == grids["district_code"]).all()
    assert (comms["community_code"].str[:9] == comms["street_code"]).all()
    assert set(grids["zone"]) == {"urban", "rural"}
    assert grids["name"].str.fullmatch(r"第\d{3}网格").all()
    assert comms["name"].str.endswith(("社区", "村")).all()
    assert streets["name"].str.endswith(("街道", "镇")).all()
    # serials run 001..n inside each community
    for _, g in grids.groupby("community_code"):
        serials = sorted(int(s) for s in g["grid_id"].str[12:])
        assert serials == list(range(1, len(g) + 1))


def test_grid_serials_follow_reading_order(demo_small):
    grids = _layers(demo_small)["grids"]
    for _, g in grids.groupby("community_code"):
        g = g.sort_values("grid_id")
        y = g.representative_point().y.to_numpy()
        # the first grid lies in the top row, the last in the bottom row
        size = np.sqrt(g.area.median())
        assert y[0] >= y.max() - size
        assert y[-1] <= y.min() + size


@pytest.mark.parametrize(("child", "parent", "key"), [
    ("grids", "communities", "community_code"),
    ("communities", "streets", "street_code"),
])
def test_each_unit_lies_in_its_parent_by_geometry_and_code(demo_small, child, parent, key):
    lay = _layers(demo_small)
    kids, parents = lay[child], lay[parent]
    # geometry: the parent holding each child's interior point is the one its code names
    pts = gpd.GeoDataFrame(kids[[key]], geometry=kids.representative_point(), crs=METRIC)
    joined = gpd.sjoin(pts, parents[[key, "geometry"]], predicate="within", lsuffix="kid", rsuffix="par")
    assert len(joined) == len(kids)
    assert (joined[f"{key}_kid"] == joined[f"{key}_par"]).all()
    # and the whole child is inside that parent
    par = parents.set_index(key).geometry
    inside = shapely.area(shapely.intersection(kids.geometry.values, par.loc[kids[key]].values))
    np.testing.assert_allclose(inside, kids.area.to_numpy(), rtol=1e-9)


@pytest.mark.parametrize("layer", ["grids", "communities", "streets"])
def test_units_cover_the_district_without_gaps_or_overlaps(demo_small, layer):
    units = _layers(demo_small)[layer]
    boundary = _boundary(demo_small)
    assert units.is_valid.all()
    assert units.area.sum() == pytest.approx(boundary.area, rel=1e-6)
    union = shapely.union_all(units.geometry.values)
    assert union.symmetric_difference(boundary).area < 1e-6 * boundary.area
    pairs = gpd.sjoin(units, units, predicate="intersects")
    pairs = pairs[pairs.index != pairs["index_right"]]
    overlap = shapely.area(shapely.intersection(
        units.geometry.loc[pairs.index].values, units.geometry.loc[pairs["index_right"]].values
    ))
    assert overlap.sum() < 1e-3  # m²: neighbours share edges only
    # a true coverage: shared edges have identical vertices
    assert bool(shapely.coverage_is_valid(units.geometry.values))


def test_core_grids_are_smaller_than_rural_grids(demo_small):
    grids = _layers(demo_small)["grids"]
    area = grids.area
    assert area[grids.zone == "urban"].median() < 0.6 * area[grids.zone == "rural"].median()


# --------------------------------------------------------------------------- roads, buildings, places


def test_roads_are_classified_lines_inside_the_district(demo_small):
    roads = gpd.read_file(demo_small / "roads.gpkg").to_crs(METRIC)
    assert set(roads.geom_type) == {"LineString"}
    assert set(roads["road_class"]) == {"primary", "secondary", "local"}
    assert roads["name"].str.endswith(("路", "大道", "街", "巷")).all()
    boundary = _boundary(demo_small)
    assert roads.within(boundary.buffer(0.01)).all()


def test_grid_edges_follow_roads(demo_small):
    grids = _layers(demo_small)["grids"]
    roads = gpd.read_file(demo_small / "roads.gpkg").to_crs(METRIC)
    boundary = _boundary(demo_small)
    inner_edges = shapely.union_all(grids.boundary.values).difference(boundary.exterior.buffer(0.01))
    off_road = inner_edges.difference(roads.union_all().buffer(0.01))
    assert off_road.length < 1e-3 * inner_edges.length


def test_buildings_never_cross_roads_and_stay_inside(demo_small):
    bld = gpd.read_file(demo_small / "buildings.gpkg").to_crs(METRIC)
    roads = gpd.read_file(demo_small / "roads.gpkg").to_crs(METRIC)
    assert len(bld) > 500
    assert (bld["height_m"] > 0).all()
    assert len(gpd.sjoin(bld, roads, predicate="intersects")) == 0
    assert bld.within(_boundary(demo_small)).all()
    # denser in the core: floor area per km² in urban grids beats rural grids
    grids = _layers(demo_small)["grids"]
    pts = gpd.GeoDataFrame({"floor_m2": bld.area * bld["height_m"] / 3},
                           geometry=bld.representative_point(), crs=METRIC)
    joined = gpd.sjoin(pts, grids[["zone", "geometry"]], predicate="within")
    assert len(joined) == len(bld)
    per_km2 = joined.groupby("zone")["floor_m2"].sum() / (grids.area.groupby(grids["zone"]).sum() / 1e6)
    assert per_km2["urban"] > 5 * per_km2["rural"]


def test_places_have_ids_kinds_and_lie_inside(demo_small):
    places = pd.read_csv(demo_small / "places.csv")
    assert places["place_id"].is_unique
    assert {"学校", "医院", "农贸市场", "派出所"} <= set(places["kind"])
    pts = gpd.GeoSeries(gpd.points_from_xy(places.lon, places.lat), crs=4326).to_crs(METRIC)
    assert pts.within(_boundary(demo_small)).all()


# --------------------------------------------------------------------------- population


def test_population_raster_sums_exactly_to_stated_total(demo_small):
    meta = _meta(demo_small)
    total = meta["totals"]["population"]
    assert total == SCALES["small"].population
    with rasterio.open(demo_small / "population.tif") as src:
        arr = src.read(1)
        assert src.dtypes[0] == "float32"
        assert src.nodata is not None
        assert src.crs.to_epsg() == METRIC.to_epsg()
        assert src.res == (100.0, 100.0)
        assert float(src.tags()["total_population"]) == total
        values = arr[arr != src.nodata].astype(np.float64)
    assert (values >= 0).all()
    assert values.sum() == total  # exact: cells are multiples of 1/64


def test_population_follows_buildings(demo_small):
    bld = gpd.read_file(demo_small / "buildings.gpkg").to_crs(METRIC)
    with rasterio.open(demo_small / "population.tif") as src:
        arr = src.read(1)
        c = bld.centroid
        rows, cols = rasterio.transform.rowcol(src.transform, c.x.to_numpy(), c.y.to_numpy())
        valid = arr != src.nodata
    with_bld = np.zeros(arr.shape, bool)
    with_bld[np.asarray(rows), np.asarray(cols)] = True
    assert arr[with_bld & valid].mean() > 10 * arr[~with_bld & valid].mean()


# --------------------------------------------------------------------------- cameras


def test_cameras_stand_within_a_few_metres_of_a_road(demo_small):
    cams = _cameras(demo_small)
    roads = gpd.read_file(demo_small / "roads.gpkg").to_crs(METRIC)
    near = gpd.sjoin_nearest(cams, roads, distance_col="dist")
    dist = near.groupby(level=0)["dist"].min()
    assert len(dist) == len(cams)
    assert dist.max() <= 8.0
    assert dist.min() >= 1.0  # beside the road, never on the grid edge itself
    assert cams.within(_boundary(demo_small)).all()


def test_camera_columns_and_vocabularies(demo_small):
    cams = _cameras(demo_small)
    assert list(cams.columns[:12]) == [
        "camera_id", "point_id", "gb28181_id", "kind", "azimuth_deg", "hfov_deg",
        "range_m", "height_m", "status", "name", "lon", "lat",
    ]
    assert cams["camera_id"].is_unique
    assert set(cams["kind"]) <= set(CAMERA_KINDS)
    assert set(cams["status"]) == {"online", "offline", "planned"}
    assert set(cams["status"]) <= set(CAMERA_STATUSES)
    assert cams["azimuth_deg"].between(0, 360).all()
    assert (cams["hfov_deg"] > 0).all()
    assert (cams["range_m"] > 0).all()
    # several cameras share a point, and then share its position
    per_point = cams.groupby("point_id").size()
    assert per_point.max() in (2, 3, 4)
    assert per_point.max() <= 4
    assert (cams.groupby("point_id")[["lon", "lat"]].nunique() == 1).all().all()


def test_camera_azimuths_follow_the_road(demo_small):
    cams = _cameras(demo_small)
    roads = gpd.read_file(demo_small / "roads.gpkg").to_crs(METRIC)
    roadside = cams[~cams["name"].str.contains("交叉口")]
    near = gpd.sjoin_nearest(roadside, roads[["geometry"]], how="left").groupby(level=0).first()
    line = roads.geometry.loc[near["index_right"]].values
    xy = shapely.get_coordinates(line)[::2], shapely.get_coordinates(line)[1::2]
    bearing = np.degrees(np.arctan2(xy[1][:, 0] - xy[0][:, 0], xy[1][:, 1] - xy[0][:, 1])) % 180
    diff = np.abs((roadside["azimuth_deg"].to_numpy() % 180) - bearing)
    diff = np.minimum(diff, 180 - diff)
    assert np.median(diff) < 8.0


def test_gb28181_ids_valid_except_the_planted_errors(demo_small):
    cams = _cameras(demo_small)
    planted = _meta(demo_small)["planted_errors"]
    ids = cams.set_index("camera_id")["gb28181_id"].fillna("")
    registered = ids[ids != ""]
    # 8-digit centre 33049900, industry 2, type 131/132, network 1, serial 6
    valid = registered.str.fullmatch(r"33049900\d{2}13[12]\d{7}")
    dup = registered.duplicated(keep=False)
    bad = set(registered.index[~valid | dup])
    expected = set().union(*planted.values())
    expected |= set(registered.index[registered.isin(registered[list(planted["gb28181_duplicate"])])])
    assert bad == expected
    assert len(planted["gb28181_malformed"]) == 5
    assert len(planted["gb28181_wrong_district"]) == 4
    assert len(planted["gb28181_nvr"]) == 3
    assert registered[planted["gb28181_nvr"]].str[10:13].eq("118").all()
    assert not registered[planted["gb28181_wrong_district"]].str.startswith("330499").any()
    # planned cameras are not registered yet
    assert (ids[cams.set_index("camera_id")["status"] == "planned"] == "").all()


def test_camera_density_higher_in_the_core(demo_default):
    cams = _cameras(demo_default)
    grids = _layers(demo_default)["grids"]
    points = cams.drop_duplicates("point_id")
    counts = gpd.sjoin(points, grids[["grid_id", "geometry"]], predicate="within").groupby("grid_id").size()
    dens = counts.reindex(grids["grid_id"], fill_value=0).to_numpy() / (grids.area.to_numpy() / 1e6)
    urban = (grids["zone"] == "urban").to_numpy()
    assert np.percentile(dens[urban], 95) >= 60  # the heart of the core: 70-90 points/km²
    assert 4 <= np.median(dens[~urban]) <= 13  # rural 5-12/km²
    assert (dens[~urban] < 5).any()  # some grids miss a 5/km² target
    assert 2_500 <= len(cams) <= 5_000


# --------------------------------------------------------------------------- incidents


def _expected_hour_share(meta, hours):
    inc = meta["incidents"]
    total = 0.0
    for cat in inc["categories"].values():
        prof = np.asarray(inc["hour_profiles"][cat["hours"]])
        total += cat["share"] * prof[hours].sum()
    return total / sum(c["share"] for c in inc["categories"].values())


def _expected_day_weights(meta):
    inc = meta["incidents"]
    doy = np.arange(365)
    weekday = (doy + 2) % 7 < 5  # 2025-01-01 was a Wednesday
    out = np.zeros(365)
    for cat in inc["categories"].values():
        w = 1 + cat["season_amp"] * np.cos(2 * np.pi * (doy - cat["season_peak"]) / 365)
        w = w * np.where(weekday, cat["weekday"], 1.0)
        out += cat["share"] * w / w.sum()
    return out / out.sum()


def test_incident_columns_and_closed_loop(demo_default):
    inc = gpd.read_parquet(demo_default / "incidents.parquet")
    meta = _meta(demo_default)
    assert len(inc) == SCALES["default"].n_incidents == meta["counts"]["incidents"]
    assert inc["incident_id"].is_unique
    assert set(inc["status"]) <= set(INCIDENT_STATUSES)
    assert set(inc["category"]) == set(meta["incidents"]["categories"])
    rep = inc["reported_at"]
    assert rep.min() >= pd.Timestamp("2025-01-01")
    assert rep.max() < pd.Timestamp("2026-01-01")
    closed = inc["status"] == "closed"
    assert inc.loc[closed, "closed_at"].notna().all()
    assert inc.loc[~closed, "closed_at"].isna().all()
    done = inc[closed]
    assert (done["dispatched_at"] >= done["reported_at"]).all()
    assert (done["handled_at"] >= done["dispatched_at"]).all()
    assert (done["closed_at"] >= done["handled_at"]).all()
    assert (done["closed_at"].dt.date == done["reported_at"].dt.date).mean() > 0.5  # most same day
    late = (done["closed_at"] - done["reported_at"]) > pd.to_timedelta(done["time_limit_h"], unit="h")
    assert 0.005 < late.mean() < 0.1  # a tail of overdue cases
    open_late = (~closed) & (rep >= pd.Timestamp("2025-12-01"))
    assert open_late.sum() > 0  # some still open in the last weeks
    assert (inc["weight"] > 0).all()
    boundary = _boundary(demo_default)
    assert inc.to_crs(METRIC).within(boundary).all()


def test_incidents_peak_in_the_evening_as_stated(demo_default):
    inc = gpd.read_parquet(demo_default / "incidents.parquet")
    meta = _meta(demo_default)
    hour = inc["reported_at"].dt.hour.to_numpy()
    evening, small = [18, 19, 20, 21], [1, 2, 3, 4]
    observed = np.isin(hour, evening).sum() / np.isin(hour, small).sum()
    expected = _expected_hour_share(meta, evening) / _expected_hour_share(meta, small)
    assert expected > 3
    assert observed == pytest.approx(expected, rel=0.15)


def test_incidents_peak_in_summer_as_stated(demo_default):
    inc = gpd.read_parquet(demo_default / "incidents.parquet")
    meta = _meta(demo_default)
    doy = inc["reported_at"].dt.day_of_year.to_numpy() - 1
    w = _expected_day_weights(meta)
    summer = (doy >= 151) & (doy < 243)  # June-August
    winter = (doy < 59) | (doy >= 334)  # January, February, December
    expected = w[151:243].sum() / (w[:59].sum() + w[334:].sum())
    observed = summer.sum() / winter.sum()
    assert expected > 1.2
    assert observed == pytest.approx(expected, rel=0.1)
    # weekday factors: Mon-Fri beat weekends per day for 安全生产 (factor 1.5)
    safety = inc[inc["category"] == "安全生产"]
    wd = safety["reported_at"].dt.day_of_week < 5
    per_day_ratio = (wd.sum() / 5) / ((~wd).sum() / 2)
    assert per_day_ratio == pytest.approx(meta["incidents"]["categories"]["安全生产"]["weekday"], rel=0.2)


def test_hotspots_are_denser_than_elsewhere(demo_default):
    inc = gpd.read_parquet(demo_default / "incidents.parquet").to_crs(METRIC)
    meta = _meta(demo_default)
    hotspots = meta["incidents"]["hotspots"]
    n = len(inc)
    area = _boundary(demo_default).area
    xy = shapely.get_coordinates(inc.geometry.values)
    for h in hotspots:
        s = h["sigma_m"]
        within = np.hypot(xy[:, 0] - h["x"], xy[:, 1] - h["y"]) <= s
        # a 2-D Gaussian puts 1 - exp(-1/2) of its mass within one sigma
        hot_only = h["share"] * n * (1 - np.exp(-0.5))
        assert within.sum() >= 0.8 * hot_only
        density = within.sum() / (np.pi * s * s)
        assert density > 3 * n / area


def test_urban_share_of_incidents_matches_population(demo_default):
    inc = gpd.read_parquet(demo_default / "incidents.parquet").to_crs(METRIC)
    grids = _layers(demo_default)["grids"]
    zone = gpd.sjoin(inc[["geometry"]], grids[["zone", "geometry"]], predicate="within")["zone"]
    assert len(zone) == len(inc)  # every incident falls in exactly one grid
    urban_area = grids.loc[grids.zone == "urban"].area.sum() / grids.area.sum()
    assert (zone == "urban").mean() > 2 * urban_area


# --------------------------------------------------------------------------- determinism, CLI


def test_same_seed_gives_identical_files(demo_small, tmp_path):
    generate(tmp_path / "again", scale="small", seed=0)
    assert _hashes(tmp_path / "again") == _hashes(demo_small)


def test_different_seed_gives_different_files(demo_small, tmp_path):
    generate(tmp_path / "other", scale="small", seed=1)
    a, b = _hashes(demo_small), _hashes(tmp_path / "other")
    assert a.keys() == b.keys()
    assert all(a[k] != b[k] for k in a)


def test_bad_scale_and_seed_are_rejected(tmp_path):
    with pytest.raises(DataError, match="unknown demo scale"):
        generate(tmp_path, scale="huge")
    with pytest.raises(DataError, match="non-negative"):
        generate(tmp_path, scale="small", seed=-1)
    (tmp_path / "file").write_text("x")
    with pytest.raises(DataError, match="not a folder"):
        generate(tmp_path / "file", scale="small")
    assert main(["demo", "--out", str(tmp_path / "file"), "--scale", "small", "--quiet"]) == 2


def test_cli_if_missing_keeps_a_complete_district(demo_small, tmp_path, capsys):
    copy = tmp_path / "d"
    shutil.copytree(demo_small, copy)
    before = _hashes(copy)
    stamp = {p.name: p.stat().st_mtime_ns for p in copy.iterdir()}
    assert district_complete(copy, scale="small", seed=0)
    assert main(["demo", "--out", str(copy), "--scale", "small", "--if-missing"]) == 0
    assert "nothing to do" in capsys.readouterr().out
    assert {p.name: p.stat().st_mtime_ns for p in copy.iterdir()} == stamp
    # another seed, or a missing file, is not "complete": the district is rewritten
    assert not district_complete(copy, scale="small", seed=3)
    (copy / "cameras.csv").unlink()
    assert not district_complete(copy, scale="small", seed=0)
    assert main(["demo", "--out", str(copy), "--scale", "small", "--if-missing", "--quiet"]) == 0
    assert _hashes(copy) == before


def test_cli_rejects_unknown_scale(tmp_path):
    with pytest.raises(SystemExit):
        main(["demo", "--out", str(tmp_path), "--scale", "galaxy"])


def test_scales_are_described():
    assert list(SCALES) == ["small", "default", "city", "province"]
    for name, sc in SCALES.items():
        assert sc.name == name
        assert sc.n_streets <= sc.n_communities <= sc.n_grids
        assert sc.n_streets <= 999
        assert sc.n_communities / sc.n_streets <= 999
    assert SCALES["city"].n_incidents == 1_000_000
    assert SCALES["province"].n_incidents == 10_000_000
    assert re.search(r"\d", SCALES["default"].description)
