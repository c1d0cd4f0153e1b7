"""Tests for gridmap.workspace: a GeoPackage with units and named, dated versions."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from gridmap import DataError, ReadError, SchemaError
from gridmap.workspace import ASSIGNMENTS, UNITS, VERSIONS, Workspace

X0, Y0 = 500_000.0, 3_400_000.0


@pytest.fixture
def units():
    cols = np.tile(np.arange(4), 2)
    rows = np.repeat(np.arange(2), 4)
    boxes = shapely.box(X0 + cols * 100, Y0 + rows * 100, X0 + (cols + 1) * 100, Y0 + (rows + 1) * 100)
    return gpd.GeoDataFrame({"code": [f"u{i}" for i in range(8)], "households": np.arange(8.0)},
                            geometry=boxes, crs="EPSG:4549")


def plan(units, labels):
    return pd.Series(labels, index=units["code"].to_numpy())


def test_create_save_list_load_reopen(tmp_path, units):
    path = tmp_path / "ws.gpkg"
    ws = Workspace.create(path, units, unit_id="code")
    assert ws.units().index.tolist() == [f"u{i}" for i in range(8)]
    v1 = plan(units, ["A"] * 4 + ["B"] * 4)
    ws.save_version("draft", v1, note="first try", created_at="2024-03-01T09:00:00")
    ws.save_version("final", plan(units, ["A", "A", "B", "B"] * 2), locked=["B"])
    again = Workspace(path)  # everything lives in the file
    versions = again.versions()
    assert versions["name"].tolist() == ["draft", "final"]
    assert versions.loc[0, "note"] == "first try"
    assert versions.loc[0, "created_at"] == "2024-03-01T09:00:00"
    assert versions["n_grids"].tolist() == [2, 2]
    assert again.load_version("draft").equals(v1.rename_axis("unit_id").rename("grid_id"))
    assert again.locked("final") == ["B"]
    assert again.locked("draft") == []
    layers = [name for name, _ in pyogrio.list_layers(path)]
    assert {UNITS, VERSIONS, ASSIGNMENTS} <= set(layers)
    assert gpd.read_file(path, layer=UNITS).crs.to_epsg() == 4549


def test_diff_versions_by_hand(tmp_path, units):
    ws = Workspace.create(tmp_path / "ws.gpkg", units, unit_id="code")
    ws.save_version("a", plan(units, ["A"] * 4 + ["B"] * 4))
    ws.save_version("b", plan(units, ["A", "A", "A", "B", "B", "B", "B", "C"]))
    table, summary = ws.diff_versions("a", "b")
    assert table["unit_id"].tolist() == ["u3", "u7"]
    assert table["grid_b"].tolist() == ["B", "C"]
    assert summary["units_moved"] == 2
    assert summary["grids_only_in_b"] == ["C"]
    grids = ws.grids("b")
    assert grids.set_index("grid_id")["n_units"].to_dict() == {"A": 3, "B": 4, "C": 1}


def test_overwrite_delete_and_errors(tmp_path, units):
    path = tmp_path / "ws.gpkg"
    ws = Workspace.create(path, units, unit_id="code")
    ws.save_version("v", plan(units, ["A"] * 8))
    with pytest.raises(DataError, match="exists"):
        ws.save_version("v", plan(units, ["B"] * 8))
    ws.save_version("v", plan(units, ["B"] * 8), overwrite=True)
    assert ws.load_version("v").unique().tolist() == ["B"]
    assert len(ws.versions()) == 1
    ws.delete_version("v")
    assert ws.versions().empty
    with pytest.raises(DataError, match="no version"):
        ws.load_version("v")
    with pytest.raises(SchemaError, match="lacks"):
        ws.save_version("short", plan(units, ["A"] * 8).iloc[:5])
    with pytest.raises(DataError, match="exists"):
        Workspace.create(path, units)
    with pytest.raises(ReadError, match="no such workspace"):
        Workspace(tmp_path / "missing.gpkg")
    with pytest.raises(SchemaError, match="reserved"):
        ws.write_layer(VERSIONS, units)
    ws.write_layer("communities", units.dissolve())
    assert len(ws.read_layer("communities")) == 1
