"""``gridmap compare``: compare two plans grid by grid.

OUT is a folder; it gets ``grids.csv`` (per grid: before/after sums,
deviation, compactness, codes, units in/out), ``moved_units.csv`` (with
--units), ``changes.gpkg`` (layers ``before``, ``after``, ``changes`` and
``moved_units``) and ``changes.png`` (the map of changes).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..export import write_result
from .partition import read_polygons, write_json

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``compare`` subcommand."""
    p = subparsers.add_parser(
        "compare",
        help="compare two plans: per-grid table, units moved and a map of the changes",
        description="Write a per-grid table (before/after sums, deviation, compactness, codes), "
                    "the units that moved and a map of the changes into the folder OUT.",
    )
    p.add_argument("--before", required=True, metavar="A", help="grids before")
    p.add_argument("--after", required=True, metavar="B", help="grids after")
    p.add_argument("--units", metavar="U", help="units, to count moves and sum fields")
    p.add_argument("--unit-id", default="unit_id", metavar="COL")
    p.add_argument("--field", action="append", default=[], metavar="FIELD",
                   help="numeric field to compare (repeatable)")
    p.add_argument("--grid-id", default="grid_id", metavar="COL")
    p.add_argument("--code-col", default="code", metavar="COL")
    p.add_argument("--match", choices=("auto", "ids", "overlap"), default="auto",
                   help="how grids are matched (default: ids when most are shared)")
    p.add_argument("--coords", choices=("wgs84", "gcj02", "bd09"), help="datum of lon/lat input")
    p.add_argument("--out", required=True, metavar="OUT_DIR")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``gridmap compare``; return the exit code."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..compare import compare_plans, plot_changes

    before = read_polygons(args.before, what="grids before", coords=args.coords)
    after = read_polygons(args.after, what="grids after", coords=args.coords)
    units = None
    if args.units:
        units = read_polygons(args.units, what="units", coords=args.coords, id_column=args.unit_id)
    comp = compare_plans(before, after, grid_id=args.grid_id, units=units, fields=args.field,
                         code_col=args.code_col, match=args.match)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    write_result(comp.table, out / "grids.csv")
    gpkg = out / "changes.gpkg"
    if gpkg.exists():
        gpkg.unlink()
    write_result(comp.before, gpkg, layer="before")
    write_result(comp.after, gpkg, layer="after")
    if len(comp.changes):
        write_result(comp.changes, gpkg, layer="changes")
    if units is not None:
        write_result(comp.moved.drop(columns=comp.moved.geometry.name), out / "moved_units.csv")
        if len(comp.moved):
            write_result(comp.moved, gpkg, layer="moved_units")
    fig = plot_changes(comp)
    fig.savefig(out / "changes.png", dpi=120, bbox_inches="tight")
    plt.close(fig)
    write_json(comp.summary, out / "summary.json")
    s = comp.summary
    print(f"{s['grids_before']} → {s['grids_after']} grids (matched by {s['matched_by']}); "
          f"{s['grids_changed']} changed; changed area {s['area_changed_m2'] / 1e6:.3f} km²")
    if "units_moved" in s:
        print(f"units moved: {s['units_moved']}")
    print(f"wrote {out}/grids.csv, changes.gpkg and changes.png")
    return 0
