"""OpenStreetMap input: Overpass answers, camera tags and direction text.

* :func:`read_overpass` reads an Overpass API answer (``{"elements": [...]}``
  in "out body" style, or a bare list of elements; ``.json.gz`` accepted) into
  a GeoDataFrame: tagged nodes become points, ways become lines or — when
  closed and area-like (``building``, ``landuse``, ``area=yes``...) —
  polygons, and multipolygon relations become (multi)polygons. Ways whose
  nodes are missing from the answer keep an empty geometry, so they can be
  counted rather than silently lost.
* :data:`CAMERA_TAGS` maps OSM surveillance tags to the camera columns of
  :mod:`gridmap.schema` (``camera:type`` → ``kind``, ``camera:direction`` →
  ``azimuth_deg``, ``height`` → ``height_m``...). The values themselves are
  normalised by :mod:`gridmap.ingest` (``fixed`` → ``bullet``, ``dome`` →
  ``dome``, ``panning`` → ``ptz``).
* :func:`parse_direction` turns the many ways a direction is written into an
  azimuth (degrees clockwise from north) and, for ranges, a field of view.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._errors import DataError, ReadError

__all__ = [
    "APPROACH_AZIMUTH",
    "CAMERA_TAGS",
    "COMPASS_AZIMUTH",
    "overpass_to_frame",
    "parse_direction",
    "read_overpass",
]

#: OSM surveillance tags → gridmap camera columns (values normalised on ingest).
CAMERA_TAGS: dict[str, str] = {
    "camera:type": "kind",
    "camera:direction": "azimuth_deg",
    "camera:angle": "tilt_deg",
    "camera:height": "height_m",
    "height": "height_m",
    "camera:mount": "mount",
    "surveillance:type": "surveillance_type",
    "surveillance:zone": "surveillance_zone",
    "surveillance": "surveillance_scope",
}

#: The 16 compass points (N = 0°, clockwise).
COMPASS_AZIMUTH: dict[str, float] = {
    name: i * 22.5
    for i, name in enumerate(
        ("N", "NNE", "NE", "ENE", "E", "ESE", "SE", "SSE",
         "S", "SSW", "SW", "WSW", "W", "WNW", "NW", "NNW")
    )
}
_WORDS = {
    "NORTH": "N", "NORTHEAST": "NE", "EAST": "E", "SOUTHEAST": "SE", "SOUTH": "S",
    "SOUTHWEST": "SW", "WEST": "W", "NORTHWEST": "NW",
    "北": "N", "东北": "NE", "东": "E", "东南": "SE", "南": "S", "西南": "SW", "西": "W",
    "西北": "NW",
}

#: Traffic-enforcement approach letters (Chicago's NB/SB/EB/WB) → the camera's azimuth.
#: A camera enforcing *northbound* traffic photographs vehicles coming towards it from
#: the south, so it faces south: NB → 180°, SB → 0°, EB → 270°, WB → 90°.
APPROACH_AZIMUTH: dict[str, float] = {
    "NB": 180.0, "SB": 0.0, "EB": 270.0, "WB": 90.0,
    "NEB": 225.0, "NWB": 135.0, "SEB": 315.0, "SWB": 45.0,
}

_RANGE = re.compile(r"^(.+?)\s*(?:-|–|—|~|to|到|至)\s*(.+)$")
_STRIP = re.compile(r"[°º˚]|DEGREES?|DEG|度|方向|朝|正|向$")


def _single(text: str) -> float:
    """Azimuth of one direction token; raise ``ValueError`` when it is not one."""
    token = _STRIP.sub("", text.strip().upper()).strip()
    if _is_number(token):
        value = float(token)
        if not math.isfinite(value):
            raise ValueError(text)
        return value % 360.0
    if any(ch.isdigit() for ch in token):
        raise ValueError(text)
    token = token.replace(" ", "").replace("-", "")
    token = _WORDS.get(token, token)
    if token in COMPASS_AZIMUTH:
        return COMPASS_AZIMUTH[token]
    if token in APPROACH_AZIMUTH:
        return APPROACH_AZIMUTH[token]
    raise ValueError(text)


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def parse_direction(text: object) -> tuple[float, float | None]:
    """Parse a camera direction into ``(azimuth_deg, hfov_deg or None)``.

    The azimuth is in degrees clockwise from north, in ``[0, 360)``.

    Rules
    -----
    * A number is an azimuth: ``"90"``, ``"90°"``, ``"-90"`` (= 270), ``"360"`` (= 0).
    * Compass points ``N``, ``NNE``, ``NE`` … ``NNW`` (22.5° apart), the words
      ``north`` … ``northwest`` and 北/东北/东/东南/南/西南/西/西北.
    * A range ``"a-b"`` (numbers or compass points; ``-``, ``–``, ``~``, ``to``, 到, 至)
      is the sector swept **clockwise from a to b**: the azimuth is its middle and
      the field of view its width. ``"90-270"`` → (180, 180); ``"270-90"`` → (0, 180);
      ``"0-360"`` → (180, 360) (a full circle).
    * Traffic approach letters (Chicago): a camera enforcing northbound traffic
      faces the oncoming vehicles, i.e. south. ``NB`` → 180, ``SB`` → 0,
      ``EB`` → 270, ``WB`` → 90 (and ``NEB`` → 225, ``NWB`` → 135, ``SEB`` → 315,
      ``SWB`` → 45); the field of view is unknown (None).
    * Several OSM values ``"0;180"``: the first is used.

    Raises
    ------
    DataError
        When the text is empty or none of the rules applies.

    Examples
    --------
    >>> parse_direction("NE")
    (45.0, None)
    >>> parse_direction("90-270")
    (180.0, 180.0)
    >>> parse_direction("NB")
    (180.0, None)
    """
    if text is None or (isinstance(text, float) and math.isnan(text)):
        raise DataError("empty direction; give degrees (0–360), a compass point or a range a-b.")
    if isinstance(text, (int, float, np.integer, np.floating)):
        return float(text) % 360.0, None
    raw = str(text).strip()
    first = raw.split(";")[0].strip()
    if not first:
        raise DataError("empty direction; give degrees (0–360), a compass point or a range a-b.")
    try:
        return _single(first), None
    except ValueError:
        pass
    match = _RANGE.match(first)
    if match:
        try:
            start, end = _single(match.group(1)), _single(match.group(2))
        except ValueError:
            pass
        else:
            width = (end - start) % 360.0 or 360.0
            return (start + width / 2.0) % 360.0, width
    raise DataError(
        f"cannot read direction {raw!r}; give degrees (0–360), a compass point (N, NNE…), "
        "a range such as 90-270, or an approach NB/SB/EB/WB."
    )


# --------------------------------------------------------------------------- Overpass

_AREA_KEYS = frozenset({
    "building", "building:part", "landuse", "leisure", "amenity", "natural", "place",
    "shop", "tourism", "man_made", "historic", "military", "aeroway", "public_transport",
    "parking", "water", "waterway", "boundary",
})
_LINEAR_VALUES = {
    "natural": {"coastline", "tree_row", "cliff", "ridge"},
    "man_made": {"pipeline", "embankment", "breakwater", "groyne", "cutline", "dyke"},
    "waterway": {"river", "stream", "canal", "drain", "ditch"},
    "boundary": {"administrative"},
}


def _is_area(tags: Mapping[str, str], closed: bool) -> bool:
    if not closed:
        return False
    area = tags.get("area")
    if area == "no":
        return False
    if area == "yes":
        return True
    for key in _AREA_KEYS.intersection(tags):
        if tags[key] not in _LINEAR_VALUES.get(key, ()):
            return True
    return False


def _way_coords(refs: Iterable[int], nodes: Mapping[int, tuple[float, float]]) -> list | None:
    coords = []
    for ref in refs:
        xy = nodes.get(ref)
        if xy is None:
            return None
        coords.append(xy)
    return coords


def _relation_geometry(members: list[dict], ways: Mapping[int, list | None]) -> Any:
    rings: dict[str, list] = {"outer": [], "inner": []}
    for m in members:
        if m.get("type") != "way":
            continue
        coords = ways.get(m.get("ref"))
        if coords is None:
            return None
        if len(coords) >= 2:
            rings["inner" if m.get("role") == "inner" else "outer"].append(shapely.LineString(coords))
    if not rings["outer"]:
        return None
    outer = shapely.union_all(shapely.get_parts(shapely.polygonize(rings["outer"])))
    if rings["inner"]:
        inner = shapely.union_all(shapely.get_parts(shapely.polygonize(rings["inner"])))
        outer = shapely.difference(outer, inner)
    return None if outer.is_empty else outer


def overpass_to_frame(elements: list[dict]) -> gpd.GeoDataFrame:
    """Build features from Overpass elements (see :func:`read_overpass`)."""
    nodes: dict[int, tuple[float, float]] = {}
    used: set[int] = set()
    for el in elements:
        if el.get("type") == "node" and "lat" in el and "lon" in el:
            nodes[el["id"]] = (float(el["lon"]), float(el["lat"]))
        elif el.get("type") == "way":
            used.update(el.get("nodes", ()))
    way_coords = {
        el["id"]: ([(float(p["lon"]), float(p["lat"])) for p in el["geometry"] if p]
                   if el.get("geometry") else _way_coords(el.get("nodes", ()), nodes))
        for el in elements if el.get("type") == "way"
    }  # "out geom" answers carry the coordinates; "out body" ones reference node ids
    records: list[dict[str, Any]] = []
    geoms: list[Any] = []
    for el in elements:
        kind = el.get("type")
        tags = el.get("tags") or {}
        if kind == "node":
            if not tags and el.get("id") in used:
                continue  # a way vertex, not a feature
            ok = "lat" in el and "lon" in el
            geoms.append(shapely.Point(float(el["lon"]), float(el["lat"])) if ok else None)
        elif kind == "way":
            coords = way_coords.get(el.get("id"))
            if coords is None or len(coords) < 2:
                geoms.append(None)
            elif _is_area(tags, coords[0] == coords[-1] and len(coords) >= 4):
                geoms.append(shapely.Polygon(coords))
            else:
                geoms.append(shapely.LineString(coords))
        elif kind == "relation":
            if tags.get("type") not in ("multipolygon", "boundary"):
                continue  # route/restriction relations are not features
            geoms.append(_relation_geometry(el.get("members", []), way_coords))
        else:
            continue
        records.append({"osm_type": kind, "osm_id": el.get("id"), **tags})
    frame = pd.DataFrame.from_records(records, columns=None if records else ["osm_type", "osm_id"])
    for col in frame.columns.drop(["osm_type", "osm_id"]):
        frame[col] = frame[col].astype(object).where(frame[col].notna(), "").astype(str)
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs="EPSG:4326").values,
                            crs="EPSG:4326")


def read_overpass(path: str | Path) -> gpd.GeoDataFrame:
    """Read an Overpass API answer into features in EPSG:4326.

    Parameters
    ----------
    path
        ``.json`` or ``.json.gz`` holding ``{"elements": [...]}`` (Overpass
        "out body" style, where ways reference node ids, or "out geom" style,
        where ways carry their coordinates) or a bare list of elements.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per feature with ``osm_type`` (node/way/relation), ``osm_id``,
        one text column per tag key (empty string when a feature lacks the tag)
        and the geometry: tagged or free-standing nodes → Point; ways →
        LineString, or Polygon when closed and area-like (``building``,
        ``landuse``, ``amenity``, ``area=yes``...; ``highway`` only with
        ``area=yes``); multipolygon relations → (Multi)Polygon. A way or
        relation whose nodes are missing from the answer gets an empty (None)
        geometry. Untagged nodes used by ways are vertices, not features.

    Raises
    ------
    ReadError
        When the file is not an Overpass answer.
    """
    from .readers import _check_file, _is_overpass, _load_json

    path = Path(path)
    _check_file(path)
    data = _load_json(path)
    if not _is_overpass(data):
        raise ReadError(path, 'not an Overpass answer (no "elements" list of nodes and ways)',
                        "export with [out:json] and 'out body;' from Overpass")
    elements = data["elements"] if isinstance(data, dict) else data
    return overpass_to_frame(elements)
