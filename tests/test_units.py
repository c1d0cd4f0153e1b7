"""Tests for gridmap.units and ``gridmap units``."""

from __future__ import annotations

import geopandas as gpd
import h3
import numpy as np
import pytest
import shapely

from gridmap import SchemaError
from gridmap.cli import main
from gridmap.units import aggregate_to_units, h3_units, square_units

X0, Y0 = 500_000.0, 3_400_000.0


def square(side: float, *, crs: str = "EPSG:4549") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=[shapely.box(X0, Y0, X0 + side, Y0 + side)], crs=crs)


def test_square_cells_aligned_and_named_from_the_north_west():
    units = square_units(square(300.0), size=100)
    assert len(units) == 9
    assert units["area_m2"].tolist() == pytest.approx([10_000] * 9)
    assert units["full"].all()
    nw = units.set_index("unit_id").loc["R0C0"].geometry
    assert nw.bounds == pytest.approx((X0, Y0 + 200, X0 + 100, Y0 + 300))


def test_slivers_merge_into_neighbours_and_area_is_kept():
    # 250 m square: 4 whole cells, four 50×100 strips and one 50×50 corner
    kept = square_units(square(250.0), size=100, min_area=0.4)
    assert len(kept) == 8  # only the 2,500 m² corner is below 4,000 m²
    merged = square_units(square(250.0), size=100, min_area=0.6)
    assert len(merged) == 4  # every partial piece joins a whole cell
    for units in (kept, merged):
        assert units["area_m2"].sum() == pytest.approx(62_500)
        assert shapely.union_all(units.geometry.values).area == pytest.approx(62_500)
    assert merged["pieces"].sum() == 9
    assert (merged["area_m2"] >= 6_000).all()


def test_within_cuts_cells_along_parent_lines():
    parents = gpd.GeoDataFrame(
        {"cid": ["W", "E"]},
        geometry=[shapely.box(X0, Y0, X0 + 130, Y0 + 200), shapely.box(X0 + 130, Y0, X0 + 300, Y0 + 200)],
        crs="EPSG:4549",
    )
    units = square_units(square(200.0), size=100, within=parents, within_id="cid", min_area=0.2)
    assert set(units["parent"]) == {"W", "E"}
    # no unit crosses the line x = 130
    for _, u in units.iterrows():
        p = parents.set_index("cid").loc[u["parent"]].geometry
        assert u.geometry.difference(p).area == pytest.approx(0, abs=1e-6)
    assert units["area_m2"].sum() == pytest.approx(40_000)
    # the 30 m strips (3,000 m²) are above 20% of a cell and stay separate units
    assert (units["parent"] == "W").sum() == 4


def test_result_in_the_boundary_crs():
    b = square(300.0).to_crs(4326)
    units = square_units(b, size=100)
    assert units.crs.equals(b.crs)
    assert units.to_crs(4549).area.sum() == pytest.approx(b.to_crs(4549).area.sum(), rel=1e-6)


def test_h3_units_cover_the_boundary():
    b = square(1000.0).to_crs(4326)
    units = h3_units(b, resolution=10)
    metric = units.to_crs(4549)
    assert metric.area.sum() == pytest.approx(1e6, rel=1e-6)
    assert all(h3.is_valid_cell(c) and h3.get_resolution(c) == 10 for c in units["h3"])
    assert units["unit_id"].is_unique
    assert (metric.area > 0.5 * h3.average_hexagon_area(10, unit="m^2") * 0.5).all()


def test_aggregate_to_units_counts_and_lists_outside_points():
    units = square_units(square(200.0), size=100)
    pts = gpd.GeoDataFrame(
        {"households": [10, 20, 5, 7]},
        geometry=[shapely.Point(X0 + 50, Y0 + 50), shapely.Point(X0 + 60, Y0 + 40),
                  shapely.Point(X0 + 150, Y0 + 150), shapely.Point(X0 + 900, Y0 + 900)],
        crs="EPSG:4549",
    )
    out, outside = aggregate_to_units(units, pts, fields=["households"])
    by_id = out.set_index("unit_id")
    # R1C0 is the south-west cell (rows count from the north)
    assert by_id.loc["R1C0", "households"] == 30
    assert by_id.loc["R0C1", "households"] == 5
    assert out["households"].sum() == 35
    assert out["n_features"].sum() == 3
    assert outside["feature"].tolist() == [3]
    assert outside["households"].tolist() == [7]
    assert "households" not in units.columns  # input untouched


def test_errors():
    with pytest.raises(ValueError, match="positive"):
        square_units(square(100.0), size=0)
    with pytest.raises(ValueError, match="share"):
        square_units(square(100.0), min_area=1.5)
    with pytest.raises(SchemaError):
        square_units(gpd.GeoDataFrame(geometry=[shapely.Point(X0, Y0)], crs="EPSG:4549"))


def test_cli_units(tmp_path, capsys):
    b = square(300.0).to_crs(4326)
    b.to_file(tmp_path / "boundary.geojson")
    out = tmp_path / "units.gpkg"
    assert main(["units", "--boundary", str(tmp_path / "boundary.geojson"), "--square", "100",
                 "--out", str(out)]) == 0
    assert "9 units" in capsys.readouterr().out
    units = gpd.read_file(out)
    assert len(units) == 9
    assert np.isclose(units.to_crs(4549).area.sum(), 90_000, rtol=1e-6)
