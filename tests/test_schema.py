"""The data model: layer kinds, columns, vocabularies and header aliases are consistent."""

from __future__ import annotations

import re

import pytest

from gridmap.schema import (
    CAMERA_KINDS,
    CAMERA_STATUSES,
    INCIDENT_STATUSES,
    KINDS,
    LAYERS,
    ZONES,
)


def _norm(text: str) -> str:
    return re.sub(r"[\s_\-]+", "", text).lower()


def test_kinds():
    assert set(LAYERS) == {"grids", "cameras", "incidents", "places"}
    assert KINDS[-1] == "population"


@pytest.mark.parametrize("spec", LAYERS.values(), ids=list(LAYERS))
def test_id_column_is_required_and_columns_unique(spec):
    assert spec.id_column == spec.required[0]
    assert len(set(spec.columns)) == len(spec.columns)


@pytest.mark.parametrize("spec", LAYERS.values(), ids=list(LAYERS))
def test_vocab_and_alias_keys_are_columns(spec):
    assert set(spec.vocab) <= set(spec.columns)
    assert set(spec.aliases) <= set(spec.columns)


@pytest.mark.parametrize("spec", LAYERS.values(), ids=list(LAYERS))
def test_no_header_maps_to_two_columns(spec):
    seen: dict[str, str] = {}
    for column in spec.columns:
        for name in (column, *spec.aliases.get(column, ())):
            key = _norm(name)
            assert seen.setdefault(key, column) == column, f"{name!r} maps to two columns"


def test_vocabularies():
    assert LAYERS["cameras"].vocab == {"kind": CAMERA_KINDS, "status": CAMERA_STATUSES}
    assert LAYERS["incidents"].vocab["status"] == INCIDENT_STATUSES
    assert LAYERS["grids"].vocab["zone"] == ZONES
    assert INCIDENT_STATUSES == ("reported", "dispatched", "handled", "closed")


def test_geometry_types():
    assert LAYERS["grids"].geom_types == ("Polygon", "MultiPolygon")
    for kind in ("cameras", "incidents", "places"):
        assert LAYERS[kind].geom_types == ("Point",)


def test_chinese_aliases_present():
    assert "网格编码" in LAYERS["grids"].aliases["grid_id"]
    assert "在线状态" in LAYERS["cameras"].aliases["status"]
    assert "上报时间" in LAYERS["incidents"].aliases["reported_at"]
