"""``gridmap hotspots``: Getis-Ord Gi* hot and cold spots, or emerging hot spots.

Points are counted per grid, square or H3 hexagon (zeros included), then Gi*
is computed on the counts (or rates). With ``--emerging`` the counts are
binned by ``--bin`` too and every cell gets an emerging-hot-spot category.
Exit codes: 0 done, 2 unusable input.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from .._errors import DataError
from .aggregate import add_cells_args, cells_from_args
from .heat import add_filter_args, add_points_args, read_filtered_points

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``hotspots`` subcommand."""
    p = subparsers.add_parser(
        "hotspots",
        help="Getis-Ord Gi* hot/cold spots and emerging hot spots",
        description="Count points per cell, then Getis-Ord Gi* z-scores, p-values and "
                    "90/95/99%% confidence classes (optionally FDR-corrected); with "
                    "--emerging, space-time Gi* per --bin and Mann-Kendall trend categories "
                    "(new, consecutive, intensifying, persistent, diminishing, sporadic, "
                    "oscillating, historical hot/cold spots).",
    )
    add_points_args(p)
    add_cells_args(p)
    p.add_argument("--weights", default="queen", metavar="W",
                   help="queen (default), rook, knn:K or distance:METRES")
    p.add_argument("--value", choices=("count", "per-km2"), default="count",
                   help="analyse counts (default) or counts per km²")
    p.add_argument("--alpha", type=float, default=0.05,
                   help="significance of the 'significant' column (default 0.05)")
    p.add_argument("--fdr", action=argparse.BooleanOptionalAction, default=None,
                   help="False Discovery Rate correction (default off; on for --emerging, "
                        "as in ArcGIS Pro)")
    p.add_argument("--permutations", type=int, default=0, metavar="R",
                   help="conditional permutations for pseudo p-values (e.g. 999; default 0)")
    p.add_argument("--emerging", action="store_true", help="emerging hot-spot analysis")
    p.add_argument("--bin", choices=("day", "week", "month"), default="week",
                   help="time step of --emerging (default week)")
    p.add_argument("--time-window", type=int, default=1, metavar="T",
                   help="previous time steps in each bin's neighbourhood (default 1)")
    add_filter_args(p)
    p.add_argument("--out", required=True, metavar="OUT",
                   help="output (.gpkg, .geojson, .parquet, .csv, .xlsx)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``gridmap hotspots``; return the exit code."""
    from ..aggregate import add_rates, space_time_counts
    from ..assign import assign_points
    from ..export import write_result
    from ..hotspots import emerging_hot_spots, hot_spots
    from ..privacy import suppress_small_counts
    from .density import show_table

    if not 0 < args.alpha < 1:
        raise DataError(f"--alpha must be between 0 and 1, got {args.alpha}.")
    points = read_filtered_points(args)
    cells = add_rates(cells_from_args(args, points))
    column = "n" if args.value == "count" else "n_per_km2"
    try:
        if args.emerging:
            index = assign_points(points, cells).index
            cube = space_time_counts(points, index, len(cells), bin=args.bin)
            result = emerging_hot_spots(cells, cube, weights=args.weights,
                                        time_window=args.time_window,
                                        fdr=args.fdr is not False)
            counts = result["category"].value_counts()
            print(f"\nemerging hot spots over {cube.shape[1]} {args.bin}s "
                  f"({cube.columns[0]} … {cube.columns[-1]}), weights {result.attrs['weights']}")
            show_table(pd.DataFrame({"category": counts.index, "cells": counts.to_numpy()}))
        else:
            result = hot_spots(cells, column, weights=args.weights,
                               permutations=args.permutations,
                               p_value="permutation" if args.permutations else "analytic",
                               fdr=bool(args.fdr), alpha=args.alpha)
            counts = result["hotspot"].value_counts()
            print(f"\nGi* on {column} over {len(result)} cells, weights "
                  f"{result.attrs['weights']}{', FDR' if args.fdr else ''}")
            show_table(pd.DataFrame({"class": counts.index, "cells": counts.to_numpy()}))
    except ValueError as exc:
        if isinstance(exc, DataError):
            raise
        raise DataError(str(exc)) from exc
    counts_cols = ["n", *[c for c in result.columns if c.startswith("n_") and
                          c not in ("n_per_km2", "n_per_1000")]]
    published = suppress_small_counts(result, counts_cols, k=args.min_count,
                                      dependent={"n_per_km2": "n"})
    out = Path(args.out)
    frame = published if out.suffix.lower() in (".csv", ".xlsx") else published.to_crs(4326)
    write_result(frame, out)
    print(f"{len(published)} cells written to {out}")
    return 0
