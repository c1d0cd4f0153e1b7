"""Tests of the folium layers (layers/): through their properties and the rendered HTML.

Fixtures are 2×2 (or 1×N) square grids of 500 m in EPSG:4549 (CGCS2000 GK CM 120°E),
near Jiaxing, so every count and colour can be checked by hand.
"""

from __future__ import annotations

import re
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Geod

from gridmap.coords import transform_lonlat
from layers import assets
from layers.base import (
    BASEMAPS,
    BasemapError,
    basemap_datum,
    esc,
    from_display,
    legend,
    make_map,
    to_display,
)
from layers.cameras import (
    STATUS_COLOURS,
    CameraCluster,
    CameraPointsLayer,
    TipLabels,
    camera_layer,
    camera_points,
    point_status,
)
from layers.grids import (
    PALETTE,
    boundary_layer,
    category_colours,
    grid_layer,
    simplify_for_display,
    unit_outlines,
)
from layers.incidents import (
    SUPPRESSED_COLOUR,
    ZERO_COLOUR,
    SharedGeometryChoropleth,
    class_breaks,
    incident_layer,
)

X0, Y0, SIDE = 540_000.0, 3_402_000.0, 500.0
XSS = "<img src=x onerror=alert(1)>"


def _squares(nx_: int, ny_: int, **columns) -> gpd.GeoDataFrame:
    boxes = [
        shapely.box(X0 + i * SIDE, Y0 + j * SIDE, X0 + (i + 1) * SIDE, Y0 + (j + 1) * SIDE)
        for i in range(nx_) for j in range(ny_)
    ]
    return gpd.GeoDataFrame(columns, geometry=boxes, crs="EPSG:4549")


@pytest.fixture
def grids() -> gpd.GeoDataFrame:
    """2×2 grids: column i=0 is street S1 (G00, G01), column i=1 street S2 (G10, G11)."""
    return _squares(
        2, 2,
        grid_id=["G00", "G01", "G10", "G11"],
        name=["北<b>网格</b>", "网格01", "网格10", "网格11"],
        street_code=["S1", "S1", "S2", "S2"],
        community_code=["C1", "C2", "C3", "C3"],
    ).to_crs(4326)


def _pt(x: float, y: float):
    return shapely.Point(X0 + x, Y0 + y)


@pytest.fixture
def cameras() -> gpd.GeoDataFrame:
    """Three points: P1 (2 online cameras), P2 (online + offline), P3 (planned, XSS id)."""
    return gpd.GeoDataFrame(
        {
            "camera_id": ["c1", "c2", "c3", "c4", XSS],
            "point_id": ["P1", "P1", "P2", "P2", "P3"],
            "kind": ["dome", "bullet", "ptz", "dome", "other"],
            "status": ["online", "online", "online", "offline", "planned"],
        },
        geometry=[_pt(100, 100), _pt(104, 100), _pt(700, 300), _pt(700, 300), _pt(300, 800)],
        crs="EPSG:4549",
    ).to_crs(4326)


def _render(m: folium.Map) -> str:
    return m.get_root().render()


def _full_map(grids, cameras, *, basemap="none", **kw) -> folium.Map:
    datum = basemap_datum(basemap)
    g = to_display(grids, datum)
    m = make_map(g.total_bounds, basemap=basemap, **kw)
    for layer, leg in (
        grid_layer(g, lang="en"),
        incident_layer(g, [0, 2, 5, 9], lang="en"),
        camera_layer(to_display(cameras, datum), lang="en"),
    ):
        layer.add_to(m)
        leg.add_to(m)
    folium.LayerControl().add_to(m)
    return m


# ------------------------------------------------------------------ offline assets


def test_rendered_map_loads_only_local_assets(grids, cameras):
    html = _render(_full_map(grids, cameras))
    tags = re.findall(r"<(?:script|link)\b[^>]*>", html)
    urls = re.findall(r'(?:src|href)="([^"]+)"', " ".join(tags))
    assert urls, "no asset tags rendered at all"
    assert assets.external_urls(html) == []
    assert all(u.startswith("/app/static/vendor/") for u in urls), urls
    assert "cdn" not in " ".join(urls).lower()
    assert "https://" not in " ".join(tags)
    # the clustering plugin is among them, served locally
    assert "/app/static/vendor/markercluster/leaflet.markercluster.js" in urls


def test_every_local_url_is_a_vendored_file():
    targets = {f.target for f in assets.FILES}
    for lists in assets.local_urls("/base").values():
        for _, url in lists["js"] + lists["css"]:
            assert url.startswith("/base/")
            assert url.removeprefix("/base/") in targets, url


def test_external_urls_finds_cdn_tags():
    html = (
        '<script src="https://cdn.jsdelivr.net/npm/leaflet.js"></script>'
        '<link rel="stylesheet" href="//cdnjs.cloudflare.com/x.css"/>'
        '<script src="/app/static/vendor/leaflet/leaflet.js"></script>'
    )
    assert assets.external_urls(html) == [
        "https://cdn.jsdelivr.net/npm/leaflet.js", "//cdnjs.cloudflare.com/x.css",
    ]


def test_vendor_copies_every_file_and_reports_missing(tmp_path: Path):
    node_modules = tmp_path / "node_modules"
    for f in assets.FILES:
        if f.source.startswith("folium:"):
            continue
        src = node_modules / f.source
        if f.tree:
            (src / "sub").mkdir(parents=True)
            (src / "sub" / "a.png").write_bytes(b"png")
        else:
            src.parent.mkdir(parents=True, exist_ok=True)
            src.write_text(f"/* {f.source} */")
    out = tmp_path / "static" / "vendor"
    assert set(assets.missing_files(out)) == {f.target for f in assets.FILES}
    assets.vendor(node_modules, out)
    assert assets.missing_files(out) == []
    assert (out / "leaflet" / "leaflet.js").read_text() == "/* leaflet/dist/leaflet.js */"
    assert (out / "leaflet" / "images" / "sub" / "a.png").read_bytes() == b"png"
    # a missing package is an error that says what to run
    (node_modules / "leaflet" / "dist" / "leaflet.js").unlink()
    with pytest.raises(assets.AssetError, match="npm ci"):
        assets.vendor(node_modules, tmp_path / "other")
    assert assets.main(["--vendor", str(node_modules), "--out", str(tmp_path / "x")]) == 2


# ------------------------------------------------------------------------ escaping


def test_camera_tooltip_escapes_user_text(grids, cameras):
    layer, _ = camera_layer(cameras, lang="en")
    p3 = next(row for row in layer.data if row[3] == "P3")
    assert p3[5][0][0] == "&lt;img src=x onerror=alert(1)&gt;"
    # the tooltip text the browser assembles from the row and the shared labels
    tip = TipLabels(**layer.labels).tip(p3[3], p3[4], p3[5])
    assert "&lt;img src=x onerror=alert(1)&gt; · other · planned" in tip
    assert XSS not in tip
    points = camera_points(cameras, lang="en").set_index("point_id")
    assert points.loc["P3", "tip"] == tip
    html = _render(_full_map(grids, cameras))
    assert XSS not in html
    assert "<img src=x" not in html


def test_grid_tooltip_and_legend_escape_names(grids):
    layer, leg = grid_layer(grids, lang="en", street_names={"S1": "<script>x</script>"})
    tip = layer.data["features"][0]["properties"]["tip"]
    assert "北&lt;b&gt;网格&lt;/b&gt;" in tip
    assert "<b>网格</b>" not in tip
    assert "&lt;script&gt;x&lt;/script&gt;" in leg.html
    assert "<script>x" not in leg.html


def test_esc_handles_missing_values():
    assert esc(None) == ""
    assert esc(float("nan")) == ""
    assert esc(np.nan) == ""
    assert esc('a"b\'<') == "a&quot;b&#x27;&lt;"
    assert esc(3) == "3"


# ------------------------------------------------------------------------- legends


def test_legends_are_in_the_map(grids, cameras):
    html = _render(_full_map(grids, cameras))
    for legend_id in ("grids", "incidents", "cameras"):
        assert f'"{legend_id}"' in html
    assert html.count("gridmap-legend") >= 3
    assert "Grids by street" in html
    assert "Camera point status" in html


def test_legend_follows_its_layer(grids):
    layer, leg = grid_layer(grids, lang="en")
    m = make_map(grids.total_bounds)
    layer.add_to(m)
    leg.add_to(m)
    script = leg._template.module.script(leg)
    assert "map.hasLayer(layer)" in script
    assert layer.get_name() in script
    plain = legend("T", [("#fff", "a")], legend_id="x")
    plain.add_to(m)
    assert "hasLayer" not in plain._template.module.script(plain)


def test_grid_legend_lists_streets_with_their_colours(grids):
    _, leg = grid_layer(grids, lang="en", street_names={"S1": "Nanhu", "S2": "Xiuzhou"})
    assert f"background:{PALETTE[0]}\"></i>Nanhu" in leg.html
    assert f"background:{PALETTE[1]}\"></i>Xiuzhou" in leg.html


# ------------------------------------------------------------------------ basemaps


def test_amap_shifts_layers_to_gcj02(grids, cameras):
    assert basemap_datum("amap") == "gcj02"
    assert basemap_datum("osm") == basemap_datum("tianditu") == basemap_datum("none") == "wgs84"
    shifted = to_display(grids, basemap_datum("amap"))
    before = shapely.get_coordinates(grids.geometry.values)
    after = shapely.get_coordinates(shifted.geometry.values)
    ex, ey = transform_lonlat(before[:, 0], before[:, 1], source="wgs84", target="gcj02")
    np.testing.assert_allclose(after[:, 0], ex, atol=1e-9)
    np.testing.assert_allclose(after[:, 1], ey, atol=1e-9)
    # the GCJ-02 offset around Jiaxing is a few hundred metres
    _, _, dist = Geod(ellps="WGS84").inv(before[:, 0], before[:, 1], after[:, 0], after[:, 1])
    assert np.all((dist > 100) & (dist < 800)), dist
    # input untouched
    assert np.array_equal(shapely.get_coordinates(grids.geometry.values), before)
    # the camera layer drawn under AMap carries the shifted positions
    layer, _ = camera_layer(to_display(cameras, "gcj02"), lang="en")
    lat, lon = layer.data[0][0], layer.data[0][1]
    p1 = cameras.geometry.iloc[:2]
    gx, gy = transform_lonlat(p1.x.mean(), p1.y.mean(), source="wgs84", target="gcj02")
    assert lon == pytest.approx(float(gx), abs=2e-6)
    assert lat == pytest.approx(float(gy), abs=2e-6)
    # and clicks come back to WGS84
    bx, by = from_display(after[:, 0], after[:, 1], "gcj02")
    np.testing.assert_allclose(bx, before[:, 0], atol=1e-6)
    np.testing.assert_allclose(by, before[:, 1], atol=1e-6)


def test_basemap_tiles(grids):
    b = grids.total_bounds
    assert "autonavi.com" in _render(make_map(b, basemap="amap"))
    none_html = _render(make_map(b))
    assert "L.tileLayer" not in none_html
    with pytest.raises(BasemapError, match="TIANDITU_KEY"):
        make_map(b, basemap="tianditu")
    tdt = _render(make_map(b, basemap="tianditu", tianditu_key="abc123"))
    assert "tk=abc123" in tdt
    assert "cva_w" in tdt
    custom = _render(make_map(b, basemap="custom", custom_url="https://t.example.org/{z}/{x}/{y}.png"))
    assert "https://t.example.org/{z}/{x}/{y}.png" in custom
    with pytest.raises(BasemapError, match=r"lacks \{x\}"):
        make_map(b, basemap="custom", custom_url="https://t.example.org/{z}/{y}.png")
    with pytest.raises(BasemapError, match="http"):
        make_map(b, basemap="custom", custom_url="javascript:alert(1)/{x}{y}{z}")
    with pytest.raises(BasemapError, match="unknown basemap"):
        make_map(b, basemap="google")
    assert set(BASEMAPS) >= {"none", "osm", "amap", "tianditu", "custom"}
    assert basemap_datum("custom", custom_datum="gcj02") == "gcj02"


def test_map_has_max_zoom_for_clustering(grids):
    html = _render(make_map(grids.total_bounds))
    assert re.search(r'"maxZoom":\s*19', html)
    assert "imperial: false" in html  # metric scale bar only


# -------------------------------------------------------------------------- grids


def test_category_colours_distinct_when_few(grids):
    colours = category_colours(grids, "community_code")
    assert colours == {"C1": PALETTE[0], "C2": PALETTE[1], "C3": PALETTE[2]}


def test_category_colours_neighbours_differ_when_many():
    n = len(PALETTE) + 6
    strip = _squares(n, 1, grid_id=[f"G{i}" for i in range(n)],
                     community_code=[f"C{i:02d}" for i in range(n)]).to_crs(4326)
    colours = category_colours(strip, "community_code")
    for i in range(n - 1):
        assert colours[f"C{i:02d}"] != colours[f"C{i + 1:02d}"]
    _, leg = grid_layer(strip, color_by="community_code", lang="en")
    assert f"{n} in all" in leg.html


def test_simplify_keeps_the_coverage_seamless():
    # two grids sharing a wiggly 200-vertex edge: simplified independently they
    # would open gaps; coverage_simplify moves the shared edge once.
    ys = np.linspace(0, 1000, 200)
    xs = 500 + 3 * np.sin(ys / 7)
    edge = list(zip(xs, ys, strict=True))
    left = shapely.Polygon([(0, 0), *edge, (0, 1000)])
    right = shapely.Polygon([(1000, 0), (1000, 1000), *edge[::-1]])
    g = gpd.GeoDataFrame(
        {"grid_id": ["L", "R"]},
        geometry=gpd.GeoSeries([left, right]).translate(X0, Y0).values,
        crs="EPSG:4549",
    )
    out = simplify_for_display(g, tolerance_m=10)
    assert out.crs.to_epsg() == 4326
    back = out.to_crs(4549)
    assert shapely.get_num_coordinates(back.geometry.values).sum() < 0.5 * (
        shapely.get_num_coordinates(g.geometry.values).sum()
    )
    union = shapely.union_all(back.geometry.values)
    # no overlap: areas add up; no gap: the union is one polygon without holes
    assert back.area.sum() == pytest.approx(union.area, rel=1e-9)
    assert union.geom_type == "Polygon"
    assert len(union.interiors) == 0
    assert union.area == pytest.approx(1000 * 1000, rel=1e-3)
    assert g.geometry.iloc[0].equals(shapely.affinity.translate(left, X0, Y0))  # not mutated


def test_grid_layer_properties(grids):
    layer, _ = grid_layer(grids, color_by="street_code", lang="zh",
                          street_names={"S1": "南湖街道"})
    feats = layer.data["features"]
    assert len(feats) == 4
    assert [f["properties"]["fill"] for f in feats] == [PALETTE[0]] * 2 + [PALETTE[1]] * 2
    assert "街道: 南湖街道" in feats[0]["properties"]["tip"]
    assert "G01" in feats[1]["properties"]["tip"]
    with pytest.raises(ValueError, match="color_by"):
        grid_layer(grids, color_by="zone")


def test_unit_outlines_follow_the_grid_edges(grids):
    outlines = unit_outlines(grids, "street_code")
    assert list(outlines["street_code"]) == ["S1", "S2"]
    # street S1 is the left column of two squares: one 500 m × 1000 m rectangle
    s1 = outlines.to_crs(4549).geometry.iloc[0]
    assert s1.area == pytest.approx(500 * 1000, rel=1e-6)
    assert s1.symmetric_difference(shapely.box(X0, Y0, X0 + SIDE, Y0 + 2 * SIDE)).area < 1e-3
    layer = boundary_layer(outlines)
    assert len(layer.data["features"]) == 2
    assert layer.options["interactive"] is False
    html = _render(make_map(grids.total_bounds).add_child(layer))
    assert '"interactive": false' in html
    with pytest.raises(ValueError, match="zone"):
        unit_outlines(grids, "zone")


# ------------------------------------------------------------------------ cameras


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (["online", "online"], "online"),
        (["online", "offline"], "mixed"),
        (["offline", "offline"], "offline"),
        (["planned", "planned"], "planned"),
        (["planned", "online"], "online"),
        (["unknown", "offline"], "offline"),
        (["unknown", None], "unknown"),
        (["online", "unknown"], "mixed"),
        ([], "unknown"),
    ],
)
def test_point_status(statuses, expected):
    assert point_status(statuses) == expected


def test_camera_points_one_row_per_point(cameras):
    pts = camera_points(cameras, lang="en").set_index("point_id")
    assert pts["n_cameras"].to_dict() == {"P1": 2, "P2": 2, "P3": 1}
    assert pts["status"].to_dict() == {"P1": "online", "P2": "mixed", "P3": "planned"}
    p1 = cameras.geometry.iloc[:2]
    assert pts.loc["P1", "lon"] == pytest.approx(p1.x.mean())
    assert "c1 · dome · online" in pts.loc["P1", "tip"]
    assert "cameras: 2" in pts.loc["P1", "tip"]


def test_camera_points_status_matches_point_status_per_point():
    rng = np.random.default_rng(7)
    n = 400
    statuses = rng.choice(["online", "offline", "planned", "unknown", None], n)
    cams = gpd.GeoDataFrame(
        {
            "camera_id": [f"c{i}" for i in range(n)],
            "point_id": [f"P{i}" for i in rng.integers(0, 120, n)],
            "kind": rng.choice(["dome", "ptz", None], n),
            "status": statuses,
        },
        geometry=gpd.points_from_xy(120.7 + rng.random(n) / 100, 30.7 + rng.random(n) / 100),
        crs=4326,
    )
    pts = camera_points(cams, lang="en", max_listed=2).set_index("point_id")
    for pid, grp in cams.groupby("point_id"):
        assert pts.loc[pid, "status"] == point_status(grp["status"].tolist()), pid
        assert pts.loc[pid, "n_cameras"] == len(grp)
        assert pts.loc[pid, "lat"] == pytest.approx(grp.geometry.y.mean())
        tip = pts.loc[pid, "tip"]
        listed = [c for c in grp["camera_id"] if f"<br>{c} · " in tip]
        assert listed == list(grp["camera_id"][:2])
        assert (f"… {len(grp) - 2} more" in tip) == (len(grp) > 2)
    assert "None" not in "".join(pts["tip"])
    assert "&lt;NA&gt;" not in "".join(pts["tip"])


def test_camera_points_without_point_id_stand_alone(cameras):
    pts = camera_points(cameras.drop(columns="point_id"), lang="zh")
    assert len(pts) == 5
    assert (pts["n_cameras"] == 1).all()


def test_camera_layer_cluster_and_plain(cameras):
    layer, leg = camera_layer(cameras, lang="en")
    assert isinstance(layer, CameraCluster)
    assert len(layer.data) == 3
    assert {row[2] for row in layer.data} == {"online", "mixed", "planned"}
    assert {row[3]: row[4] for row in layer.data} == {"P1": 2, "P2": 2, "P3": 1}
    labels = TipLabels(**layer.labels)
    assert labels.kinds[layer.data[0][5][1][1]] == "bullet"  # c2 at P1
    assert "{p}" in labels.head
    assert "{n}" in labels.head
    for status in ("online", "mixed", "planned"):
        assert STATUS_COLOURS[status] in leg.html
    assert STATUS_COLOURS["offline"] not in leg.html  # no point is all offline
    plain, _ = camera_layer(cameras, lang="en", cluster=False)
    assert isinstance(plain, CameraPointsLayer)
    assert len(plain.data) == 3
    m = make_map(cameras.total_bounds)
    layer.add_to(m)
    html = _render(m)
    assert "L.markerClusterGroup" in html
    assert "gridmap-camera" in html


# ---------------------------------------------------------------------- incidents


def test_class_breaks_by_hand():
    assert class_breaks([3, 4, 5, 6, 7, 8, 9, 10, 11, 12], 5) == [5.0, 7.0, 9.0, 11.0, 12.0]
    assert class_breaks([5, 5, 5], 5) == [5.0]
    assert class_breaks([], 5) == []


def test_incident_layer_suppresses_small_counts(grids):
    # each grid a group of its own: no total above the grids to protect
    layer, leg = incident_layer(grids, [0, 2, 5, 9], lang="en", min_count=3,
                                within=["a", "b", "c", "d"])
    props = [f["properties"] for f in layer.data["features"]]
    assert props[0]["fill"] == ZERO_COLOUR
    assert props[1]["fill"] == SUPPRESSED_COLOUR
    assert "fewer than 3" in props[1]["tip"]
    assert ": 2" not in props[1]["tip"]
    assert props[2]["tip"].endswith("Incidents: 5")
    assert props[3]["tip"].endswith("Incidents: 9")
    assert props[2]["fill"] != props[3]["fill"]  # two classes: 5 and 9
    assert "5–9" not in leg.html
    assert ">5<" in leg.html
    assert ">6–9<" in leg.html
    assert "fewer than 3 (suppressed)" in leg.html
    with pytest.raises(ValueError, match="align counts"):
        incident_layer(grids, [1, 2], lang="en")


def test_incident_layer_withholds_the_complement_of_a_small_count(grids):
    """By hand: the map's total (16) is published, so the 2 would be 16 − 5 − 9; the
    smallest other count (5) is withheld too, under the same grey and one label. With the
    grids in two communities whose totals are published, {0, 2} and {5, 9}: the 2 is its
    community's only case (that total is itself small, hidden where it is published), and
    nothing else needs withholding."""
    layer, leg = incident_layer(grids, [0, 2, 5, 9], lang="en", min_count=3)
    props = [f["properties"] for f in layer.data["features"]]
    assert [p["fill"] == SUPPRESSED_COLOUR for p in props] == [False, True, True, False]
    label = "fewer than 3, or would let one be worked out (withheld)"
    assert label in props[1]["tip"]
    assert label in props[2]["tip"]
    assert ": 5" not in props[2]["tip"]
    assert props[3]["tip"].endswith("Incidents: 9")
    assert label in leg.html
    by_community, _ = incident_layer(grids, [0, 2, 5, 9], lang="en", min_count=3,
                                     within=["c1", "c1", "c2", "c2"])
    props = [f["properties"] for f in by_community.data["features"]]
    assert [p["fill"] == SUPPRESSED_COLOUR for p in props] == [False, True, False, False]
    assert "fewer than 3 (suppressed)" in props[1]["tip"]
    # the layer's default k is the project's
    default, _ = incident_layer(grids, [0, 4, 6, 9], lang="en", within=["a", "b", "c", "d"])
    assert "fewer than 5" in default.data["features"][1]["properties"]["tip"]
    with pytest.raises(ValueError, match="one per grid"):
        incident_layer(grids, [0, 2, 5, 9], lang="en", within=["c1"])


def test_incident_layer_can_reuse_the_grid_polygons(grids):
    polygons, _ = grid_layer(grids, lang="en")
    shared, leg = incident_layer(grids, [0, 2, 5, 9], lang="en", geometry_from=polygons)
    alone, _ = incident_layer(grids, [0, 2, 5, 9], lang="en")
    assert isinstance(shared, SharedGeometryChoropleth)
    # the same colours and tooltips as the standalone layer, by grid position
    props = [f["properties"] for f in alone.data["features"]]
    assert shared.fills == [p["fill"] for p in props]
    assert shared.tips == [p["tip"] for p in props]
    assert shared.zero == [True, False, False, False]
    m = make_map(grids.total_bounds)
    polygons.add_to(m)
    shared.add_to(m)
    leg.add_to(m)
    script = shared._template.module.script(shared)
    assert f"{polygons.get_name()}.eachLayer" in script
    assert "coordinates" not in script  # no geometry sent twice
    with pytest.raises(ValueError, match="same grids"):
        incident_layer(grids.iloc[:3], [1, 2, 3], lang="en", geometry_from=polygons)
