"""District key figures and report, checked against independent pandas/geopandas results."""

from __future__ import annotations

import geopandas as gpd
import matplotlib
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from gridmap.district import District, district_report, latest_full_month, month_change

matplotlib.use("Agg")

EVIL = "<img src=x onerror=alert(1)>"
CRS = "EPSG:4549"
X0, Y0 = 500_000.0, 3_400_000.0


def _tiny() -> District:
    """2×2 grids of 1 km² in EPSG:4549; target 2 built points per km²."""
    grids = gpd.GeoDataFrame(
        {"grid_id": ["A", "B", "C", "D"], "zone": ["urban"] * 4,
         "street_code": ["s1", "s1", "s2", "s2"], "community_code": ["c1", "c2", "c3", "c3"],
         "street_name": [EVIL, EVIL, "南湖街道", "南湖街道"]},
        geometry=[box(X0 + i * 1000, Y0 + j * 1000, X0 + (i + 1) * 1000, Y0 + (j + 1) * 1000)
                  for j in (0, 1) for i in (0, 1)], crs=CRS)
    pts = [(100, 100, "p1", "online"), (150, 100, "p1", "offline"), (800, 800, "p2", "online"),
           (1500, 500, "p3", "online"), (500, 1500, "p4", "planned"), (5000, 5000, "p5", "online")]
    cameras = gpd.GeoDataFrame(
        {"camera_id": [f"k{i}" for i in range(len(pts))], "point_id": [p[2] for p in pts],
         "status": [p[3] for p in pts]},
        geometry=[Point(X0 + p[0], Y0 + p[1]) for p in pts], crs=CRS)
    inc = [  # x, y, reported, closed_at, status
        (100, 100, "2025-01-03 09:00", "2025-01-03 15:00", "closed"),
        (200, 200, "2025-01-05 09:00", None, "reported"),          # open, overdue
        (1500, 500, "2025-01-20 09:00", "2025-01-21 10:00", "closed"),  # closed late
        (1500, 1500, "2025-02-02 09:00", "2025-02-02 10:00", "closed"),
        (500, 1500, "2025-02-10 09:00", "2025-02-10 11:00", "closed"),
        (9000, 9000, "2025-02-15 09:00", "2025-02-15 12:00", "closed"),  # outside every grid
        (600, 600, "2025-02-20 09:00", "2025-02-20 11:00", "closed"),
        (700, 700, "2025-02-28 09:00", "2025-02-28 11:00", "closed"),
    ]
    incidents = gpd.GeoDataFrame(
        {"incident_id": [f"i{n}" for n in range(len(inc))],
         "reported_at": pd.to_datetime([r[2] for r in inc]),
         "closed_at": pd.to_datetime([r[3] for r in inc]),
         "status": [r[4] for r in inc]},
        geometry=[Point(X0 + r[0], Y0 + r[1]) for r in inc], crs=CRS)
    return District(grids, cameras, incidents, targets={"urban": 2.0, "rural": 1.0})


def test_tiny_district_figures_match_hand_counts():
    d = _tiny()
    grids_before = d.grids.copy()
    f = d.figures()
    assert (f.grids, f.streets, f.communities, f.grid_workers) == (4, 2, 3, 4)
    # points: p1..p5 (planned p4 included in the point count), six camera rows
    assert (f.camera_points, f.cameras) == (5, 6)
    # built points per grid: A has p1, p2 (2/km² -> met), B has p3 (1), C only planned, D none
    assert f.grids_met == 1
    assert f.grids_met_share == pytest.approx(0.25)
    assert f.cameras_outside == 1
    assert f.incidents_outside == 1
    assert f.incidents == 8
    assert f.closure_rate == pytest.approx(7 / 8)
    assert f.overdue == 2
    assert f.open_overdue == 1
    assert str(f.month.month) == "2025-02"
    assert f.month.full
    assert (f.month.n, f.month.n_previous) == (5, 3)
    assert f.month.change_pct == pytest.approx(100 * (5 - 3) / 3)
    pd.testing.assert_frame_equal(d.grids, grids_before)


def test_month_helpers_partial_month():
    t = pd.DataFrame({"reported_at": pd.to_datetime(["2025-01-10", "2025-02-10", "2025-03-05"])})
    assert str(latest_full_month(t)) == "2025-02"
    mc = month_change(t, month="2025-03")
    assert (mc.n, mc.n_previous, mc.full) == (1, 1, False)


def test_tiny_report_html_escaped_and_pdf():
    r = district_report(_tiny(), lang="en", k=1)
    html = r.to_html()
    assert EVIL not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "南湖街道" in html
    assert r.to_pdf().startswith(b"%PDF")


def test_demo_figures_match_independent_counts(demo_small):
    from gridmap.crs import to_metric
    from gridmap.ingest import read_layer

    grids = read_layer(demo_small / "grids.gpkg", kind="grids").data
    cams = read_layer(demo_small / "cameras.csv", kind="cameras").data
    inc = read_layer(demo_small / "incidents.parquet", kind="incidents").data
    f = District(grids, cams, inc).figures()
    assert f.grids == len(grids)
    assert f.cameras == len(cams)
    assert f.camera_points == cams["point_id"].nunique()
    assert f.closure_rate == pytest.approx((inc["status"] == "closed").mean())
    # density target: built points per km² in a metric CRS, by sjoin
    mg = to_metric(grids)
    built = cams[cams["status"] != "planned"].to_crs(mg.crs)
    j = gpd.sjoin(built, mg[["grid_id", "geometry"]], predicate="within")
    pts = j.groupby("grid_id")["point_id"].nunique().reindex(mg["grid_id"], fill_value=0)
    dens = pts.to_numpy() / (mg.area.to_numpy() / 1e6)
    target = mg["zone"].map({"urban": 70.0, "rural": 8.0}).to_numpy()
    assert f.grids_met == int((dens >= target).sum())
    outside = len(inc) - len(gpd.sjoin(inc, grids[["geometry"]], predicate="intersects")
                             .index.unique())
    assert f.incidents_outside == outside
    months = pd.to_datetime(inc["reported_at"]).dt.tz_localize(None).dt.to_period("M")
    counts = months.value_counts()
    assert f.month.n == counts.get(f.month.month, 0)
    assert f.month.n_previous == counts.get(f.month.previous, 0)
    assert np.isfinite(f.closure_rate)
