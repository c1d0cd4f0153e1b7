"""Reading files into raw tables, before any cleaning.

:func:`read_table` turns any supported file into one table whose rows are the
file's records, in file order, with every attribute kept:

* CSV/TXT (encoding utf-8, utf-8 with BOM or GBK/GB18030; delimiter sniffed
  among ``,`` ``;`` tab ``|``) and Excel ``.xlsx``: a :class:`pandas.DataFrame`
  of **strings** (empty string = empty cell), so ids such as ``"01"`` or
  20-digit GB/T 28181 codes survive and corrupted numbers can be diagnosed;
* GeoJSON, GeoPackage, Shapefile (also inside a ``.zip``), GeoParquet,
  FlatGeobuf: a :class:`geopandas.GeoDataFrame` in the file's CRS;
* JSON: GeoJSON, an OpenStreetMap Overpass answer (``{"elements": [...]}``
  or a bare list of elements, see :mod:`gridmap.osm`) or a plain list of
  records such as ``[{"id": 1, "lat": .., "lon": ..}, ...]``; ``.json.gz`` too.

Everything that makes a file unreadable raises one :class:`~gridmap.ReadError`
naming the file, the problem and the fix. Cleaning (coordinates, column
names, vocabularies, row accounting) is :mod:`gridmap.ingest`'s job.
"""

from __future__ import annotations

import csv
import gzip
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pyogrio
from pyogrio.errors import DataLayerError, DataSourceError

from ._errors import ReadError

__all__ = [
    "TABLE_EXTENSIONS",
    "VECTOR_EXTENSIONS",
    "RawTable",
    "list_layers",
    "read_table",
]

TABLE_EXTENSIONS = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm")
VECTOR_EXTENSIONS = (".geojson", ".gpkg", ".shp", ".zip", ".parquet", ".geoparquet", ".fgb")
_JSON_EXTENSIONS = (".json", ".json.gz", ".geojson.gz")
_ENCODINGS = ("utf-8-sig", "gb18030")
_DELIMITERS = (",", ";", "\t", "|")
_BAD_LINE = "\x00gridmap-malformed-line\x00"


@dataclass
class RawTable:
    """A file read as one table, before cleaning.

    Attributes
    ----------
    frame
        A DataFrame of strings (tabular files, JSON record lists) or a
        GeoDataFrame (vector files, Overpass JSON). Row ``i`` is the file's
        record ``i + 1``.
    path
        The file read.
    format
        ``"csv"``, ``"excel"``, ``"vector"``, ``"overpass"`` or ``"records"``.
    notes
        What was detected while reading (encoding, delimiter, sheet, layer...).
    malformed
        Positions of CSV lines that did not split into the header's number of
        fields (their cells are empty in ``frame``; ingest rejects them).
    delimiter
        The CSV delimiter used.
    """

    frame: pd.DataFrame
    path: Path
    format: str
    notes: list[str] = field(default_factory=list)
    malformed: dict[int, str] = field(default_factory=dict)
    delimiter: str | None = None

    @property
    def is_spatial(self) -> bool:
        """True when the frame carries a geometry column."""
        return isinstance(self.frame, gpd.GeoDataFrame)


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for ext in (".json.gz", ".geojson.gz"):
        if name.endswith(ext):
            return ext
    return path.suffix.lower()


def _check_file(path: Path) -> None:
    if not path.exists():
        raise ReadError(path, "no such file", "check the path and the working directory")
    if path.is_dir():
        raise ReadError(path, "is a folder, not a file", "pass the file inside it (e.g. the .shp)")
    if path.stat().st_size == 0:
        raise ReadError(path, "file is empty (0 bytes)", "export the data again")


# --------------------------------------------------------------------------- CSV / Excel


def _sniff_delimiter(sample: str) -> str:
    """Pick the delimiter that occurs most often in the header line."""
    header = next((line for line in sample.splitlines() if line.strip()), "")
    counts = {d: header.count(d) for d in _DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    if counts[best] == 0:
        try:
            return csv.Sniffer().sniff(sample[:20000], delimiters="".join(_DELIMITERS)).delimiter
        except csv.Error:
            return ","
    return best


def _read_text_sample(path: Path, encoding: str | None) -> tuple[str, str]:
    raw = path.read_bytes()[: 1 << 20]
    for enc in (encoding,) if encoding else _ENCODINGS:
        try:
            # A sample may end mid-character: ignore only an incomplete tail.
            text = raw.decode(enc)
        except UnicodeDecodeError as exc:
            if exc.start >= len(raw) - 4 and len(raw) == 1 << 20:
                return raw[: exc.start].decode(enc), enc
            continue
        except LookupError as exc:
            raise ReadError(path, f"unknown encoding {encoding!r}", "use e.g. utf-8 or gbk") from exc
        return text, enc
    tried = ", ".join((encoding,) if encoding else _ENCODINGS)
    raise ReadError(
        path, f"text is not valid {tried}", "save it as UTF-8, or pass encoding= (--encoding)"
    )


def _read_csv_fast(path: Path, sep: str, enc: str) -> pd.DataFrame | None:
    """The pyarrow parser (about 10× faster); None when it cannot take the file as it is."""
    try:
        return pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, encoding=enc,
                           engine="pyarrow")
    except (ValueError, UnicodeDecodeError, pa.ArrowException, pd.errors.ParserError):
        return None  # quoted newlines, ragged lines, bad bytes...: the careful parser decides


def _read_csv(path: Path, *, encoding: str | None, delimiter: str | None) -> RawTable:
    sample, enc = _read_text_sample(path, encoding)
    if not sample.strip():
        raise ReadError(path, "file holds only blank lines", "export the data again")
    sep = delimiter or ("\t" if path.suffix.lower() == ".tsv" else _sniff_delimiter(sample))
    malformed: dict[int, str] = {}
    frame = _read_csv_fast(path, sep, enc)
    if frame is None:
        encodings = [enc] if encoding else [e for e in _ENCODINGS if _ENCODINGS.index(e) >=
                                             _ENCODINGS.index(enc)]
        for i, enc in enumerate(encodings):
            options: dict[str, Any] = {
                "sep": sep, "dtype": str, "keep_default_na": False, "na_filter": False,
                "skip_blank_lines": True, "encoding": enc,
            }
            try:
                frame = pd.read_csv(path, **options)
            except UnicodeDecodeError:
                if i + 1 == len(encodings):
                    raise ReadError(path, f"text is not valid {enc}",
                                    "save it as UTF-8, or pass encoding= (--encoding)") from None
                continue
            except pd.errors.ParserError:
                frame, malformed = _read_csv_tolerant(path, options)
            except pd.errors.EmptyDataError as exc:
                raise ReadError(path, "no header line found",
                                "the first line must name the columns") from exc
            break
    assert frame is not None
    frame.columns = [str(c).strip() for c in frame.columns]
    _check_header(path, list(frame.columns))
    notes = [f"encoding {enc.replace('-sig', '')}", f"delimiter {sep!r}"]
    return RawTable(frame.reset_index(drop=True), path, "csv", notes, malformed,
                    delimiter=sep)


def _read_csv_tolerant(path: Path, options: dict[str, Any]) -> tuple[pd.DataFrame, dict[int, str]]:
    """Re-read with the python engine, keeping malformed lines as marked rows."""
    width: list[int] = []

    def keep(fields: list[str]) -> list[str]:
        return [_BAD_LINE + options["sep"].join(fields)] + [""] * (width[0] - 1)

    header = pd.read_csv(path, nrows=0, **{k: v for k, v in options.items() if k != "skip_blank_lines"})
    width.append(len(header.columns))
    frame = pd.read_csv(path, engine="python", on_bad_lines=keep, **options)
    first = frame.iloc[:, 0].astype(str)
    bad = first.str.startswith(_BAD_LINE)
    malformed = {
        int(i): f"line has {text.count(options['sep']) + 1} fields where the header has {width[0]}"
        for i, text in first[bad].items()
    }
    frame.loc[bad, frame.columns[0]] = ""
    return frame, malformed


def _check_header(path: Path, columns: list[str]) -> None:
    dupes = sorted({c for c in columns if columns.count(c) > 1})
    if dupes:
        raise ReadError(path, f"duplicate column names {dupes}", "give every column a unique name")


def _read_excel(path: Path, *, sheet: str | int | None) -> RawTable:
    try:
        book = pd.ExcelFile(path, engine="openpyxl")
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ReadError(path, f"not a readable .xlsx workbook ({exc})", "save it again as .xlsx") from exc
    with book:
        names = book.sheet_names
        if sheet is None:
            sheet = names[0]
        elif isinstance(sheet, str) and sheet not in names:
            raise ReadError(path, f"no sheet named {sheet!r}; sheets are {names}", "pass one of them")
        frame = pd.read_excel(book, sheet_name=sheet, dtype=str, keep_default_na=False,
                              na_filter=False)
    frame.columns = [str(c).strip() for c in frame.columns]
    _check_header(path, list(frame.columns))
    notes = [f"sheet {sheet!r}" + (f" (of {len(names)} sheets)" if len(names) > 1 else "")]
    return RawTable(frame.reset_index(drop=True), path, "excel", notes)


# --------------------------------------------------------------------------- vector files


def _vsi(path: Path) -> str:
    return f"/vsizip/{path}" if path.suffix.lower() == ".zip" else str(path)


_FORMAT_NAMES = {".gpkg": "GeoPackage", ".shp": "Shapefile", ".zip": "zipped layer",
                 ".geojson": "GeoJSON", ".fgb": "FlatGeobuf", ".json": "GeoJSON"}


def _corrupt(path: Path, exc: BaseException) -> ReadError:
    name = _FORMAT_NAMES.get(path.suffix.lower(), "vector file")
    return ReadError(path, f"not a valid {name} ({_short(exc)})",
                     "the file is corrupt or truncated; export it again")


def list_layers(path: str | Path) -> list[str]:
    """Names of the layers in a vector file (a GeoPackage may hold several)."""
    path = Path(path)
    _check_file(path)
    if _suffix(path) in (".parquet", ".geoparquet"):
        return [path.stem]
    if path.suffix.lower() == ".zip":
        _check_zip(path)
    try:
        return [str(name) for name, _ in pyogrio.list_layers(_vsi(path))]
    except (DataSourceError, DataLayerError) as exc:
        raise _corrupt(path, exc) from exc


def _short(exc: BaseException) -> str:
    """The first line of an error, without the (long) path GDAL often repeats."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."


def _check_zip(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
    except zipfile.BadZipFile as exc:
        raise ReadError(path, "not a valid zip archive", "zip the shapefile again") from exc
    if not any(n.lower().endswith((".shp", ".gpkg", ".geojson", ".json", ".fgb")) for n in names):
        raise ReadError(path, f"zip holds no vector layer (members {names[:8]})",
                        "zip a shapefile (.shp, .shx, .dbf, .prj) or a .gpkg/.geojson")


def _pick_layer(path: Path, layer: str | int | None, prefer: tuple[str, ...]) -> str | int | None:
    layers = list_layers(path)
    if layer is not None:
        if isinstance(layer, str) and layer not in layers:
            raise ReadError(path, f"no layer named {layer!r}; layers are {layers}",
                            "pass one of them as layer= (--layer)")
        return layer
    if len(layers) <= 1:
        return None
    for name in prefer:
        if name in layers:
            return name
    raise ReadError(path, f"holds {len(layers)} layers {layers}",
                    "pass the one to read as layer= (--layer)")


def _read_vector(path: Path, *, layer: str | int | None, prefer: tuple[str, ...]) -> RawTable:
    ext = _suffix(path)
    notes: list[str] = []
    if ext in (".parquet", ".geoparquet"):
        return _read_parquet(path)
    chosen = _pick_layer(path, layer, prefer)
    if chosen is not None:
        others = [n for n in list_layers(path) if n != chosen]
        notes.append(f"layer {chosen!r}" + (f" (others: {others}; pass layer= for one of them)"
                                            if others and layer is None else ""))
    try:
        frame = gpd.read_file(_vsi(path), layer=chosen, engine="pyogrio")
    except (DataSourceError, DataLayerError, ValueError) as exc:
        raise _corrupt(path, exc) from exc
    if not isinstance(frame, gpd.GeoDataFrame):
        return RawTable(_as_strings(pd.DataFrame(frame)), path, "records", notes)
    return RawTable(frame.reset_index(drop=True), path, "vector", notes)


def _read_parquet(path: Path) -> RawTable:
    try:
        schema = pq.read_schema(path)
    except (pa.ArrowException, OSError) as exc:
        raise ReadError(path, f"not a valid Parquet file ({_short(exc)})",
                        "the file is corrupt or truncated; export it again") from exc
    if schema.metadata and b"geo" in schema.metadata:
        return RawTable(gpd.read_parquet(path).reset_index(drop=True), path, "vector")
    # No geo metadata: a plain table with coordinate columns.
    frame = pd.read_parquet(path)
    return RawTable(_as_strings(frame.reset_index(drop=True)), path, "records",
                    ["plain Parquet table (no geometry)"])


# --------------------------------------------------------------------------- JSON


def _load_json(path: Path) -> Any:
    try:
        if path.name.lower().endswith(".gz"):
            with gzip.open(path, "rt", encoding="utf-8-sig") as fh:
                return json.load(fh)
        with path.open(encoding="utf-8-sig") as fh:
            return json.load(fh)
    except (gzip.BadGzipFile, EOFError) as exc:
        raise ReadError(path, "not a valid gzip file", "compress it again or pass the .json") from exc
    except json.JSONDecodeError as exc:
        raise ReadError(path, f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})",
                        "the file is corrupt or truncated; export it again") from exc
    except UnicodeDecodeError as exc:
        raise ReadError(path, "JSON is not UTF-8 text", "save it as UTF-8") from exc


def _is_geojson(data: Any) -> bool:
    return isinstance(data, dict) and data.get("type") in ("FeatureCollection", "Feature")


def _is_overpass(data: Any) -> bool:
    if isinstance(data, dict):
        return isinstance(data.get("elements"), list)
    return (
        isinstance(data, list) and len(data) > 0 and isinstance(data[0], dict)
        and data[0].get("type") in ("node", "way", "relation")
        and ("lat" in data[0] or "nodes" in data[0] or "members" in data[0] or "tags" in data[0])
    )


def _read_json(path: Path) -> RawTable:
    from .osm import overpass_to_frame

    data = _load_json(path)
    if _is_geojson(data):
        source = f"/vsigzip/{path}" if path.name.lower().endswith(".gz") else str(path)
        try:
            frame = gpd.read_file(source, engine="pyogrio")
        except (DataSourceError, DataLayerError) as exc:
            raise ReadError(path, f"not a valid GeoJSON ({_short(exc)})", "export it again") from exc
        return RawTable(frame.reset_index(drop=True), path, "vector")
    if _is_overpass(data):
        elements = data["elements"] if isinstance(data, dict) else data
        return RawTable(overpass_to_frame(elements), path, "overpass",
                        [f"Overpass JSON, {len(elements)} elements"])
    if isinstance(data, list) and all(isinstance(r, dict) for r in data):
        if not data:
            raise ReadError(path, "JSON list is empty", "export the data again")
        frame = pd.json_normalize(data, sep=".")
        frame.columns = [c.removeprefix("tags.") for c in frame.columns]
        return RawTable(_as_strings(frame), path, "records", [f"JSON list of {len(data)} records"])
    raise ReadError(
        path, "JSON is neither GeoJSON, an Overpass answer nor a list of records",
        "export GeoJSON, or a list like [{\"id\": 1, \"lon\": 120.7, \"lat\": 30.7}]",
    )


def _as_strings(frame: pd.DataFrame) -> pd.DataFrame:
    """Cells as text (empty string for missing), the way CSV cells arrive."""
    out = pd.DataFrame(index=frame.index)
    for col in frame.columns:
        s = frame[col]
        text = s.map(_cell_text) if s.dtype == object else s.astype("string").fillna("")
        out[str(col)] = text.astype(str)
    return out


def _cell_text(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


# --------------------------------------------------------------------------- entry point


def read_table(
    path: str | Path,
    *,
    layer: str | int | None = None,
    sheet: str | int | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    prefer_layers: tuple[str, ...] = (),
) -> RawTable:
    """Read any supported file into a :class:`RawTable`, keeping every record.

    Parameters
    ----------
    path
        The file. The format follows the extension (see the module docstring).
    layer
        Layer of a multi-layer vector file (GeoPackage, zip).
    sheet
        Excel sheet name or index (default: the first sheet).
    encoding
        Text encoding of a CSV (default: utf-8, else GB18030/GBK).
    delimiter
        CSV delimiter (default: sniffed from the header line).
    prefer_layers
        Layer names to pick, in order, when a file holds several and ``layer``
        is not given (e.g. ``("grids",)``).

    Raises
    ------
    ReadError
        Missing or empty file, unknown extension, bad zip, corrupt file,
        undecodable text, several layers and none chosen.
    """
    path = Path(path)
    _check_file(path)
    ext = _suffix(path)
    if ext in (".csv", ".txt", ".tsv"):
        return _read_csv(path, encoding=encoding, delimiter=delimiter)
    if ext in (".xlsx", ".xlsm"):
        return _read_excel(path, sheet=sheet)
    if ext == ".xls":
        raise ReadError(path, "old .xls workbooks are not supported", "save it as .xlsx or .csv")
    if ext in _JSON_EXTENSIONS:
        return _read_json(path)
    if ext in VECTOR_EXTENSIONS:
        return _read_vector(path, layer=layer, prefer=prefer_layers)
    if ext in (".tif", ".tiff"):
        raise ReadError(path, "is a raster (e.g. population), not a layer of rows",
                        "open rasters with rasterio; read_layer takes tables and vector files")
    if ext in (".shx", ".dbf", ".prj", ".cpg"):
        raise ReadError(path, "is a shapefile side file", f"pass {path.with_suffix('.shp').name}")
    known = sorted({*TABLE_EXTENSIONS, *VECTOR_EXTENSIONS, *_JSON_EXTENSIONS})
    raise ReadError(path, f"unknown file format {ext or '(no extension)'!r}",
                    f"use one of {', '.join(known)}")
