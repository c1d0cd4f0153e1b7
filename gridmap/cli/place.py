"""``gridmap place``: suggest new camera sites (maximal covering, or reaching density targets).

Prints the ranked sites with their marginal gain and grid, and writes them to
``--out`` (format from its extension). Exit codes: 0 done, 2 unusable input
or no feasible placement.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .density import add_input_args, parse_targets, read_cameras, read_grids, show_table

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``place`` subcommand."""
    p = subparsers.add_parser(
        "place",
        help="suggest new camera sites: most uncovered incidents/population, or reach targets",
        description="Pick new sites among candidates so their views (discs of the site kind's "
                    "range) cover the most demand no existing camera sees: incident weight "
                    "(--incidents), population (--population raster) or area. --add K picks "
                    "K sites (lazy greedy, or the exact MILP with --exact); --reach-target "
                    "picks the fewest sites that bring every short grid to its density target.",
    )
    add_input_args(p)
    p.add_argument("--incidents", metavar="I", help="incident points (their weight is demand)")
    p.add_argument("--population", metavar="P", help="population GeoTIFF (persons per cell)")
    p.add_argument("--candidates", default="road-intersections",
                   metavar="road-intersections|lattice|FILE",
                   help="candidate sites (default road-intersections, which needs --roads)")
    p.add_argument("--roads", metavar="R", help="road lines, for road-intersection candidates")
    p.add_argument("--spacing", type=float, default=50.0, metavar="M",
                   help="lattice spacing of candidates (default 50 m)")
    how = p.add_mutually_exclusive_group(required=True)
    how.add_argument("--add", type=int, metavar="K", help="number of new sites")
    how.add_argument("--reach-target", action="store_true",
                     help="the fewest sites that bring every short grid to its target")
    p.add_argument("--exact", action="store_true",
                   help="solve --add exactly (MILP, CBC; small instances)")
    p.add_argument("--level", choices=("detection", "observation", "recognition",
                                       "identification"),
                   help="DORI level for the views' range (default: data / kind defaults)")
    p.add_argument("--site-kind", default="dome",
                   choices=("bullet", "dome", "ptz", "hemisphere", "other"),
                   help="kind of the new cameras, for their default range (default dome)")
    p.add_argument("--range", type=float, metavar="M", help="view radius of a new site")
    tg = p.add_mutually_exclusive_group()
    tg.add_argument("--target", action="append", metavar="ZONE=N",
                    help="density target per zone for --reach-target (default urban=70, rural=8)")
    tg.add_argument("--target-col", metavar="COL", help="grid column with per-grid targets")
    p.add_argument("--out", metavar="OUT", help="write the sites (.csv, .geojson, .gpkg...)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``gridmap place``; return the exit code."""
    from ..export import write_result
    from ..placement import candidate_sites, demand_points, place_cameras, reach_targets
    from .coverage import read_features

    grids = read_grids(args.grids, coords=args.coords)
    cameras = read_cameras(args.cameras, coords=args.coords)
    incidents = (read_cameras(args.incidents, coords=args.coords, what="incidents")
                 if args.incidents else None)
    if args.candidates in ("road-intersections", "lattice"):
        roads = read_features(args.roads, what="roads", geom="line") if args.roads else None
        cand = candidate_sites(grids, source=args.candidates, roads=roads,
                               spacing_m=args.spacing)
    else:
        cand = candidate_sites(grids, source=read_cameras(args.candidates, coords=args.coords,
                                                          what="places"))
    demand, what = demand_points(grids, incidents=incidents, population=args.population)
    print(f"{len(cand)} candidate site(s) ({args.candidates}); demand: {what} "
          f"({len(demand)} points)")
    common = {"grid_id": args.grid_id, "level": args.level, "site_kind": args.site_kind,
              "range_m": args.range}
    if args.reach_target:
        res = reach_targets(cameras, grids, cand, demand, targets=parse_targets(args.target),
                            target_col=args.target_col, **common)
    else:
        res = place_cameras(cameras, grids, cand, demand, k=args.add,
                            method="exact" if args.exact else "greedy", **common)
    for note in res.notes:
        print(f"note: {note}")
    unit = {"incidents": "incident weight", "population": "persons", "area": "km²"}[what]
    print(f"demand no existing camera sees: {res.demand_uncovered:,.2f} {unit} of "
          f"{res.demand_total:,.2f}; new views are discs of {res.range_m:.1f} m")
    show_table(res.sites, title=f"\n{len(res.sites)} suggested site(s), ranked "
                                f"({res.method}; gain in {unit})")
    if len(res.sites):
        print(f"together they see {res.sites['gain'].sum():,.2f} {unit} more "
              f"({res.sites['cumulative_pct'].iat[-1]:.2f}% of the unseen demand)")
    if args.out:
        out = Path(args.out)
        write_result(res.sites, out, layer="sites" if out.suffix.lower() == ".gpkg" else None)
        print(f"written: {out}")
    return 0
