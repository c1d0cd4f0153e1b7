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
import unicodedata
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from ._errors import CRSError, ReadError, SchemaError
from .coords import out_of_china, transform_lonlat
from .crs import WGS84, parse_crs
from .osm import CAMERA_TAGS, parse_direction
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

#: Rejection reasons (the keys of :attr:`IngestReport.reasons`).
REASONS = (
    "missing coordinate", "unparseable coordinate", "out of range", "outside study area",
    "duplicate id", "missing geometry", "unparseable geometry", "wrong geometry type",
    "malformed line",
)
LON_NAMES = ("lon", "lng", "long", "longitude", "经度", "x")
LAT_NAMES = ("lat", "latitude", "纬度", "y")
_WKT_NAMES = ("geometry", "wkt", "geom", "thegeom", "shape", "location", "point", "坐标", "位置")
_MISSING = frozenset({"", "na", "n/a", "nan", "null", "none", "(empty)", "-", "—", "--", "#n/a"})
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


# --------------------------------------------------------------------------- the report


@dataclass
class IngestReport:
    """Row accounting of one ingest.

    Attributes
    ----------
    file
        The file (or frame name) read.
    kind
        The layer kind produced.
    records
        One row per input record, in input order: ``row`` (1-based record
        number in the source, header excluded; a spreadsheet shows it as row
        ``row + 1``), ``status`` (accepted/repaired/rejected), ``reason``
        (rejection reason, one of :data:`REASONS`), ``detail`` (the rejection
        message) and ``repairs`` (what was repaired, ``"; "``-separated).
    original
        The source values, one row per record in the same order.
    notes
        File-level findings: coordinate columns, CRS, column mapping, guesses.
    kind_guessed
        True when the kind was not given but guessed (see ``notes``).
    repairs
        Repair kind → number of rows.
    """

    file: str
    kind: str
    records: pd.DataFrame
    original: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    kind_guessed: bool = False
    repairs: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Number of input records."""
        return len(self.records)

    def _count(self, status: str) -> int:
        return int((self.records["status"] == status).sum())

    @property
    def accepted(self) -> int:
        """Rows taken as they were."""
        return self._count("accepted")

    @property
    def repaired(self) -> int:
        """Rows kept after a repair."""
        return self._count("repaired")

    @property
    def rejected(self) -> int:
        """Rows left out, each with a reason."""
        return self._count("rejected")

    @property
    def reasons(self) -> dict[str, int]:
        """Rejection reason → number of rows."""
        rejected = self.records.loc[self.records["status"] == "rejected", "reason"]
        return {str(k): int(v) for k, v in rejected.value_counts().items()}

    def rejected_rows(self) -> pd.DataFrame:
        """The rejected records with ``row``, ``reason``, ``detail`` and their original values."""
        mask = (self.records["status"] == "rejected").to_numpy()
        left = self.records.loc[mask, ["row", "reason", "detail"]].reset_index(drop=True)
        orig = self.original.loc[mask].reset_index(drop=True)
        if isinstance(orig, gpd.GeoDataFrame):
            geom = orig.geometry.name
            orig = pd.DataFrame(orig).assign(**{geom: orig.geometry.to_wkt()})
        clash = [c for c in orig.columns if c in left.columns]
        orig = orig.rename(columns={c: f"{c}_original" for c in clash})
        return pd.concat([left, orig], axis=1)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (no per-row records)."""
        return {
            "file": self.file, "kind": self.kind, "total": self.total,
            "accepted": self.accepted, "repaired": self.repaired, "rejected": self.rejected,
            "reasons": self.reasons, "repairs": dict(self.repairs),
            "kind_guessed": self.kind_guessed, "notes": list(self.notes),
        }

    def summary(self, *, examples: int = 5) -> str:
        """A readable table of the counts, reasons, repairs and a few rejected rows."""
        lines = [f"{self.file}  [{self.kind}{' (guessed)' if self.kind_guessed else ''}]"]
        lines += [f"  note: {n}" for n in self.notes]
        width = max(len(str(self.total)), 1)
        lines.append(f"  {'total':<9}{self.total:>{width}}")
        lines.append(f"  {'accepted':<9}{self.accepted:>{width}}")
        lines.append(f"  {'repaired':<9}{self.repaired:>{width}}")
        lines += [f"      {v:>{width}}  {k}" for k, v in sorted(self.repairs.items(), key=lambda t: -t[1])]
        lines.append(f"  {'rejected':<9}{self.rejected:>{width}}")
        lines += [f"      {v:>{width}}  {k}" for k, v in self.reasons.items()]
        bad = self.records[self.records["status"] == "rejected"].head(examples)
        for row, detail in zip(bad["row"], bad["detail"], strict=True):
            lines.append(f"    row {row}: {detail}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


@dataclass(frozen=True)
class IngestResult:
    """A clean layer and its report; unpacks as ``data, report = read_layer(...)``."""

    data: gpd.GeoDataFrame
    report: IngestReport

    def __iter__(self) -> Iterator[Any]:
        yield self.data
        yield self.report


class _Ledger:
    """Per-row outcome bookkeeping; every mask has one entry per input row."""

    def __init__(self, n: int) -> None:
        self.n = n
        self._alive = np.ones(n, dtype=bool)
        self.reason = np.full(n, "", dtype=object)
        self.detail = np.full(n, "", dtype=object)
        self._repairs: list[tuple[np.ndarray, str, np.ndarray]] = []

    @property
    def alive(self) -> np.ndarray:
        return self._alive.copy()

    def reject(self, mask: np.ndarray, reason: str, detail: Any) -> None:
        mask = np.asarray(mask, dtype=bool) & self._alive
        if mask.any():
            self.reason[mask] = reason
            self.detail[mask] = detail[mask] if isinstance(detail, np.ndarray) else detail
            self._alive &= ~mask

    def repair(self, mask: np.ndarray, code: str, detail: Any) -> None:
        mask = np.asarray(mask, dtype=bool) & self._alive
        if mask.any():
            idx = np.flatnonzero(mask)
            text = detail[idx] if isinstance(detail, np.ndarray) else np.full(len(idx), detail, object)
            self._repairs.append((idx, code, text))

    def finish(self) -> tuple[pd.DataFrame, dict[str, int]]:
        """Per-row records and the number of rows per repair kind."""
        alive = self._alive
        texts = np.full(self.n, "", dtype=object)
        counts: dict[str, int] = {}
        chunks = [(i[alive[i]], c, t[alive[i]]) for i, c, t in self._repairs]
        chunks = [c for c in chunks if len(c[0])]
        for code in dict.fromkeys(c for _, c, _ in chunks):
            parts = [i for i, c, _ in chunks if c == code]  # each sorted and unique
            counts[code] = len(parts[0]) if len(parts) == 1 else len(np.unique(np.concatenate(parts)))
        if len(chunks) == 1:
            texts[chunks[0][0]] = chunks[0][2]
        elif chunks:
            idx = np.concatenate([c[0] for c in chunks])
            text = np.concatenate([c[2] for c in chunks]).astype(object)
            order = np.argsort(idx, kind="stable")
            idx, text = idx[order], text[order]
            rows, start, size = np.unique(idx, return_index=True, return_counts=True)
            joined = text[start].copy()
            for k in range(1, int(size.max())):
                more = size > k
                joined[more] = joined[more] + "; " + text[start[more] + k]
            texts[rows] = joined
        status = np.where(~alive, "rejected", np.where(texts != "", "repaired", "accepted"))
        records = pd.DataFrame({
            "row": np.arange(1, self.n + 1), "status": status,
            "reason": self.reason, "detail": self.detail, "repairs": texts,
        }).astype({"status": "str", "reason": "str", "detail": "str", "repairs": "str"})
        return records, counts


def _per_row(mask: np.ndarray, values: Any, fmt: Any) -> np.ndarray:
    """``fmt(value)`` at the rows in ``mask`` ("" elsewhere), formatted once per distinct value."""
    out = np.full(len(mask), "", dtype=object)
    idx = np.flatnonzero(mask)
    if len(idx):
        vals = np.asarray(values, dtype=object)[idx]
        codes, uniq = pd.factorize(vals, use_na_sentinel=False)
        out[idx] = np.array([fmt(u) for u in uniq], dtype=object)[codes]
    return out


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


# --------------------------------------------------------------------------- coordinates


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


# --------------------------------------------------------------------------- datum check


@dataclass(frozen=True)
class DatumCheck:
    """Outcome of :func:`detect_datum_offset`.

    Attributes
    ----------
    suspected
        True when the points fit the polygons clearly better after a datum shift.
    datum
        ``"gcj02"`` or ``"bd09"`` when suspected, else None.
    layer
        Which layer seems to be in ``datum``: ``"points"`` or ``"polygons"``.
    n_points
        Points tested (those in China).
    inside_as_given, inside_shifted
        Share of the points inside the polygons as given / after the best shift.
    moved_in, moved_out
        Points the shift moves into / out of the polygons (the test's evidence).
    p_value
        One-sided exact sign test of ``moved_in`` against ``moved_out``.
    offset_m
        Median distance between the given and the shifted points, in metres.
    message
        One sentence saying what was found and what to do.
    """

    suspected: bool
    datum: str | None
    layer: str | None
    n_points: int
    inside_as_given: float
    inside_shifted: float
    moved_in: int
    moved_out: int
    p_value: float
    offset_m: float
    message: str


_DATUM_NAMES = {"gcj02": "GCJ-02", "bd09": "BD-09"}
_SHIFTS = (  # (datum, layer in that datum, the shift applied to the points)
    ("gcj02", "points", "gcj02", "wgs84"),
    ("bd09", "points", "bd09", "wgs84"),
    ("gcj02", "polygons", "wgs84", "gcj02"),
    ("bd09", "polygons", "wgs84", "bd09"),
)


def detect_datum_offset(
    points: gpd.GeoDataFrame | gpd.GeoSeries,
    polygons: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    alpha: float = 0.01,
    min_moved: int = 5,
) -> DatumCheck:
    """Tell whether points and polygons in China are in different datums (WGS84 vs GCJ-02/BD-09).

    GCJ-02 and BD-09 shift coordinates by 300–700 m (BD-09 more), so points
    in one datum analysed with polygons in the other land in the wrong
    polygon near every boundary and fall outside the outer edge. The test
    shifts the points each way (points GCJ-02 → WGS84, BD-09 → WGS84, or
    WGS84 → GCJ-02/BD-09 when the polygons are the shifted layer) and
    counts the points the shift moves into the polygons' union against
    those it moves out. The best shift is flagged when the exact sign test
    on these counts has ``p < alpha`` and at least ``min_moved`` points move
    in. Points well inside large polygons carry no evidence either way; with
    too few points near the edges the result says so instead of guessing.

    Parameters
    ----------
    points
        Point layer (any CRS; used in longitude/latitude).
    polygons
        Polygon layer the points are analysed with.
    alpha
        Significance level of the sign test.
    min_moved
        Fewest points that must move inside for a finding.

    Returns
    -------
    DatumCheck
    """
    from scipy.stats import binomtest

    from .crs import metric_crs

    pts = points.to_crs(WGS84) if points.crs is not None else points
    pol = polygons.to_crs(WGS84) if polygons.crs is not None else polygons
    geoms = pts.geometry.values
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    x, y = shapely.get_x(geoms), shapely.get_y(geoms)
    china = ~out_of_china(x, y)
    x, y = x[china], y[china]
    n = len(x)
    if n == 0:
        return DatumCheck(False, None, None, 0, np.nan, np.nan, 0, 0, 1.0, 0.0,
                          "no points in China: GCJ-02/BD-09 offsets do not apply.")
    union = shapely.union_all(shapely.make_valid(pol.geometry.values))
    shapely.prepare(union)
    given = shapely.intersects_xy(union, x, y)
    best: tuple[float, int, int, tuple[str, str, str, str], np.ndarray, np.ndarray] | None = None
    evidence = 0
    for shift in _SHIFTS:
        sx, sy = transform_lonlat(x, y, source=shift[2], target=shift[3])
        moved = shapely.intersects_xy(union, sx, sy)
        m_in, m_out = int((moved & ~given).sum()), int((~moved & given).sum())
        evidence = max(evidence, m_in + m_out)
        p = binomtest(m_in, m_in + m_out, 0.5, alternative="greater").pvalue if m_in else 1.0
        if best is None or (p, -m_in) < (best[0], -best[1]):
            best = (p, m_in, m_out, shift, sx, sy)
    assert best is not None
    p, m_in, m_out, shift, sx, sy = best
    metric = metric_crs((float(np.median(x)), float(np.median(y))))
    a = gpd.GeoSeries(shapely.points(x, y), crs=WGS84).to_crs(metric).values
    b = gpd.GeoSeries(shapely.points(sx, sy), crs=WGS84).to_crs(metric).values
    offset = float(np.median(shapely.distance(a, b)))
    share_given = float(given.mean())
    share_shifted = float((given.sum() + m_in - m_out) / n)
    suspected = bool(p < alpha and m_in >= min_moved)
    datum, layer = shift[0], shift[1]
    if suspected:
        target = "points" if layer == "points" else "polygons"
        message = (f"the {layer} look {_DATUM_NAMES[datum]} against the other layer: "
                   f"{share_given:.1%} of {n} points fall inside the polygons as given, "
                   f"{share_shifted:.1%} after undoing a {offset:.0f} m {_DATUM_NAMES[datum]} "
                   f"offset (p = {p:.1g}); read the {target} with coords='{datum}'.")
    elif evidence < min_moved:
        message = (f"cannot tell: at most {evidence} of {n} points change polygon membership "
                   "under a GCJ-02/BD-09 shift (too few near the polygon edges).")
    else:
        message = (f"no datum offset found: {share_given:.1%} of {n} points fall inside the "
                   "polygons as given and no GCJ-02/BD-09 shift fits better.")
    return DatumCheck(suspected, datum if suspected else None, layer if suspected else None, n,
                      share_given, share_shifted, m_in, m_out, float(p), offset, message)


# --------------------------------------------------------------------------- conversion


@dataclass(frozen=True)
class ConvertSummary:
    """What :func:`convert_file` did: rows written, rows converted, rows left as they were."""

    path: Path
    rows: int
    converted: int
    unchanged: int
    problems: dict[str, int]


def _lonlat_pipeline(source: CRS | str, target: CRS | str) -> Any:
    """A function (x, y) → (x, y) from ``source`` to ``target`` through WGS84."""
    from pyproj import Transformer

    def run(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if isinstance(source, str):
            x, y = transform_lonlat(x, y, source=source, target="wgs84")
        elif not source.equals(WGS84):
            x, y = Transformer.from_crs(source, WGS84, always_xy=True).transform(x, y)
        if isinstance(target, str):
            return transform_lonlat(x, y, source="wgs84", target=target)
        if not target.equals(WGS84):
            return Transformer.from_crs(WGS84, target, always_xy=True).transform(x, y)
        return np.asarray(x, dtype="float64"), np.asarray(y, dtype="float64")

    return run


def _format_number(values: np.ndarray, digits: int) -> list[str]:
    return [np.format_float_positional(v, precision=digits, trim="-") for v in values]


def convert_file(
    src: str | Path,
    dst: str | Path,
    *,
    source: str | CRS | None,
    target: str | CRS,
    lon: str | None = None,
    lat: str | None = None,
    layer: str | int | None = None,
) -> ConvertSummary:
    """Convert a file's coordinates between WGS84, GCJ-02, BD-09 and any EPSG CRS.

    Nothing else changes: every row and column is kept. A CSV written as CSV
    keeps its columns and delimiter and only rewrites the two coordinate columns (rows
    whose coordinates cannot be read are written unchanged and counted); a
    table written to a vector format gains a point geometry. Vector files are
    written to ``.geojson``, ``.gpkg``, ``.parquet`` or ``.csv`` (WKT),
    following ``dst``'s extension (see :func:`gridmap.export.write_result`).

    Parameters
    ----------
    src, dst
        Input and output files.
    source
        ``wgs84``, ``gcj02``, ``bd09``, ``cgcs2000`` or ``EPSG:N``; None takes a
        vector file's own CRS (a table then needs it).
    target
        The same choices.
    lon, lat
        Coordinate columns of a table (default: detected as in :func:`read_layer`).
    layer
        Layer of a multi-layer input.
    """
    from .export import write_result

    src, dst = Path(src), Path(dst)
    raw = read_table(src, layer=layer)
    tgt = parse_crs(target)
    frame = raw.frame
    if raw.is_spatial:
        origin = parse_crs(source) if source is not None else frame.crs
        if origin is None:
            raise ReadError(src, "has no CRS", "pass --from (source=) with the coordinate system")
        run = _lonlat_pipeline(origin, tgt)
        geoms = frame.geometry.values
        ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))

        def shift(xy: np.ndarray) -> np.ndarray:
            return np.column_stack(run(xy[:, 0], xy[:, 1]))

        out_geoms = geoms.copy()
        out_geoms[ok] = shapely.transform(np.asarray(geoms[ok]), shift)
        out = frame.copy()
        out = out.set_geometry(gpd.GeoSeries(np.asarray(out_geoms), index=out.index).values,
                               crs=tgt if isinstance(tgt, CRS) else WGS84)
        write_result(out, dst)
        return ConvertSummary(dst, len(out), int(ok.sum()), int((~ok).sum()),
                              {"missing geometry": int((~ok).sum())} if (~ok).any() else {})
    if source is None:
        raise ReadError(src, "a table does not say its coordinate system",
                        "pass --from wgs84|gcj02|bd09|EPSG:N")
    origin = parse_crs(source)
    columns = [str(c) for c in frame.columns]
    lon_col = _user_column(columns, lon, str(src), "lon") if lon else _find_column(columns, LON_NAMES)
    lat_col = _user_column(columns, lat, str(src), "lat") if lat else _find_column(columns, LAT_NAMES)
    if lon_col is None or lat_col is None:
        which, flag = ("longitude", "lon") if lon_col is None else ("latitude", "lat")
        raise ReadError(src, f"no {which} column found; columns are {columns}", f"pass --{flag} COLUMN")
    px, py = _parse_numbers(frame[lon_col]), _parse_numbers(frame[lat_col])
    ok = np.isfinite(px.values) & np.isfinite(py.values)
    nx, ny = np.full(len(frame), np.nan), np.full(len(frame), np.nan)
    if ok.any():
        nx[ok], ny[ok] = _lonlat_pipeline(origin, tgt)(px.values[ok], py.values[ok])
    ok &= np.isfinite(nx) & np.isfinite(ny)
    problems = Counter(
        "missing coordinate" if (mx or my) else "unparseable coordinate"
        for mx, my, good in zip(px.missing, py.missing, ok, strict=True) if not good)
    digits = 8 if (isinstance(tgt, str) or tgt.is_geographic) else 3
    out = frame.copy()
    for col, vals in ((lon_col, nx), (lat_col, ny)):
        text = out[col].astype(object).to_numpy().copy()
        text[ok] = _format_number(vals[ok], digits)
        out[col] = text
    if dst.suffix.lower() in (".csv", ".txt"):
        out.to_csv(dst, index=False, sep=raw.delimiter or ",", encoding="utf-8-sig")
    else:
        pts = np.full(len(out), None, dtype=object)
        pts[ok] = shapely.points(nx[ok], ny[ok])
        write_result(gpd.GeoDataFrame(out, geometry=pts, crs=tgt if isinstance(tgt, CRS) else WGS84),
                     dst)
    return ConvertSummary(dst, len(out), int(ok.sum()), int((~ok).sum()), dict(problems))
