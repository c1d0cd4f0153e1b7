"""Reading the cells of source tables: numbers, directions, dates, vocabularies, headers.

The column readers of :mod:`gridmap.ingest` (and the coordinate reading of
:mod:`gridmap.convert`). Each reader takes a column as the file gave it and
returns typed values; what it repaired or could not read is written per row
to the ingest's ``_Ledger`` (see :mod:`gridmap._ingest_report`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._errors import ReadError
from ._ingest_report import _Ledger, _per_row
from .osm import parse_direction
from .schema import LAYERS

__all__ = [
    "LAT_NAMES",
    "LON_NAMES",
    "_MISSING",
    "_ONE_GROUP",
    "_SOCRATA",
    "_dates",
    "_directions",
    "_find_column",
    "_find_wkt",
    "_infer_extra",
    "_norm",
    "_numeric",
    "_parse_numbers",
    "_text",
    "_user_column",
    "_vocab",
    "_vocab_fit",
]

LON_NAMES = ("lon", "lng", "long", "longitude", "经度", "x")
LAT_NAMES = ("lat", "latitude", "纬度", "y")
_WKT_NAMES = ("geometry", "wkt", "geom", "thegeom", "shape", "location", "point", "坐标", "位置")
_MISSING = frozenset({"", "na", "n/a", "nan", "null", "none", "(empty)", "-", "—", "--", "#n/a"})

# Vocabulary synonyms: canonical value → spellings (normalised: lower case, no spaces/_/-).
_SYNONYMS: dict[tuple[str, str], dict[str, tuple[str, ...]]] = {
    ("cameras", "kind"): {
        "bullet": ("fixed", "box", "枪机", "枪式", "枪型", "筒机", "固定", "固定式", "卡口"),
        "dome": ("固定球", "定焦球", "球型"),
        "ptz": ("panning", "pan", "speeddome", "球机", "高速球", "快球", "云台", "智能球", "ptz球机"),
        "hemisphere": ("半球", "minidome", "fisheye", "鱼眼", "全景", "panoramic", "360"),
        "other": ("其他", "其它", "webcam"),
    },
    ("cameras", "status"): {
        "online": ("在线", "正常", "启用", "运行", "active", "up", "on", "1", "true", "yes"),
        "offline": ("离线", "故障", "停用", "断线", "损坏", "inactive", "down", "off", "0",
                    "false", "no", "broken"),
        "planned": ("规划", "计划", "拟建", "在建", "待建", "proposed", "construction"),
        "unknown": ("未知", "不详"),
    },
    ("incidents", "status"): {
        "reported": ("上报", "已上报", "受理", "已受理", "待受理", "立案", "待派遣", "open", "new"),
        "dispatched": ("派遣", "已派遣", "派单", "已派单", "处置中", "办理中", "assigned",
                       "inprogress"),
        "handled": ("处置", "已处置", "处置完成", "已办理", "待核查", "resolved"),
        "closed": ("结案", "已结案", "办结", "已办结", "关闭", "已关闭", "归档", "done"),
    },
    ("grids", "zone"): {
        "urban": ("城市", "城镇", "城区", "市区", "城", "town", "city"),
        "rural": ("农村", "乡村", "村", "乡镇", "countryside", "village"),
    },
}
# What an unknown vocabulary value becomes (None = left empty).
_VOCAB_FALLBACK = {("cameras", "kind"): "other", ("cameras", "status"): "unknown"}


def _norm(name: object) -> str:
    """Header/value normal form: lower case, no spaces, underscores or hyphens."""
    return re.sub(r"[\s_\-]+", "", str(name)).lower()


# --------------------------------------------------------------------------- numbers

_THOUSANDS = re.compile(r"^[-+]?\d{1,3}(?:\.\d{3}){2,}$")
_ONE_GROUP = re.compile(r"^[-+]?\d{1,3}\.\d{3}$")
_DECIMAL_COMMA = re.compile(r"^[-+]?\d+,\d+$")
_COMMA_THOUSANDS = re.compile(r"^[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_DMS = re.compile(
    r"^([NSEW东西南北])?\s*([-+]?\d+(?:\.\d+)?)\s*[°度:]\s*(?:(\d+(?:\.\d+)?)\s*['′分:]?\s*)?"
    r"(?:(\d+(?:\.\d+)?)\s*(?:\"|″|''|秒)?)?\s*([NSEW东西南北])?$", re.IGNORECASE)
_HEMI = re.compile(r"^([NSEW东西南北])?\s*([-+]?\d+(?:\.\d+)?)\s*°?\s*([NSEW东西南北])?$", re.IGNORECASE)
_NEGATIVE = frozenset("SW西南")


def _one_number(text: str) -> tuple[float, str, str]:
    """Parse one cell that ``float`` could not: (value, repair, problem)."""
    if text.isascii() and _is_float(text) and float(text) == float(text):
        return float(text), "", ""
    quoted = repr(text)
    if _THOUSANDS.match(text) or _COMMA_THOUSANDS.match(text):
        return np.nan, "", f"{quoted} looks like a number with thousands separators"
    if _DECIMAL_COMMA.match(text):
        return float(text.replace(",", ".")), f"decimal comma in {quoted} read as a point", ""
    folded = unicodedata.normalize("NFKC", text).strip()
    if folded != text:
        value, repair, problem = _one_number(folded) if not _is_float(folded) else (
            float(folded), "", "")
        if not problem:
            return value, repair or f"full-width characters in {quoted} read", ""
    for pattern, what in ((_HEMI, "hemisphere letter"), (_DMS, "degrees-minutes-seconds")):
        m = pattern.match(text)
        if not m:
            continue
        groups = m.groups()
        hemi = (groups[0] or groups[-1] or "").upper()
        if pattern is _HEMI:
            if not hemi:
                continue
            value = float(groups[1])
        else:
            value = float(groups[1]) + float(groups[2] or 0) / 60 + float(groups[3] or 0) / 3600
        if hemi in _NEGATIVE:
            value = -abs(value)
        return value, f"{what} {quoted} read as {value:.6f}", ""
    return np.nan, "", f"{quoted} is not a number"


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@dataclass
class _Parsed:
    values: np.ndarray
    missing: np.ndarray
    problem: np.ndarray  # "" or the reason text
    repair: np.ndarray  # "" or what was done


def _parse_numbers(series: pd.Series) -> _Parsed:
    """Parse a column of numbers written as text, diagnosing what cannot be read."""
    n = len(series)
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        values = series.to_numpy(dtype="float64", na_value=np.nan)
        empty = np.full(n, "", dtype=object)
        return _Parsed(values, np.isnan(values), empty, empty.copy())
    if series.dtype == object or not pd.api.types.is_string_dtype(series):
        series = series.astype(object).where(series.notna(), "").astype("str")
    text = series.fillna("")
    values = np.array(pd.to_numeric(text, errors="coerce"), dtype="float64")
    missing = np.zeros(n, dtype=bool)
    problem = np.full(n, "", dtype=object)
    repair = np.full(n, "", dtype=object)
    todo = np.isnan(values)  # empty, "nan", "n/a", "120°E", "462.289.778"...
    if todo.any():
        idx = np.flatnonzero(todo)
        cells = text.iloc[idx].str.strip()
        empty = cells.str.lower().isin(_MISSING).to_numpy()
        missing[idx[empty]] = True
        idx, cells = idx[~empty], cells[~empty]
        uniq = {t: _one_number(t) for t in pd.unique(cells)}
        for i, t in zip(idx, cells, strict=True):
            values[i], repair[i], problem[i] = uniq[t]
    present = ~missing
    if (problem != "").any() and text[present].str.strip().str.match(_THOUSANDS).mean() >= 0.1:
        # A locale-mangled column: "46.204" may be 46204 or 46.204…; reject it too.
        ambiguous = present & text.str.strip().str.match(_ONE_GROUP).to_numpy() & (problem == "")
        for i in np.flatnonzero(ambiguous):
            problem[i] = (f"{text.iat[i].strip()!r} is ambiguous: this column writes numbers with '.' "
                          "thousands separators")
            values[i] = np.nan
    return _Parsed(values, missing, problem, repair)


# --------------------------------------------------------------------------- coordinate columns


def _find_column(columns: list[str], names: tuple[str, ...]) -> str | None:
    by_norm: dict[str, str] = {}
    for c in columns:
        by_norm.setdefault(_norm(c), c)
    for name in names:
        if name in by_norm:
            return by_norm[name]
    # Second pass: a keyword as one token of a longer header ("lng_gcj02", "wgs84 lat").
    words = [n for n in names if n not in ("x", "y")]
    hits = [c for c in columns
            if any(w in re.split(r"[\s_\-()（）.:/]+", str(c).lower()) for w in words)]
    return hits[0] if len(hits) == 1 else None


def _user_column(columns: list[str], name: str, path: str, flag: str) -> str:
    if name in columns:
        return name
    for c in columns:
        if _norm(c) == _norm(name):
            return c
    raise ReadError(path, f"no column {name!r}; columns are {columns}", f"pass --{flag} COLUMN")


_SOCRATA = re.compile(r"^\(\s*([-+]?\d+(?:\.\d+)?)\s*,\s*([-+]?\d+(?:\.\d+)?)\s*\)$")
_WKT_START = re.compile(r"^\s*(SRID=\d+;\s*)?(POINT|MULTIPOINT|LINESTRING|MULTILINESTRING|POLYGON|"
                        r"MULTIPOLYGON|GEOMETRYCOLLECTION)\b", re.IGNORECASE)


def _find_wkt(frame: pd.DataFrame) -> tuple[str, str] | None:
    """A column of WKT or ``(lat, lon)`` text: (column, "wkt" | "latlon")."""
    cols = sorted(frame.columns, key=lambda c: (_norm(c) not in _WKT_NAMES, list(frame.columns).index(c)))
    for col in cols:
        s = frame[col]
        if not (s.dtype == object or pd.api.types.is_string_dtype(s)):
            continue
        sample = s.astype(str).str.strip()
        sample = sample[~sample.str.lower().isin(_MISSING)].head(200)
        if sample.empty:
            continue
        if sample.str.match(_WKT_START).mean() >= 0.8:
            return str(col), "wkt"
        if sample.str.match(_SOCRATA).mean() >= 0.8:
            return str(col), "latlon"
    return None


# --------------------------------------------------------------------------- columns


def _vocab_lookup(kind: str, column: str) -> dict[str, str]:
    lookup = {v: v for v in LAYERS[kind].vocab[column]}
    for canon, words in _SYNONYMS.get((kind, column), {}).items():
        lookup.update({_norm(w): canon for w in words})
    return lookup


def _vocab_fit(series: pd.Series, kind: str, column: str) -> float:
    """Share of non-empty values that normalise into the vocabulary."""
    text = _text(series).dropna()
    if text.empty:
        return 1.0
    lookup = _vocab_lookup(kind, column)
    codes, uniq = pd.factorize(text)
    fits = np.array([_norm(str(u).split(";")[0].strip()) in lookup for u in uniq])
    return float(fits[codes].mean())


def _text(series: pd.Series) -> pd.Series:
    """Cells as text with missing markers as NA; integral floats lose their ``.0``."""
    if pd.api.types.is_float_dtype(series):
        vals = series.to_numpy("float64", na_value=np.nan)
        integral = np.isfinite(vals) & (vals == np.round(vals)) & (np.abs(vals) < 2**53)
        out = series.astype(object).astype(str)
        out[integral] = vals[integral].astype(np.int64).astype(str)
        return out.where(series.notna()).astype("str")
    if series.dtype == object or not pd.api.types.is_string_dtype(series):
        series = series.astype(object).where(series.notna(), None).astype("str")
    text = series.str.strip()
    return text.where(~(text.isna() | text.str.lower().isin(_MISSING)))


def _vocab(series: pd.Series, kind: str, column: str, led: _Ledger) -> pd.Series:
    """Normalise a vocabulary column (在线 → online, fixed → bullet), reporting each change."""
    lookup = _vocab_lookup(kind, column)
    fallback = _VOCAB_FALLBACK.get((kind, column))
    text = _text(series)
    codes, uniq = pd.factorize(text)  # missing → -1, i.e. the last entry below
    canon = [lookup.get(_norm(str(u).split(";")[0].strip()), fallback) for u in uniq]
    values = np.array([*canon, None], dtype=object)[codes]
    changed = np.array([c != u for u, c in zip(uniq, canon, strict=True)] + [False])[codes]
    if changed.any():
        notes = np.array([f"{column} {u!r} → {c!r}" if c else f"{column} {u!r} unknown, left empty"
                          for u, c in zip(uniq, canon, strict=True)] + [""], dtype=object)
        led.repair(changed, "vocabulary normalised", notes[codes])
    return pd.Series(values, index=series.index, dtype="str")


def _numeric(series: pd.Series, column: str, led: _Ledger) -> pd.Series:
    text = _text(series) if not pd.api.types.is_numeric_dtype(series) else series
    if pd.api.types.is_numeric_dtype(text):
        values = text.to_numpy("float64", na_value=np.nan)
    else:
        cleaned = text.str.replace(r"(?i)\s*(m|米|metres?|meters?|°|度|deg)\s*$", "", regex=True)
        values = pd.to_numeric(cleaned, errors="coerce").to_numpy("float64")
        feet = text.str.match(r"(?i)^\s*[-+]?\d+(\.\d+)?\s*(ft|feet|')\s*$").fillna(False).to_numpy(bool)
        if feet.any():
            num = pd.to_numeric(text[feet].str.extract(r"([-+]?\d+(?:\.\d+)?)")[0])
            values[feet] = num.to_numpy("float64") * 0.3048
            led.repair(feet, "unit converted", f"{column}: feet converted to metres")
        bad = text.notna().to_numpy() & np.isnan(values)
        if column == "azimuth_deg" and bad.any():
            return pd.Series(values, index=series.index)  # the caller parses directions
        if bad.any():
            led.repair(bad, "value left empty",
                       _per_row(bad, text.to_numpy(object), f"{column} {{!r}} unreadable, left empty".format))
    if column in ("hfov_deg", "range_m", "height_m", "weight"):
        neg = values < 0
        if column == "hfov_deg":
            neg |= values > 360
        if neg.any():
            led.repair(neg, "value left empty", f"{column} out of range, left empty")
            values = np.where(neg, np.nan, values)
    return pd.Series(values, index=series.index, dtype="float64")


def _direction_or_none(text: str) -> tuple[float, float | None] | None:
    try:
        return parse_direction(text)
    except ValueError:
        return None


def _directions(series: pd.Series, frame: pd.DataFrame, led: _Ledger) -> pd.Series:
    """azimuth_deg from numbers or direction text; fills hfov_deg from ranges."""
    text = _text(series) if not pd.api.types.is_numeric_dtype(series) else None
    values = _numeric(series, "azimuth_deg", led).to_numpy("float64").copy()
    if text is not None and (todo := text.notna().to_numpy() & np.isnan(values)).any():
        idx = np.flatnonzero(todo)
        codes, uniq = pd.factorize(text.iloc[idx])
        got = [_direction_or_none(u) for u in uniq]
        readable = np.array([g is not None for g in got])[codes]
        values[idx] = np.array([g[0] if g else np.nan for g in got])[codes]
        fov = np.array([g[1] if g and g[1] is not None else np.nan for g in got])[codes]
        hfov = (frame["hfov_deg"].to_numpy("float64").copy() if "hfov_deg" in frame
                else np.full(len(values), np.nan))
        fill = np.isfinite(fov) & np.isnan(hfov[idx])
        hfov[idx[fill]] = fov[fill]
        said = np.array([f"direction {u!r} read as azimuth {g[0]:g}°" if g
                         else f"direction {u!r} unreadable, left empty"
                         for u, g in zip(uniq, got, strict=True)], dtype=object)[codes]
        said[fill] = said[fill] + np.array([f", field of view {v:g}°" for v in fov[fill]], object)
        details = np.full(len(values), "", dtype=object)
        details[idx] = said
        parsed = np.zeros(len(values), dtype=bool)
        parsed[idx] = readable
        led.repair(parsed, "direction parsed", details)
        led.repair(todo & ~parsed, "value left empty", details)
        if "hfov_deg" in frame or np.isfinite(hfov).any():
            frame["hfov_deg"] = hfov
    wrapped = np.isfinite(values) & ((values < 0) | (values > 360))
    led.repair(wrapped, "azimuth wrapped", "azimuth wrapped into 0–360")
    return pd.Series(np.mod(values, 360.0), index=series.index, dtype="float64")


def _to_datetime(text: pd.Series, fmt: str, notes: list[str], column: str) -> pd.Series:
    try:
        return pd.to_datetime(text, errors="coerce", format=fmt)
    except ValueError:  # mixed UTC offsets: only a common zone can hold them
        notes.append(f"{column} mixes time zones: converted to UTC")
        return pd.to_datetime(text, errors="coerce", format=fmt, utc=True)


def _dates(series: pd.Series, column: str, led: _Ledger, notes: list[str]) -> pd.Series:
    """Timestamps (dates without times are midnight; 2024年3月5日 read); unreadable → NaT."""
    if pd.api.types.is_datetime64_any_dtype(series):
        return series
    text = _text(series)
    cleaned = text.str.replace("年", "-").str.replace("月", "-").str.replace("日", " ").str.strip()
    out = _to_datetime(cleaned, "ISO8601", notes, column)
    todo = (cleaned.notna() & out.isna()).to_numpy()
    if todo.any():
        more = _to_datetime(cleaned[todo], "mixed", notes, column)
        if not out.notna().any():
            out = more.reindex(out.index)
        elif (more.dt.tz is None) == (out.dt.tz is None):  # else: left empty, and reported
            out[todo] = more
    bad = (cleaned.notna() & out.isna()).to_numpy()
    if bad.any():
        led.repair(bad, "value left empty",
                   _per_row(bad, text.to_numpy(object), f"{column} {{!r}} unreadable, left empty".format))
    return out


def _infer_extra(series: pd.Series) -> pd.Series:
    """An unknown text column stays text unless every value is a plain number."""
    if not (series.dtype == object or pd.api.types.is_string_dtype(series)):
        return series
    text = _text(series)
    present = text.dropna()
    if present.empty:
        return text
    leading_zero = present.str.match(r"^-?0\d").any() or present.str.len().max() > 15
    values = pd.to_numeric(present, errors="coerce")
    if leading_zero or values.isna().any():
        return text
    return pd.to_numeric(text, errors="coerce")
