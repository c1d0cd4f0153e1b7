"""Minimum-change rebalancing of an existing plan.

Planners rarely redraw from scratch: they turn, say, 43 grids into 49 and
want every grid that can stay to stay. :func:`rebalance_plan` does that:

1. Units are put in the existing grid they overlap most (or an existing
   assignment is given).
2. The new number of grids is apportioned to the existing grids by their size
   (largest remainder): most keep one grid, heavy ones are split into two or
   more compact parts (recursive multisection), and when there are to be fewer
   grids the lightest are merged into their lightest neighbour.
3. A local search moves boundary units between neighbouring grids, keeping
   each grid connected, with the objective ``balance penalty ≫ units moved
   away from their old grid (× change_penalty) > cut length``: units move only
   where balance needs them, and move home when balance allows.

A grid that keeps its old id is the same grid (possibly with a few units
moved); new grids are named ``{old id}-2``, ``-3``… after the grid they were
split from. Locked grids never change.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import linprog

from ._errors import DataError, InfeasibleError, SchemaError
from ._validate import require_columns, require_crs, require_nonempty
from .adjacency import UnitGraph, link_islands, unit_graph
from .metrics import dissolve_plan, plan_metrics
from .partition import (
    BalanceField,
    _check_units,
    _choke_points,
    _cost,
    _mean_length,
    _multisection,
    _parents,
    _recombine,
    _repair,
    _score,
    _search,
    _transfer,
    apportion,
    assign_parents,
    balance_values,
    parse_balance,
    straddle_message,
)

__all__ = ["RebalanceResult", "existing_assignment", "rebalance_plan"]


@dataclass
class RebalanceResult:
    """A rebalanced plan and what changed.

    Attributes
    ----------
    assignment
        New grid id of each unit.
    previous
        Old grid id of each unit.
    grids
        Per new grid: ``status`` (kept, split, new, absorbing), sums, targets,
        deviations, compactness, ``contiguous``.
    changes
        Grid by grid (old and new ids): units, field totals and area before,
        after, moved in and moved out.
    moved
        One row per unit that changed grid: ``unit``, ``from_grid``, ``to_grid``,
        field values and ``area_m2``.
    metrics
        Plan metrics plus ``units_moved``, ``{field}_moved``, ``area_moved_m2``,
        ``balanced``.
    problems
        Plain-language warnings.
    """

    assignment: pd.Series
    previous: pd.Series
    grids: gpd.GeoDataFrame
    changes: pd.DataFrame
    moved: pd.DataFrame
    metrics: dict[str, object]
    problems: list[str] = field(default_factory=list)
    graph: UnitGraph | None = None

    @property
    def balanced(self) -> bool:
        """True when every grid is within the tolerance on every field."""
        return bool(self.metrics.get("balanced", False))


def existing_assignment(
    units: gpd.GeoDataFrame, grids: gpd.GeoDataFrame, *, grid_id: str = "grid_id"
) -> tuple[pd.Series, pd.DataFrame]:
    """Put each unit in the existing grid it overlaps most.

    Returns
    -------
    (pandas.Series, pandas.DataFrame)
        The old grid id of each unit, and units straddling grids (share < 99%).
    """
    require_columns(grids, [grid_id], layer="grids")
    if grids[grid_id].duplicated().any():
        dup = list(grids.loc[grids[grid_id].duplicated(), grid_id][:5])
        raise SchemaError(f"grids have duplicate {grid_id} values {dup}; make them unique.")
    return assign_parents(units, grids, id_column=grid_id)


def _split_ids(old: str, k: int, taken: set[str]) -> list[str]:
    out = []
    j = 2
    while len(out) < k:
        cand = f"{old}-{j}"
        if cand not in taken:
            out.append(cand)
            taken.add(cand)
        j += 1
    return out


def rebalance_plan(
    units: gpd.GeoDataFrame,
    *,
    grids: gpd.GeoDataFrame | None = None,
    existing: pd.Series | None = None,
    grid_id: str = "grid_id",
    parts: int | None = None,
    balance: Sequence[str | BalanceField] | None = None,
    tolerance: float = 0.01,
    within: str | gpd.GeoDataFrame | None = None,
    within_id: str | None = None,
    barriers: gpd.GeoDataFrame | Sequence[gpd.GeoDataFrame] | None = None,
    barrier_penalty: float = 4.0,
    locked: Sequence[str] = (),
    change_penalty: float = 4.0,
    graph: UnitGraph | None = None,
    seed: int = 0,
) -> RebalanceResult:
    """Rebalance an existing plan into ``parts`` grids, changing as little as possible.

    Parameters
    ----------
    units
        Polygon units with the balance fields.
    grids
        Existing grid polygons with ``grid_id`` (units go to the grid they
        overlap most). Give this or ``existing``.
    existing
        Existing grid id of each unit (indexed like ``units``).
    grid_id
        Id column of ``grids``.
    parts
        Number of grids wanted (default: as many as now).
    balance
        Fields to balance, ``"FIELD[:weight]"`` (default: the unit count).
    tolerance
        Allowed relative deviation from the target.
    within
        Parents the grids must stay in (column or polygon layer); no unit moves
        across parents.
    within_id
        Id column of a ``within`` layer.
    barriers
        Road / river layers (as in :func:`gridmap.partition.partition_units`).
    barrier_penalty
        Barrier preference strength.
    locked
        Ids of existing grids that must not change.
    change_penalty
        Cost of moving one unit away from its old grid, in mean border lengths
        of cut; higher keeps more units home at the expense of compactness.
    graph
        A prebuilt unit graph.
    seed
        Random seed (deterministic for a seed).

    Returns
    -------
    RebalanceResult
    """
    t0 = time.perf_counter()
    require_nonempty(units, layer="units")
    require_crs(units, layer="units")
    if units.index.has_duplicates:
        raise SchemaError("units have duplicate index labels; reset_index() first.")
    if (grids is None) == (existing is None):
        raise ValueError("give exactly one of grids=GeoDataFrame or existing=Series.")
    problems: list[str] = []
    if grids is not None:
        previous, straddle = existing_assignment(units, grids, grid_id=grid_id)
        if len(straddle):
            problems.append(straddle_message(straddle, "existing grids"))
    else:
        previous = existing.reindex(units.index)
        if previous.isna().any():
            rows = list(units.index[previous.isna().to_numpy()][:10])
            raise DataError(f"units {rows} have no existing grid; give every unit one.")
    previous = previous.astype(str).rename("grid_id")
    fields = parse_balance(balance)
    names, vals, wf = balance_values(units, fields)
    parent, more = _parents(units, within, within_id)
    problems += more
    parent_codes, parent_names = pd.factorize(parent, sort=True)

    old_codes, old_ids = pd.factorize(previous, sort=True)
    old_ids = np.asarray(old_ids, dtype=object)
    k0 = len(old_ids)
    k = k0 if parts is None else int(parts)
    if k < 1:
        raise ValueError(f"parts must be at least 1, got {k}.")
    unknown = sorted(set(locked) - set(old_ids))
    if unknown:
        raise SchemaError(f"locked grids {unknown} are not in the existing plan; check the ids.")
    is_locked = np.isin(old_ids, list(locked))

    # each old grid's parent (the parent most of its units are in)
    grid_parent = (
        pd.Series(parent_codes).groupby(old_codes).agg(lambda s: s.value_counts().index[0]).to_numpy()
    )
    spans = pd.Series(parent_codes).groupby(old_codes).nunique().to_numpy() > 1
    for g in np.flatnonzero(spans):
        problems.append(
            f"existing grid {old_ids[g]!r} spans several parents; its units stay in their "
            "own parent's grids."
        )

    if graph is None:
        graph = unit_graph(units, barriers=barriers)
    elif not graph.index.equals(units.index):
        raise SchemaError("the graph was built for other units; rebuild it from these units.")
    graph, links = link_islands(graph, groups=parent_codes)
    graph = graph.restrict(parent_codes)
    mean_len = _mean_length(graph)
    cost = _cost(graph, barrier_penalty, mean_len)

    # new grids per old grid: apportion per parent, locked grids keep exactly one
    totals = vals.sum(axis=0)
    norm = wf / np.where(totals > 0, totals, 1.0)
    size = np.zeros(k0)
    np.add.at(size, old_codes, vals @ norm)
    seats = np.zeros(k0, dtype=int)
    seats[is_locked] = 1
    free_k = k - int(is_locked.sum())
    if free_k < 0:
        raise InfeasibleError(f"{int(is_locked.sum())} grids are locked but only {k} are wanted.")
    free = ~is_locked
    carve = np.zeros(len(parent_names), dtype=int)  # new grids to carve at junctions, per parent
    psize = np.bincount(grid_parent[free], weights=size[free], minlength=len(parent_names))
    has_free = np.bincount(grid_parent[free], minlength=len(parent_names)) > 0
    pk = np.zeros(len(parent_names), dtype=int)
    if free_k:
        pk[has_free] = apportion(psize[has_free], free_k, minimum=1)
    for p in np.flatnonzero(has_free):
        members = np.flatnonzero(free & (grid_parent == p))
        seats[members], carve[p] = _allocate(size[members], int(pk[p]))

    # initial labels: kept / split / merged
    taken = set(map(str, old_ids))
    new_ids: list[str] = []
    status: list[str] = []
    label_of_old = np.full(k0, -1)
    labels = np.full(graph.n, -1, dtype=np.int64)
    for g in range(k0):
        if seats[g] == 0:
            continue
        members = np.flatnonzero(old_codes == g)
        label_of_old[g] = len(new_ids)
        if seats[g] == 1:
            labels[members] = len(new_ids)
            new_ids.append(str(old_ids[g]))
            status.append("locked" if is_locked[g] else "kept")
            continue
        sub = graph.subgraph(members)
        w = vals[members] @ norm
        if len(members) < seats[g]:
            raise InfeasibleError(
                f"existing grid {old_ids[g]!r} has {len(members)} unit(s) but should become "
                f"{seats[g]} grids; use smaller units."
            )
        part = _repair(sub, _multisection(sub.xy, w, int(seats[g])), w)
        # the part overlapping most of the old grid keeps its id
        keep = int(np.argmax(np.bincount(part, weights=sub.area)))
        ids = [str(old_ids[g]), *_split_ids(str(old_ids[g]), int(seats[g]) - 1, taken)]
        order = [keep] + [p for p in range(int(seats[g])) if p != keep]
        for j, p in enumerate(order):
            labels[members[part == p]] = len(new_ids)
            new_ids.append(ids[j])
            status.append("split" if j == 0 else "new")
    # extra grids are carved where grids with surplus meet
    w_norm = vals @ norm
    for p in np.flatnonzero(carve):
        for _ in range(int(carve[p])):
            in_p = parent_codes == p
            t_norm = float(w_norm[in_p].sum()) / (int(pk[p]) or 1)
            seed_units, donor = _junction_seed(graph, labels, w_norm, t_norm, in_p,
                                         np.array([s_ == "locked" for s_ in status]))
            labels[seed_units] = len(new_ids)
            new_ids.append(_split_ids(new_ids[donor], 1, taken)[0])
            status.append("new")
    # merged grids go to their lightest neighbour in the same parent
    rows = np.repeat(np.arange(graph.n), graph.degree)
    for g in np.argsort(size):
        if seats[g] != 0:
            continue
        members = old_codes == g
        cross = members[rows] & ~members[graph.indices] & (labels[graph.indices] >= 0)
        cand = np.unique(labels[graph.indices[cross]])
        cand = [c for c in cand if status[c] != "locked"]
        if not cand:
            raise InfeasibleError(
                f"existing grid {old_ids[g]!r} would be merged away but touches no grid it "
                "could join; ask for more grids or unlock its neighbours."
            )
        sums_now = np.bincount(labels[labels >= 0], weights=(vals @ norm)[labels >= 0], minlength=len(new_ids))
        c = min(cand, key=lambda c: sums_now[c])
        labels[members] = c
        if status[c] == "kept":
            status[c] = "absorbing"
        problems.append(f"existing grid {old_ids[g]!r} was merged into {new_ids[c]!r}.")

    kn = len(new_ids)
    if kn != k:  # pragma: no cover - apportion guarantees the count
        raise InfeasibleError(f"could only form {kn} grids, not {k}.")
    new_parent = np.zeros(kn, dtype=np.int64)
    new_parent[labels] = parent_codes
    ptot = np.array([vals[parent_codes == p].sum(axis=0) for p in range(len(parent_names))])
    pk_new = np.bincount(new_parent, minlength=len(parent_names))
    target = ptot[new_parent] / pk_new[new_parent][:, None]
    for p in range(len(parent_names)):
        pos = np.flatnonzero(parent_codes == p)
        if pk_new[p] > 1:
            name = "the units" if within is None else f"parent {parent_names[p]}"
            _check_units(name, pos, units.index, vals[pos], names, ptot[p] / pk_new[p], tolerance)

    closed = np.array([s == "locked" for s in status], dtype=np.bool_)
    frozen = closed[labels]
    # "home" of each unit: its old grid's id in the new labelling (-1 when merged away)
    home = label_of_old[old_codes]
    home = np.where(home >= 0, home, labels)
    rng = np.random.default_rng(seed)
    # minimal transfers between neighbouring grids, then the units that make them
    labels = _apply_flows(graph, labels, vals @ norm, (target @ norm), closed, frozen, cost, tolerance)
    new_labels = _search(
        graph, labels, vals, wf, target, tolerance, cost, seed=seed, frozen=frozen,
        closed=closed, orig=home, alpha=change_penalty, taus=(0.9,),
    )
    if _score(new_labels, vals, wf, target, tolerance, cost, graph)[0] > 0:
        # single moves are stuck: recombine pairs (more change), then polish
        rec = _recombine(graph, new_labels, vals, wf, target, tolerance, rng, home=home,
                         frozen=frozen)
        new_labels = _search(
            graph, rec, vals, wf, target, tolerance, cost, seed=seed + 1, frozen=frozen,
            closed=closed, orig=home, alpha=change_penalty, taus=(0.9,),
        )

    ids = np.asarray(new_ids, dtype=object)
    assignment = pd.Series(ids[new_labels], index=units.index, name="grid_id")
    targets = pd.DataFrame(target, index=ids, columns=names)
    per_grid, summary = plan_metrics(
        units,
        assignment,
        fields=names if fields else [],
        graph=graph,
        targets=targets if fields else None,
        grids=dissolve_plan(units, assignment),
    )
    per_grid.insert(1, "status", pd.Series(status, index=ids).reindex(per_grid["grid_id"]).to_numpy())
    if within is not None:
        per_grid.insert(
            2, "parent", pd.Series(np.asarray(parent_names)[new_parent], index=ids)
            .reindex(per_grid["grid_id"]).to_numpy()
        )
    dev_cols = [f"{n}_dev" for n in names]
    max_dev = float(np.nanmax(np.abs(per_grid[dev_cols].to_numpy())))
    moved_mask = assignment.to_numpy() != previous.to_numpy()
    changes, moved = _changes(units, previous, assignment, names if fields else [], graph.area)
    summary.update(
        {
            "max_dev": max_dev,
            "tolerance": tolerance,
            "balanced": bool(max_dev <= tolerance + 1e-12),
            "fields": names,
            "k_before": k0,
            "units_moved": int(moved_mask.sum()),
            "units_moved_share": float(moved_mask.mean()),
            "area_moved_m2": float(graph.area[moved_mask].sum()),
            "island_links": len(links),
            "locked": sorted(locked),
        }
    )
    for n_ in names if fields else []:
        summary[f"{n_}_moved"] = float(units[n_].to_numpy(dtype=float)[moved_mask].sum())
    if not summary["balanced"]:
        worst = per_grid.loc[int(np.nanargmax(np.abs(per_grid[dev_cols].to_numpy()).max(axis=1)))]
        for p in range(len(parent_names)):
            pos = np.flatnonzero(parent_codes == p)
            if pk_new[p] > 1:
                _choke_points(
                    "the units" if within is None else f"parent {parent_names[p]}",
                    graph.subgraph(pos), vals[pos, 0], float(ptot[p, 0] / pk_new[p]), tolerance,
                )
        problems.append(
            f"the plan misses the ±{tolerance:.1%} tolerance: grid {worst['grid_id']} is off by "
            f"{max(abs(worst[c]) for c in dev_cols):.2%}; locked grids, the nesting or large "
            "units may prevent it — unlock grids or raise --tolerance."
        )
    summary["seconds"] = time.perf_counter() - t0
    return RebalanceResult(
        assignment=assignment,
        previous=previous,
        grids=per_grid,
        changes=changes,
        moved=moved,
        metrics=summary,
        problems=problems,
        graph=graph,
    )


def _changes(
    units: gpd.GeoDataFrame,
    previous: pd.Series,
    assignment: pd.Series,
    fields: list[str],
    area: np.ndarray,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Grid-by-grid accounting of what moved, and the list of moved units."""
    df = pd.DataFrame(
        {"before": previous.to_numpy(), "after": assignment.to_numpy(), "area_m2": area},
        index=units.index,
    )
    for f in fields:
        df[f] = units[f].to_numpy(dtype=float)
    df["n_units"] = 1
    cols = ["n_units", *fields, "area_m2"]
    mv = df[df["before"] != df["after"]]
    before = df.groupby("before")[cols].sum()
    after = df.groupby("after")[cols].sum()
    out_ = mv.groupby("before")[cols].sum()
    in_ = mv.groupby("after")[cols].sum()
    ids = sorted(set(before.index) | set(after.index))
    table = pd.DataFrame(index=pd.Index(ids, name="grid_id"))
    for c in cols:
        table[f"{c}_before"] = before[c].reindex(ids).fillna(0).to_numpy()
        table[f"{c}_after"] = after[c].reindex(ids).fillna(0).to_numpy()
        table[f"{c}_out"] = out_[c].reindex(ids).fillna(0).to_numpy() if len(out_) else 0.0
        table[f"{c}_in"] = in_[c].reindex(ids).fillna(0).to_numpy() if len(in_) else 0.0
    for c in table.columns:
        if c.startswith("n_units"):
            table[c] = table[c].astype(int)
    moved = mv.reset_index(names="unit").rename(columns={"before": "from_grid", "after": "to_grid"})
    return table.reset_index(), moved.drop(columns="n_units")


def _flows(pairs: np.ndarray, excess: np.ndarray, slack: np.ndarray) -> np.ndarray | None:
    """Least total transfer on the grid adjacency that brings every grid within ``slack``.

    ``pairs`` are undirected grid pairs ``(a, b)``; returns the net flow a→b of
    each pair (negative means b→a), or None when no flow balances the grids.
    Solves ``min Σ f⁺ + f⁻`` s.t. ``excess - slack ≤ out - in ≤ excess + slack``.
    """
    k = len(excess)
    m = len(pairs)
    if m == 0:
        return None
    a, b = pairs[:, 0], pairs[:, 1]
    # variables: f+ (a→b) then f- (b→a); net outflow of node = Σ f+ over a-side + Σ f- over b-side - ...
    rows = np.concatenate([a, b, b, a])
    cols = np.concatenate([np.arange(m), np.arange(m), np.arange(m, 2 * m), np.arange(m, 2 * m)])
    data = np.concatenate([np.ones(m), -np.ones(m), np.ones(m), -np.ones(m)])
    net = sparse.csr_matrix((data, (rows, cols)), shape=(k, 2 * m))
    a_ub = sparse.vstack([net, -net]).tocsr()
    b_ub = np.concatenate([excess + slack, -(excess - slack)])
    res = linprog(np.ones(2 * m), A_ub=a_ub, b_ub=b_ub, bounds=(0, None), method="highs")
    if res.status != 0:
        return None
    return res.x[:m] - res.x[m:]


def _apply_flows(graph, labels, w, target, closed, frozen, cost, tol, *, rounds=4) -> np.ndarray:
    """Move units along the least transfers that balance the grids (primary weight ``w``).

    Transfers stop short rather than take a unit that overshoots, and units
    moved change which grids touch: the flows are recomputed on what is left,
    a few rounds.
    """
    labels = labels.astype(np.int64).copy()
    k = len(target)
    rows = np.repeat(np.arange(graph.n), graph.degree)
    slack = np.where(closed, 0.0, 0.5 * tol * target)
    for _ in range(rounds):
        la, lb = labels[rows], labels[graph.indices]
        sel = (la < lb) & ~closed[la] & ~closed[lb]
        pairs = np.unique(np.column_stack([la[sel], lb[sel]]), axis=0)
        sums = np.bincount(labels, weights=w, minlength=k)
        excess = np.where(closed, 0.0, sums - target)
        if (np.abs(excess) <= slack + 1e-12).all():
            break
        flow = _flows(pairs, excess, slack)
        if flow is None:
            break
        counts = np.bincount(labels, minlength=k).astype(np.int64)
        big = np.abs(flow) > 1e-9
        moved = 0.0
        # largest transfers first; each is realised as far as contiguity allows
        for idx in np.argsort(-np.abs(flow) * big)[: int(big.sum())]:
            a, b = int(pairs[idx, 0]), int(pairs[idx, 1])
            amount = float(flow[idx])
            if amount < 0:
                a, b, amount = b, a, -amount
            moved += _transfer(graph.indptr, graph.indices, cost, w, labels, counts, frozen, a, b, amount)
        if moved == 0:
            break
    return labels


def _allocate(size: np.ndarray, k: int) -> tuple[np.ndarray, int]:
    """Grids per old grid, and how many new grids to carve at junctions.

    A grid holding ``m ≥ 2`` whole targets is split into ``m``; the remaining
    new grids are carved from the surplus of several neighbouring grids (which
    moves fewer units than halving one grid). With fewer grids than now, the
    seats are apportioned (largest remainder) and zero seats mean a merge.
    """
    if k <= 0 or len(size) == 0:
        return np.zeros(len(size), dtype=int), 0
    target = size.sum() / k
    base = np.maximum(1, np.floor(size / target + 1e-9)).astype(int) if target > 0 else np.ones(len(size), int)
    if base.sum() <= k:
        return base, int(k - base.sum())
    return apportion(size, k, minimum=0 if k < len(size) else 1), 0


def _junction_seed(
    graph: UnitGraph, labels: np.ndarray, w: np.ndarray, target: float, inside: np.ndarray,
    closed: np.ndarray,
) -> tuple[np.ndarray, int]:
    """Seed units for a new grid where grids with the most surplus meet.

    Scores each unit by the surplus (weight above ``target``) of its own grid
    and of every grid it touches; the best unit and one neighbour in each other
    touching grid form the seed, as long as no donor grid is cut in two.
    Returns the seed positions and the label of the main donor grid.
    """
    k = int(labels.max()) + 1
    sums = np.bincount(labels[labels >= 0], weights=w[labels >= 0], minlength=k)
    surplus = np.maximum(sums - target, 0.0)
    surplus[closed[:k]] = 0.0
    rows = np.repeat(np.arange(graph.n), graph.degree)
    ok = inside[rows] & inside[graph.indices] & (labels[rows] >= 0) & (labels[graph.indices] >= 0)
    pairs = pd.DataFrame({"u": rows[ok], "g": labels[graph.indices[ok]]})
    own = pd.DataFrame({"u": np.flatnonzero(inside & (labels >= 0)),
                        "g": labels[inside & (labels >= 0)]})
    touch = pd.concat([own, pairs]).drop_duplicates()
    touch = touch[~closed[touch["g"].to_numpy()]]
    score = touch.assign(s=surplus[touch["g"].to_numpy()]).groupby("u")["s"].agg(["sum", "count"])
    score = score[~closed[labels[score.index.to_numpy()]]]
    if score.empty:
        raise InfeasibleError("no unlocked grid is left to carve a new grid from; unlock grids.")
    best = score.sort_values(["sum", "count"], ascending=False, kind="stable")
    u = int(best.index[0])
    seed = [u]
    for v in graph.neighbours(u):
        g = labels[v]
        if inside[v] and g >= 0 and not closed[g] and g != labels[u] and g not in labels[seed]:
            seed.append(int(v))
    seed = np.array(seed, dtype=np.int64)
    # keep only seed units whose removal leaves their grid connected and non-empty
    keep = []
    for v in seed:
        g = labels[v]
        rest = (labels == g)
        rest[seed] = False
        if rest.any() and _connected_mask(graph, rest):
            keep.append(v)
    if not keep:
        keep = [u]
    return np.array(keep, dtype=np.int64), int(labels[u])


def _connected_mask(graph: UnitGraph, mask: np.ndarray) -> bool:
    pos = np.flatnonzero(mask)
    if len(pos) <= 1:
        return True
    sub = graph.subgraph(pos)
    m = sparse.csr_matrix((np.ones(len(sub.indices)), sub.indices, sub.indptr), shape=(sub.n, sub.n))
    from scipy.sparse import csgraph

    return csgraph.connected_components(m, directed=False)[0] == 1
