"""``gridmap aggregate``: points per grid, square or H3 hexagon, with rates.

Counts of 1 to ``--min-count - 1`` are suppressed in the output (and the
rates derived from them). Points outside every grid are listed in
``<stem>.outside.csv``. Exit codes: 0 done, 1 done but some points lie
outside every grid, 2 unusable input.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import geopandas as gpd
import pandas as pd

from .._errors import DataError
from .heat import add_filter_args, add_points_args, read_filtered_points

__all__ = ["add_cells_args", "cells_from_args", "population_for", "register", "run"]


def add_cells_args(p: argparse.ArgumentParser) -> None:
    """``--grids G | --square METRES | --h3 RES`` (and ``--grid-id``)."""
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--grids", metavar="G", help="grid polygons (FILE or FILE#LAYER)")
    g.add_argument("--square", type=float, metavar="METRES", help="square cells of this side")
    g.add_argument("--h3", type=int, metavar="RES", help="H3 hexagons at this resolution (0–15)")
    p.add_argument("--grid-id", metavar="COL", help="grid id column (default grid_id)")


def cells_from_args(args: argparse.Namespace, points: gpd.GeoDataFrame, *,
                    split_by: str | None = None, weight: str | None = None
                    ) -> gpd.GeoDataFrame:
    """Count ``points`` on the cells the options ask for."""
    from ..aggregate import count_per_grid, count_per_h3, count_per_square

    if args.grids:
        from .density import read_grids

        grids = read_grids(args.grids, coords=args.coords)
        return count_per_grid(points, grids, grid_id=args.grid_id, split_by=split_by,
                              weight=weight)
    if args.square is not None:
        if not args.square > 0:
            raise DataError(f"--square must be positive metres, got {args.square}.")
        return count_per_square(points, args.square, split_by=split_by, weight=weight)
    if not 0 <= args.h3 <= 15:
        raise DataError(f"--h3 must be a resolution 0–15, got {args.h3}.")
    return count_per_h3(points, args.h3, split_by=split_by, weight=weight)


def population_for(cells: gpd.GeoDataFrame, path: str, column: str | None) -> gpd.GeoDataFrame:
    """Add ``population``: zonal sums of a raster, or polygons apportioned by area."""
    from ..ingest import read_layer
    from ..population import apportion, zonal_population

    if Path(path).suffix.lower() in (".tif", ".tiff"):
        return zonal_population(path, cells, column="population")
    src = read_layer(path).data
    col = column or next((c for c in src.columns if str(c).lower() in
                          ("population", "pop", "tot_pop", "人口")), None)
    if col is None or col not in src.columns:
        raise DataError(f"{path}: no population column found; pass --population-column COL "
                        f"(columns are {list(src.columns)}).")
    out = apportion(src, cells, col)
    return out.rename(columns={col: "population"}) if col != "population" else out


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``aggregate`` subcommand."""
    p = subparsers.add_parser(
        "aggregate",
        help="count points per grid, square or H3 hexagon, with rates",
        description="Count incidents (or places) per grid polygon, square cell or H3 hexagon; "
                    "--split-by category gives one count column per category; rates per km² "
                    "and, with --population, per 1,000 residents. Small counts are suppressed.",
    )
    add_points_args(p)
    add_cells_args(p)
    p.add_argument("--split-by", metavar="COL", help="one count column per value of COL")
    p.add_argument("--weight", metavar="COL", help="also sum this column of point weights")
    p.add_argument("--population", metavar="P",
                   help="population raster (.tif, persons per pixel) or polygons with a "
                        "population column (apportioned by area)")
    p.add_argument("--population-column", metavar="COL", help="population column of P")
    add_filter_args(p)
    p.add_argument("--out", required=True, metavar="OUT",
                   help="output table (.csv, .xlsx, .geojson, .gpkg, .parquet)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``gridmap aggregate``; return the exit code."""
    from ..aggregate import add_rates, outside_points
    from ..export import write_result
    from ..privacy import suppress_small_counts
    from .density import show_table

    points = read_filtered_points(args)
    cells = cells_from_args(args, points, split_by=args.split_by, weight=args.weight)
    if args.population:
        cells = population_for(cells, args.population, args.population_column)
    cells = add_rates(cells, population="population" if args.population else None)
    counts = ["n", *[c for c in cells.columns if c.startswith("n_") and c not in
                     ("n_per_km2", "n_per_1000")]]
    derived = {c: "n" for c in ("n_per_km2", "n_per_1000") if c in cells.columns}
    if "weight" in cells.columns:
        derived["weight"] = "n"
    published = suppress_small_counts(cells, counts, k=args.min_count, dependent=derived)
    n_supp = int(published["suppressed"].sum())
    show_table(published, limit=30, title=f"\n{len(published)} cells; counts of "
               f"1–{max(args.min_count - 1, 0)} suppressed in {n_supp} of them")
    code = 0
    outside = int(cells.attrs.get("outside", 0))
    if outside:
        print(f"\n{outside} point(s) outside every cell (not counted)")
        if args.grids:
            pts = outside_points(points, cells)
            ids = [c for c in ("incident_id", "place_id") if c in pts.columns]
            wgs = pts.to_crs(4326)
            listing = pd.DataFrame(pts[ids]).assign(lon=wgs.geometry.x.round(6),
                                                    lat=wgs.geometry.y.round(6))
            side = Path(args.out).with_name(Path(args.out).stem + ".outside.csv")
            write_result(listing, side)
            print(f"listed in {side}")
            code = 1
    out = Path(args.out)
    tabular = out.suffix.lower() in (".csv", ".xlsx")
    frame = published.to_crs(4326) if not tabular else published
    write_result(frame, out)
    print(f"{len(published)} rows written to {out}")
    return code
