"""``gridmap events``: closed-loop (闭环) metrics per grid, community or street.

Prints the ranked table (counts by status, closure rate, median and p90 hours
to close, overdue cases, score and rank) and writes it to ``--out``; with
``--trend`` also writes weekly or monthly trends beside it
(``<stem>.trend.csv``). Counts of 1 to ``--min-count - 1`` are suppressed in
the written table. Exit codes: 0 done, 1 done but some incidents lie outside
every grid, 2 unusable input.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from .._errors import DataError

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``events`` subcommand."""
    p = subparsers.add_parser(
        "events",
        help="closed-loop incident metrics per grid/community/street, ranked",
        description="Counts by status, closure rate, median and p90 time to close, cases past "
                    "the deadline (default same-day, 日清日结), and a ranking score "
                    "(0.4 closure rate + 0.4 on-time rate + 0.2 speed).",
    )
    p.add_argument("--incidents", required=True, metavar="I", help="incident file")
    p.add_argument("--grids", required=True, metavar="G", help="grid polygons (FILE or FILE#LAYER)")
    p.add_argument("--grid-id", metavar="COL", help="grid id column (default grid_id)")
    p.add_argument("--coords", choices=("wgs84", "gcj02", "bd09"),
                   help="datum of longitude/latitude columns in a table")
    p.add_argument("--by", choices=("grid", "community", "street"), default="grid",
                   help="unit of the table (default grid)")
    p.add_argument("--deadline", default="same-day", metavar="D",
                   help="same-day (default) or a duration such as 24h, 48h, 3d")
    p.add_argument("--time-limit", default="auto", metavar="COL",
                   help="column of per-incident time limits in hours (default: time_limit_h "
                        "when present; --deadline where a limit is missing); 'none' applies "
                        "--deadline to every case")
    p.add_argument("--now", metavar="TIME",
                   help="judge open cases at this time (default: the latest time in the data)")
    p.add_argument("--trend", choices=("week", "month"),
                   help="also write the trend per unit to <stem>.trend.csv")
    p.add_argument("--min-count", type=int, default=5, metavar="K",
                   help="privacy: suppress counts of 1..K-1 in the written table (default 5)")
    p.add_argument("--out", required=True, metavar="OUT", help="output table (.csv, .xlsx, …)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``gridmap events``; return the exit code."""
    from ..events import OUTSIDE, closed_loop, published_table, published_trend
    from ..export import write_result
    from .density import read_cameras, read_grids, show_table

    grids = read_grids(args.grids, coords=args.coords)
    incidents = read_cameras(args.incidents, coords=args.coords, what="incidents")
    try:
        res = closed_loop(incidents, grids, by=args.by, grid_id=args.grid_id,
                          deadline=args.deadline, now=args.now,
                          time_limit=None if args.time_limit == "none" else args.time_limit)
    except ValueError as exc:
        if isinstance(exc, DataError):
            raise
        raise DataError(str(exc)) from exc
    table = res.table
    limits = f"each incident's {res.time_limit} (hours), else " if res.time_limit else ""
    print(f"deadline {limits}{res.deadline}; open cases judged at {res.now:%Y-%m-%d %H:%M}")
    show_table(table, limit=40, title=f"\nClosed loop by {res.by} ({len(table)} rows, ranked)")
    published = published_table(table, k=args.min_count)
    out = Path(args.out)
    write_result(published, out)
    print(f"{len(published)} rows written to {out}")
    if args.trend:
        trend = published_trend(res, freq=args.trend, k=args.min_count)
        side = out.with_name(out.stem + ".trend.csv")
        write_result(pd.DataFrame(trend), side)
        print(f"{args.trend}ly trend written to {side} ({len(trend)} rows)")
    outside = table[table["unit"] == OUTSIDE]
    if len(outside):
        print(f"\n{int(outside['n'].iloc[0])} incident(s) outside every grid (row "
              f"{OUTSIDE!r})")
        return 1
    return 0
