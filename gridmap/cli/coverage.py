"""``gridmap coverage``: camera views, covered and overlapping shares per grid, blind spots.

Writes to ``--out``: a GeoPackage gets the layers ``grids`` (per-grid
coverage), ``views``, ``blind_spots`` and ``incidents_uncovered``; any other
format gets the per-grid table, with the views and blind spots in
``<stem>.views.geojson`` and ``<stem>.blind_spots.geojson`` and the unseen
incidents in ``<stem>.incidents_uncovered.csv``. Exit codes: 0 done, 2
unusable input.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from pyogrio.errors import DataLayerError, DataSourceError

from .._errors import ReadError
from .density import add_input_args, read_cameras, read_grids, show_table

__all__ = ["read_features", "register", "write_outputs"]


def read_features(path: str, *, what: str, geom: str) -> gpd.GeoDataFrame:
    """Read buildings (``geom="polygon"``) or roads (``"line"``): any vector file or Overpass JSON.

    Features of other geometry types are dropped; the result is never empty.
    """
    from ..osm import read_overpass
    from .partition import split_layer

    file, layer = split_layer(path)
    name = file.lower()
    if name.endswith((".json", ".json.gz")):
        try:
            frame = read_overpass(file)
        except ReadError:
            frame = gpd.read_file(file)
    else:
        try:
            frame = gpd.read_file(file, layer=layer)
        except (DataSourceError, DataLayerError, OSError) as exc:
            raise ReadError(file, f"cannot read {what}: {exc}",
                            "give a GeoPackage, GeoJSON, Shapefile or Overpass JSON") from exc
    if frame.crs is None:
        frame = frame.set_crs("EPSG:4326")
    types = ("Polygon", "MultiPolygon") if geom == "polygon" else ("LineString",
                                                                   "MultiLineString")
    frame = frame[frame.geom_type.isin(types)]
    if geom == "line" and "highway" in frame.columns:
        frame = frame[frame["highway"].astype("string").fillna("") != ""]
    if len(frame) == 0:
        raise ReadError(file, f"no {geom} features for {what}",
                        f"give a file of {what} as {'/'.join(types)}")
    return frame.reset_index(drop=True)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``coverage`` subcommand."""
    p = subparsers.add_parser(
        "coverage",
        help="camera views (sectors/discs), covered and overlapping share per grid, blind spots",
        description="Draw each camera's view (a sector, or a disc for dome/PTZ/hemisphere; the "
                    "range from the data, the DORI --level or the kind's default), optionally "
                    "stopped by buildings, and report per grid the covered and overlapping "
                    "share, blind spots, and the share of roads and incidents seen.",
    )
    add_input_args(p, grids_required=False)
    p.add_argument("--buildings", metavar="B",
                   help="building footprints that stop the views (vector file or Overpass JSON)")
    p.add_argument("--roads", metavar="R", help="road lines (vector file or Overpass JSON)")
    p.add_argument("--incidents", metavar="I", help="incident points")
    p.add_argument("--level", choices=("detection", "observation", "recognition",
                                       "identification"),
                   help="DORI level for the range (IEC 62676-4); default: the data's range")
    p.add_argument("--cell", type=float, default=2.0, metavar="M",
                   help="raster cell size in metres (default 2)")
    p.add_argument("--min-blind-area", type=float, default=200.0, metavar="M2",
                   help="smallest unseen area reported as a blind spot (default 200 m²)")
    p.add_argument("--approaches", metavar="COL1,COL2",
                   help="one view per enforced approach in these columns (e.g. Chicago's "
                        "'FIRST APPROACH,SECOND APPROACH'; NB faces south)")
    p.add_argument("--online-only", action="store_true",
                   help="count only online cameras (default: all but planned)")
    p.add_argument("--out", metavar="OUT", help="output (.gpkg keeps every layer)")
    p.set_defaults(func=run)


def write_outputs(layers: dict[str, gpd.GeoDataFrame], out: Path, *, main: str) -> list[Path]:
    """Write named layers: all into a GeoPackage, else ``main`` to OUT and the rest beside it."""
    from ..export import write_result

    written = []
    ext = out.suffix.lower()
    layers = {k: (v.to_crs("EPSG:4326") if v.crs is not None and not v.crs.is_geographic
                  else v) for k, v in layers.items()}
    if ext == ".gpkg":
        if out.exists():
            out.unlink()
        for name, frame in layers.items():
            if len(frame):
                write_result(frame, out, layer=name)
        return [out]
    for name, frame in layers.items():
        if name == main:
            table = frame if ext in (".geojson", ".json", ".parquet") else pd.DataFrame(
                frame.drop(columns=frame.geometry.name))
            written.append(write_result(table, out))
        elif len(frame):
            side_ext = ".csv" if name.startswith("incidents") else ".geojson"
            path = out.with_name(f"{out.stem}.{name}{side_ext}")
            written.append(write_result(frame, path))
    return written


def run(args: argparse.Namespace) -> int:
    """Run ``gridmap coverage``; return the exit code."""
    from ..coverage import BUILT_STATUSES, camera_views, coverage, split_approaches

    cameras = read_cameras(args.cameras, coords=args.coords)
    if args.approaches:
        cameras = split_approaches(cameras, [c.strip() for c in args.approaches.split(",")])
        print(f"{len(cameras)} views from the approach columns")
    buildings = (read_features(args.buildings, what="buildings", geom="polygon")
                 if args.buildings else None)
    statuses = ("online",) if args.online_only else BUILT_STATUSES
    if not args.grids:
        views = camera_views(cameras, level=args.level, buildings=buildings, statuses=statuses)
        _print_views(views)
        metric = views.to_crs(views.estimate_utm_crs() if views.crs.is_geographic else views.crs)
        area = float(metric.geometry.union_all().area) / 1e6 if len(metric) else 0.0
        print(f"area seen by at least one camera: {area:,.3f} km²")
        if args.out:
            for path in write_outputs({"views": views}, Path(args.out), main="views"):
                print(f"written: {path}")
        return 0
    grids = read_grids(args.grids, coords=args.coords)
    roads = read_features(args.roads, what="roads", geom="line") if args.roads else None
    incidents = (read_cameras(args.incidents, coords=args.coords, what="incidents")
                 if args.incidents else None)
    res = coverage(cameras, grids, grid_id=args.grid_id, level=args.level, buildings=buildings,
                   roads=roads, incidents=incidents, cell_m=args.cell,
                   min_blind_m2=args.min_blind_area, statuses=statuses)
    for note in res.notes:
        print(f"note: {note}")
    _print_views(res.views)
    show_table(res.grids, title=f"\nCoverage per grid ({len(res.grids)} grids, "
                                f"{res.cell_m:g} m cells)")
    metric_area = res.grids["area_km2"].to_numpy()
    total = metric_area.sum()
    cov = np.nansum(res.grids["covered_pct"].to_numpy() * metric_area) / total if total else 0
    ovl = np.nansum(res.grids["overlap_pct"].to_numpy() * metric_area) / total if total else 0
    print(f"\nall grids: {cov:.2f}% covered, {ovl:.2f}% seen by two or more cameras, "
          f"{len(res.blind_spots)} blind spot(s) of at least {args.min_blind_area:g} m²")
    if incidents is not None:
        n_in = int(res.incidents_uncovered["in_blind_spot"].sum()) if len(
            res.incidents_uncovered) else 0
        print(f"incidents no camera sees: {len(res.incidents_uncovered)} "
              f"({n_in} inside blind spots)")
    if args.out:
        layers = {"grids": res.grids, "views": res.views, "blind_spots": res.blind_spots,
                  "incidents_uncovered": res.incidents_uncovered}
        for path in write_outputs(layers, Path(args.out), main="grids"):
            print(f"written: {path}")
    return 0


def _print_views(views: gpd.GeoDataFrame) -> None:
    counts = views.groupby(["kind", "shape", "range_source"]).agg(
        views=("shape", "size"), mean_range_m=("range_m", "mean")).reset_index()
    show_table(counts, title=f"{len(views)} camera views")
