"""``gridmap validate``: check grids as a coverage (gaps, overlaps, validity, nesting, islands).

Without ``--fix``, OUT gets the issues (each with its location). With
``--fix``, OUT gets the fixed grids, ``<stem>.issues.csv`` the issues found
before fixing and ``<stem>.changes.csv`` what was changed.
Exit codes: 0 no issues (after fixing, with --fix), 1 issues remain, 2 unusable input.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..export import write_result
from .partition import read_polygons, sidecar

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``validate`` subcommand."""
    p = subparsers.add_parser(
        "validate",
        help="check grids as a coverage: gaps, overlaps, invalid/multi-part grids, nesting, islands",
        description="Report gaps and overlaps above the tolerances, invalid or multi-part grids, "
                    "grids not inside exactly one parent and grids without neighbours; --fix "
                    "makes geometries valid, snaps vertices, removes overlaps and fills gaps.",
    )
    p.add_argument("--grids", required=True, metavar="G")
    p.add_argument("--grid-id", default="grid_id", metavar="COL")
    p.add_argument("--parents", action="append", default=[], metavar="FILE[:ID_COL]",
                   help="parent layer (communities, streets); repeatable")
    p.add_argument("--gap-tolerance", type=float, default=1.0, help="m² (default 1)")
    p.add_argument("--overlap-tolerance", type=float, default=1.0, help="m² (default 1)")
    p.add_argument("--within-share", type=float, default=0.99,
                   help="share of a grid that must lie in one parent (default 0.99)")
    p.add_argument("--fix", action="store_true", help="repair and write the fixed grids")
    p.add_argument("--snap", type=float, default=0.0, help="with --fix: snap vertices within METRES")
    p.add_argument("--max-gap-area", type=float, help="with --fix: leave larger gaps (m²)")
    p.add_argument("--coords", choices=("wgs84", "gcj02", "bd09"), help="datum of lon/lat input")
    p.add_argument("--out", required=True, metavar="OUT")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``gridmap validate``; return the exit code."""
    from ..validate import fix_coverage, validate_coverage

    grids = read_polygons(args.grids, what="grids", coords=args.coords)
    parents, ids = [], []
    for spec in args.parents:
        path, _, col = spec.partition(":") if not Path(spec).exists() else (spec, "", "")
        parents.append(read_polygons(path, what="parents", coords=args.coords))
        ids.append(col or ("grid_id" if "grid_id" in parents[-1].columns else None))
    options = {"grid_id": args.grid_id, "parents": parents or None, "parent_id": ids or None}
    out = Path(args.out)
    tol = {"gap_tolerance": args.gap_tolerance, "overlap_tolerance": args.overlap_tolerance}
    if not args.fix:
        report = validate_coverage(grids, within_share=args.within_share, **options, **tol)
        _print(report.counts(), len(grids))
        write_result(report.issues, out)
        print(f"wrote {out}")
        return 0 if report.ok else 1
    res = fix_coverage(grids, snap=args.snap, max_gap_area=args.max_gap_area, **options, **tol)
    print("before fixing:")
    _print(res.before.counts(), len(grids))
    print(f"changes: {len(res.changes)}")
    for action, n in res.changes["action"].value_counts().items():
        print(f"  {action}: {n}")
    print("after fixing:")
    _print(res.after.counts(), len(grids))
    write_result(res.grids, out, layer="grids" if out.suffix.lower() == ".gpkg" else None)
    write_result(res.before.issues, sidecar(out, ".issues.csv"))
    write_result(res.changes, sidecar(out, ".changes.csv"))
    print(f"wrote {out}, {sidecar(out, '.issues.csv').name} and {sidecar(out, '.changes.csv').name}")
    return 0 if res.after.ok else 1


def _print(counts: dict[str, int], n: int) -> None:
    found = {k: v for k, v in counts.items() if v}
    if not found:
        print(f"  {n} grids: no issues")
        return
    for kind, v in found.items():
        print(f"  {kind}: {v}")
