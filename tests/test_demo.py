"""Tests of the synthetic demo district generator (gridmap.demo)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from gridmap.demo import FILES


def test_small_district_has_every_file(demo_small):
    for name in FILES.values():
        assert (demo_small / name).is_file(), name
    grids = gpd.read_file(demo_small / "grids.gpkg", layer="grids")
    cams = pd.read_csv(demo_small / "cameras.csv", dtype=str)
    assert len(grids) == 40
    assert list(cams.columns) == [
        "camera_id", "point_id", "gb28181_id", "kind", "azimuth_deg", "hfov_deg",
        "range_m", "height_m", "status", "name", "lon", "lat",
    ]
