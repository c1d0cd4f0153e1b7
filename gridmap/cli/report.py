"""``gridmap report``: the district report (HTML or PDF) from a data folder.

The folder holds the layers as ``gridmap demo`` writes them: ``grids.gpkg``
(layers ``grids`` and, optionally, ``streets`` and ``communities``),
``cameras.csv``, ``incidents.parquet`` and, optionally, ``population.tif``
(residents per cell, for incidents per 1,000 residents) and ``meta.json``
(the demo's description). ``--grids``, ``--cameras``, ``--incidents`` and
``--population`` read other files instead. Exit codes: 0 written, 2 unusable
input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .._errors import DataError, ReadError

__all__ = ["register", "run"]

_FORMATS = {".html": "html", ".htm": "html", ".pdf": "pdf"}


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``report`` subcommand."""
    p = subparsers.add_parser(
        "report",
        help="district report (key figures, maps, compliance, 定量化考核 ranking) as HTML or PDF",
        description="Key figures, static maps (grids by density status, incidents per grid), "
                    "density compliance by zone/street/community, the ranking of streets and "
                    "communities, monthly incidents, closure rate by street and the data "
                    "sources with their dates. Incident counts below --min-count per grid, "
                    "street or community are not published.",
    )
    p.add_argument("--data", required=True, metavar="DIR",
                   help="data folder (as written by `gridmap demo`)")
    p.add_argument("--out", required=True, metavar="OUT",
                   help="report file: .html or .pdf")
    p.add_argument("--lang", choices=("zh", "en"), default="zh", help="language (default zh)")
    p.add_argument("--month", metavar="YYYY-MM",
                   help="report month, compared with the month before "
                        "(default: the latest full month in the data)")
    p.add_argument("--deadline", default="same-day", metavar="D",
                   help="deadline of an incident: same-day (default) or a duration such as 24h")
    p.add_argument("--time-limit", default="auto", metavar="COL",
                   help="column of per-incident time limits in hours (default: time_limit_h "
                        "when present; --deadline where a limit is missing); 'none' applies "
                        "--deadline to every case")
    p.add_argument("--min-count", type=int, default=5, metavar="K",
                   help="privacy: do not publish incident counts of 1..K-1 (default 5)")
    p.add_argument("--name", help="district name in the title (default: from meta.json, "
                                  "else the district code)")
    p.add_argument("--grids", metavar="G", help="grid polygons (default DIR/grids.gpkg#grids)")
    p.add_argument("--cameras", metavar="C", help="camera table (default DIR/cameras.csv)")
    p.add_argument("--incidents", metavar="I", help="incidents (default DIR/incidents.parquet)")
    p.add_argument("--population", metavar="TIF",
                   help="population raster (default DIR/population.tif when present)")
    p.set_defaults(func=run)


def _optional_layer(path: Path, layer: str):
    import geopandas as gpd
    import pyogrio

    if layer not in {name for name, _ in pyogrio.list_layers(path)}:
        return None
    return gpd.read_file(path, layer=layer).to_crs(4326)


def run(args: argparse.Namespace) -> int:
    """Run ``gridmap report``; return the exit code."""
    from ..district import District, data_sources, district_report, read_meta
    from ..events import parse_deadline
    from .density import read_cameras, read_grids

    folder = Path(args.data)
    if not folder.is_dir():
        raise ReadError(folder, "not a folder", "give the data folder written by `gridmap demo`")
    out = Path(args.out)
    fmt = _FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise ReadError(out, f"unknown report format {out.suffix!r}",
                        "name the output .html or .pdf")
    if args.min_count < 0:
        raise DataError("--min-count is negative; give 0 (publish every count) or more.")
    try:
        parse_deadline(args.deadline)
    except ValueError as exc:
        raise DataError(str(exc)) from exc
    gpkg = folder / "grids.gpkg"
    grids_arg = args.grids or f"{gpkg}#grids"
    for name, given in (("grids.gpkg", args.grids), ("cameras.csv", args.cameras),
                        ("incidents.parquet", args.incidents)):
        if given is None and not (folder / name).exists():
            raise ReadError(folder / name, "missing",
                            f"add it, or name the file with --{name.split('.')[0]}")
    grids = read_grids(grids_arg)
    cameras = read_cameras(args.cameras or str(folder / "cameras.csv"))
    incidents = read_cameras(args.incidents or str(folder / "incidents.parquet"),
                             what="incidents")
    streets = communities = None
    if args.grids is None:
        streets = _optional_layer(gpkg, "streets")
        communities = _optional_layer(gpkg, "communities")
    population = args.population or (folder / "population.tif"
                                      if (folder / "population.tif").exists() else None)
    meta = read_meta(folder)
    district_meta = meta.get("district")
    name = args.name or (district_meta.get("name") if isinstance(district_meta, dict) else None)
    d = District(grids, cameras, incidents, streets=streets, communities=communities,
                 population=population, deadline=args.deadline,
                 time_limit=None if args.time_limit == "none" else args.time_limit)
    report = district_report(d, lang=args.lang, month=args.month, k=args.min_count,
                             sources=data_sources(folder, lang=args.lang),
                             synthetic=bool(meta.get("synthetic")), name=name)
    if fmt == "html":
        report.write_html(out)
    else:
        report.write_pdf(out)
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    figs = d.figures(month=args.month)
    print(f"{report.title}: {len(report.sections)} sections written to {out}")
    if figs.incidents_outside:
        print(f"{figs.incidents_outside} incident(s) lie outside every grid "
              "(in the district totals, in no grid)")
    return 0
