"""``gridmap partition`` (balanced redraw) and ``gridmap rebalance`` (minimum change).

Both write the grids to OUT (format from its extension) and, beside it,
``<stem>.assignment.csv`` (unit → grid), ``<stem>.metrics.json`` (plan
metrics and problems) and, when the island policy linked units,
``<stem>.island_links.csv``; ``rebalance`` adds ``<stem>.changes.csv``
(grid by grid) and ``<stem>.moved.csv`` (units moved). A ``.gpkg`` OUT also
gets a ``units`` layer with each unit's grid.

Exit codes: 0 balanced within the tolerance, 1 a plan was written but misses
the tolerance (or has other problems, printed), 2 unusable input or an
infeasible task (the message says where).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd

from .._errors import ReadError, SchemaError
from ..export import write_result

__all__ = ["read_lines", "read_polygons", "register", "sidecar", "split_layer", "write_json"]

_MODEL_EXTRAS = ("name", "district_code", "street_code", "community_code", "zone")


def read_polygons(
    path: str,
    *,
    what: str,
    coords: str | None = None,
    layer: str | None = None,
    id_column: str | None = None,
) -> gpd.GeoDataFrame:
    """Read a polygon file with :func:`gridmap.ingest.read_layer` (EPSG:4326 out).

    ``FILE#LAYER`` names a layer of a multi-layer file (GeoPackage). Data-model
    columns the file did not have are dropped again; rejected rows are
    reported on stderr. With ``id_column`` (e.g. ``unit_id``) present, it
    becomes the index.
    """
    from ..ingest import read_layer

    path, layer = split_layer(path, layer)
    res = read_layer(path, kind="grids", coords=coords, layer=layer)
    if res.report.rejected:
        print(f"{what}: {res.report.summary()}", file=sys.stderr)
    data = res.data
    drop = [c for c in _MODEL_EXTRAS if c in data.columns and data[c].isna().all()]
    data = data.drop(columns=drop)
    if len(data) == 0:
        raise ReadError(path, f"no usable {what} polygons", "check the file with gridmap check")
    if id_column and id_column in data.columns:
        if data[id_column].duplicated().any():
            raise SchemaError(f"{path}: {id_column} values are not unique; fix the ids.")
        data = data.set_index(id_column, drop=True)
    return data


def split_layer(path: str, layer: str | None = None) -> tuple[str, str | None]:
    """Split ``FILE#LAYER`` into the file and the layer name."""
    if "#" in path and not Path(path).exists():
        path, _, name = path.rpartition("#")
        return path, name or layer
    return path, layer


def read_lines(paths: str, *, coords: str | None = None) -> list[gpd.GeoDataFrame]:
    """Read comma-separated line (or polygon) files such as roads and rivers."""
    from ..crs import convert_datum
    from ..readers import read_table

    out = []
    for path in [p.strip() for p in paths.split(",") if p.strip()]:
        file, layer = split_layer(path)
        frame = read_table(file, layer=layer).frame
        if not isinstance(frame, gpd.GeoDataFrame):
            raise ReadError(path, "not a vector file with line geometry", "use GeoPackage/GeoJSON/Shapefile")
        if frame.crs is None:
            raise ReadError(path, "has no CRS", "set it with gridmap convert or a GIS")
        frame = frame.to_crs(4326)
        if coords in ("gcj02", "bd09"):
            frame = convert_datum(frame, source=coords, target="wgs84")
        out.append(frame)
    return out


def sidecar(out: Path, suffix: str) -> Path:
    """``OUT`` with its extension replaced by ``suffix`` (e.g. ``.assignment.csv``)."""
    return out.with_name(out.stem + suffix)


def write_json(data: dict, path: Path) -> None:
    """Write JSON with non-ASCII text kept readable."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str), encoding="utf-8")


def _within(value: str | None, units: gpd.GeoDataFrame, coords: str | None):
    if value is None:
        return None
    if value in units.columns:
        return value
    if Path(value).exists():
        return read_polygons(value, what="within parents", coords=coords)
    raise SchemaError(
        f"--within {value!r} is neither a column of the units ({list(units.columns)}) nor a file."
    )


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--units", required=True, metavar="U", help="unit polygons (blocks, parcels, cells)")
    p.add_argument("--unit-id", default="unit_id", metavar="COL", help="unit id column (default unit_id)")
    p.add_argument("--balance", action="append", metavar="FIELD[:WEIGHT]",
                   help="field to balance, repeatable (default: the unit count)")
    p.add_argument("--tolerance", type=float, default=0.01,
                   help="allowed relative deviation from the target (default 0.01 = ±1%%)")
    p.add_argument("--within", metavar="COLUMN_OR_LAYER",
                   help="parents the grids must nest in: a units column or a polygon file "
                        "(FILE#LAYER for a layer of a GeoPackage)")
    p.add_argument("--within-id", metavar="COL", help="id column of a --within file")
    p.add_argument("--barriers", metavar="roads.gpkg,rivers.gpkg",
                   help="line layers grids should not straddle (comma-separated)")
    p.add_argument("--barrier-penalty", type=float, default=4.0,
                   help="strength of the barrier preference (default 4)")
    p.add_argument("--coords", choices=("wgs84", "gcj02", "bd09"), help="datum of lon/lat input")
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed, same plan)")
    p.add_argument("--out", required=True, metavar="OUT", help="grids output (.gpkg/.geojson/.csv/...)")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``partition`` and ``rebalance`` subcommands."""
    p = subparsers.add_parser(
        "partition",
        help="redraw grids: partition units into K contiguous, balanced, compact grids",
        description="Partition units into exactly K grids (or grids of a target size) that are "
                    "contiguous, balanced within the tolerance, compact, nested in --within "
                    "parents and that avoid straddling --barriers.",
    )
    _add_common(p)
    k = p.add_mutually_exclusive_group(required=True)
    k.add_argument("--parts", type=int, metavar="K", help="exact number of grids")
    k.add_argument("--target-size", type=float, metavar="N", help="wanted --size-field total per grid")
    p.add_argument("--size-field", metavar="FIELD", help="field --target-size counts (e.g. households)")
    p.add_argument("--trials", type=int, default=1, help="initial plans tried per parent (default 1)")
    p.add_argument("--reference", metavar="PLAN",
                   help="existing grids (polygons) to count units moved against")
    p.set_defaults(func=run_partition)

    r = subparsers.add_parser(
        "rebalance",
        help="rebalance an existing plan into K grids, keeping as much as possible",
        description="Turn the existing grids into K balanced grids while keeping as many "
                    "existing boundaries and unit assignments as possible; reports units, field "
                    "totals and area moved, grid by grid.",
    )
    r.add_argument("--grids", required=True, metavar="EXISTING", help="existing grid polygons")
    r.add_argument("--grid-id", default="grid_id", metavar="COL", help="id column of --grids")
    _add_common(r)
    r.add_argument("--parts", type=int, metavar="K", help="number of grids wanted (default: as now)")
    r.add_argument("--lock", action="append", default=[], metavar="GRID_ID",
                   help="existing grid that must not change (repeatable)")
    r.add_argument("--change-penalty", type=float, default=4.0,
                   help="cost of moving a unit away from its grid, in border lengths (default 4)")
    r.set_defaults(func=run_rebalance)


def _summary_lines(metrics: dict, fields: list[str]) -> list[str]:
    lines = [f"grids: {metrics['k']}"]
    for f in fields:
        lines.append(
            f"{f}: max deviation {metrics.get(f'{f}_max_abs_dev', float('nan')):.2%}, "
            f"mean {metrics.get(f'{f}_mean_abs_dev', float('nan')):.2%}, "
            f"range {metrics.get(f'{f}_range', float('nan')):.2%}, CV {metrics.get(f'{f}_cv', float('nan')):.3f}"
        )
    lines.append(
        f"compactness: mean Polsby-Popper {metrics['mean_polsby_popper']:.3f}, "
        f"Reock {metrics['mean_reock']:.3f}, convex hull {metrics['mean_convex_hull_ratio']:.3f}"
    )
    line = f"cut edges: {metrics['cut_edges']}"
    if metrics.get("barrier_share") == metrics.get("barrier_share"):  # not NaN
        line += (f"; {metrics['barrier_share']:.1%} of grid boundaries on barriers, "
                 f"{metrics['barrier_crossings']} barrier crossings inside grids")
    lines.append(line)
    lines.append(f"contiguous: {'all' if metrics['all_contiguous'] else 'NO'}")
    if "units_moved" in metrics:
        lines.append(f"units moved: {metrics['units_moved']}")
    return lines


def _write_plan(out: Path, grids: gpd.GeoDataFrame, units: gpd.GeoDataFrame,
                assignment: pd.Series, metrics: dict, problems: list[str]) -> None:
    write_result(grids, out, layer="grids" if out.suffix.lower() == ".gpkg" else None)
    if out.suffix.lower() == ".gpkg":
        write_result(units.assign(grid_id=assignment.reindex(units.index).to_numpy()).reset_index(),
                     out, layer="units")
    table = pd.DataFrame({"unit_id": units.index.to_numpy(),
                          "grid_id": assignment.reindex(units.index).to_numpy()})
    write_result(table, sidecar(out, ".assignment.csv"))
    write_json({"metrics": metrics, "problems": problems}, sidecar(out, ".metrics.json"))


def run_partition(args: argparse.Namespace) -> int:
    """Run ``gridmap partition``; return the exit code."""
    from ..partition import partition_units
    from ..rebalance import existing_assignment

    units = read_polygons(args.units, what="units", coords=args.coords, id_column=args.unit_id)
    within = _within(args.within, units, args.coords)
    barriers = read_lines(args.barriers, coords=args.coords) if args.barriers else None
    reference = None
    if args.reference:
        ref = read_polygons(args.reference, what="reference grids", coords=args.coords)
        reference, _ = existing_assignment(units, ref)
    res = partition_units(
        units,
        parts=args.parts,
        target_size=args.target_size,
        size_field=args.size_field,
        balance=args.balance,
        tolerance=args.tolerance,
        within=within,
        within_id=args.within_id,
        barriers=barriers,
        barrier_penalty=args.barrier_penalty,
        reference=reference,
        seed=args.seed,
        trials=args.trials,
    )
    out = Path(args.out)
    _write_plan(out, res.grids, units, res.assignment, res.metrics, res.problems)
    if len(res.island_links):
        write_result(res.island_links, sidecar(out, ".island_links.csv"))
    for line in _summary_lines(res.metrics, res.metrics["fields"]):
        print(line)
    if len(res.island_links):
        print(f"island links: {len(res.island_links)} (see {sidecar(out, '.island_links.csv').name})")
    for problem in res.problems:
        print(f"warning: {problem}", file=sys.stderr)
    print(f"wrote {out}")
    return 0 if res.balanced else 1


def run_rebalance(args: argparse.Namespace) -> int:
    """Run ``gridmap rebalance``; return the exit code."""
    from ..rebalance import rebalance_plan

    units = read_polygons(args.units, what="units", coords=args.coords, id_column=args.unit_id)
    grids = read_polygons(args.grids, what="existing grids", coords=args.coords)
    if args.grid_id not in grids.columns:
        raise SchemaError(f"{args.grids}: no {args.grid_id!r} column; pass --grid-id COL.")
    within = _within(args.within, units, args.coords)
    barriers = read_lines(args.barriers, coords=args.coords) if args.barriers else None
    res = rebalance_plan(
        units,
        grids=grids,
        grid_id=args.grid_id,
        parts=args.parts,
        balance=args.balance,
        tolerance=args.tolerance,
        within=within,
        within_id=args.within_id,
        barriers=barriers,
        barrier_penalty=args.barrier_penalty,
        locked=args.lock,
        change_penalty=args.change_penalty,
        seed=args.seed,
    )
    out = Path(args.out)
    _write_plan(out, res.grids, units, res.assignment, res.metrics, res.problems)
    write_result(res.changes, sidecar(out, ".changes.csv"))
    write_result(res.moved, sidecar(out, ".moved.csv"))
    for line in _summary_lines(res.metrics, res.metrics["fields"]):
        print(line)
    m = res.metrics
    print(f"{m['k_before']} → {m['k']} grids; units moved {m['units_moved']} "
          f"({m['units_moved_share']:.1%}), area moved {m['area_moved_m2'] / 1e6:.3f} km²")
    for f in m["fields"]:
        if f"{f}_moved" in m:
            print(f"{f} moved: {m[f'{f}_moved']:g}")
    for problem in res.problems:
        print(f"warning: {problem}", file=sys.stderr)
    print(f"wrote {out} and {sidecar(out, '.changes.csv').name}")
    return 0 if res.balanced else 1
