"""``gridmap density``: camera points per km² per grid, community, street or zone.

Prints the density table (one row per unit), the summary per zone and
overall, the GB/T 28181 id check and the cameras outside every grid; writes
the table to ``--out`` (format from its extension) and the cameras outside
every grid to ``<stem>.outside.csv``. Exit codes: 0 done, 1 done but some
cameras lie outside every grid, 2 unusable input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from .._errors import ReadError, SchemaError

__all__ = ["add_input_args", "parse_targets", "read_cameras", "read_grids", "register",
           "show_table"]

_SHOWN = 60


def add_input_args(p: argparse.ArgumentParser, *, grids_required: bool = True) -> None:
    """The input options shared by ``density``, ``coverage`` and ``place``."""
    p.add_argument("--grids", required=grids_required, metavar="G",
                   help="grid polygons (FILE or FILE#LAYER for a GeoPackage layer)")
    p.add_argument("--cameras", required=True, metavar="C", help="camera points file")
    p.add_argument("--grid-id", metavar="COL",
                   help="grid id column (default: grid_id, else the first column with unique "
                        "values; the choice is printed)")
    p.add_argument("--coords", choices=("wgs84", "gcj02", "bd09"),
                   help="datum of longitude/latitude in the input tables")


def read_grids(path: str, *, coords: str | None = None) -> gpd.GeoDataFrame:
    """Read grid polygons; ids the ingest had to make up are dropped again.

    So that "the first column with unique values" can be chosen as the id when
    the file has no grid id column of its own.
    """
    from ..ingest import read_layer
    from .partition import split_layer

    file, layer = split_layer(path)
    res = read_layer(file, kind="grids", coords=coords, layer=layer)
    if res.report.rejected:
        print(f"grids: {res.report.summary()}", file=sys.stderr)
    data = res.data
    if len(data) == 0:
        raise ReadError(file, "no usable grid polygons", "check the file with gridmap check")
    if res.report.repairs.get("id generated", 0) == len(data):
        data = data.drop(columns="grid_id")
    empty = [c for c in ("name", "district_code", "street_code", "community_code", "zone")
             if c in data.columns and data[c].isna().all()]
    return data.drop(columns=empty)


def read_cameras(path: str, *, coords: str | None = None, what: str = "cameras"
                 ) -> gpd.GeoDataFrame:
    """Read a camera (or incident, place) layer; rejected rows are reported on stderr."""
    from ..ingest import read_layer

    kind = what if what in ("cameras", "incidents", "places") else None
    res = read_layer(path, kind=kind, coords=coords)
    if res.report.rejected:
        print(f"{what}: {res.report.summary()}", file=sys.stderr)
    if len(res.data) == 0:
        raise ReadError(path, f"no usable {what}", "check the file with gridmap check")
    return res.data


def parse_targets(values: list[str] | None) -> dict[str, float]:
    """``["urban=70", "rural=8"]`` → ``{"urban": 70.0, "rural": 8.0}``."""
    out: dict[str, float] = {}
    for text in values or []:
        key, sep, value = text.partition("=")
        try:
            number = float(value)
        except ValueError:
            number = float("nan")
        if not sep or not key.strip() or not np.isfinite(number) or number <= 0:
            raise SchemaError(
                f"--target {text!r} is not ZONE=NUMBER; write e.g. --target urban=70 "
                "--target rural=8 (points per km², positive)."
            )
        out[key.strip().lower()] = number
    return out


def show_table(frame: pd.DataFrame, *, limit: int = _SHOWN, title: str | None = None) -> None:
    """Print a readable table, cut to ``limit`` rows with a note."""
    if title:
        print(title)
    flat = pd.DataFrame(frame.drop(columns=frame.geometry.name)
                        if isinstance(frame, gpd.GeoDataFrame) else frame)
    if len(flat) == 0:
        print("  (none)")
        return
    digits = {"area_km2": 4, "lon": 6, "lat": 6}
    fine = {c: f"{{:.{digits[c]}f}}".format for c in flat.columns
            if c in digits and pd.api.types.is_float_dtype(flat[c])}
    with pd.option_context("display.width", 200, "display.max_columns", 40,
                           "display.float_format", "{:,.2f}".format):
        print(flat.head(limit).to_string(index=False, formatters=fine))
    if len(flat) > limit:
        print(f"  … {len(flat) - limit} more rows (write them all with --out)")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``density`` subcommand."""
    p = subparsers.add_parser(
        "density",
        help="camera points per km² per grid/community/street/zone against targets",
        description="Count built camera points (点位; cameras within 5 m form one point when "
                    "the file has no point ids) per unit, divide by the unit's area and "
                    "compare with the target (default urban=70, rural=8 points/km²). Planned "
                    "cameras never count as built; with_planned_pct shows the completion once "
                    "they are.",
    )
    add_input_args(p)
    p.add_argument("--by", choices=("grid", "community", "street", "zone"), default="grid",
                   help="unit of the table (default grid)")
    tg = p.add_mutually_exclusive_group()
    tg.add_argument("--target", action="append", metavar="ZONE=N",
                    help="target per zone, repeatable (default urban=70 --target rural=8)")
    tg.add_argument("--target-col", metavar="COL", help="grid column holding a per-grid target")
    p.add_argument("--count", choices=("points", "cameras"), default="points",
                   help="count distinct points (default) or cameras")
    p.add_argument("--point-radius", type=float, default=5.0, metavar="M",
                   help="cameras without point ids this close form one point (default 5 m)")
    p.add_argument("--out", metavar="OUT",
                   help="write the table (.csv, .xlsx, .geojson, .gpkg, .parquet)")
    p.add_argument("--ids-out", metavar="FILE",
                   help="write the GB/T 28181 id findings (.csv or .xlsx)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``gridmap density``; return the exit code."""
    from ..assign import assign_points
    from ..density import camera_density
    from ..export import write_result
    from ..gb28181 import check_cameras

    grids = read_grids(args.grids, coords=args.coords)
    cameras = read_cameras(args.cameras, coords=args.coords)
    targets = parse_targets(args.target)
    res = camera_density(cameras, grids, grid_id=args.grid_id, by=args.by, targets=targets,
                         target_col=args.target_col, count=args.count,
                         point_radius_m=args.point_radius)
    for note in res.notes:
        print(f"note: {note}")
    show_table(res.table,
               title=f"\nCamera {res.count} per km² by {res.by} ({len(res.table)} units)")
    show_table(res.summary, title="\nSummary by zone")

    if "gb28181_id" in cameras.columns and cameras["gb28181_id"].notna().any():
        a = assign_points(cameras, grids, grid_id=res.grid_id)
        district = None
        if "district_code" in grids.columns:
            codes = grids["district_code"].astype("string").to_numpy(dtype=object)
            district = np.where(a.index >= 0, codes[a.index.clip(0)], None)
        findings, devices = check_cameras(cameras, district_codes=district)
        show_table(devices, title="\nGB/T 28181 devices (only 131/132 count as cameras)")
        counts = findings["finding"].value_counts()
        print("GB/T 28181 findings: " + (", ".join(f"{k} {v}" for k, v in counts.items())
                                         if len(counts) else "none"))
        if args.ids_out:
            write_result(findings, args.ids_out)
            print(f"id findings written to {args.ids_out} ({len(findings)} rows)")

    code = 0
    if len(res.outside):
        cols = [c for c in ("camera_id", "point_id", "status") if c in res.outside.columns]
        listing = pd.DataFrame(res.outside[cols]).assign(
            lon=res.outside.to_crs(4326).geometry.x.round(6),
            lat=res.outside.to_crs(4326).geometry.y.round(6))
        show_table(listing, limit=20,
                   title=f"\n{len(listing)} camera(s) outside every grid (not counted)")
        if args.out:
            side = Path(args.out).with_name(Path(args.out).stem + ".outside.csv")
            write_result(listing, side)
            print(f"cameras outside every grid written to {side}")
        code = 1
    if args.out:
        out = Path(args.out)
        write_result(res.table if out.suffix.lower() in (".geojson", ".json", ".gpkg",
                                                          ".parquet")
                     else pd.DataFrame(res.table.drop(columns="geometry")),
                     out, layer="density" if out.suffix.lower() == ".gpkg" else None)
        print(f"\n{len(res.table)} rows written to {out}")
    return code
