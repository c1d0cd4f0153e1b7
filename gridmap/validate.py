"""Validate a set of grids as a coverage, and fix what can be fixed.

:func:`validate_coverage` reports, each with its location (a geometry):

``invalid``
    a grid geometry that is not valid (self-intersection, ring problems...);
``empty``
    a grid without geometry;
``duplicate_id``
    two grids with the same id;
``multipart``
    a grid made of several separate polygons (each extra part is reported);
``overlap``
    two grids overlapping by more than ``overlap_tolerance`` m²;
``gap``
    an uncovered hole inside the coverage (or inside the parents' outline)
    larger than ``gap_tolerance`` m²;
``parent``
    a grid not inside exactly one parent (community or street): less than
    ``within_share`` of its area in its main parent;
``island``
    a grid sharing no border with any other grid.

:func:`fix_coverage` makes geometries valid, snaps vertices that lie within
``snap`` metres of a neighbour's boundary onto it, cuts overlaps from all but
the first grid listed, and fills each gap into the neighbour grid with the
longest shared border. It reports every change.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._errors import SchemaError
from ._validate import require_columns, require_crs, require_nonempty
from .crs import to_metric

__all__ = [
    "ISSUE_KINDS",
    "FixResult",
    "ValidationReport",
    "fix_coverage",
    "validate_coverage",
]

ISSUE_KINDS = ("invalid", "empty", "duplicate_id", "multipart", "overlap", "gap", "parent", "island")


@dataclass
class ValidationReport:
    """What is wrong with a coverage, and where.

    Attributes
    ----------
    issues
        One row per finding (grids' CRS): ``kind``, ``grid_id`` (the grid, or
        the first of several), ``grids`` (all involved, comma-separated),
        ``area_m2``, ``detail`` and the location ``geometry``.
    n_grids
        Number of grids checked.
    """

    issues: gpd.GeoDataFrame
    n_grids: int

    @property
    def ok(self) -> bool:
        """True when nothing was found."""
        return len(self.issues) == 0

    def counts(self) -> dict[str, int]:
        """Number of findings of each kind (every kind listed, zeros included)."""
        c = self.issues["kind"].value_counts()
        return {k: int(c.get(k, 0)) for k in ISSUE_KINDS}


@dataclass
class FixResult:
    """Fixed grids and what was changed.

    Attributes
    ----------
    grids
        The fixed grids (a copy; same rows and columns as the input).
    changes
        One row per change: ``grid_id``, ``action`` (made_valid, snapped,
        overlap_removed, gap_filled, part_dropped), ``area_change_m2`` and ``detail``.
    before, after
        Validation reports before and after fixing.
    """

    grids: gpd.GeoDataFrame
    changes: pd.DataFrame
    before: ValidationReport
    after: ValidationReport = field(repr=False)


def _parent_layers(
    parents: gpd.GeoDataFrame | Sequence[gpd.GeoDataFrame] | None,
    parent_id: str | Sequence[str | None] | None,
) -> list[tuple[str, gpd.GeoDataFrame, str | None]]:
    if parents is None:
        return []
    layers = [parents] if isinstance(parents, gpd.GeoDataFrame) else list(parents)
    ids = list(parent_id) if isinstance(parent_id, list | tuple) else [parent_id] * len(layers)
    if len(ids) != len(layers):
        raise SchemaError(f"{len(layers)} parent layers but {len(ids)} parent id columns.")
    out = []
    for n, (layer, pid) in enumerate(zip(layers, ids, strict=True)):
        require_crs(layer, layer="parents")
        if pid is not None:
            require_columns(layer, [pid], layer="parents")
        out.append((f"parent level {n + 1}" if len(layers) > 1 else "parent", layer, pid))
    return out


def _reason_point(reason: str, fallback: shapely.Geometry) -> shapely.Geometry:
    m = re.search(r"\[\s*(-?[\d.eE+-]+)\s+(-?[\d.eE+-]+)", reason)
    if m:
        try:
            return shapely.Point(float(m.group(1)), float(m.group(2)))
        except ValueError:
            pass
    return shapely.point_on_surface(fallback)


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """The polygonal part of a geometry (collections from make_valid, intersections)."""
    if geom is None or geom.is_empty:
        return shapely.Polygon()
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def _gaps(geoms: np.ndarray, outline: shapely.Geometry | None) -> list[shapely.Geometry]:
    union = shapely.union_all(geoms[~shapely.is_empty(geoms)])
    holes = []
    for poly in shapely.get_parts(union):
        for ring in poly.interiors:
            holes.append(shapely.Polygon(ring))
    region = shapely.union_all(holes) if holes else shapely.Polygon()
    if outline is not None:
        region = shapely.union(region, shapely.difference(outline, union))
    gaps = _polygonal(shapely.difference(region, union))
    return [g for g in shapely.get_parts(gaps) if not g.is_empty]


def validate_coverage(
    grids: gpd.GeoDataFrame,
    *,
    grid_id: str = "grid_id",
    parents: gpd.GeoDataFrame | Sequence[gpd.GeoDataFrame] | None = None,
    parent_id: str | Sequence[str | None] | None = None,
    gap_tolerance: float = 1.0,
    overlap_tolerance: float = 1.0,
    within_share: float = 0.99,
) -> ValidationReport:
    """Check that grids form a clean coverage, nested in their parents.

    Parameters
    ----------
    grids
        Grid polygons with ``grid_id``.
    grid_id
        Id column.
    parents
        Parent layer(s) (communities, streets): each grid must lie in exactly
        one parent of each layer, and, with parents, uncovered parts of the
        parents' outline are gaps too.
    parent_id
        Id column of each parent layer (default: the index).
    gap_tolerance, overlap_tolerance
        Square metres; smaller gaps and overlaps are ignored.
    within_share
        Share of a grid's area that must lie in one parent.

    Returns
    -------
    ValidationReport
    """
    require_nonempty(grids, layer="grids")
    require_crs(grids, layer="grids")
    require_columns(grids, [grid_id], layer="grids")
    metric = to_metric(grids)
    geoms = metric.geometry.values
    ids = grids[grid_id].astype(str).to_numpy()
    rows: list[dict] = []

    def add(kind, gids, geom, area=np.nan, detail=""):
        gids = [str(g) for g in gids]
        rows.append(
            {"kind": kind, "grid_id": gids[0] if gids else "", "grids": ",".join(gids),
             "area_m2": float(area), "detail": detail, "geometry": geom}
        )

    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    for i in np.flatnonzero(missing):
        add("empty", [ids[i]], None, detail="grid has no geometry")
    dup = pd.Series(ids).duplicated(keep=False).to_numpy()
    for gid in sorted(set(ids[dup])):
        pos = np.flatnonzero(ids == gid)
        add("duplicate_id", [gid], shapely.point_on_surface(geoms[pos[0]]),
            detail=f"{len(pos)} grids share this id")
    ok = ~missing
    valid = np.ones(len(geoms), dtype=bool)
    valid[ok] = shapely.is_valid(geoms[ok])
    for i in np.flatnonzero(ok & ~valid):
        reason = shapely.is_valid_reason(geoms[i])
        add("invalid", [ids[i]], _reason_point(reason, geoms[i]), detail=reason)
    # work on valid versions from here on
    clean = geoms.copy()
    clean[ok & ~valid] = [_polygonal(shapely.make_valid(g)) for g in geoms[ok & ~valid]]
    for i in np.flatnonzero(ok):
        parts = shapely.get_parts(clean[i])
        if len(parts) > 1:
            areas = shapely.area(parts)
            for j in np.argsort(-areas)[1:]:
                add("multipart", [ids[i]], parts[j], areas[j],
                    f"part {j + 1} of {len(parts)} is separate from the main part")
    # overlaps and neighbours
    pos = np.flatnonzero(ok)
    tree = shapely.STRtree(clean[pos])
    a, b = tree.query(clean[pos], predicate="intersects")
    keep = a < b
    a, b = pos[a[keep]], pos[b[keep]]
    inter = shapely.intersection(clean[a], clean[b])
    inter_area = shapely.area(inter)
    for k in np.flatnonzero(inter_area > overlap_tolerance):
        add("overlap", [ids[a[k]], ids[b[k]]], _polygonal(inter[k]), inter_area[k],
            f"grids {ids[a[k]]} and {ids[b[k]]} overlap by {inter_area[k]:.1f} m²")
    shared = shapely.length(shapely.intersection(shapely.boundary(clean[a]), shapely.boundary(clean[b])))
    touching = (shared > 0) | (inter_area > 0)
    has_nbr = np.zeros(len(geoms), dtype=bool)
    has_nbr[a[touching]] = True
    has_nbr[b[touching]] = True
    # gaps
    layers = _parent_layers(parents, parent_id)
    outline = None
    if layers:
        outline = shapely.union_all(
            np.concatenate([lay.to_crs(metric.crs).geometry.values for _, lay, _ in layers[:1]])
        )
    gtree = shapely.STRtree(clean[pos])
    for gap in _gaps(clean[pos], outline):
        area = gap.area
        if area <= gap_tolerance:
            continue
        near = pos[gtree.query(gap, predicate="dwithin", distance=1e-6)]
        add("gap", list(ids[near]), gap, area, f"uncovered area of {area:.1f} m²")
    # parents
    for level, layer, pid in layers:
        pg = layer.to_crs(metric.crs).geometry.values
        pids = layer[pid].astype(str).to_numpy() if pid else layer.index.astype(str).to_numpy()
        ptree = shapely.STRtree(pg)
        gi, pi = ptree.query(clean[pos], predicate="intersects")
        gi = pos[gi]
        share = shapely.area(shapely.intersection(clean[gi], pg[pi])) / np.maximum(
            shapely.area(clean[gi]), 1e-12
        )
        df = pd.DataFrame({"g": gi, "p": pi, "share": share})
        df = df[df["share"] > 1e-6]
        best = df.sort_values(["g", "share"], ascending=[True, False]).drop_duplicates("g")
        inside = dict(zip(best["g"], best["share"], strict=True))
        for g in pos:
            s = inside.get(g, 0.0)
            if s >= within_share:
                continue
            mine = df[df["g"] == g].sort_values("share", ascending=False)
            listed = ", ".join(f"{pids[p]} ({sh:.0%})" for p, sh in zip(mine["p"], mine["share"], strict=True))
            main = int(mine["p"].iloc[0]) if len(mine) else None
            outside = clean[g] if main is None else _polygonal(shapely.difference(clean[g], pg[main]))
            add("parent", [ids[g]], outside, shapely.area(outside),
                f"{level}: {listed or 'inside no parent'}")
    if len(pos) > 1:
        for i in pos[~has_nbr[pos]]:
            add("island", [ids[i]], clean[i], shapely.area(clean[i]), "shares no border with any grid")
    issues = gpd.GeoDataFrame(
        rows, columns=["kind", "grid_id", "grids", "area_m2", "detail", "geometry"],
        geometry="geometry", crs=metric.crs,
    )
    if len(issues):
        issues = issues.to_crs(grids.crs)
    else:
        issues = issues.set_crs(grids.crs, allow_override=True)
    return ValidationReport(issues=issues, n_grids=len(grids))


def fix_coverage(
    grids: gpd.GeoDataFrame,
    *,
    grid_id: str = "grid_id",
    parents: gpd.GeoDataFrame | Sequence[gpd.GeoDataFrame] | None = None,
    parent_id: str | Sequence[str | None] | None = None,
    make_valid: bool = True,
    snap: float = 0.0,
    remove_overlaps: bool = True,
    fill_gaps: bool = True,
    max_gap_area: float | None = None,
    gap_tolerance: float = 1.0,
    overlap_tolerance: float = 1.0,
) -> FixResult:
    """Repair a coverage and report every change.

    Parameters
    ----------
    grids
        Grid polygons with ``grid_id``.
    grid_id
        Id column.
    parents, parent_id
        As in :func:`validate_coverage`; with parents, gaps against the first
        parent layer's outline are filled too.
    make_valid
        Make invalid geometries valid (keeping their polygonal parts).
    snap
        Metres; vertices within this distance of a neighbour's boundary are
        snapped onto it (0: no snapping).
    remove_overlaps
        Cut each overlap from all grids but the first listed.
    fill_gaps
        Give each gap to the neighbour grid with the longest shared border.
    max_gap_area
        Square metres; larger gaps are left (and reported). Default: fill all.
    gap_tolerance, overlap_tolerance
        Passed to :func:`validate_coverage` for the before/after reports.

    Returns
    -------
    FixResult
    """
    before = validate_coverage(
        grids, grid_id=grid_id, parents=parents, parent_id=parent_id,
        gap_tolerance=gap_tolerance, overlap_tolerance=overlap_tolerance,
    )
    metric = to_metric(grids)
    geoms = metric.geometry.values.copy()
    ids = grids[grid_id].astype(str).to_numpy()
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    changes: list[dict] = []

    def log(i, action, old_area, detail=""):
        changes.append({"grid_id": ids[i], "action": action,
                        "area_change_m2": float(shapely.area(geoms[i]) - old_area), "detail": detail})

    if make_valid:
        for i in np.flatnonzero(ok & ~shapely.is_valid(np.where(ok, geoms, shapely.Point(0, 0)))):
            old = shapely.area(geoms[i])
            reason = shapely.is_valid_reason(geoms[i])
            geoms[i] = _polygonal(shapely.make_valid(geoms[i]))
            log(i, "made_valid", old, reason)
    if snap > 0:
        tree = shapely.STRtree(geoms[ok])
        pos = np.flatnonzero(ok)
        for i in pos:
            near = pos[tree.query(geoms[i], predicate="dwithin", distance=snap)]
            near = near[near != i]
            if len(near) == 0:
                continue
            target = shapely.union_all(shapely.boundary(geoms[near]))
            snapped = shapely.snap(geoms[i], target, snap)
            if not snapped.is_valid:
                snapped = _polygonal(shapely.make_valid(snapped))
            if not shapely.equals_exact(snapped, geoms[i], 0.0):
                old = shapely.area(geoms[i])
                geoms[i] = snapped
                log(i, "snapped", old, f"vertices within {snap:g} m moved onto neighbours")
    if remove_overlaps:
        pos = np.flatnonzero(ok)
        tree = shapely.STRtree(geoms[pos])
        a, b = tree.query(geoms[pos], predicate="intersects")
        keep = a < b
        for i, j in sorted(zip(pos[a[keep]], pos[b[keep]], strict=True)):
            inter = shapely.intersection(geoms[i], geoms[j])
            if shapely.area(inter) <= 0:
                continue
            old = shapely.area(geoms[j])
            geoms[j] = _polygonal(shapely.difference(geoms[j], geoms[i]))
            log(j, "overlap_removed", old, f"overlap with {ids[i]} left to {ids[i]}")
    if fill_gaps:
        layers = _parent_layers(parents, parent_id)
        outline = (
            shapely.union_all(layers[0][1].to_crs(metric.crs).geometry.values) if layers else None
        )
        pos = np.flatnonzero(ok)
        for gap in _gaps(geoms[pos], outline):
            if max_gap_area is not None and gap.area > max_gap_area:
                continue
            tree = shapely.STRtree(geoms[pos])
            near = pos[tree.query(gap, predicate="dwithin", distance=max(snap, 1e-6))]
            if len(near) == 0:
                continue
            border = shapely.length(
                shapely.intersection(gap.boundary, shapely.buffer(geoms[near], max(snap, 1e-6)))
            )
            i = near[int(np.argmax(border))]
            old = shapely.area(geoms[i])
            geoms[i] = _polygonal(shapely.union(geoms[i], gap))
            log(i, "gap_filled", old, f"gap of {gap.area:.1f} m² (longest shared border {border.max():.1f} m)")
    out = grids.copy()
    fixed = gpd.GeoSeries(geoms, crs=metric.crs).to_crs(grids.crs)
    out[grids.geometry.name] = fixed.to_numpy()
    after = validate_coverage(
        out, grid_id=grid_id, parents=parents, parent_id=parent_id,
        gap_tolerance=gap_tolerance, overlap_tolerance=overlap_tolerance,
    )
    return FixResult(
        grids=out,
        changes=pd.DataFrame(changes, columns=["grid_id", "action", "area_change_m2", "detail"]),
        before=before,
        after=after,
    )
