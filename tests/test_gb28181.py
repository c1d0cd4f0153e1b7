"""Tests for gridmap.gb28181: parsing and validating GB/T 28181 ids."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from gridmap.gb28181 import check_cameras, device_class, parse_ids


def test_parse_by_hand() -> None:
    p = parse_ids(["33040200011320000001", " 11010500001310000042 "])
    first = p.iloc[0]
    assert first["valid"]
    assert first["centre_code"] == "33040200"
    assert (first["province"], first["city"], first["district"]) == ("33", "3304", "330402")
    assert first["grassroots"] == "00"
    assert first["industry"] == "01"
    assert (first["type_code"], first["type_name"]) == ("132", "IPC")
    assert (first["network"], first["serial"]) == ("0", "000001")
    assert first["device_class"] == "camera"
    assert (p.iloc[1]["district"], p.iloc[1]["type_code"]) == ("110105", "131")


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        ("3304020001132000000", "19 characters"),
        ("330402000113200000011", "21 characters"),
        ("3304020001O320000001", "non-digit"),
        ("99040200011320000001", "province code 99"),
        ("33040200019990000001", "type code 999"),
        ("33040200011329000001", "network digit 9"),
        ("", "missing"),
        (None, "missing"),
    ],
)
def test_malformed(code: str | None, fragment: str) -> None:
    p = parse_ids([code])
    assert not p["valid"].iat[0]
    assert fragment in p["problem"].iat[0]
    assert pd.isna(p["type_code"].iat[0])


@pytest.mark.parametrize(
    ("type_code", "cls"),
    [("131", "camera"), ("132", "camera"), ("111", "recorder"), ("118", "recorder"),
     ("130", "recorder"), ("200", "server"), ("215", "directory"), ("216", "directory"),
     ("134", "peripheral"), ("113", "front-end device"), ("777", "unknown"), (None, "unknown")],
)
def test_device_classes(type_code: str | None, cls: str) -> None:
    assert device_class(type_code) == cls


def test_check_cameras_small_table() -> None:
    cams = pd.DataFrame({
        "camera_id": ["a", "b", "c", "d", "e", "f", "g"],
        "gb28181_id": ["33040200011320000001", "33040200011180000002", "33041100011310000003",
                       "3304020001132000000X", "33040200011320000001", None, None],
        "status": ["online", "online", "online", "online", "online", "planned", "online"],
    })
    findings, devices = check_cameras(cams, district_codes=["330402"] * 7)
    got = {(r.camera_id, r.finding) for r in findings.itertuples()}
    assert got == {("b", "not a camera"), ("c", "district mismatch"), ("d", "malformed"),
                   ("a", "duplicate"), ("e", "duplicate"), ("g", "missing")}
    counts = devices.set_index("type_code")["count"]
    assert (counts["132"], counts["131"], counts["118"]) == (2, 1, 1)
    assert set(devices["device_class"]) == {"camera", "recorder", "malformed", "missing"}


def test_demo_planted_errors_are_all_found(demo_small) -> None:
    from gridmap.assign import assign_points
    from gridmap.ingest import read_layer

    cams = read_layer(demo_small / "cameras.csv", kind="cameras").data
    grids = read_layer(demo_small / "grids.gpkg", kind="grids", layer="grids").data
    a = assign_points(cams, grids)
    districts = grids["district_code"].to_numpy()[a.index.clip(0)]
    districts[a.index < 0] = None
    findings, _ = check_cameras(cams, district_codes=districts)
    planted = json.loads((demo_small / "meta.json").read_text())["planted_errors"]
    found = findings.groupby("finding")["camera_id"].apply(set)
    assert set(planted["gb28181_malformed"]) == found["malformed"]
    assert set(planted["gb28181_wrong_district"]) == found["district mismatch"]
    assert set(planted["gb28181_nvr"]) == found["not a camera"]
    assert set(planted["gb28181_duplicate"]) <= found["duplicate"]
