"""Coordinate conversion of whole files between WGS84, GCJ-02, BD-09 and any EPSG CRS.

:func:`convert_file` rewrites only the coordinates: every row and column is
kept, and rows whose coordinates cannot be read are written unchanged and
counted in the :class:`ConvertSummary`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS

from ._errors import ReadError
from ._parse import LAT_NAMES, LON_NAMES, _find_column, _parse_numbers, _user_column
from .coords import transform_lonlat
from .crs import WGS84, parse_crs
from .readers import read_table

__all__ = ["ConvertSummary", "convert_file"]


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
        Coordinate columns of a table (default: detected as in :func:`gridmap.ingest.read_layer`).
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
