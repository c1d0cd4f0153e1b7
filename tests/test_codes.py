"""Tests for gridmap.codes and ``gridmap code``."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from gridmap import InfeasibleError, SchemaError
from gridmap.cli import main
from gridmap.codes import assign_codes, parse_template, renumber_codes, split_code

X0, Y0 = 500_000.0, 3_400_000.0


def block(rows: int, cols: int, *, community: str = "002", street: str = "001") -> gpd.GeoDataFrame:
    boxes = [shapely.box(X0 + c * 100, Y0 - (r + 1) * 100, X0 + (c + 1) * 100, Y0 - r * 100)
             for r in range(rows) for c in range(cols)]
    n = len(boxes)
    return gpd.GeoDataFrame({"street_code": [street] * n, "community_code": [community] * n},
                            geometry=boxes, crs="EPSG:4549")


def test_serials_run_west_east_then_north_south():
    grids = block(2, 3)
    # shuffle the rows so that order in the file does not matter
    grids = grids.iloc[[4, 0, 5, 2, 1, 3]].reset_index(drop=True)
    coded = assign_codes(grids, admin_code="330402")
    expected = {0: "005", 1: "001", 2: "006", 3: "003", 4: "002", 5: "004"}
    assert coded["code"].tolist() == [f"330402001002{expected[i]}" for i in range(6)]
    assert all(len(c) == 15 for c in coded["code"])


def test_full_statistical_codes_are_accepted_and_checked():
    grids = block(1, 2, street="330402001", community="330402001002")
    assert assign_codes(grids, admin_code="330402")["code"].tolist() == [
        "330402001002001", "330402001002002"]
    with pytest.raises(SchemaError, match="does not start with"):
        assign_codes(grids, admin_code="330411")


def test_admin_code_from_the_district_column():
    grids = block(1, 1).assign(district_code="330402")
    assert assign_codes(grids)["code"].iloc[0] == "330402001002001"
    with pytest.raises(SchemaError, match="lacks column"):
        assign_codes(block(1, 1))


def test_serials_restart_in_each_community():
    grids = pd.concat([block(1, 2, community="001"), block(1, 1, community="002")], ignore_index=True)
    coded = assign_codes(gpd.GeoDataFrame(grids, crs="EPSG:4549"), admin_code="330402")
    assert coded["code"].str[-6:].tolist() == ["001001", "001002", "002001"]


def test_cjt349_twenty_digits_and_unsplit_serial():
    one = assign_codes(block(1, 1), template="cjt349", admin_code="330402", object_code="010100")
    assert one["code"].iloc[0] == "01010033040200100200"
    two = assign_codes(block(1, 2), template="cjt349", admin_code="330402", object_code="010100")
    assert two["code"].tolist() == ["01010033040200100201", "01010033040200100202"]
    assert split_code(two["code"].iloc[1], "cjt349") == {
        "object": "010100", "admin": "330402", "street": "001", "community": "002", "serial": "02"}
    with pytest.raises(SchemaError, match="object-code"):
        assign_codes(block(1, 1), template="cjt349", admin_code="330402")


def test_custom_templates():
    tpl = parse_template("admin:6,community:3,serial:4")
    assert tpl.width == 13
    grids = block(1, 1)
    assert assign_codes(grids, template=tpl, admin_code="330402")["code"].iloc[0] == "3304020020001"
    for bad in ("admin:6,serial", "admin:6,street:3", "zone:2,serial:3"):
        with pytest.raises(SchemaError):
            parse_template(bad)


def test_register_serials_are_skipped():
    register = pd.DataFrame({"code": ["330402001002001", "330402001002003"]})
    coded = assign_codes(block(1, 3), admin_code="330402", register=register)
    assert coded["code"].str[-3:].tolist() == ["002", "004", "005"]


def test_serial_overflow_is_infeasible():
    with pytest.raises(InfeasibleError, match="widen"):
        assign_codes(block(2, 6), template="admin:6,street:3,community:3,serial:1", admin_code="330402")


def test_renumber_keeps_continuing_codes_and_retires_the_rest():
    old = assign_codes(block(2, 3), admin_code="330402")  # 001..003 north row, 004..006 south
    b = old.geometry.to_numpy()
    new_geoms = [
        shapely.union_all([b[0], b[1]]),  # 001 + 002 merged
        b[2], b[3], b[4],                 # kept
        shapely.box(X0 + 200, Y0 - 200, X0 + 250, Y0 - 100),  # 006 split in two
        shapely.box(X0 + 250, Y0 - 200, X0 + 300, Y0 - 100),
    ]
    new = gpd.GeoDataFrame({"street_code": ["001"] * 6, "community_code": ["002"] * 6}, geometry=new_geoms,
                           crs="EPSG:4549")
    register = pd.DataFrame({"code": ["330402001002007"], "retired_on": ["2020-01-01"],
                             "reason": ["removed"], "successors": [""]})
    res = renumber_codes(new, old, admin_code="330402", register=register, date="2024-05-01")
    codes = res.grids["code"].str[-3:].tolist()
    assert codes[1:4] == ["003", "004", "005"]
    assert res.grids["code_status"].tolist() == ["new", "kept", "kept", "kept", "new", "new"]
    # new serials skip every code ever used (001–006) and the register (007)
    assert sorted([codes[0], codes[4], codes[5]]) == ["008", "009", "010"]
    assert res.retired == ["330402001002001", "330402001002002", "330402001002006"]
    reg = res.register.set_index("code")
    assert reg.loc["330402001002001", "reason"] == "merged"
    assert reg.loc["330402001002006", "reason"] == "split"
    assert reg.loc["330402001002006", "retired_on"] == "2024-05-01"
    assert reg.loc["330402001002007", "retired_on"] == "2020-01-01"
    m = res.mapping
    split = m[m["old_code"] == "330402001002006"]
    assert split["share_of_old"].tolist() == pytest.approx([0.5, 0.5])
    assert m.loc[m["kept"], "old_code"].tolist() == [
        "330402001002003", "330402001002004", "330402001002005"]


def test_cli_code_and_renumber(tmp_path, capsys):
    grids = block(2, 2).to_crs(4326)
    grids.to_file(tmp_path / "grids.gpkg")
    out = tmp_path / "coded.gpkg"
    assert main(["code", "--grids", str(tmp_path / "grids.gpkg"), "--admin-code", "330402",
                 "--out", str(out)]) == 0
    coded = gpd.read_file(out)
    assert sorted(coded["code"]) == [f"330402001002{i:03d}" for i in range(1, 5)]
    # renumber the same grids: every code is kept, nothing retired
    out2 = tmp_path / "again.gpkg"
    assert main(["code", "--grids", str(tmp_path / "grids.gpkg"), "--admin-code", "330402",
                 "--previous", str(out), "--register", str(tmp_path / "retired.csv"),
                 "--out", str(out2)]) == 0
    assert "4 grid(s) kept their code" in capsys.readouterr().out
    assert (tmp_path / "again.mapping.csv").exists()
    assert pd.read_csv(tmp_path / "retired.csv").empty
