"""``gridmap code``: code grids from a template; renumber against a previous plan.

Without ``--previous`` every grid is coded afresh (serials west→east, then
north→south in each community, skipping codes in ``--register``). With
``--previous``, grids that continue keep their codes, new grids get serials
never used before, the old→new mapping is written to ``<stem>.mapping.csv``
and the retired codes are added to the register (``--register``, default
``<stem>.retired.csv``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from ..export import write_result
from .partition import read_polygons, sidecar

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``code`` subcommand."""
    p = subparsers.add_parser(
        "code",
        help="code grids (GB/T 30428 15-digit, CJ/T 349 20-digit or a custom template)",
        description="Give every grid a code: admin + street + community codes and a serial "
                    "numbered west→east, then north→south inside each community.",
    )
    p.add_argument("--grids", required=True, metavar="G", help="grid polygons")
    p.add_argument("--template", default="gbt30428",
                   help="gbt30428 (default, = db11), cjt349, or e.g. admin:6,street:3,community:3,serial:3")
    p.add_argument("--admin-code", metavar="330402", help="6-digit GB/T 2260 code (default: district_code column)")
    p.add_argument("--object-code", metavar="CODE", help="CJ/T 348 object code, for cjt349")
    p.add_argument("--street-col", default="street_code", metavar="COL")
    p.add_argument("--community-col", default="community_code", metavar="COL")
    p.add_argument("--admin-col", default="district_code", metavar="COL")
    p.add_argument("--previous", metavar="OLD", help="previous coded grids, to keep continuing codes")
    p.add_argument("--previous-code-col", default="code", metavar="COL")
    p.add_argument("--register", metavar="retired.csv", help="register of retired codes (read and updated)")
    p.add_argument("--date", metavar="YYYY-MM-DD", help="retirement date (default today)")
    p.add_argument("--coords", choices=("wgs84", "gcj02", "bd09"), help="datum of lon/lat input")
    p.add_argument("--out", required=True, metavar="OUT")
    p.set_defaults(func=run)


def _read_register(path: str | None) -> pd.DataFrame | None:
    if path is None or not Path(path).exists():
        return None
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def run(args: argparse.Namespace) -> int:
    """Run ``gridmap code``; return the exit code."""
    from ..codes import assign_codes, renumber_codes

    grids = read_polygons(args.grids, what="grids", coords=args.coords)
    register = _read_register(args.register)
    options = {"admin_code": args.admin_code, "object_code": args.object_code,
               "street_col": args.street_col, "community_col": args.community_col,
               "admin_col": args.admin_col}
    out = Path(args.out)
    if args.previous is None:
        coded = assign_codes(grids, template=args.template, register=register, **options)
        write_result(coded, out, layer="grids" if out.suffix.lower() == ".gpkg" else None)
        print(f"coded {len(coded)} grids with template {args.template}")
        print(f"wrote {out}")
        return 0
    from ..readers import read_table

    previous = read_table(args.previous).frame
    if not hasattr(previous, "geometry"):
        previous = read_polygons(args.previous, what="previous grids", coords=args.coords)
    previous = previous.to_crs(grids.crs)
    res = renumber_codes(grids, previous, template=args.template,
                         previous_code_col=args.previous_code_col, register=register,
                         date=args.date, **options)
    write_result(res.grids, out, layer="grids" if out.suffix.lower() == ".gpkg" else None)
    write_result(res.mapping, sidecar(out, ".mapping.csv"))
    reg_path = Path(args.register) if args.register else sidecar(out, ".retired.csv")
    reg_path.parent.mkdir(parents=True, exist_ok=True)
    res.register.to_csv(reg_path, index=False, encoding="utf-8-sig")
    kept = int((res.grids["code_status"] == "kept").sum())
    print(f"{kept} grid(s) kept their code, {len(res.grids) - kept} got new codes, "
          f"{len(res.retired)} code(s) retired")
    print(f"wrote {out}, {sidecar(out, '.mapping.csv').name} and {reg_path}")
    return 0
