"""``gridmap heat``: a kernel density GeoTIFF of incident (or place) points.

Also home of the point-input and filter options shared by ``heat``,
``aggregate`` and ``hotspots``. Exit codes: 0 done, 2 unusable input.
"""

from __future__ import annotations

import argparse
import sys

import geopandas as gpd

from .._errors import DataError, ReadError
from ..filters import PointFilter, apply_filter

__all__ = ["add_filter_args", "add_points_args", "read_filtered_points", "register", "run"]


def add_points_args(p: argparse.ArgumentParser) -> None:
    """``--points``, ``--kind`` and ``--coords``."""
    p.add_argument("--points", required=True, metavar="I",
                   help="incident (or place) points: CSV, Excel, GeoJSON, GeoPackage, Parquet…")
    p.add_argument("--kind", choices=("incidents", "places"), default="incidents",
                   help="layer kind of --points (default incidents)")
    p.add_argument("--coords", choices=("wgs84", "gcj02", "bd09"),
                   help="datum of longitude/latitude columns in a table")


def add_filter_args(p: argparse.ArgumentParser) -> None:
    """The shared filters: categories, dates, hours, weekdays, and the privacy minimum."""
    g = p.add_argument_group("filters (applied before counting; see gridmap.filters)")
    g.add_argument("--category", nargs="+", metavar="C",
                   help="keep these categories (case-insensitive)")
    g.add_argument("--from", dest="date_from", metavar="DATE", help="first day (YYYY-MM-DD)")
    g.add_argument("--to", dest="date_to", metavar="DATE", help="last day, inclusive")
    g.add_argument("--hours", metavar="H-H", help="hours of day, e.g. 18-23 or 22-2")
    g.add_argument("--weekdays", metavar="D-D", help="ISO weekdays, 1=Monday … 7=Sunday, e.g. 1-5")
    p.add_argument("--min-count", type=int, default=5, metavar="K",
                   help="privacy: suppress published counts of 1..K-1 and mask density cells "
                        "with fewer than K points (default 5; 0 turns it off)")


def filter_from_args(args: argparse.Namespace) -> PointFilter:
    """Build the :class:`~gridmap.filters.PointFilter` from parsed options."""
    try:
        return PointFilter.build(categories=args.category, start=args.date_from,
                                 end=args.date_to, hours=args.hours, weekdays=args.weekdays)
    except ValueError as exc:
        raise DataError(str(exc)) from exc


def read_filtered_points(args: argparse.Namespace) -> gpd.GeoDataFrame:
    """Read ``--points`` with the ingest, apply the filters, print the accounting."""
    from ..ingest import read_layer

    res = read_layer(args.points, kind=args.kind, coords=args.coords)
    if res.report.rejected:
        print(f"{args.kind}: {res.report.summary()}", file=sys.stderr)
    if len(res.data) == 0:
        raise ReadError(args.points, f"no usable {args.kind}", "check the file with gridmap check")
    spec = filter_from_args(args)
    fres = apply_filter(res.data, spec)
    if not spec.is_empty:
        dropped = {k: v for k, v in fres.report.items() if k not in ("input", "kept") and v}
        detail = ", ".join(f"{v} by {k}" for k, v in dropped.items()) or "none removed"
        print(f"filter ({spec.describe()}): kept {fres.report['kept']} of "
              f"{fres.report['input']} ({detail})")
    if len(fres.data) == 0:
        raise ReadError(args.points, "no points left after the filters",
                        "loosen --category/--from/--to/--hours/--weekdays")
    return fres.data


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``heat`` subcommand."""
    from ..kde import KERNELS, UNITS

    p = subparsers.add_parser(
        "heat",
        help="kernel density raster (GeoTIFF) of incidents or places",
        description="Kernel density of points as a float32 GeoTIFF in a metric CRS, padded "
                    "by the kernel's reach. --bandwidth auto uses ArcGIS Pro's default search "
                    "radius; the default cell is the shorter side of the extent / 250. Cells "
                    "with fewer than --min-count points within one bandwidth are nodata.",
    )
    add_points_args(p)
    p.add_argument("--kernel", choices=KERNELS, default="quartic", help="default quartic")
    p.add_argument("--bandwidth", default="auto", metavar="METRES|auto",
                   help="search radius in metres (σ for gaussian), or auto (default)")
    p.add_argument("--cell", type=float, metavar="METRES", help="cell size (default extent/250)")
    p.add_argument("--weight", metavar="COL", help="column of point weights")
    p.add_argument("--units", choices=UNITS, default="per-km2",
                   help="per-km2 (default) or count (expected points per cell)")
    add_filter_args(p)
    p.add_argument("--out", required=True, metavar="heat.tif", help="output GeoTIFF")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``gridmap heat``; return the exit code."""
    from ..kde import kernel_density, write_raster

    points = read_filtered_points(args)
    bandwidth: float | str = "auto" if str(args.bandwidth).lower() == "auto" else \
        _metres(args.bandwidth, "--bandwidth")
    r = kernel_density(points, kernel=args.kernel, bandwidth=bandwidth, cell=args.cell,
                       weight=args.weight, units=args.units, min_count=args.min_count)
    path = write_raster(r, args.out)
    rows, cols = r.shape
    m = r.meta
    print(f"{args.kernel} kernel, bandwidth {float(m['bandwidth_m']):,.1f} m, cell "
          f"{float(m['cell_m']):,.2f} m, {rows} × {cols} cells, CRS {r.crs.to_string()}")
    print(f"{m['n_points']} points; values in {r.units}; integral {r.total():,.1f}")
    if int(m["masked_cells"]):
        print(f"privacy: {m['masked_cells']} cells with 1–{args.min_count - 1} points within "
              "one bandwidth set to nodata")
    print(f"written to {path}")
    return 0


def _metres(text: str, flag: str) -> float:
    try:
        v = float(text)
    except ValueError:
        v = float("nan")
    if not v > 0:
        raise DataError(f"{flag} must be positive metres or auto, got {text!r}.")
    return v
