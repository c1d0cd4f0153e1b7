"""``gridmap demo``: write the synthetic demo district."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..demo import SCALES, district_complete, generate

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``demo`` subcommand."""
    p = subparsers.add_parser(
        "demo",
        help="write the synthetic demo district (grids, cameras, incidents, ...)",
        description=(
            "Write a synthetic demo district near Jiaxing (not real data): grids.gpkg, "
            "cameras.csv, incidents.parquet, places.csv, roads.gpkg, buildings.gpkg, "
            "population.tif, boundary.geojson and meta.json. The same seed gives "
            "byte-identical files."
        ),
    )
    p.add_argument("--out", required=True, type=Path, metavar="DIR", help="folder to write into")
    p.add_argument(
        "--scale", default="default", choices=list(SCALES),
        help="; ".join(f"{k}: {v.description}" for k, v in SCALES.items()),
    )
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument(
        "--if-missing", action="store_true",
        help="do nothing when DIR already holds a complete district of this scale and seed",
    )
    p.add_argument("--quiet", action="store_true", help="print only the final line")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    if args.seed < 0:
        print("gridmap demo: --seed must be a non-negative integer", file=sys.stderr)
        return 2
    if args.if_missing and district_complete(args.out, scale=args.scale, seed=args.seed):
        print(f"demo district ({args.scale}, seed {args.seed}) already in {args.out}; nothing to do")
        return 0

    def _progress(msg: str) -> None:
        if not args.quiet:
            print(msg, file=sys.stderr, flush=True)

    paths = generate(args.out, scale=args.scale, seed=args.seed, progress=_progress)
    print(f"demo district ({args.scale}, seed {args.seed}) written to {args.out}: "
          + ", ".join(p.name for p in paths.values()))
    return 0
