"""``gridmap check`` (ingest report of files) and ``gridmap convert`` (coordinate conversion).

Exit codes of ``check``: 0 when every row of every file is accepted or
repaired, 1 when any row is rejected, 2 when any file is unreadable (the
other files are still reported). ``convert`` exits 0 when every row was
converted, 1 when some rows kept their coordinates (unreadable ones), 2 when
the input cannot be read.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from .._errors import GridmapError
from ..schema import LAYERS

__all__ = ["register"]

_SYSTEMS = "wgs84|gcj02|bd09|cgcs2000|EPSG:N"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``check`` and ``convert`` subcommands."""
    check = subparsers.add_parser(
        "check",
        help="read files as gridmap layers and report every accepted, repaired and rejected row",
        description="Read each FILE as a gridmap layer and print its ingest report. Exit code: "
                    "0 all rows accepted or repaired, 1 some rows rejected, 2 a file is unreadable.",
    )
    check.add_argument("files", nargs="+", metavar="FILE")
    check.add_argument("--kind", choices=sorted(LAYERS), help="layer kind (default: guessed)")
    where = check.add_mutually_exclusive_group()
    where.add_argument("--crs", help="CRS of the coordinates, e.g. EPSG:4549 or cgcs2000")
    where.add_argument("--coords", choices=("wgs84", "gcj02", "bd09"),
                       help="datum of longitude/latitude input (GCJ-02: AMap/Tencent; BD-09: Baidu)")
    check.add_argument("--lon", metavar="COL", help="longitude (or x) column of a table")
    check.add_argument("--lat", metavar="COL", help="latitude (or y) column of a table")
    check.add_argument("--layer", help="layer of a multi-layer file (GeoPackage)")
    check.add_argument("--encoding", help="text encoding of a CSV (default: utf-8, else GBK)")
    check.add_argument("--study-area", metavar="FILE",
                       help="polygon file; rows outside it are rejected")
    check.add_argument("--json", action="store_true",
                       help="print one JSON object per file (one per line)")
    check.add_argument("--rejected", metavar="OUT.csv",
                       help="write the rejected rows (file, row, reason, original values)")
    check.set_defaults(func=run_check)

    convert = subparsers.add_parser(
        "convert",
        help="convert coordinates of a file between WGS84, GCJ-02, BD-09 and EPSG CRSs",
        description="Convert IN to OUT (format from OUT's extension: .csv, .geojson, .gpkg, "
                    ".parquet). A CSV written as CSV keeps every column and rewrites only the "
                    "coordinate columns.",
    )
    convert.add_argument("src", metavar="IN")
    convert.add_argument("dst", metavar="OUT")
    convert.add_argument("--from", dest="source", metavar="SYSTEM",
                         help=f"coordinate system of IN: {_SYSTEMS} (default: a vector file's CRS)")
    convert.add_argument("--to", dest="target", metavar="SYSTEM", required=True,
                         help=f"coordinate system of OUT: {_SYSTEMS}")
    convert.add_argument("--lon", metavar="COL", help="longitude (or x) column of a table")
    convert.add_argument("--lat", metavar="COL", help="latitude (or y) column of a table")
    convert.add_argument("--layer", help="layer of a multi-layer input")
    convert.set_defaults(func=run_convert)


def _error_line(path: str, message: str) -> str:
    return json.dumps({"file": path, "kind": None, "total": None, "accepted": None,
                       "repaired": None, "rejected": None, "reasons": {}, "error": message},
                      ensure_ascii=False)


def run_check(args: argparse.Namespace) -> int:
    """Run ``gridmap check``; return the exit code."""
    from ..ingest import read_layer

    code = 0
    rejected: list[pd.DataFrame] = []
    for i, path in enumerate(args.files):
        try:
            result = read_layer(
                path, kind=args.kind, coords=args.coords, crs=args.crs, lon=args.lon,
                lat=args.lat, layer=args.layer, encoding=args.encoding,
                study_area=args.study_area,
            )
        except (GridmapError, OSError) as exc:  # one unreadable file must not stop the others
            print(f"gridmap check: {exc}", file=sys.stderr)
            if args.json:
                print(_error_line(path, str(exc)), flush=True)
            code = 2
            continue
        report = result.report
        if args.json:
            info: dict[str, Any] = report.to_dict()
            print(json.dumps(info, ensure_ascii=False), flush=True)
        else:
            print(("\n" if i else "") + report.summary(), flush=True)
        if report.rejected:
            code = max(code, 1)
            if args.rejected:
                rejected.append(report.rejected_rows().assign(file=path))
    if args.rejected:
        _write_rejected(rejected, Path(args.rejected))
    return code


def _write_rejected(frames: list[pd.DataFrame], path: Path) -> None:
    from ..export import write_result

    if frames:
        table = pd.concat(frames, ignore_index=True)
        first = ["file", "row", "reason", "detail"]
        table = table[first + [c for c in table.columns if c not in first]]
    else:
        table = pd.DataFrame(columns=["file", "row", "reason", "detail"])
    write_result(table, path)
    print(f"rejected rows written to {path} ({len(table)} rows)", file=sys.stderr)


def run_convert(args: argparse.Namespace) -> int:
    """Run ``gridmap convert``; return the exit code."""
    from ..convert import convert_file

    summary = convert_file(args.src, args.dst, source=args.source, target=args.target,
                           lon=args.lon, lat=args.lat, layer=args.layer)
    line = f"{args.src} → {summary.path}: {summary.converted} of {summary.rows} rows converted"
    if summary.unchanged:
        reasons = ", ".join(f"{k}: {v}" for k, v in summary.problems.items())
        line += f"; {summary.unchanged} left unchanged ({reasons})"
    print(line)
    return 1 if summary.unchanged else 0
