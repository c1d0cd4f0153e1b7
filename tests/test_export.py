"""write_result: format by extension, round trips, formula neutralisation."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely

from gridmap import GridmapError
from gridmap.export import neutralise_formulas, write_result


@pytest.fixture
def grids():
    return gpd.GeoDataFrame(
        {"grid_id": ["g1", "g2"], "name": ["东门", "=HYPERLINK(\"x\")"], "count": [3, -2]},
        geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)], crs=4549,
    )


@pytest.mark.parametrize("ext", [".geojson", ".gpkg", ".parquet"])
def test_spatial_round_trip(tmp_path, grids, ext):
    path = write_result(grids, tmp_path / f"out{ext}")
    back = gpd.read_parquet(path) if ext == ".parquet" else gpd.read_file(path)
    assert back.crs.to_epsg() == 4549
    assert back["grid_id"].tolist() == ["g1", "g2"]
    assert back["name"].tolist() == grids["name"].tolist()  # no neutralising in spatial formats
    assert shapely.equals(back.geometry.values, grids.geometry.values).all()


def test_csv_has_wkt_and_neutralised_formulas(tmp_path, grids):
    path = write_result(grids, tmp_path / "out.csv")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel opens Chinese text right
    back = pd.read_csv(path, encoding="utf-8-sig")
    assert back["name"].tolist() == ["东门", "'=HYPERLINK(\"x\")"]
    assert back["count"].tolist() == [3, -2]
    assert shapely.from_wkt(back["geometry"]).tolist() == grids.geometry.tolist()


def test_xlsx(tmp_path, grids):
    path = write_result(pd.DataFrame(grids.drop(columns="geometry")), tmp_path / "out.xlsx")
    back = pd.read_excel(path)
    assert back["name"].tolist() == ["东门", "'=HYPERLINK(\"x\")"]


def test_gpkg_second_layer_added(tmp_path, grids):
    path = tmp_path / "both.gpkg"
    write_result(grids, path, layer="grids")
    write_result(grids.head(1), path, layer="streets")
    assert sorted(pyogrio.list_layers(path)[:, 0]) == ["grids", "streets"]


def test_plain_table_to_geojson_is_refused_and_unknown_extension(tmp_path):
    with pytest.raises(GridmapError, match="no geometry"):
        write_result(pd.DataFrame({"a": [1]}), tmp_path / "x.geojson")
    with pytest.raises(GridmapError, match=r"unknown output format '\.shp'"):
        write_result(pd.DataFrame({"a": [1]}), tmp_path / "x.shp")


def test_plain_parquet(tmp_path):
    path = write_result(pd.DataFrame({"a": [1, 2]}), tmp_path / "sub" / "x.parquet")
    assert pd.read_parquet(path)["a"].tolist() == [1, 2]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("=1+1", "'=1+1"), ("+8613800000000x", "'+8613800000000x"), ("-1+2", "'-1+2"),
     ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("plain", "plain"), ("-87.6779", "-87.6779"),
     ("+12", "+12"), ("1e-5", "1e-5"), ("", "")],
)
def test_neutralise_formulas(cell, expected):
    out = neutralise_formulas(pd.DataFrame({"c": [cell], "n": [-5]}))
    assert out["c"].iloc[0] == expected
    assert out["n"].iloc[0] == -5


def test_neutralise_does_not_mutate():
    frame = pd.DataFrame({"c": ["=x"]})
    neutralise_formulas(frame)
    assert frame["c"].iloc[0] == "=x"
