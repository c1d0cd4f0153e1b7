"""Where to put new cameras: maximal covering with the existing cameras kept.

:func:`place_cameras` picks sites among candidates (road intersections, a
square lattice, or a file) so that new views cover as much **demand** as
possible that no existing camera sees. Demand is incident weight, population
(raster cells), or area (a lattice of equal-weight points) when neither is
given.

* A new site sees a disc of ``range_m`` (the default range of ``site_kind``,
  or its DORI distance at ``level``; see :mod:`gridmap.coverage`).
* ``method="greedy"`` (default) is the lazy greedy algorithm: each step takes
  the candidate with the largest marginal gain (ties: the first candidate),
  recomputing a gain only when it reaches the top of the queue. Coverage is submodular, so the result is
  at least (1 − 1/e) ≈ 63 % of the optimum (Nemhauser, Wolsey & Fisher 1978).
* ``method="exact"`` solves the maximal covering location problem (Church &
  ReVelle 1974) as a MILP with CBC (PuLP) — for small instances.
* :func:`reach_targets` places the fewest sites that bring every short grid
  to its density target: each site is one new point in one grid, so a grid
  short of *s* points gets exactly *s* sites (candidates inside it, best gain
  first, picked greedily across grids); grids with too few candidates get
  lattice candidates added.

Candidates closer than ``min_gap_m`` (5 m) to an existing camera or to an
already chosen site are skipped: they would not be new points.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import csr_matrix
from scipy.spatial import cKDTree

from ._errors import DataError, GridmapError, InfeasibleError
from ._validate import require_crs
from .assign import assign_points, pick_grid_id
from .coverage import BUILT_STATUSES, KIND_DEFAULTS, _views_metric, dori_range
from .crs import metric_crs
from .density import camera_density

__all__ = [
    "PlacementResult",
    "candidate_sites",
    "demand_points",
    "greedy_cover",
    "milp_cover",
    "place_cameras",
    "reach_targets",
]


@dataclass(frozen=True, eq=False)
class PlacementResult:
    """Output of :func:`place_cameras` and :func:`reach_targets`.

    Attributes
    ----------
    sites
        The chosen sites, ranked (EPSG:4326): ``rank``, ``site_id``,
        ``source``, the grid id column, ``gain`` (newly covered demand),
        ``cumulative_gain``, ``cumulative_pct`` (of the demand no existing
        camera sees), ``lon``, ``lat``.
    demand_total
        Total demand weight.
    demand_uncovered
        Demand weight no existing camera sees (what new sites can gain).
    method
        ``greedy``, ``exact`` or ``reach-target``.
    range_m
        Radius of a new site's view.
    notes
        What was chosen or assumed.
    """

    sites: gpd.GeoDataFrame
    demand_total: float
    demand_uncovered: float
    method: str
    range_m: float
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- inputs


def candidate_sites(
    grids: gpd.GeoDataFrame,
    *,
    source: str | gpd.GeoDataFrame = "road-intersections",
    roads: gpd.GeoDataFrame | None = None,
    spacing_m: float = 50.0,
) -> gpd.GeoDataFrame:
    """Candidate points inside the grids, in the grids' metric CRS.

    Parameters
    ----------
    grids
        Grid polygons (any CRS).
    source
        ``road-intersections`` (road nodes where three or more road ends
        meet, from ``roads``), ``lattice`` (a square lattice of ``spacing_m``)
        or a GeoDataFrame of points.
    roads
        Road lines, for ``road-intersections``.
    spacing_m
        Lattice spacing.

    Returns
    -------
    geopandas.GeoDataFrame
        ``site_id``, ``source`` and Point geometry, only inside some grid.
    """
    require_crs(grids, layer="grids")
    crs = metric_crs(grids)
    g = grids.to_crs(crs)
    if isinstance(source, gpd.GeoDataFrame):
        require_crs(source, layer="candidates")
        pts = source.to_crs(crs).geometry.values
        pts = pts[shapely.get_type_id(pts) == 0]
        ids = (source["site_id"].astype(str).to_numpy() if "site_id" in source.columns
               else np.array([f"S{i + 1}" for i in range(len(pts))]))[: len(pts)]
        label = "file"
    elif source == "road-intersections":
        if roads is None or len(roads) == 0:
            raise DataError("road-intersection candidates need roads; pass roads= "
                            "(--roads) or use the lattice candidates.")
        require_crs(roads, layer="roads")
        pts = _road_nodes(roads.to_crs(crs))
        ids = np.array([f"X{i + 1}" for i in range(len(pts))])
        label = "road intersection"
    elif source == "lattice":
        pts = _lattice(g, spacing_m)
        ids = np.array([f"L{i + 1}" for i in range(len(pts))])
        label = "lattice"
    else:
        raise ValueError("source must be 'road-intersections', 'lattice' or a GeoDataFrame, "
                         f"got {source!r}.")
    frame = gpd.GeoDataFrame({"site_id": ids, "source": label}, geometry=pts, crs=crs)
    if len(frame) == 0:
        return frame
    inside = assign_points(frame, g).index >= 0
    return frame.loc[inside].reset_index(drop=True)


def _road_nodes(roads_m: gpd.GeoDataFrame) -> np.ndarray:
    """Points where three or more road segment ends meet (after noding the network)."""
    lines = shapely.get_parts(roads_m.geometry.values)
    lines = lines[np.isin(shapely.get_type_id(lines), (1, 2))]
    if len(lines) == 0:
        return np.empty(0, dtype=object)
    noded = shapely.get_parts(shapely.union_all(lines))
    ends = np.vstack([shapely.get_coordinates(shapely.get_point(noded, 0)),
                      shapely.get_coordinates(shapely.get_point(noded, -1))])
    key = np.round(ends, 3)
    uniq, counts = np.unique(key, axis=0, return_counts=True)
    return shapely.points(uniq[counts >= 3])


def _lattice(grids_m: gpd.GeoDataFrame, spacing: float, *, offset: float = 0.5) -> np.ndarray:
    """Lattice points (cell centres of ``spacing``) over the grids' extent."""
    if not spacing > 0:
        raise ValueError(f"spacing must be positive, got {spacing!r}.")
    xmin, ymin, xmax, ymax = grids_m.total_bounds
    nx = max(math.ceil((xmax - xmin) / spacing), 1)
    ny = max(math.ceil((ymax - ymin) / spacing), 1)
    if nx * ny > 20_000_000:
        raise DataError(f"a {spacing:g} m lattice over this extent has {nx * ny:,} points; "
                        "use a larger spacing.")
    xs = xmin + (np.arange(nx) + offset) * spacing
    ys = ymin + (np.arange(ny) + offset) * spacing
    xx, yy = np.meshgrid(xs, ys)
    return shapely.points(xx.ravel(), yy.ravel())


def demand_points(
    grids: gpd.GeoDataFrame,
    *,
    incidents: gpd.GeoDataFrame | None = None,
    population: str | Path | None = None,
    spacing_m: float = 25.0,
) -> tuple[gpd.GeoDataFrame, str]:
    """Weighted demand points inside the grids, in the grids' metric CRS.

    Incidents (their ``weight``, else 1 each) when given; else population
    raster cells (persons per cell, at the cell centres); else an area
    lattice of ``spacing_m`` (weight: its cell area in km²).

    Returns
    -------
    (geopandas.GeoDataFrame, str)
        Points with ``weight``, and what the demand is (``incidents``,
        ``population`` or ``area``).
    """
    crs = metric_crs(grids)
    g = grids.to_crs(crs)
    if incidents is not None:
        require_crs(incidents, layer="incidents")
        inc = incidents.to_crs(crs)
        w = (pd.to_numeric(inc["weight"], errors="coerce").fillna(1.0).to_numpy(dtype=float)
             if "weight" in inc.columns else np.ones(len(inc)))
        frame = gpd.GeoDataFrame({"weight": w}, geometry=inc.geometry.values, crs=crs)
        what = "incidents"
    elif population is not None:
        frame = _population_points(population, crs)
        what = "population"
    else:
        pts = _lattice(g, spacing_m)
        frame = gpd.GeoDataFrame({"weight": np.full(len(pts), spacing_m**2 / 1e6)},
                                 geometry=pts, crs=crs)
        what = "area"
    if len(frame) == 0:
        return frame, what
    ok = ~(frame.geometry.isna() | frame.geometry.is_empty).to_numpy() & (frame["weight"] > 0)
    frame = frame.loc[ok.to_numpy() if hasattr(ok, "to_numpy") else ok]
    inside = assign_points(frame, g).index >= 0
    return frame.loc[inside].reset_index(drop=True), what


def _population_points(path: str | Path, crs: object) -> gpd.GeoDataFrame:
    """Cell centres of a population GeoTIFF with their persons, reprojected to ``crs``."""
    import rasterio

    with rasterio.open(path) as src:
        band = src.read(1, masked=True)
        rows, cols = np.nonzero(~np.ma.getmaskarray(band) & (np.ma.filled(band, 0) > 0))
        values = np.asarray(band[rows, cols], dtype=float)
        xs, ys = rasterio.transform.xy(src.transform, rows, cols)
        src_crs = src.crs
    frame = gpd.GeoDataFrame({"weight": values},
                             geometry=gpd.points_from_xy(np.asarray(xs), np.asarray(ys)),
                             crs=src_crs)
    return frame.to_crs(crs)


# --------------------------------------------------------------------------- solvers


def _cover_matrix(cand_xy: np.ndarray, dem_xy: np.ndarray, radius: float) -> csr_matrix:
    """Sparse candidates × demand matrix: 1 where the demand is within ``radius``."""
    if len(cand_xy) == 0 or len(dem_xy) == 0:
        return csr_matrix((len(cand_xy), len(dem_xy)))
    tree = cKDTree(dem_xy)
    lists = tree.query_ball_point(cand_xy, radius)
    indptr = np.zeros(len(cand_xy) + 1, dtype=np.int64)
    np.cumsum([len(x) for x in lists], out=indptr[1:])
    indices = (np.concatenate([np.asarray(x, dtype=np.int64) for x in lists])
               if indptr[-1] else np.empty(0, dtype=np.int64))
    return csr_matrix((np.ones(len(indices)), indices, indptr),
                      shape=(len(cand_xy), len(dem_xy)))


def _lazy_greedy(cover: csr_matrix, weight: np.ndarray, k: int, *,
                 allowed: np.ndarray | None = None, xy: np.ndarray | None = None,
                 min_gap: float = 0.0, group: np.ndarray | None = None,
                 capacity: np.ndarray | None = None,
                 keep_zero: bool = False) -> tuple[list[int], list[float], np.ndarray | None]:
    """Lazy greedy with optional spacing, per-group capacities and zero-gain picks.

    Returns the picked rows, their marginal gains and the capacity left.
    """
    w = np.asarray(weight, dtype=float).copy()
    indptr, indices = cover.indptr, cover.indices
    n = cover.shape[0]
    ok = np.ones(n, dtype=bool) if allowed is None else np.asarray(allowed, dtype=bool).copy()
    cap = None if capacity is None else np.asarray(capacity, dtype=np.int64).copy()
    if cap is not None and group is not None:
        ok &= group >= 0
    gains = np.asarray(cover @ w).ravel() if n else np.empty(0)
    heap = [(-gains[j], j) for j in np.flatnonzero(ok) if keep_zero or gains[j] > 0]
    heapq.heapify(heap)
    tree = cKDTree(xy) if (min_gap > 0 and xy is not None and len(xy)) else None
    picked: list[int] = []
    got: list[float] = []
    while heap and len(picked) < k:
        _, j = heapq.heappop(heap)
        if not ok[j] or (cap is not None and cap[group[j]] <= 0):
            continue
        fresh = float(w[indices[indptr[j]:indptr[j + 1]]].sum())
        if fresh <= 0 and not keep_zero:
            continue
        if heap and (-fresh, j) > heap[0]:
            heapq.heappush(heap, (-fresh, j))  # stale: re-queue with its true gain
            continue
        picked.append(int(j))
        got.append(fresh)
        w[indices[indptr[j]:indptr[j + 1]]] = 0.0
        ok[j] = False
        if cap is not None:
            cap[group[j]] -= 1
        if tree is not None:
            ok[tree.query_ball_point(xy[j], min_gap)] = False
    return picked, got, cap


def greedy_cover(cover: csr_matrix, weight: np.ndarray, k: int, *,
                 allowed: np.ndarray | None = None) -> tuple[list[int], list[float]]:
    """Lazy greedy maximal covering: up to ``k`` candidates and their marginal gains.

    Parameters
    ----------
    cover
        Candidates × demand (nonzero: the candidate covers the demand point).
    weight
        Demand weights (0 for demand already covered).
    k
        Number of candidates to pick.
    allowed
        Boolean mask of pickable candidates.

    Returns
    -------
    (list of int, list of float)
        Picked candidate rows in order, and each one's marginal gain. Stops
        early when no candidate gains anything.
    """
    picked, got, _ = _lazy_greedy(cover, weight, k, allowed=allowed)
    return picked, got


def _cbc(time_limit: float) -> object:
    """The CBC solver: the ``cbcbox`` binary, else the one bundled with older PuLP."""
    import pulp

    try:
        import cbcbox
    except ImportError:
        cbcbox = None
    if cbcbox is not None:
        return pulp.COIN_CMD(path=cbcbox.cbc_bin_path(), msg=False, timeLimit=time_limit)
    if "PULP_CBC_CMD" in pulp.listSolvers(onlyAvailable=True):
        return pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit)
    raise GridmapError("no CBC solver is installed for the exact method; install it with "
                       "`pip install cbcbox`, or use the greedy method.")


def milp_cover(cover: csr_matrix, weight: np.ndarray, k: int, *,
               time_limit: float = 120.0) -> tuple[list[int], float]:
    """Exact maximal covering (MILP, CBC through PuLP): the best ``k`` candidates.

    Returns the picked candidate rows and the optimal covered weight.

    Raises
    ------
    InfeasibleError
        When CBC does not prove optimality within ``time_limit`` seconds.
    """
    import pulp

    w = np.asarray(weight, dtype=float)
    cov = cover.tocsc()
    useful = np.flatnonzero((w > 0) & (np.diff(cov.indptr) > 0))
    cands = np.flatnonzero(np.asarray(cover[:, useful].sum(axis=1)).ravel() > 0)
    prob = pulp.LpProblem("maximal_covering", pulp.LpMaximize)
    x = {j: prob.add_variable(f"x{j}", 0, 1, cat="Binary") for j in cands}
    y = {i: prob.add_variable(f"y{i}", 0, 1) for i in useful}
    prob += pulp.lpSum(w[i] * y[i] for i in useful)
    prob += pulp.lpSum(x.values()) <= k
    for i in useful:
        rows = cov.indices[cov.indptr[i]:cov.indptr[i + 1]]
        prob += y[i] <= pulp.lpSum(x[j] for j in rows if j in x)
    status = prob.solve(_cbc(time_limit))
    if pulp.LpStatus[status] != "Optimal":
        raise InfeasibleError(
            f"the exact solver stopped with status {pulp.LpStatus[status]!r} "
            f"({len(cands)} candidates, {len(useful)} demand points); use the greedy "
            "method, fewer candidates, or a longer time limit."
        )
    picked = [j for j in cands if (x[j].value() or 0) > 0.5]
    return picked, float(pulp.value(prob.objective) or 0.0)


# --------------------------------------------------------------------------- front ends


def _site_range(site_kind: str, level: str | None, range_m: float | None) -> float:
    if range_m is not None:
        if not range_m > 0:
            raise ValueError(f"range_m must be positive, got {range_m!r}.")
        return float(range_m)
    if site_kind not in KIND_DEFAULTS:
        raise ValueError(f"site_kind must be one of {list(KIND_DEFAULTS)}, got {site_kind!r}.")
    d = KIND_DEFAULTS[site_kind]
    if level is None:
        return d.range_m
    return float(dori_range(d.resolution_px, d.hfov_deg, level))


def _prepare(cameras, grids, candidates, demand, *, level, site_kind, range_m, min_gap_m,
             statuses, notes):
    """Metric layers, the cover matrix and the weights left for new sites."""
    require_crs(grids, layer="grids")
    require_crs(cameras, layer="cameras")
    crs = metric_crs(grids)
    cand = candidates.to_crs(crs).reset_index(drop=True)
    dem = demand.to_crs(crs).reset_index(drop=True)
    radius = _site_range(site_kind, level, range_m)
    views = _views_metric(cameras, level=level, buildings=None, statuses=statuses, crs=crs,
                          arc_step_deg=1.0)
    dxy = np.column_stack([dem.geometry.x, dem.geometry.y]) if len(dem) else np.empty((0, 2))
    w = dem["weight"].to_numpy(dtype=float).copy()
    if len(views) and len(dem):
        hit = shapely.STRtree(views.geometry.values).query(
            shapely.points(dxy), predicate="intersects")[0]
        w[np.unique(hit)] = 0.0
    cxy = np.column_stack([cand.geometry.x, cand.geometry.y]) if len(cand) else np.empty((0, 2))
    allowed = np.ones(len(cand), dtype=bool)
    if len(views) and len(cand):
        near = cKDTree(views[["x", "y"]].to_numpy()).query(cxy, distance_upper_bound=min_gap_m)[0]
        allowed = ~np.isfinite(near)
        if (~allowed).any():
            notes.append(f"{int((~allowed).sum())} candidate(s) within {min_gap_m:g} m of an "
                         "existing camera skipped")
    cover = _cover_matrix(cxy, dxy, radius)
    return crs, cand, dem, w, cover, allowed, radius


def _sites_frame(cand: gpd.GeoDataFrame, picked: list[int], gains: list[float],
                 grids_m: gpd.GeoDataFrame, gid: str | None, uncovered: float) -> gpd.GeoDataFrame:
    name = gid or "grid"
    sites = cand.iloc[picked].copy().reset_index(drop=True)
    a = assign_points(sites, grids_m, grid_id=gid)
    ids = grids_m[gid].to_numpy() if gid else grids_m.index.to_numpy()
    sites[name] = np.where(a.index >= 0, ids[a.index.clip(0)], None)
    sites["gain"] = np.round(np.asarray(gains, dtype=float), 6)
    sites["cumulative_gain"] = np.round(np.cumsum(gains), 6)
    sites["cumulative_pct"] = (np.round(100.0 * np.cumsum(gains) / uncovered, 2)
                               if uncovered > 0 else np.nan)
    sites.insert(0, "rank", np.arange(1, len(sites) + 1))
    out = sites.to_crs("EPSG:4326")
    out["lon"] = out.geometry.x.round(7)
    out["lat"] = out.geometry.y.round(7)
    return out


def place_cameras(
    cameras: gpd.GeoDataFrame,
    grids: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    demand: gpd.GeoDataFrame,
    *,
    k: int,
    method: str = "greedy",
    grid_id: str | None = None,
    level: str | None = None,
    site_kind: str = "dome",
    range_m: float | None = None,
    min_gap_m: float = 5.0,
    statuses: tuple[str, ...] = BUILT_STATUSES,
    time_limit: float = 120.0,
) -> PlacementResult:
    """Suggest ``k`` new camera sites that see the most demand no camera sees yet.

    Parameters
    ----------
    cameras
        Existing cameras (kept fixed; their views come from :mod:`gridmap.coverage`).
    grids
        Grid polygons, to report each site's grid.
    candidates
        Candidate points (see :func:`candidate_sites`).
    demand
        Weighted demand points (see :func:`demand_points`).
    k
        Number of sites.
    method
        ``greedy`` (lazy greedy) or ``exact`` (MILP with CBC; small instances).
    grid_id
        Grid id column.
    level, site_kind, range_m
        The new sites' view radius: ``range_m``, else the DORI distance of
        ``site_kind`` at ``level``, else ``site_kind``'s default range.
    min_gap_m
        Sites closer than this to an existing camera or another site are skipped.
    statuses
        Statuses of existing cameras whose views count.
    time_limit
        Seconds allowed to the exact solver.

    Returns
    -------
    PlacementResult
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k!r}.")
    if method not in ("greedy", "exact"):
        raise ValueError(f"method must be 'greedy' or 'exact', got {method!r}.")
    notes: list[str] = []
    gid = pick_grid_id(grids, grid_id)
    crs, cand, dem, w, cover, allowed, radius = _prepare(
        cameras, grids, candidates, demand, level=level, site_kind=site_kind, range_m=range_m,
        min_gap_m=min_gap_m, statuses=statuses, notes=notes)
    cxy = np.column_stack([cand.geometry.x, cand.geometry.y]) if len(cand) else np.empty((0, 2))
    if method == "greedy":
        picked, gains, _ = _lazy_greedy(cover, w, k, allowed=allowed, xy=cxy,
                                        min_gap=min_gap_m)
    else:
        sub = np.flatnonzero(allowed)
        rows, _ = milp_cover(cover[sub], w, k, time_limit=time_limit)
        chosen = [int(sub[r]) for r in rows]
        # rank the optimal set by marginal gain (greedy order within it)
        order, gains = greedy_cover(cover[chosen], w, len(chosen))
        picked = [chosen[i] for i in order]
        notes.append("exact maximal covering (CBC)")
    if len(picked) < k:
        notes.append(f"only {len(picked)} site(s) add coverage; the other candidates see "
                     "nothing new")
    grids_m = grids.to_crs(crs).reset_index(drop=True)
    sites = _sites_frame(cand, picked, gains, grids_m, gid, float(w.sum()))
    return PlacementResult(sites=sites, demand_total=float(dem["weight"].sum()),
                           demand_uncovered=float(w.sum()), method=method, range_m=radius,
                           notes=notes)


def reach_targets(
    cameras: gpd.GeoDataFrame,
    grids: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    demand: gpd.GeoDataFrame,
    *,
    grid_id: str | None = None,
    targets: Mapping[str, float] | None = None,
    target_col: str | None = None,
    level: str | None = None,
    site_kind: str = "dome",
    range_m: float | None = None,
    min_gap_m: float = 5.0,
    statuses: tuple[str, ...] = BUILT_STATUSES,
) -> PlacementResult:
    """The fewest new sites that bring every short grid to its density target.

    A grid short of *s* points (see :func:`gridmap.density.camera_density`)
    gets *s* sites among the candidates inside it. Sites are picked by lazy
    greedy across all short grids, best marginal gain first (ties: candidate
    order), skipping grids already served. When a grid has fewer than 2*s*
    candidates, a lattice of candidates is added inside it (and a note says so).

    Raises
    ------
    InfeasibleError
        When a grid cannot hold enough sites ``min_gap_m`` apart.
    """
    notes: list[str] = []
    gid = pick_grid_id(grids, grid_id)
    dens = camera_density(cameras, grids, grid_id=gid, targets=targets, target_col=target_col)
    need = dens.table["shortfall"].to_numpy(dtype=np.int64)
    crs = metric_crs(grids)
    grids_m = grids.to_crs(crs).reset_index(drop=True)
    cand = candidates.to_crs(crs).reset_index(drop=True)
    where = assign_points(cand, grids_m).index if len(cand) else np.empty(0, np.int64)
    have = np.bincount(where[where >= 0], minlength=len(grids_m))
    extra = []
    for g in np.flatnonzero(need > 0):
        if have[g] >= 2 * need[g]:
            continue
        poly = grids_m.geometry.iloc[g]
        spacing = math.sqrt(poly.area / max(4 * need[g], 1))
        pts = _lattice(grids_m.iloc[[g]], spacing)
        pts = pts[shapely.contains_xy(poly, shapely.get_x(pts), shapely.get_y(pts))]
        extra.append(gpd.GeoDataFrame(
            {"site_id": [f"G{g + 1}-L{i + 1}" for i in range(len(pts))], "source": "lattice"},
            geometry=pts, crs=crs))
    if extra:
        notes.append(f"lattice candidates added in {len(extra)} short grid(s) with too few "
                     "candidates")
        cand = pd.concat([cand, *extra], ignore_index=True)
    crs, cand, dem, w, cover, allowed, radius = _prepare(
        cameras, grids, cand, demand, level=level, site_kind=site_kind, range_m=range_m,
        min_gap_m=min_gap_m, statuses=statuses, notes=notes)
    where = assign_points(cand, grids_m).index
    cxy = np.column_stack([cand.geometry.x, cand.geometry.y])
    capacity = np.maximum(need, 0)
    picked, gains, left = _lazy_greedy(cover, w, int(capacity.sum()), allowed=allowed, xy=cxy,
                                       min_gap=min_gap_m, group=where, capacity=capacity,
                                       keep_zero=True)
    if left is not None and (left > 0).any():
        g = int(np.flatnonzero(left > 0)[0])
        raise InfeasibleError(
            f"grid {dens.table['unit'].iat[g]} needs {need[g]} more point(s) but only "
            f"{need[g] - left[g]} candidate site(s) at least {min_gap_m:g} m apart fit in it "
            f"({int((left > 0).sum())} grid(s) in all); give more candidates (--candidates "
            "lattice or a file) or a lower target."
        )
    notes.append(f"{len(picked)} site(s) for {int((need > 0).sum())} short grid(s): one new "
                 "point per missing point")
    sites = _sites_frame(cand, picked, gains, grids_m, gid, float(w.sum()))
    return PlacementResult(sites=sites, demand_total=float(dem["weight"].sum()),
                           demand_uncovered=float(w.sum()), method="reach-target",
                           range_m=radius, notes=notes)
