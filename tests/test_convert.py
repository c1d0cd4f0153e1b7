"""File conversion between WGS84, GCJ-02, BD-09 and EPSG CRSs: rows and columns kept."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gridmap.convert import convert_file
from gridmap.coords import gcj02_to_wgs84


@pytest.fixture
def two_squares():
    """Two adjacent 0.01° squares near Jiaxing (EPSG:4326)."""
    return gpd.GeoDataFrame(
        {"grid_id": ["G1", "G2"]},
        geometry=[shapely.box(120.7, 30.7, 120.71, 30.71), shapely.box(120.71, 30.7, 120.72, 30.71)],
        crs=4326,
    )


def test_convert_csv_keeps_columns_and_rewrites_coordinates(tmp_path):
    text = "name;lng;lat;note\nA;120.75;30.75;=1+1\nB;bad;30.7;x\n"
    src = tmp_path / "in.csv"
    src.write_text(text, encoding="utf-8")
    summary = convert_file(src, tmp_path / "out.csv", source="gcj02", target="wgs84")
    assert (summary.rows, summary.converted, summary.unchanged) == (2, 1, 1)
    out = pd.read_csv(tmp_path / "out.csv", sep=None, engine="python", dtype=str,
                      encoding="utf-8-sig")
    assert out.columns.tolist() == ["name", "lng", "lat", "note"]
    wx, wy = gcj02_to_wgs84(120.75, 30.75)
    assert float(out.lng.iloc[0]) == pytest.approx(float(wx), abs=1e-8)
    assert float(out.lat.iloc[0]) == pytest.approx(float(wy), abs=1e-8)
    assert out.lng.iloc[1] == "bad"
    assert out.note.tolist() == ["=1+1", "x"]


def test_convert_vector_to_formats_and_back(tmp_path, two_squares):
    src = tmp_path / "g.geojson"
    two_squares.to_file(src)
    convert_file(src, tmp_path / "g.gpkg", source=None, target="EPSG:4549")
    metric = gpd.read_file(tmp_path / "g.gpkg")
    assert metric.crs.to_epsg() == 4549
    assert metric.area.sum() == pytest.approx(two_squares.to_crs(4549).area.sum(), rel=1e-9)
    convert_file(tmp_path / "g.gpkg", tmp_path / "back.parquet", source=None, target="wgs84")
    back = gpd.read_parquet(tmp_path / "back.parquet")
    assert np.abs(shapely.get_coordinates(back.geometry) -
                  shapely.get_coordinates(two_squares.geometry)).max() < 1e-9
    convert_file(src, tmp_path / "g.csv", source="wgs84", target="gcj02")
    assert "POLYGON" in (tmp_path / "g.csv").read_text(encoding="utf-8-sig")
