"""Tests for gridmap.validate and ``gridmap validate``."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from gridmap.cli import main
from gridmap.validate import fix_coverage, validate_coverage

X0, Y0 = 500_000.0, 3_400_000.0


def box(x0, y0, x1, y1):
    return shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def grids(geoms, ids=None):
    ids = ids or [chr(ord("A") + i) for i in range(len(geoms))]
    return gpd.GeoDataFrame({"grid_id": ids}, geometry=geoms, crs="EPSG:4549")


def test_clean_coverage_has_no_issues():
    g = grids([box(0, 0, 100, 100), box(100, 0, 200, 100), box(0, 100, 200, 200)])
    report = validate_coverage(g)
    assert report.ok
    assert report.counts() == dict.fromkeys(report.counts(), 0)


def test_overlap_gap_island_invalid_multipart_found_with_location():
    ring = shapely.difference(box(0, 0, 300, 300), box(100, 100, 200, 200))  # a hole of 10,000 m²
    bowtie = shapely.Polygon([(X0 + 500, Y0), (X0 + 600, Y0 + 100), (X0 + 600, Y0), (X0 + 500, Y0 + 100)])
    g = grids([
        ring,
        box(290, 0, 400, 100),  # overlaps the ring by 10 × 100
        bowtie,                  # invalid, and no neighbour
        shapely.MultiPolygon([box(0, 300, 100, 400), box(0, 450, 50, 500)]),  # two parts
    ])
    report = validate_coverage(g, gap_tolerance=1.0, overlap_tolerance=1.0)
    c = report.counts()
    assert c["overlap"] == 1
    assert c["gap"] == 1
    assert c["invalid"] == 1
    # the made-valid bowtie is two triangles: it is multi-part as well
    assert c["multipart"] == 2
    assert c["island"] == 1
    issues = report.issues.set_index("kind")
    assert issues.loc["overlap", "area_m2"] == pytest.approx(1_000)
    assert issues.loc["overlap", "grids"] == "A,B"
    assert issues.loc["gap", "area_m2"] == pytest.approx(10_000)
    assert issues.loc["gap", "geometry"].equals(box(100, 100, 200, 200))
    assert issues.loc["invalid", "geometry"].equals(shapely.Point(X0 + 550, Y0 + 50))
    multi = report.issues[report.issues["kind"] == "multipart"].set_index("grid_id")
    assert multi.loc["D", "area_m2"] == pytest.approx(2_500)
    assert multi.loc["C", "area_m2"] == pytest.approx(2_500)
    assert issues.loc["island", "grid_id"] == "C"


def test_tolerances_hide_small_slivers():
    g = grids([box(0, 0, 100, 100), box(99.9, 0, 200, 100)])  # 10 m² overlap
    assert validate_coverage(g, overlap_tolerance=20).counts()["overlap"] == 0
    assert validate_coverage(g, overlap_tolerance=5).counts()["overlap"] == 1


def test_parents_at_two_levels_and_outline_gaps():
    communities = gpd.GeoDataFrame({"cid": ["C1", "C2"]},
                                   geometry=[box(0, 0, 150, 100), box(150, 0, 300, 100)], crs="EPSG:4549")
    streets = gpd.GeoDataFrame({"sid": ["S1"]}, geometry=[box(0, 0, 300, 100)], crs="EPSG:4549")
    g = grids([box(0, 0, 100, 100), box(100, 0, 200, 100), box(200, 0, 280, 100)])
    report = validate_coverage(g, parents=[communities, streets], parent_id=["cid", "sid"])
    issues = report.issues
    parent = issues[issues["kind"] == "parent"]
    assert parent["grid_id"].tolist() == ["B"]
    assert "C1 (50%), C2 (50%)" in parent["detail"].iloc[0]
    assert parent["area_m2"].iloc[0] == pytest.approx(5_000)
    gap = issues[issues["kind"] == "gap"]
    assert gap["area_m2"].tolist() == pytest.approx([2_000])  # x 280–300 of the outline


def test_fix_removes_overlaps_fills_gaps_and_repairs():
    ring = shapely.difference(box(0, 0, 300, 300), box(100, 100, 200, 200))
    inner = box(100, 100, 200, 150)  # fills half the hole; the rest (100 × 50) is a gap
    g = grids([ring, inner, box(290, 0, 400, 100)])
    res = fix_coverage(g)
    assert res.before.counts()["overlap"] == 1
    assert res.after.ok
    actions = res.changes.set_index("action")
    assert actions.loc["overlap_removed", "grid_id"] == "C"
    assert actions.loc["overlap_removed", "area_change_m2"] == pytest.approx(-1_000)
    # the 5,000 m² gap borders the ring on 250 m and the inner grid on 100 m: the ring takes it
    assert actions.loc["gap_filled", "grid_id"] == "A"
    assert actions.loc["gap_filled", "area_change_m2"] == pytest.approx(5_000)
    total = shapely.union_all(res.grids.geometry.values).area
    assert total == pytest.approx(300 * 300 + 100 * 100 - 1_000 + 1_000)
    assert g.geometry.iloc[2].area == pytest.approx(11_000)  # input untouched


def test_fix_makes_valid_and_snaps():
    bowtie = shapely.Polygon([(X0, Y0), (X0 + 100, Y0 + 100), (X0 + 100, Y0), (X0, Y0 + 100)])
    res = fix_coverage(grids([bowtie]))
    assert res.changes["action"].tolist() == ["made_valid"]
    assert res.grids.geometry.iloc[0].is_valid
    assert res.grids.geometry.iloc[0].area == pytest.approx(5_000)
    # a 0.3 m gap between neighbours closes with snapping
    g = grids([box(0, 0, 100, 100), box(100.3, 0, 200, 100)])
    snapped = fix_coverage(g, snap=0.5, fill_gaps=False)
    a, b = snapped.grids.geometry
    assert shapely.length(shapely.intersection(a.boundary, b.boundary)) == pytest.approx(100)


def test_cli_validate(tmp_path, capsys):
    g = grids([box(0, 0, 100, 100), box(95, 0, 200, 100)])
    g.to_file(tmp_path / "g.gpkg")
    assert main(["validate", "--grids", str(tmp_path / "g.gpkg"), "--out", str(tmp_path / "i.csv")]) == 1
    issues = pd.read_csv(tmp_path / "i.csv", encoding="utf-8-sig")
    assert issues["kind"].tolist() == ["overlap"]
    assert main(["validate", "--grids", str(tmp_path / "g.gpkg"), "--fix",
                 "--out", str(tmp_path / "fixed.gpkg")]) == 0
    out = capsys.readouterr().out
    assert "overlap_removed: 1" in out
    fixed = gpd.read_file(tmp_path / "fixed.gpkg").to_crs(4549)
    assert fixed.area.sum() == pytest.approx(20_000, rel=1e-6)
