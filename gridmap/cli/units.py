"""``gridmap units``: square (万米) or H3 unit grids clipped to a boundary.

Writes the units to OUT (format from its extension). With ``--aggregate``,
attributes of buildings or points are summed into the units; features inside
no unit are counted and written to ``<stem>.outside.csv``.
Exit codes: 0 written, 1 written but some aggregated features fell outside
every unit, 2 unusable input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..export import write_result
from .partition import read_polygons, sidecar

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``units`` subcommand."""
    p = subparsers.add_parser(
        "units",
        help="make square (万米) or H3 unit grids clipped to a boundary",
        description="Lay square cells (default 100 m, the 万米单元网格) or H3 hexagons over a "
                    "boundary, cut them along --within parents, and merge pieces smaller than "
                    "--min-area of a cell into the neighbour with the longest shared border.",
    )
    p.add_argument("--boundary", required=True, metavar="B", help="boundary polygon file")
    kind = p.add_mutually_exclusive_group(required=True)
    kind.add_argument("--square", type=float, metavar="METRES", help="square cells of this side")
    kind.add_argument("--h3", type=int, metavar="RES", help="H3 hexagons of this resolution")
    p.add_argument("--within", metavar="communities.gpkg", help="parent polygons to cut cells along")
    p.add_argument("--within-id", metavar="COL", help="id column of --within (default: its grid_id)")
    p.add_argument("--min-area", type=float, default=0.5,
                   help="pieces below this share of a full cell are merged (default 0.5)")
    p.add_argument("--aggregate", metavar="FILE", help="buildings or points to sum into the units")
    p.add_argument("--fields", metavar="F1,F2", default="",
                   help="numeric columns of --aggregate to sum (a count is always added)")
    p.add_argument("--coords", choices=("wgs84", "gcj02", "bd09"), help="datum of lon/lat input")
    p.add_argument("--out", required=True, metavar="OUT", help="units output (.gpkg/.geojson/...)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``gridmap units``; return the exit code."""
    from ..readers import read_table
    from ..units import aggregate_to_units, h3_units, square_units

    boundary = read_polygons(args.boundary, what="boundary", coords=args.coords)
    within = None
    within_id = args.within_id
    if args.within:
        within = read_polygons(args.within, what="within parents", coords=args.coords)
        within_id = within_id or ("grid_id" if "grid_id" in within.columns else None)
    if args.square is not None:
        units = square_units(boundary, size=args.square, min_area=args.min_area,
                             within=within, within_id=within_id)
    else:
        units = h3_units(boundary, resolution=args.h3, min_area=args.min_area,
                         within=within, within_id=within_id)
    out = Path(args.out)
    code = 0
    if args.aggregate:
        frame = read_table(args.aggregate).frame
        if not hasattr(frame, "geometry"):
            from ..ingest import read_layer

            frame = read_layer(args.aggregate, coords=args.coords).data
        fields = [f.strip() for f in args.fields.split(",") if f.strip()]
        units, outside = aggregate_to_units(units, frame, fields=fields)
        if len(outside):
            write_result(outside, sidecar(out, ".outside.csv"))
            print(f"warning: {len(outside)} feature(s) of {args.aggregate} lie in no unit; "
                  f"listed in {sidecar(out, '.outside.csv').name}", file=sys.stderr)
            code = 1
    write_result(units, out, layer="units" if out.suffix.lower() == ".gpkg" else None)
    print(f"{len(units)} units ({int(units['full'].sum())} whole cells, "
          f"{int((units['pieces'] > 1).sum())} with merged pieces), "
          f"{units['area_m2'].sum() / 1e6:.3f} km²")
    print(f"wrote {out}")
    return code
