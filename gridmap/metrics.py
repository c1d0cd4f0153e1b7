"""Plan metrics: balance, compactness, cut edges, barriers and units moved.

A *plan* assigns each unit to a grid. The metrics here are the ones planners
and the redistricting literature use to judge one:

* **balance** per field: grid sums, deviation from the target
  ``(sum - target) / target``, its maximum and mean absolute value, the range
  ``(max - min) / target`` and the coefficient of variation ``std / mean``
  (population standard deviation);
* **compactness** of each grid polygon: Polsby-Popper ``4πA / P²``, Reock
  ``A / (area of the minimum bounding circle)`` and the convex-hull ratio
  ``A / (area of the convex hull)``, each 1 for a disc and towards 0 for a
  ragged or elongated grid;
* **cut edges**: unit adjacencies whose two units lie in different grids;
* **barriers**: share of internal grid boundary length that lies on barrier
  lines, and the barrier-crossing edges left inside grids;
* **units moved** against a reference plan, after matching grid labels.

All lengths and areas are in metres in a metric CRS (:func:`gridmap.crs.to_metric`).
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix

from ._errors import DataError, SchemaError
from ._validate import require_columns, require_crs
from .adjacency import UnitGraph
from .crs import to_metric

__all__ = [
    "balance_table",
    "compactness",
    "cut_edges",
    "dissolve_plan",
    "is_contiguous",
    "match_labels",
    "plan_metrics",
    "units_moved",
]


def _labels(assignment: pd.Series | np.ndarray, index: pd.Index) -> pd.Series:
    """The assignment aligned with ``index``; raise when units are missing."""
    if isinstance(assignment, pd.Series):
        missing = index.difference(assignment.index)
        if len(missing):
            raise SchemaError(
                f"the assignment lacks {len(missing)} unit(s), e.g. {list(missing[:5])}; "
                "every unit needs a grid."
            )
        out = assignment.reindex(index)
    else:
        arr = np.asarray(assignment)
        if len(arr) != len(index):
            raise SchemaError(f"assignment has {len(arr)} entries for {len(index)} units.")
        out = pd.Series(arr, index=index)
    if out.isna().any():
        bad = list(out.index[out.isna()][:5])
        raise DataError(f"units {bad} have no grid in the assignment; assign every unit.")
    return out


def dissolve_plan(
    units: gpd.GeoDataFrame, assignment: pd.Series | np.ndarray, *, name: str = "grid_id"
) -> gpd.GeoDataFrame:
    """Dissolve units into grid polygons, one row per grid, in the units' CRS.

    Parameters
    ----------
    units
        Polygon units.
    assignment
        Grid of each unit: a Series indexed like ``units`` or an array in row order.
    name
        Name of the grid column of the result.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``name``, ``n_units`` and geometry, sorted by grid.
    """
    labels = _labels(assignment, units.index)
    codes, uniques = pd.factorize(labels, sort=True)
    geoms = units.geometry.values
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
    out_geoms = []
    for k in range(len(uniques)):
        members = geoms[order[bounds[k] : bounds[k + 1]]]
        try:
            merged = shapely.coverage_union_all(members)
            if not merged.is_valid:
                merged = shapely.union_all(members)
        except shapely.errors.GEOSException:
            merged = shapely.union_all(members)
        out_geoms.append(merged)
    return gpd.GeoDataFrame(
        {name: np.asarray(uniques), "n_units": np.bincount(codes, minlength=len(uniques))},
        geometry=out_geoms,
        crs=units.crs,
    )


def compactness(grids: gpd.GeoDataFrame) -> pd.DataFrame:
    """Area, perimeter and three compactness scores of each polygon.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``grids``: ``area_m2``, ``perimeter_m``, ``polsby_popper``,
        ``reock``, ``convex_hull_ratio`` and ``parts`` (number of polygon parts).
    """
    require_crs(grids, layer="grids")
    geoms = to_metric(grids).geometry.values
    area = shapely.area(geoms)
    perim = shapely.length(geoms)
    radius = shapely.minimum_bounding_radius(geoms)
    hull = shapely.area(shapely.convex_hull(geoms))
    with np.errstate(divide="ignore", invalid="ignore"):
        pp = np.where(perim > 0, 4 * np.pi * area / perim**2, np.nan)
        reock = np.where(radius > 0, area / (np.pi * radius**2), np.nan)
        chr_ = np.where(hull > 0, area / hull, np.nan)
    return pd.DataFrame(
        {
            "area_m2": area,
            "perimeter_m": perim,
            "polsby_popper": pp,
            "reock": reock,
            "convex_hull_ratio": chr_,
            "parts": shapely.get_num_geometries(geoms),
        },
        index=grids.index,
    )


def balance_table(
    values: pd.DataFrame,
    assignment: pd.Series | np.ndarray,
    *,
    targets: pd.DataFrame | pd.Series | None = None,
) -> tuple[pd.DataFrame, dict[str, dict[str, float]]]:
    """Sums per grid and deviations from the target, per field.

    Parameters
    ----------
    values
        One numeric column per balance field, indexed like the units.
    assignment
        Grid of each unit.
    targets
        Target per grid: a DataFrame (grids × fields) or a Series (per field,
        the same for every grid). Default: the mean over grids.

    Returns
    -------
    (pandas.DataFrame, dict)
        Per grid: ``{field}`` sums and ``{field}_dev`` deviations; per field the
        plan summary ``max_abs_dev``, ``mean_abs_dev``, ``range`` ((max−min)/target
        mean) and ``cv``.
    """
    labels = _labels(assignment, values.index)
    sums = values.groupby(labels.to_numpy()).sum().sort_index()
    if targets is None:
        tgt = pd.DataFrame(
            np.broadcast_to(sums.mean().to_numpy(), sums.shape), index=sums.index, columns=sums.columns
        )
    elif isinstance(targets, pd.Series):
        tgt = pd.DataFrame(
            np.broadcast_to(targets[sums.columns].to_numpy(dtype=float), sums.shape),
            index=sums.index,
            columns=sums.columns,
        )
    else:
        tgt = targets.reindex(index=sums.index, columns=sums.columns).astype(float)
    table = sums.copy()
    summary: dict[str, dict[str, float]] = {}
    for col in sums.columns:
        s = sums[col].to_numpy(dtype=float)
        t = tgt[col].to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            dev = np.where(t > 0, (s - t) / t, np.nan)
        table[f"{col}_target"] = t
        table[f"{col}_dev"] = dev
        mean = s.mean()
        summary[col] = {
            "max_abs_dev": float(np.nanmax(np.abs(dev))) if len(dev) else float("nan"),
            "mean_abs_dev": float(np.nanmean(np.abs(dev))) if len(dev) else float("nan"),
            "range": float((s.max() - s.min()) / t.mean()) if t.mean() > 0 else float("nan"),
            "cv": float(s.std(ddof=0) / mean) if mean > 0 else float("nan"),
        }
    return table, summary


def cut_edges(graph: UnitGraph, labels: np.ndarray) -> dict[str, float]:
    """Count the real (non-virtual) edges whose units lie in different grids.

    Returns
    -------
    dict
        ``cut_edges`` (count), ``cut_length_m`` (shared border length of cut
        edges), ``barrier_share`` (share of that length on edges that cross a
        barrier; NaN without barriers or cuts), ``barrier_crossings`` (uncut
        barrier edges, i.e. places where a barrier runs through a grid).
    """
    labels = np.asarray(labels)
    e = graph.edges()
    e = e[~e["virtual"].to_numpy()]
    cut = labels[e["i"].to_numpy()] != labels[e["j"].to_numpy()]
    length = e["length"].to_numpy()
    barrier = e["barrier"].to_numpy()
    cut_len = float(length[cut].sum())
    return {
        "cut_edges": int(cut.sum()),
        "cut_length_m": cut_len,
        "barrier_share": float(length[cut & barrier].sum() / cut_len)
        if barrier.any() and cut_len > 0
        else float("nan"),
        "barrier_crossings": int((~cut & barrier).sum()),
    }


def is_contiguous(graph: UnitGraph, labels: np.ndarray, *, virtual: bool = True) -> pd.Series:
    """Whether each grid's units form one connected piece of ``graph``.

    ``virtual=True`` counts island links (the island policy); ``False`` asks for
    land contiguity only.
    """
    labels = pd.Series(np.asarray(labels))
    e = graph.edges()
    if not virtual:
        e = e[~e["virtual"].to_numpy()]
    i, j = e["i"].to_numpy(), e["j"].to_numpy()
    same = labels.to_numpy()[i] == labels.to_numpy()[j]
    from scipy.sparse.csgraph import connected_components

    m = coo_matrix((np.ones(int(same.sum())), (i[same], j[same])), shape=(graph.n, graph.n))
    _, comp = connected_components(m, directed=False)
    pieces = pd.Series(comp).groupby(labels.to_numpy()).nunique()
    return (pieces == 1).rename("contiguous")


def match_labels(labels: Sequence, reference: Sequence, *, weights: np.ndarray | None = None) -> dict:
    """Map each grid label of ``labels`` to the reference label it overlaps most.

    The matching is one-to-one and maximises the total overlap (number of
    units, or ``weights``), by the Hungarian method; labels left over map to
    ``None``.
    """
    a_codes, a_uni = pd.factorize(pd.Series(labels), sort=True)
    b_codes, b_uni = pd.factorize(pd.Series(reference), sort=True)
    w = np.ones(len(a_codes)) if weights is None else np.asarray(weights, dtype=float)
    overlap = coo_matrix((w, (a_codes, b_codes)), shape=(len(a_uni), len(b_uni))).toarray()
    rows, cols = linear_sum_assignment(-overlap)
    mapping = dict.fromkeys(a_uni)
    for r, c in zip(rows, cols, strict=True):
        if overlap[r, c] > 0:
            mapping[a_uni[r]] = b_uni[c]
    return mapping


def units_moved(
    assignment: pd.Series | np.ndarray,
    reference: pd.Series | np.ndarray,
    *,
    match: str = "optimal",
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """Boolean mask of units whose grid differs from the reference plan.

    Parameters
    ----------
    assignment, reference
        Grid of each unit in the two plans (same unit order or the same index).
    match
        ``"optimal"`` relabels ``assignment`` by :func:`match_labels` first (so
        that two plans differing only in their grid names move nothing);
        ``"labels"`` compares the labels as they are.
    weights
        Overlap weights for the matching (default: unit counts).
    """
    if isinstance(assignment, pd.Series) and isinstance(reference, pd.Series):
        reference = _labels(reference, assignment.index)
    a = np.asarray(assignment, dtype=object)
    b = np.asarray(reference, dtype=object)
    if len(a) != len(b):
        raise SchemaError(f"the plans cover {len(a)} and {len(b)} units; compare the same units.")
    if match == "labels":
        return a != b
    if match != "optimal":
        raise ValueError(f"match must be 'optimal' or 'labels', got {match!r}.")
    mapping = match_labels(a, b, weights=weights)
    mapped = np.array([mapping[x] for x in a], dtype=object)
    return mapped != b


def plan_metrics(
    units: gpd.GeoDataFrame,
    assignment: pd.Series | np.ndarray,
    *,
    fields: Sequence[str] = (),
    graph: UnitGraph | None = None,
    targets: pd.DataFrame | pd.Series | None = None,
    reference: pd.Series | np.ndarray | None = None,
    grids: gpd.GeoDataFrame | None = None,
    name: str = "grid_id",
) -> tuple[gpd.GeoDataFrame, dict[str, object]]:
    """Per-grid and plan-level metrics of a plan.

    Parameters
    ----------
    units
        Polygon units with the balance ``fields``.
    assignment
        Grid of each unit.
    fields
        Numeric columns to sum and balance (``n_units`` is always reported).
    graph
        The unit graph, for cut edges, barriers and contiguity (built with
        :func:`gridmap.adjacency.unit_graph` when omitted).
    targets
        Target per grid and field (see :func:`balance_table`); default the mean.
    reference
        An existing plan, to count the units (and field totals and area) moved.
    grids
        The dissolved grids, when already at hand.
    name
        Name of the grid column.

    Returns
    -------
    (geopandas.GeoDataFrame, dict)
        Per grid: sums, deviations, compactness and ``contiguous``; and the plan
        summary with ``k``, per-field balance (``{field}_max_abs_dev`` ...), mean
        compactness, cut edges, barrier share and ``units_moved``.
    """
    require_columns(units, fields, layer="units")
    labels = _labels(assignment, units.index)
    if grids is None:
        grids = dissolve_plan(units, labels, name=name)
    grids = grids.set_index(name, drop=False)
    values = units[list(fields)].astype(float) if fields else pd.DataFrame(index=units.index)
    values = values.assign(n_units=1.0)
    if targets is not None:
        if isinstance(targets, pd.Series):
            targets = pd.DataFrame([targets] * len(grids), index=grids.index)
        if "n_units" not in targets.columns:
            # the unit count has no target of its own: the mean count per grid
            targets = targets.assign(n_units=len(units) / len(grids))
    table, bal = balance_table(values, labels, targets=targets)
    comp = compactness(grids)
    out = grids[[name, "geometry"]].join(table.drop(columns=["n_units"]), how="left")
    out.insert(1, "n_units", table["n_units"].astype(int).reindex(out.index).to_numpy())
    out = out.join(comp)
    if graph is None:
        from .adjacency import unit_graph

        graph = unit_graph(units)
    if not graph.index.equals(units.index):
        raise SchemaError("the graph was built for other units; rebuild it from these units.")
    lab = labels.to_numpy()
    contig = is_contiguous(graph, lab)
    out["contiguous"] = contig.reindex(out.index).to_numpy()
    summary: dict[str, object] = {"k": len(out)}
    for field, stats in bal.items():
        for key, val in stats.items():
            summary[f"{field}_{key}"] = val
    for col in ("polsby_popper", "reock", "convex_hull_ratio"):
        summary[f"mean_{col}"] = float(out[col].mean())
        summary[f"min_{col}"] = float(out[col].min())
    summary.update(cut_edges(graph, lab))
    summary["all_contiguous"] = bool(out["contiguous"].all())
    if reference is not None:
        moved = units_moved(labels, reference)
        summary["units_moved"] = int(moved.sum())
        metric_area = graph.area
        summary["area_moved_m2"] = float(metric_area[moved].sum())
        for field in fields:
            summary[f"{field}_moved"] = float(values[field].to_numpy()[moved].sum())
    return gpd.GeoDataFrame(out.reset_index(drop=True), geometry="geometry", crs=units.crs), summary
