"""Lossless ingestion: any supported file → a clean layer + a report on every row.

:func:`read_layer` reads a file (see :mod:`gridmap.readers` for the formats),
finds its coordinates, converts them to WGS84 (EPSG:4326) from WGS84,
CGCS2000, any EPSG CRS, GCJ-02 or BD-09, maps its columns onto the data model
of :mod:`gridmap.schema` and returns an :class:`IngestResult`: the clean layer
``.data`` and an :class:`IngestReport` ``.report`` that accounts for **every
input row** as accepted, repaired (saying what was done) or rejected (saying
why). ``accepted + repaired + rejected == total`` always.

Coordinate rules (tables: CSV, Excel, JSON record lists)
--------------------------------------------------------
* Columns are found by name, any case, spaces/underscores ignored:
  longitude ``lon, lng, long, longitude, 经度, x``; latitude ``lat, latitude,
  纬度, y``; or given with ``lon=``/``lat=``. Failing that, a column of WKT
  (``POINT (x y)``, any geometry) or of ``(lat, lon)`` text (Socrata style).
* Numbers: a decimal comma (``22,5438``), degrees-minutes-seconds
  (``22°32'36"N``), hemisphere letters and full-width digits are read and
  reported as repairs. ``462.289.778`` (a locale thousands separator) is
  rejected as unparseable; when such values are common in a column, values
  with one three-digit group (``46.204``) are rejected as ambiguous too.
* Swapped order is fixed (and reported) when the values only make sense
  swapped (``|lat| > 90`` but ``|lon| <= 90``) or when the study area — or
  China, for GCJ-02/BD-09 input or data mostly in China — contains the
  swapped point but not the given one.
* Rejected: empty coordinates or the ``(0, 0)`` placeholder ("missing
  coordinate"), unreadable ones ("unparseable coordinate"), ones outside
  ±180/±90 ("out of range"), ones outside ``study_area`` ("outside study
  area"); later rows repeating an id ("duplicate id").
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from ._errors import CRSError, ReadError, SchemaError
from ._ingest_report import REASONS, IngestReport, IngestResult, _Ledger, _per_row
from ._parse import (
    _ONE_GROUP,
    _SOCRATA,
    LAT_NAMES,
    LON_NAMES,
    _dates,
    _directions,
    _find_column,
    _find_wkt,
    _infer_extra,
    _norm,
    _numeric,
    _parse_numbers,
    _text,
    _user_column,
    _vocab,
    _vocab_fit,
)
from .convert import ConvertSummary, convert_file
from .coords import out_of_china, transform_lonlat
from .crs import WGS84, parse_crs
from .datum import DatumCheck, detect_datum_offset
from .osm import CAMERA_TAGS
from .readers import RawTable, read_table
from .schema import LAYERS, LayerSpec

__all__ = [
    "REASONS",
    "ConvertSummary",
    "DatumCheck",
    "IngestReport",
    "IngestResult",
    "convert_file",
    "detect_datum_offset",
    "guess_kind",
    "ingest_frame",
    "read_layer",
]

_CHINA_BOX = shapely.box(73.5, 18.0, 135.1, 53.6)
_ID_PREFIX = {"grids": "grid", "cameras": "camera", "incidents": "incident", "places": "place"}
# Extra header spellings beyond schema.LAYERS[kind].aliases (normalised form).
_EXTRA_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "cameras": {"kind": ("typeofcamera",), "camera_id": ("osmid",)},
    "incidents": {"incident_id": ("osmid",)},
    "places": {"place_id": ("osmid",)},
    "grids": {"grid_id": ("osmid",)},
}
_NUMERIC = ("azimuth_deg", "hfov_deg", "range_m", "height_m", "weight", "tilt_deg")
_DATES = ("reported_at", "closed_at")
_TEXT_IDS = ("point_id", "gb28181_id", "district_code", "street_code", "community_code")


# --------------------------------------------------------------------------- coordinates


def _source(coords: str | None, crs: object) -> tuple[CRS | str | None, str]:
    """The user's coordinate system: a CRS, "gcj02"/"bd09", or None (not given)."""
    src_c = parse_crs(coords) if coords is not None else None
    src_k = parse_crs(crs) if crs is not None else None
    if (src_c is not None and src_k is not None and src_c != src_k
            and not (isinstance(src_c, str) and isinstance(src_k, CRS) and src_k.is_geographic)):
        raise CRSError(f"coords={coords!r} and crs={crs!r} disagree; pass only one of them.")
    src = src_c if src_c is not None else src_k
    if src is None:
        return None, ""
    label = src if isinstance(src, str) else (src.to_string() if src.to_epsg() is None
                                              else f"EPSG:{src.to_epsg()}")
    return src, label


def _swap_fix(x: np.ndarray, y: np.ndarray, ok: np.ndarray, ref: Any, led: _Ledger,
              label: str) -> tuple[np.ndarray, np.ndarray]:
    """Swap lon/lat where only the swapped pair makes sense; report it as ``label``."""
    rule_a = ok & (np.abs(y) > 90) & (np.abs(y) <= 180) & (np.abs(x) <= 90)
    rule_b = np.zeros_like(ok)
    if ref is not None:
        cand = ok & ~rule_a & (np.abs(x) <= 90) & (np.abs(y) <= 180)
        if cand.any():
            idx = np.flatnonzero(cand)
            inside = shapely.intersects_xy(ref, x[idx], y[idx])
            inside_sw = shapely.intersects_xy(ref, y[idx], x[idx])
            rule_b[idx[~inside & inside_sw]] = True
    swap = rule_a | rule_b
    if swap.any():
        pairs = np.fromiter(zip(x.tolist(), y.tolist(), strict=True), dtype=object, count=len(x))
        led.repair(swap, label, _per_row(
            swap, pairs, lambda p: f"{label}: ({p[0]:g}, {p[1]:g}) read as lon {p[1]:g}, lat {p[0]:g}"))
        x, y = np.where(swap, y, x), np.where(swap, x, y)
    return x, y


def _range_check(x: np.ndarray, y: np.ndarray, ok: np.ndarray, led: _Ledger,
                 raw: tuple[pd.Series, pd.Series] | None) -> None:
    bad = ok & ~((np.abs(x) <= 180) & (np.abs(y) <= 90))
    if bad.any():
        details = np.full(len(x), "", dtype=object)
        for i in np.flatnonzero(bad):
            what = (f"latitude {y[i]:g} is outside -90..90" if abs(y[i]) > 90
                    else f"longitude {x[i]:g} is outside -180..180")
            if raw is not None:
                texts = [str(raw[0].iat[i]), str(raw[1].iat[i])]
                if any(_ONE_GROUP.match(t) for t in texts):
                    what += " (the text may use '.' as a thousands separator)"
            details[i] = f"out of range: {what}"
        led.reject(bad, "out of range", details)
    zero = ok & (x == 0) & (y == 0)
    led.reject(zero, "missing coordinate", "missing coordinate: (0, 0) is a placeholder, not a place")


def _reference(study: Any, src: Any, x: np.ndarray, y: np.ndarray, ok: np.ndarray) -> Any:
    """What tells a swapped point: the study area, else China when the data say China."""
    if study is not None:
        return shapely.buffer(shapely.envelope(study), 0.1)
    if isinstance(src, str):
        return _CHINA_BOX
    if ok.any():
        inside = ~out_of_china(x[ok], y[ok]) | ~out_of_china(y[ok], x[ok])
        if inside.mean() > 0.5:
            return _CHINA_BOX
    return None


def _table_points(frame: pd.DataFrame, src: Any, lon: str | None, lat: str | None,
                  study: Any, led: _Ledger, path: str, notes: list[str]
                  ) -> tuple[np.ndarray, list[str]]:
    """Geometry for a table: (geometries, used columns). Points come out in WGS84; WKT
    geometries are still in the source coordinates (see :func:`_to_wgs84`)."""
    columns = [str(c) for c in frame.columns]
    lon_col = _user_column(columns, lon, path, "lon") if lon else _find_column(columns, LON_NAMES)
    lat_col = _user_column(columns, lat, path, "lat") if lat else _find_column(columns, LAT_NAMES)
    if lon_col is None or lat_col is None:
        found = _find_wkt(frame)
        if found is not None:
            return _wkt_points(frame, found, src, study, led, notes)
        which = "longitude" if lon_col is None else "latitude"
        flag = "lon" if lon_col is None else "lat"
        raise ReadError(path, f"no {which} column found; columns are {columns}",
                        f"pass --{flag} COLUMN ({flag}= in the library)")
    notes.append(f"coordinates from columns {lon_col!r} (longitude) and {lat_col!r} (latitude)")
    px, py = _parse_numbers(frame[lon_col]), _parse_numbers(frame[lat_col])
    missing = px.missing | py.missing
    names = np.where(px.missing & py.missing, "longitude and latitude are empty",
                     np.where(px.missing, "longitude is empty", "latitude is empty"))
    led.reject(missing, "missing coordinate", _per_row(missing, names, "missing coordinate: {}".format))
    bad = (py.problem != "") | (px.problem != "")
    pairs = np.fromiter(zip(py.problem, px.problem, strict=True), dtype=object, count=led.n)
    problems = _per_row(bad, pairs, lambda ab: "unparseable coordinate: " + "; ".join(
        p + f" (column {c})" for p, c in ((ab[0], lat_col), (ab[1], lon_col)) if p))
    led.reject(bad, "unparseable coordinate", problems)
    for part in (px, py):
        led.repair(part.repair != "", "number format read", part.repair)
    x, y = px.values, py.values
    geographic = src is None or isinstance(src, str) or src.is_geographic
    ok = led.alive & np.isfinite(x) & np.isfinite(y)
    if geographic:
        x, y = _swap_fix(x, y, ok, _reference(study, src, x, y, ok), led, "lat/lon swapped")
        _range_check(x, y, ok, led, (frame[lon_col], frame[lat_col]))
        if ok.any() and (led.reason[ok] == "out of range").mean() > 0.5:
            notes.append("most coordinates are beyond ±180/±90: the file is probably in a "
                         "projected CRS; pass crs=EPSG:N (--crs EPSG:N)")
    led.reject(led.alive & ~(np.isfinite(x) & np.isfinite(y)), "out of range",
               "out of range: coordinate is not finite")
    x, y = _xy_to_wgs84(x, y, src, led)
    geoms = np.full(led.n, None, dtype=object)
    alive = led.alive
    geoms[alive] = shapely.points(x[alive], y[alive])
    return geoms, [lon_col, lat_col]


def _xy_to_wgs84(x: np.ndarray, y: np.ndarray, src: Any, led: _Ledger
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Coordinate arrays in ``src`` → WGS84 lon/lat at the live rows."""
    alive = led.alive
    if src is None or not alive.any() or (isinstance(src, CRS) and src.equals(WGS84)):
        return x, y
    x, y = x.copy(), y.copy()
    if isinstance(src, str):
        x[alive], y[alive] = transform_lonlat(x[alive], y[alive], source=src, target="wgs84")
    else:
        from pyproj import Transformer

        x[alive], y[alive] = Transformer.from_crs(src, WGS84, always_xy=True).transform(
            x[alive], y[alive])
    led.reject(alive & ~(np.isfinite(x) & np.isfinite(y) & (np.abs(x) <= 180) & (np.abs(y) <= 90)),
               "out of range", f"out of range: the coordinates cannot be projected from {src}")
    return x, y


def _wkt_points(frame: pd.DataFrame, found: tuple[str, str], src: Any, study: Any,
                led: _Ledger, notes: list[str]) -> tuple[np.ndarray, list[str]]:
    """Geometry from a WKT column or a ``(lat, lon)`` text column."""
    col, style = found
    text = _text(frame[col])
    missing = text.isna().to_numpy()
    led.reject(missing, "missing geometry", f"missing geometry: column {col!r} is empty")
    cells = np.where(missing, None, text.to_numpy(object))
    if style == "latlon":
        notes.append(f"coordinates from column {col!r} read as '(latitude, longitude)'")
        parts = text.str.extract(_SOCRATA)
        y = pd.to_numeric(parts[0], errors="coerce").to_numpy("float64")
        x = pd.to_numeric(parts[1], errors="coerce").to_numpy("float64")
        geoms = np.full(led.n, None, dtype=object)
        readable = np.isfinite(x) & np.isfinite(y)
        label = "lat/lon swapped"
    else:
        notes.append(f"geometry from WKT column {col!r}")
        wkt = text.str.replace(r"^\s*SRID=\d+;\s*", "", regex=True)
        wkt = np.where(missing, None, wkt.to_numpy(object))
        geoms = shapely.from_wkt(wkt, on_invalid="ignore")
        x, y = shapely.get_x(geoms), shapely.get_y(geoms)  # NaN for non-points
        readable = ~shapely.is_missing(geoms)
        label = "POINT (lat lon) order detected"
    unreadable = ~missing & ~readable
    led.reject(unreadable, "unparseable geometry",
               _per_row(unreadable, cells, lambda c: f"unparseable geometry: {str(c)[:60]!r}"))
    point = led.alive & np.isfinite(x) & np.isfinite(y)
    if src is None or isinstance(src, str) or src.is_geographic:
        x, y = _swap_fix(x, y, point, _reference(study, src, x, y, point), led, label)
        _range_check(x, y, point, led, None)
    out = geoms.copy()
    keep = led.alive & point
    out[keep] = shapely.points(x[keep], y[keep])
    out[~led.alive] = None
    return out, [col]


def _to_wgs84(geoms: np.ndarray, src: Any, led: _Ledger) -> np.ndarray:
    """Source coordinates → WGS84 lon/lat (GCJ-02/BD-09 undone)."""
    alive = led.alive & ~shapely.is_missing(geoms)
    out = geoms.copy()
    if not alive.any() or src is None:
        return out
    if isinstance(src, str):
        def shift(xy: np.ndarray) -> np.ndarray:
            return np.column_stack(transform_lonlat(xy[:, 0], xy[:, 1], source=src, target="wgs84"))
        out[alive] = shapely.transform(geoms[alive], shift)
    elif not src.equals(WGS84):
        series = gpd.GeoSeries(geoms[alive], crs=src).to_crs(WGS84)
        out[alive] = series.values
    finite = np.ones(len(out), dtype=bool)
    finite[alive] = np.isfinite(shapely.bounds(out[alive])).all(axis=1)
    led.reject(alive & ~finite, "out of range",
               f"out of range: the coordinates cannot be projected from {src}")
    return out


def _degree_check(geoms: np.ndarray, led: _Ledger, notes: list[str]) -> None:
    """Reject shapes reaching beyond ±180/±90 once in WGS84 (e.g. metres labelled degrees)."""
    alive = led.alive & ~shapely.is_missing(geoms)
    if not alive.any():
        return
    bounds = shapely.bounds(geoms[alive])
    inside = ((np.abs(bounds[:, [0, 2]]) <= 180).all(axis=1)
              & (np.abs(bounds[:, [1, 3]]) <= 90).all(axis=1))
    bad = np.zeros(led.n, dtype=bool)
    bad[np.flatnonzero(alive)[~inside]] = True
    led.reject(bad, "out of range", "out of range: the shape reaches beyond ±180/±90 degrees")
    if (~inside).mean() > 0.5:
        notes.append("most shapes are beyond ±180/±90 degrees: the file's CRS is probably wrong "
                     "or missing; pass crs=EPSG:N (--crs EPSG:N)")


# --------------------------------------------------------------------------- kinds


_KIND_HINTS = {
    "cameras": ("camera", "cctv", "surveillance", "摄像", "监控", "视频", "点位", "alpr"),
    "incidents": ("incident", "event", "crime", "case", "carjack", "robbery", "theft", "事件",
                  "案件", "警情", "工单"),
    "places": ("poi", "place", "aed", "school", "hospital", "场所", "设施", "兴趣点"),
}
_GENERIC = frozenset({"id", "编号", "type", "类型", "类别", "category", "name", "名称", "code",
                      "state", "状态", "title", "date", "time", "datetime", "distance", "range",
                      "height", "street", "district", "community", "osmid"})


def guess_kind(columns: list[str], geom_types: list[str], *, name: str = "") -> tuple[str, str]:
    """Guess the layer kind from geometry types, column names and the file name.

    Returns
    -------
    (kind, why)
        ``why`` is a sentence for the report.

    Raises
    ------
    SchemaError
        When the geometries are lines (no layer kind holds lines).
    """
    types = Counter(t for t in geom_types if t)
    if types:
        top = types.most_common(1)[0][0]
        if "Polygon" in top:
            return "grids", f"kind guessed: grids ({top} geometries)"
        if "LineString" in top:
            raise SchemaError(f"{name}: {top} geometries match no layer kind (grids need polygons; "
                              "cameras, incidents and places need points); pass kind= (--kind).")
    scores: dict[str, list[str]] = {k: [] for k in ("cameras", "incidents", "places")}
    normed = {_norm(c): str(c) for c in columns}
    for kind in scores:
        spec = LAYERS[kind]
        specific = {_norm(a) for col in spec.columns for a in (col, *spec.aliases.get(col, ()))}
        specific -= _GENERIC
        if kind == "cameras":
            specific |= {_norm(k) for k in CAMERA_TAGS if k not in ("height",)}
        scores[kind] = [normed[c] for c in normed if c in specific or c.removeprefix("tags")
                        in specific or (kind == "cameras" and "approach" in c)]
    stem = _norm(Path(name).name)
    for kind, hints in _KIND_HINTS.items():
        if any(h in stem for h in hints):
            scores[kind].append(f"file name {Path(name).name!r}")
    best = max(scores, key=lambda k: (len(scores[k]), k == "places"))
    if not scores[best]:
        return "places", "kind guessed: places (points, no camera or incident columns)"
    return best, f"kind guessed: {best} (from {', '.join(map(repr, scores[best][:4]))})"


# --------------------------------------------------------------------------- columns


def _column_map(attrs: pd.DataFrame, spec: LayerSpec, explicit: Mapping[str, str],
                osm: bool, notes: list[str]) -> dict[str, str]:
    """Source column → data-model column.

    Explicit renames first, then OSM camera tags, then the schema's header
    aliases (exact name first). A vocabulary column found through an alias
    must hold mostly vocabulary values, else the next candidate is tried.
    """
    columns = [str(c) for c in attrs.columns]
    mapping: dict[str, str] = dict(explicit)
    taken = set(mapping.values())
    if osm:
        for c in columns:
            dst = CAMERA_TAGS.get(c.lower().removeprefix("tags_").removeprefix("tags."))
            if dst and dst not in taken and c not in mapping:
                mapping[c] = dst
                taken.add(dst)
    extra = _EXTRA_ALIASES.get(spec.kind, {})
    for dst in spec.columns:
        if dst in taken:
            continue
        wanted = [_norm(dst)] + [_norm(a) for a in (*spec.aliases.get(dst, ()), *extra.get(dst, ()))]
        for name in wanted:
            hit = next((c for c in columns if _norm(c) == name and c not in mapping), None)
            if hit is None:
                continue
            if dst in spec.vocab and name != _norm(dst) and _vocab_fit(attrs[hit], spec.kind, dst) < 0.5:
                notes.append(f"column {hit!r} not used as {dst}: its values are not "
                             f"{list(spec.vocab[dst])}")
                continue
            mapping[hit] = dst
            taken.add(dst)
            break
    return mapping


def _ids(data: pd.DataFrame, spec: LayerSpec, led: _Ledger, original: pd.DataFrame) -> pd.Series:
    col = spec.id_column
    ids = _text(data[col]) if col in data else pd.Series(pd.NA, index=data.index, dtype="str")
    alive = led.alive
    missing = alive & ids.isna().to_numpy()
    if missing.any():
        existing = set(ids.dropna())
        prefix = _ID_PREFIX[spec.kind]
        idx = np.flatnonzero(missing)
        new = (f"{prefix}-" + pd.Series(idx + 1).astype(str)).to_numpy(object)
        for j in np.flatnonzero([c in existing for c in new]):  # rare: the name is taken
            k = 1
            while f"{new[j]}-{k}" in existing:
                k += 1
            new[j] = f"{new[j]}-{k}"
        ids = ids.astype(object)
        ids.iloc[idx] = new
        ids = ids.astype("str")
        led.repair(missing, "id generated",
                   _per_row(missing, ids.to_numpy(object), f"{col} generated: {{}}".format))
    dup = alive & ids.duplicated(keep=False).to_numpy()
    if dup.any():
        idx = np.flatnonzero(dup)
        first = pd.Series(idx).groupby(ids.to_numpy(object)[idx]).transform("min").to_numpy()
        rows = pd.DataFrame(original.iloc[idx]).astype(str)  # geometry as WKT
        hashes = pd.util.hash_pandas_object(rows, index=False).to_numpy()
        row_hash = dict(zip(idx, hashes, strict=True))
        later = np.zeros(led.n, dtype=bool)
        later[idx[idx != first]] = True
        details = np.full(led.n, "", dtype=object)
        for i, j in zip(idx, first, strict=True):
            if i != j:
                details[i] = (f"duplicate id: {ids.iat[i]!r} first at row {j + 1}"
                              + ("; the whole record repeats it" if row_hash[i] == row_hash[j] else ""))
        led.reject(later, "duplicate id", details)
    return ids


# --------------------------------------------------------------------------- main path


def _study_area(study: Any, path: str) -> Any:
    if study is None:
        return None
    if isinstance(study, (str, Path)):
        table = read_table(study)
        if not table.is_spatial:
            raise ReadError(study, "study area file has no geometry", "pass a polygon layer")
        study = table.frame
    if isinstance(study, (gpd.GeoDataFrame, gpd.GeoSeries)):
        if study.crs is None:
            raise CRSError("study_area has no CRS; set one with set_crs('EPSG:4326').")
        geom = shapely.union_all(study.to_crs(WGS84).geometry.values)
    elif isinstance(study, shapely.Geometry):
        geom = study
    elif hasattr(study, "__geo_interface__"):
        geom = shapely.geometry.shape(study)
    else:
        raise TypeError(f"study_area must be a polygon, GeoDataFrame or file, not {type(study)}")
    if geom.is_empty:
        raise SchemaError(f"{path}: study_area is empty; pass the area's polygon(s).")
    shapely.prepare(geom)
    return geom


def _vector_geometry(frame: gpd.GeoDataFrame, src: Any, label: str, study: Any, led: _Ledger,
                     path: str, notes: list[str]) -> tuple[np.ndarray, Any]:
    geoms = shapely.force_2d(frame.geometry.values.to_numpy() if hasattr(
        frame.geometry.values, "to_numpy") else np.asarray(frame.geometry.values))
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    led.reject(missing, "missing geometry", "missing geometry: the record has no shape")
    file_crs = frame.crs
    if isinstance(src, CRS):
        if file_crs is not None and not file_crs.equals(src):
            notes.append(f"file CRS {file_crs.to_string()} overridden by {label}")
        use: Any = src
    elif isinstance(src, str):
        if file_crs is not None and not file_crs.is_geographic:
            raise CRSError(f"{path}: coords={src!r} needs longitude/latitude but the file is in "
                           f"{file_crs.to_string()}; convert it to EPSG:4326 first.")
        use = src
    elif file_crs is not None:
        use = file_crs
    else:
        bounds = shapely.total_bounds(geoms[~missing]) if (~missing).any() else np.zeros(4)
        if np.all(np.abs(bounds[[0, 2]]) <= 180) and np.all(np.abs(bounds[[1, 3]]) <= 90):
            notes.append("the file has no CRS; longitude/latitude (WGS84) assumed")
            use = WGS84
        else:
            raise ReadError(path, "has no CRS and its coordinates are not degrees",
                            "pass crs=EPSG:N (--crs EPSG:N) with the file's projection")
    if isinstance(use, CRS):
        notes.append(f"coordinates in {use.to_string() if use.to_epsg() is None else f'EPSG:{use.to_epsg()}'}")
    else:
        notes.append(f"coordinates in {use}, converted to WGS84")
    points = led.alive & (shapely.get_type_id(geoms) == 0)
    if points.any() and (isinstance(use, str) or use.is_geographic):
        x, y = shapely.get_x(geoms), shapely.get_y(geoms)
        x, y = _swap_fix(x, y, points, _reference(study, use, x, y, points), led, "lat/lon swapped")
        _range_check(x, y, points, led, None)
        geoms = geoms.copy()
        fix = points & led.alive
        geoms[fix] = shapely.points(x[fix], y[fix])
    return geoms, use


_TYPE_NAMES = {0: "Point", 1: "LineString", 2: "LinearRing", 3: "Polygon", 4: "MultiPoint",
               5: "MultiLineString", 6: "MultiPolygon", 7: "GeometryCollection"}


def _polygonal(geom: Any) -> Any:
    """The polygonal part of a geometry, or None."""
    parts = [p for p in shapely.get_parts(geom) if shapely.get_type_id(p) in (3, 6)]
    merged = shapely.union_all(parts) if parts else None
    return None if merged is None or merged.is_empty else merged


def _fit_geometry(geoms: np.ndarray, kind: str, led: _Ledger) -> np.ndarray:
    """Check geometry types against the kind; make invalid polygons valid."""
    out = geoms.copy()
    alive = led.alive & ~shapely.is_missing(out)
    tid = np.where(alive, shapely.get_type_id(out), -1)
    if kind == "grids":
        coll = tid == 7
        if coll.any():
            out[coll] = [_polygonal(g) for g in out[coll]]
            ok = coll & ~shapely.is_missing(out)
            led.repair(ok, "geometry repaired", "polygons taken from a geometry collection")
            tid = np.where(ok, shapely.get_type_id(out), tid)
        expected, allowed = "Polygon", (3, 6)
    else:
        multi1 = alive & (tid == 4) & (shapely.get_num_geometries(out) == 1)
        if multi1.any():
            out[multi1] = shapely.get_geometry(out[multi1], 0)
            led.repair(multi1, "geometry repaired", "one-point MultiPoint read as a Point")
            tid = np.where(multi1, 0, tid)
        if kind == "places":
            area = alive & np.isin(tid, (3, 6))
            out[area] = shapely.point_on_surface(out[area])
            led.repair(area, "geometry repaired", "polygon replaced by a point inside it")
            tid = np.where(area, 0, tid)
        expected, allowed = "Point", (0,)
    wrong = alive & ~np.isin(tid, allowed)
    led.reject(wrong, "wrong geometry type", _per_row(
        wrong, tid, lambda t: f"wrong geometry type: {_TYPE_NAMES.get(int(t), t)} where "
                              f"{expected} expected"))
    if kind == "grids":
        poly = led.alive & np.isin(tid, allowed)
        invalid = poly.copy()
        invalid[poly] = ~shapely.is_valid(out[poly])
        if invalid.any():
            detail = np.full(len(out), "", dtype=object)
            detail[invalid] = [f"invalid polygon made valid ({w})"
                               for w in shapely.is_valid_reason(out[invalid])]
            out[invalid] = [_polygonal(g) for g in shapely.make_valid(out[invalid])]
            lost = invalid & shapely.is_missing(out)
            led.reject(lost, "wrong geometry type", "invalid polygon with no area once made valid")
            led.repair(invalid & ~lost, "invalid polygon made valid", detail)
    return out


def _ingest(raw: RawTable, *, name: str, kind: str | None, coords: str | None, crs: Any,
            lon: str | None, lat: str | None, columns: Mapping[str, str] | None,
            study_area: Any) -> IngestResult:
    frame = raw.frame
    n = len(frame)
    led = _Ledger(n)
    notes = list(raw.notes)
    if kind is not None and kind not in LAYERS:
        raise SchemaError(f"unknown layer kind {kind!r}; use one of {list(LAYERS)} "
                          "(population rasters are read with rasterio).")
    if raw.malformed:
        bad = np.zeros(n, dtype=bool)
        bad[list(raw.malformed)] = True
        details = np.full(n, "", dtype=object)
        for i, text in raw.malformed.items():
            details[i] = f"malformed line: {text}"
        led.reject(bad, "malformed line", details)
    explicit = dict(columns or {})
    src_cols = [str(c) for c in frame.columns]
    for src in explicit:
        if src not in src_cols:
            raise ReadError(name, f"columns= names {src!r} but the columns are {src_cols}",
                            "fix the mapping")
    if len(set(explicit.values())) < len(explicit):
        raise SchemaError(f"columns= maps two columns onto one: {explicit}; map each only once.")
    src, label = _source(coords, crs)
    if src is None and re.search(r"gcj|bd09|baidu|amap|gaode|高德|百度", Path(name).name, re.I):
        notes.append("the file name suggests GCJ-02/BD-09 coordinates; pass coords='gcj02' "
                     "(or 'bd09') if so")
    study = _study_area(study_area, name)
    if raw.is_spatial:
        geoms, use = _vector_geometry(frame, src, label, study, led, name, notes)
        used = [frame.geometry.name]
    else:
        geoms, used = _table_points(frame, src, lon, lat, study, led, name, notes)
        use = src if len(used) == 1 else None  # a WKT column still needs converting
        if src is None:
            notes.append("coordinates in WGS84 (assumed; pass coords= or crs= otherwise)")
        else:
            notes.append(f"coordinates in {label}" + ("" if isinstance(src, CRS) and src.equals(WGS84)
                                                      else ", converted to WGS84"))
    geoms = _to_wgs84(geoms, use, led)
    _degree_check(geoms, led, notes)
    guessed = kind is None
    if kind is None:  # from the geometry types, the columns and the file name
        types = shapely.get_type_id(geoms[led.alive & ~shapely.is_missing(geoms)])
        kind, why = guess_kind(src_cols, [_TYPE_NAMES.get(int(t), "") for t in types], name=name)
        notes.append(why)
    spec = LAYERS[kind]
    geoms = _fit_geometry(geoms, kind, led)
    if study is not None:
        alive = led.alive & ~shapely.is_missing(geoms)
        outside = alive & ~shapely.intersects(study, np.where(alive, geoms, None))
        led.reject(outside, "outside study area", "outside study area")
    attrs = pd.DataFrame(frame.drop(columns=used)) if used else pd.DataFrame(frame)
    data = _attributes(attrs, spec, explicit, geoms, led, notes, original=frame)
    records, repairs = led.finish()
    keep = led.alive
    out = gpd.GeoDataFrame(data.loc[keep].reset_index(drop=True),
                           geometry=gpd.GeoSeries(geoms[keep], crs=WGS84).values, crs=WGS84)
    report = IngestReport(file=name, kind=kind, records=records, original=frame.copy(deep=False),
                          notes=notes, kind_guessed=guessed, repairs=repairs)
    return IngestResult(out, report)


def _attributes(attrs: pd.DataFrame, spec: LayerSpec, explicit: Mapping[str, str],
                geoms: np.ndarray, led: _Ledger, notes: list[str], *,
                original: pd.DataFrame) -> pd.DataFrame:
    """The data-model columns (typed, normalised, defaulted), then the other columns as they were."""
    kind = spec.kind
    mapping = _column_map(attrs, spec, explicit, osm=kind == "cameras", notes=notes)
    data = pd.DataFrame(index=attrs.index)
    extras: dict[str, pd.Series] = {}
    for col in attrs.columns:
        dst = mapping.get(str(col))
        series = attrs[col]
        if dst is None:
            extras[str(col)] = _infer_extra(series)
            continue
        if dst in spec.vocab:
            series = _vocab(series, kind, dst, led)
        elif dst in _NUMERIC and dst != "azimuth_deg":  # directions are parsed below
            series = _numeric(series, dst, led)
        elif dst in _DATES:
            series = _dates(series, dst, led, notes)
        elif dst in spec.columns:
            series = _text(series)
        data[dst] = series
        if str(col) != dst:
            notes.append(f"column {col!r} → {dst}")
    if kind == "cameras":
        approach = [c for c in attrs.columns if "approach" in _norm(c)]
        if "azimuth_deg" not in data and approach:
            data["azimuth_deg"] = attrs[approach[0]]
            notes.append(f"azimuth_deg from traffic approach column {approach[0]!r} "
                         "(NB→180°, SB→0°, EB→270°, WB→90°: the camera faces oncoming traffic)")
        if "azimuth_deg" in data:
            data["azimuth_deg"] = _directions(data["azimuth_deg"], data, led)
    data[spec.id_column] = _ids(data, spec, led, original)
    _fill_defaults(data, spec, geoms, led, notes)
    ordered = [*spec.columns, *[c for c in data.columns if c not in spec.columns]]
    rename = {c: f"{c}_source" for c in extras if c in data or c == "geometry"}
    if rename:
        notes.append(f"columns renamed to keep them beside the data model: {rename}")
    extra = pd.DataFrame(extras, index=data.index).rename(columns=rename)
    return pd.concat([data[ordered], extra], axis=1)


def _fill_defaults(data: pd.DataFrame, spec: LayerSpec, geoms: np.ndarray, led: _Ledger,
                   notes: list[str]) -> None:
    """Add the absent data-model columns (in place on the working frame)."""
    kind = spec.kind
    defaults: dict[str, Any] = {"cameras": {"status": "unknown"},
                                "incidents": {"weight": 1.0}}.get(kind, {})
    for col in spec.columns:
        if col in data:
            continue
        if col in _DATES:
            data[col] = pd.Series(pd.NaT, index=data.index, dtype="datetime64[ns]")
        elif col in _NUMERIC:
            data[col] = pd.Series(defaults.get(col, np.nan), index=data.index, dtype="float64")
        else:
            data[col] = pd.Series(defaults.get(col), index=data.index, dtype="str")
        if col in defaults:
            notes.append(f"no {col} column: set to {defaults[col]!r}")
    if kind == "incidents" and (gap := led.alive & data["weight"].isna().to_numpy()).any():
        data["weight"] = data["weight"].fillna(1.0)
        notes.append(f"weight empty in {int(gap.sum())} rows: set to 1")
    if kind == "cameras" and (led.alive & data["point_id"].isna().to_numpy()).any():
        data["point_id"] = _point_ids(data["point_id"], geoms, led.alive)
        notes.append("point_id missing: cameras at the same location share a derived point id")


def _point_ids(point_id: pd.Series, geoms: np.ndarray, alive: np.ndarray) -> pd.Series:
    """Fill missing point ids: cameras within the same 1e-5° cell share one (pt-ROW)."""
    out = point_id.astype(object).copy()
    todo = alive & point_id.isna().to_numpy()
    if todo.any():
        idx = np.flatnonzero(todo)
        xy = np.round(shapely.get_coordinates(geoms[todo]), 5)
        _, first, inverse = np.unique(xy, axis=0, return_index=True, return_inverse=True)
        out.iloc[idx] = [f"pt-{r}" for r in idx[first[inverse.ravel()]] + 1]
    return out.astype("str")


def read_layer(
    path: str | Path,
    *,
    kind: str | None = None,
    coords: str | None = None,
    crs: str | int | CRS | None = None,
    lon: str | None = None,
    lat: str | None = None,
    columns: Mapping[str, str] | None = None,
    study_area: Any = None,
    layer: str | int | None = None,
    sheet: str | int | None = None,
    encoding: str | None = None,
) -> IngestResult:
    """Read a file into a clean layer in EPSG:4326, accounting for every row.

    Parameters
    ----------
    path
        CSV/TXT, Excel, GeoJSON, GeoPackage, Shapefile (also zipped),
        GeoParquet, Overpass JSON or a JSON list of records.
    kind
        ``grids``, ``cameras``, ``incidents`` or ``places``; guessed from the
        geometry, the columns and the file name when omitted (and reported).
    coords
        ``wgs84``, ``gcj02`` or ``bd09``: the datum of longitude/latitude input.
    crs
        Any CRS (``EPSG:4549``, ``cgcs2000``...) the coordinates are in; for
        vector files it overrides the file's own CRS.
    lon, lat
        Coordinate column names of a table (default: detected).
    columns
        Explicit renames ``{"source column": "data-model column"}``, applied
        before the automatic header aliases.
    study_area
        Polygon (EPSG:4326), GeoDataFrame/GeoSeries or file: rows outside are
        rejected as "outside study area"; it also helps detect swapped lon/lat.
    layer, sheet, encoding
        Passed to :func:`gridmap.readers.read_table`.

    Returns
    -------
    IngestResult
        ``.data`` (GeoDataFrame in EPSG:4326: the data-model columns first,
        then the other source columns untouched) and ``.report``.

    Raises
    ------
    ReadError
        The file cannot be read at all (one message: file, problem, fix).
    """
    raw = read_table(path, layer=layer, sheet=sheet, encoding=encoding,
                     prefer_layers=(kind,) if kind else tuple(LAYERS))
    return _ingest(raw, name=str(path), kind=kind, coords=coords, crs=crs, lon=lon, lat=lat,
                   columns=columns, study_area=study_area)


def ingest_frame(
    frame: pd.DataFrame,
    *,
    kind: str | None = None,
    coords: str | None = None,
    crs: str | int | CRS | None = None,
    lon: str | None = None,
    lat: str | None = None,
    columns: Mapping[str, str] | None = None,
    study_area: Any = None,
    name: str = "<frame>",
) -> IngestResult:
    """Ingest an in-memory table or GeoDataFrame exactly as :func:`read_layer` would a file.

    ``frame`` is not modified. A GeoDataFrame uses its geometry and CRS; a
    DataFrame needs coordinate columns (or a WKT column).
    """
    frame = frame.rename(columns=str).reset_index(drop=True)  # a copy; column names as text
    if isinstance(frame, gpd.GeoDataFrame):
        raw = RawTable(frame, Path(name), "vector")
    else:
        raw = RawTable(pd.DataFrame(frame), Path(name), "records")
    return _ingest(raw, name=name, kind=kind, coords=coords, crs=crs, lon=lon, lat=lat,
                   columns=columns, study_area=study_area)
