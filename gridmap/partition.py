"""Balanced redraw: partition units into K contiguous, balanced, compact grids.

The algorithm, per ``--within`` parent (K apportioned to parents by size,
largest remainder, at least one grid each; nesting is a hard constraint):

1. **Initial plan by recursive multisection.** The region is cut into strips
   along its longer axis at weighted quantiles, as many strips as make the
   final grids near-square (about ``sqrt(k · long / short)``), each strip
   holding an equal share of the grids; each strip is cut the same way. The
   cuts are balanced up to one unit.
2. **Contiguity repair.** Pieces cut off from their grid go to the neighbour
   grid with the longest shared border.
3. **Local search** (numba): boundary units move to a neighbouring grid when
   that lowers ``1e4 · Σ (excess deviation / tolerance)² + cut cost``, and
   only when the unit's removal keeps its grid connected (a breadth-first
   check on the donor grid). The cut cost of an edge is its shared border
   length; an edge across a barrier costs ``-barrier_penalty`` times its
   length less, so grids keep roads and rivers on their boundaries. The
   search runs first with a tight band (a quarter of the tolerance), then
   with 90% of it, leaving the slack to compactness.

Several trials (rotated cutting axes) run when ``trials > 1``; the best plan
wins (first on balance, then on cut cost). Everything is deterministic for a
given ``seed``.

Island policy: see :mod:`gridmap.adjacency` — unit groups without a land
neighbour are linked to the nearest unit by a virtual edge; links used inside
a grid are reported.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numba import njit
from scipy import sparse
from scipy.sparse import csgraph

from ._errors import DataError, InfeasibleError, SchemaError
from ._validate import require_columns, require_crs, require_geom_types, require_nonempty
from .adjacency import UnitGraph, link_islands, unit_graph
from .crs import to_metric
from .metrics import dissolve_plan, plan_metrics

__all__ = [
    "BalanceField",
    "PartitionResult",
    "apportion",
    "assign_parents",
    "balance_values",
    "parse_balance",
    "partition_units",
    "reading_order",
    "straddle_message",
]

_KBAL = 1e4  # weight of the balance penalty against one mean edge length of cut
_TOL_FLOOR = 1e-4  # deviations are measured in tolerances; a zero tolerance uses this


@dataclass(frozen=True)
class BalanceField:
    """A field to balance and its weight in the objective (the first is the primary)."""

    name: str
    weight: float = 1.0


def parse_balance(specs: Sequence[str | BalanceField] | str | None) -> list[BalanceField]:
    """Parse ``FIELD[:weight]`` strings (as given to ``--balance``) into :class:`BalanceField`."""
    if specs is None:
        return []
    if isinstance(specs, str | BalanceField):
        specs = [specs]
    out = []
    for spec in specs:
        if isinstance(spec, BalanceField):
            out.append(spec)
            continue
        name, _, weight = str(spec).partition(":")
        try:
            w = float(weight) if weight else 1.0
        except ValueError as exc:
            raise ValueError(f"--balance {spec!r}: the weight after ':' must be a number.") from exc
        if not w > 0:
            raise ValueError(f"--balance {spec!r}: the weight must be positive.")
        out.append(BalanceField(name.strip(), w))
    return out


@dataclass
class PartitionResult:
    """A plan and its report.

    Attributes
    ----------
    assignment
        Grid id of each unit, indexed like the units.
    grids
        One row per grid (units' CRS): ``grid_id``, ``parent``, ``n_units``,
        sums, targets and deviations per balance field, compactness, ``contiguous``.
    metrics
        Plan-level metrics (see :func:`gridmap.metrics.plan_metrics`), plus
        ``balanced``, ``tolerance``, ``max_dev_global`` (against the plan mean,
        which nesting can make unavoidable) and ``seconds``.
    island_links
        Virtual links of the island policy: ``u``, ``v``, ``distance_m``,
        ``island_units``, ``grid_u``, ``grid_v`` and ``inside_grid``.
    problems
        Plain-language warnings: what is off and where.
    graph
        The unit graph used (with island links).
    """

    assignment: pd.Series
    grids: gpd.GeoDataFrame
    metrics: dict[str, object]
    island_links: pd.DataFrame
    problems: list[str] = field(default_factory=list)
    graph: UnitGraph | None = None

    @property
    def balanced(self) -> bool:
        """True when every grid is within the tolerance of its target on every field."""
        return bool(self.metrics.get("balanced", False))


# ---------------------------------------------------------------------------
# apportionment, parents, ordering


def apportion(sizes: Sequence[float], k: int, *, minimum: int = 1) -> np.ndarray:
    """Split ``k`` seats among groups in proportion to ``sizes`` (largest remainder).

    Every group gets at least ``minimum`` seats.
    """
    sizes = np.asarray(sizes, dtype=float)
    n = len(sizes)
    if k < minimum * n:
        raise InfeasibleError(
            f"{k} grids cannot give each of the {n} parents at least {minimum}; "
            f"ask for at least {minimum * n} grids or drop --within."
        )
    if sizes.sum() <= 0:
        sizes = np.ones(n)
    quota = sizes / sizes.sum() * k
    seats = np.maximum(np.floor(quota).astype(int), minimum)
    while seats.sum() > k:
        # Take from the group that loses least (largest seats - quota), never below minimum.
        over = np.where(seats > minimum, seats - quota, -np.inf)
        seats[int(np.argmax(over))] -= 1
    rem = quota - seats
    while seats.sum() < k:
        i = int(np.argmax(rem))
        seats[i] += 1
        rem[i] -= 1
    return seats


def reading_order(xy: np.ndarray, *, band: float | None = None) -> np.ndarray:
    """Order points west→east, then north→south, as text is read.

    Points are grouped into horizontal bands of height ``band`` (default: the
    square root of the mean area per point of the bounding box), bands from
    north to south, and ordered by x inside each band.

    Returns
    -------
    numpy.ndarray
        Positions in reading order.
    """
    xy = np.asarray(xy, dtype=float)
    if len(xy) == 0:
        return np.empty(0, dtype=np.int64)
    if band is None:
        w = np.ptp(xy[:, 0]) or 1.0
        h = np.ptp(xy[:, 1]) or 1.0
        band = math.sqrt(w * h / len(xy)) if len(xy) > 1 else 1.0
    band = max(float(band), 1e-9)
    row = np.floor((xy[:, 1].max() - xy[:, 1]) / band + 1e-9)
    return np.lexsort((xy[:, 0], row))


def assign_parents(
    units: gpd.GeoDataFrame, parents: gpd.GeoDataFrame, *, id_column: str | None = None
) -> tuple[pd.Series, pd.DataFrame]:
    """Put each unit in the parent polygon it overlaps most.

    Returns
    -------
    (pandas.Series, pandas.DataFrame)
        The parent id of each unit, and the units that straddle parents
        (``unit``, ``parent``, ``share`` of the unit's area in its parent, when
        below 99%). Units inside no parent raise :class:`DataError` listing them.
    """
    require_crs(parents, layer="parents")
    ids = parents[id_column] if id_column else pd.Series(parents.index, index=parents.index)
    metric_units = to_metric(units)
    metric_parents = parents.to_crs(metric_units.crs)
    ug = metric_units.geometry.values
    pg = metric_parents.geometry.values
    tree = shapely.STRtree(pg)
    ui, pi = tree.query(ug, predicate="intersects")
    area = shapely.area(shapely.intersection(ug[ui], pg[pi]))
    df = pd.DataFrame({"u": ui, "p": pi, "area": area})
    df = df[df["area"] > 0].sort_values(["u", "area"], ascending=[True, False])
    best = df.drop_duplicates("u")
    outside = np.setdiff1d(np.arange(len(ug)), best["u"].to_numpy())
    if len(outside):
        raise DataError(
            f"{len(outside)} unit(s) lie inside no parent polygon, e.g. "
            f"{list(units.index[outside[:10]])}; extend the parents layer or clip the units."
        )
    share = best["area"].to_numpy() / np.maximum(shapely.area(ug[best["u"].to_numpy()]), 1e-12)
    parent = pd.Series(
        ids.to_numpy()[best["p"].to_numpy()], index=units.index[best["u"].to_numpy()]
    ).reindex(units.index)
    straddle = pd.DataFrame(
        {
            "unit": units.index[best["u"].to_numpy()],
            "parent": parent.reindex(units.index[best["u"].to_numpy()]).to_numpy(),
            "share": share,
        }
    )
    return parent, straddle[straddle["share"] < 0.99].reset_index(drop=True)


def balance_values(
    units: gpd.GeoDataFrame, fields: Sequence[BalanceField]
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Field names, values ``(n, F)`` and weights ``(F,)`` to balance; the unit count without fields."""
    if not fields:
        return ["n_units"], np.ones((len(units), 1)), np.ones(1)
    names = [f.name for f in fields]
    require_columns(units, names, layer="units")
    raw = units[names].apply(pd.to_numeric, errors="coerce")
    bad = raw.isna() | (raw < 0)
    if bad.any().any():
        col = bad.any()[bad.any()].index[0]
        rows = list(units.index[bad[col].to_numpy()][:10])
        raise DataError(
            f"balance field {col!r} is missing, non-numeric or negative for units {rows}; "
            "fill or fix those values first."
        )
    vals = np.ascontiguousarray(raw.to_numpy(dtype=np.float64))
    return names, vals, np.array([f.weight for f in fields], dtype=np.float64)


def _parents(
    units: gpd.GeoDataFrame, within: str | gpd.GeoDataFrame | None, within_id: str | None
) -> tuple[pd.Series, list[str]]:
    """Parent label of each unit (``"all"`` without ``within``) and warnings."""
    problems: list[str] = []
    if within is None:
        return pd.Series("all", index=units.index), problems
    if isinstance(within, str):
        require_columns(units, [within], layer="units")
        parent = units[within]
        if parent.isna().any():
            rows = list(units.index[parent.isna().to_numpy()][:10])
            raise DataError(f"units {rows} have no {within!r}; every unit needs its parent.")
        return parent, problems
    parent, straddle = assign_parents(units, within, id_column=within_id)
    if len(straddle):
        problems.append(straddle_message(straddle, "parents"))
    return parent, problems


def straddle_message(straddle: pd.DataFrame, what: str) -> str:
    """One warning for units that straddle polygons (from :func:`assign_parents`)."""
    worst = straddle.sort_values("share").head(5)
    examples = ", ".join(f"{u} ({s:.0%} in {p})" for u, s, p in
                         zip(worst["unit"], worst["share"], worst["parent"], strict=True))
    return (
        f"{len(straddle)} unit(s) straddle {what}; each was put where most of it lies "
        f"(units are indivisible), e.g. {examples}."
    )


# ---------------------------------------------------------------------------
# numba kernels


@njit(cache=True)
def _removable(u, a, indptr, indices, assign, mark, queue, stamp):  # pragma: no cover - numba
    """True when taking unit ``u`` out of part ``a`` leaves the rest of ``a`` connected."""
    ntarget = 0
    first = -1
    for p in range(indptr[u], indptr[u + 1]):
        v = indices[p]
        if assign[v] == a and mark[v, 0] != stamp:
            mark[v, 0] = stamp
            ntarget += 1
            if first < 0:
                first = v
    if ntarget <= 1:
        return True
    mark[u, 1] = stamp
    mark[first, 1] = stamp
    head = 0
    tail = 0
    queue[tail] = first
    tail += 1
    found = 1
    while head < tail:
        x = queue[head]
        head += 1
        for p in range(indptr[x], indptr[x + 1]):
            y = indices[p]
            if assign[y] != a or mark[y, 1] == stamp:
                continue
            mark[y, 1] = stamp
            if mark[y, 0] == stamp:
                found += 1
                if found == ntarget:
                    return True
            queue[tail] = y
            tail += 1
    return found == ntarget


@njit(cache=True)
def _pen(s, t, tau, tol):  # pragma: no cover - numba
    if t <= 0.0:
        return 0.0
    d = abs(s - t) / t - tau
    if d <= 0.0:
        return 0.0
    d /= tol
    return d * d


@njit(cache=True)
def _local_search(
    indptr,
    indices,
    cost,
    vals,
    wf,
    target,
    tau,
    tol,
    assign,
    sums,
    counts,
    frozen,
    closed,
    orig,
    alpha,
    max_sweeps,
    seed,
):  # pragma: no cover - numba
    """Move boundary units between neighbouring parts while the objective drops.

    Objective: ``_KBAL * Σ_parts Σ_fields wf · pen(sum, target) + Σ cut cost
    + alpha · #(units away from orig)``. ``frozen`` units never move; ``closed``
    parts neither give nor take. Returns the number of moves.
    """
    n = assign.shape[0]
    nf = vals.shape[1]
    np.random.seed(seed)  # noqa: NPY002 - numba kernels use the legacy, per-thread state
    mark = np.zeros((n, 2), np.int64)
    queue = np.empty(n, np.int64)
    stamp = 0
    maxdeg = 0
    for u in range(n):
        d = indptr[u + 1] - indptr[u]
        if d > maxdeg:
            maxdeg = d
    cparts = np.empty(maxdeg + 1, np.int64)
    ccut = np.empty(maxdeg + 1, np.float64)
    total = 0
    for _sweep in range(max_sweeps):
        order = np.random.permutation(n)  # noqa: NPY002
        moves = 0
        for idx in range(n):
            u = order[idx]
            if frozen[u]:
                continue
            a = assign[u]
            if closed[a] or counts[a] <= 1:
                continue
            nc = 0
            same = 0.0
            for p in range(indptr[u], indptr[u + 1]):
                b = assign[indices[p]]
                if b == a:
                    same += cost[p]
                    continue
                if closed[b]:
                    continue
                k = 0
                while k < nc and cparts[k] != b:
                    k += 1
                if k == nc:
                    cparts[nc] = b
                    ccut[nc] = 0.0
                    nc += 1
                ccut[k] += cost[p]
            if nc == 0:
                continue
            # balance change of taking u out of a
            da = 0.0
            for f in range(nf):
                x = vals[u, f]
                if x != 0.0:
                    da += wf[f] * (
                        _pen(sums[a, f] - x, target[a, f], tau, tol)
                        - _pen(sums[a, f], target[a, f], tau, tol)
                    )
            best = -1
            bestd = -1e-9
            for k in range(nc):
                b = cparts[k]
                db = 0.0
                for f in range(nf):
                    x = vals[u, f]
                    if x != 0.0:
                        db += wf[f] * (
                            _pen(sums[b, f] + x, target[b, f], tau, tol)
                            - _pen(sums[b, f], target[b, f], tau, tol)
                        )
                d = _KBAL * (da + db) + (same - ccut[k])
                if alpha != 0.0:
                    d += alpha * ((1.0 if b != orig[u] else 0.0) - (1.0 if a != orig[u] else 0.0))
                if d < bestd:
                    bestd = d
                    best = b
            if best < 0:
                continue
            stamp += 1
            if not _removable(u, a, indptr, indices, assign, mark, queue, stamp):
                continue
            assign[u] = best
            counts[a] -= 1
            counts[best] += 1
            for f in range(nf):
                sums[a, f] -= vals[u, f]
                sums[best, f] += vals[u, f]
            moves += 1
        total += moves
        if moves == 0:
            break
    return total


@njit(cache=True)
def _part_delta(u, a, b, indptr, indices, cost, assign):  # pragma: no cover - numba
    """Cut change of moving ``u`` from part ``a`` to part ``b`` (negative = shorter boundary)."""
    d = 0.0
    for p in range(indptr[u], indptr[u + 1]):
        c = assign[indices[p]]
        if c == a:
            d += cost[p]
        elif c == b:
            d -= cost[p]
    return d


@njit(cache=True)
def _swap_search(
    indptr, indices, cost, vals, wf, target, tau, tol, assign, sums, counts, frozen, closed,
    orig, alpha, max_sweeps, seed,
):  # pragma: no cover - numba
    """Exchange pairs of nearby boundary units between two neighbouring parts.

    A unit ``u`` of part ``a`` moves to ``b`` and a unit ``v`` of ``b`` within two
    steps of ``u`` moves to ``a`` when the pair lowers the same objective as
    :func:`_local_search`; single moves cannot do this when the balance band is
    tight. Both parts must stay connected. Returns the number of swaps.
    """
    n = assign.shape[0]
    nf = vals.shape[1]
    np.random.seed(seed)  # noqa: NPY002
    mark = np.zeros((n, 2), np.int64)
    queue = np.empty(n, np.int64)
    seen = np.zeros(n, np.int64)
    stamp = 0
    total = 0
    for _sweep in range(max_sweeps):
        order = np.random.permutation(n)  # noqa: NPY002
        swaps = 0
        for idx in range(n):
            u = order[idx]
            if frozen[u]:
                continue
            a = assign[u]
            if closed[a] or counts[a] <= 1:
                continue
            for p in range(indptr[u], indptr[u + 1]):
                b = assign[indices[p]]
                if b == a or closed[b]:
                    continue
                du = _part_delta(u, a, b, indptr, indices, cost, assign)
                if alpha != 0.0:
                    du += alpha * ((1.0 if b != orig[u] else 0.0) - (1.0 if a != orig[u] else 0.0))
                if du >= 0.0:
                    continue  # only pairs led by a move that shortens the boundary
                stamp += 1
                if not _removable(u, a, indptr, indices, assign, mark, queue, stamp):
                    continue
                assign[u] = b
                best_v = -1
                best_d = -1e-9
                stamp += 1
                for q in range(indptr[u], indptr[u + 1]):
                    x = indices[q]
                    for r in range(indptr[x], indptr[x + 1] + 1):
                        v = x if r == indptr[x + 1] else indices[r]
                        if v == u or seen[v] == stamp or assign[v] != b or frozen[v]:
                            continue
                        seen[v] = stamp
                        dv = _part_delta(v, b, a, indptr, indices, cost, assign)
                        if alpha != 0.0:
                            dv += alpha * ((1.0 if a != orig[v] else 0.0)
                                           - (1.0 if b != orig[v] else 0.0))
                        if dv >= 1e300:
                            continue
                        touches = False
                        for s in range(indptr[v], indptr[v + 1]):
                            if assign[indices[s]] == a:
                                touches = True
                                break
                        if not touches:
                            continue
                        dbal = 0.0
                        for f in range(nf):
                            xa = sums[a, f] - vals[u, f] + vals[v, f]
                            xb = sums[b, f] + vals[u, f] - vals[v, f]
                            dbal += wf[f] * (
                                _pen(xa, target[a, f], tau, tol) + _pen(xb, target[b, f], tau, tol)
                                - _pen(sums[a, f], target[a, f], tau, tol)
                                - _pen(sums[b, f], target[b, f], tau, tol)
                            )
                        d = _KBAL * dbal + du + dv
                        if d < best_d:
                            best_d = d
                            best_v = v
                if best_v >= 0:
                    stamp += 1
                    if _removable(best_v, b, indptr, indices, assign, mark, queue, stamp):
                        assign[best_v] = a
                        for f in range(nf):
                            sums[a, f] += vals[best_v, f] - vals[u, f]
                            sums[b, f] += vals[u, f] - vals[best_v, f]
                        swaps += 1
                        break
                assign[u] = a  # no partner: undo the first move
        total += swaps
        if swaps == 0:
            break
    return total


@njit(cache=True)
def _transfer(indptr, indices, cost, w, assign, counts, frozen, a, b, amount):  # pragma: no cover
    """Move units from part ``a`` to its neighbour ``b`` until about ``amount`` of ``w`` moved.

    Units are taken where the cut shrinks most (compact growth of ``b``), never
    disconnecting ``a``; the transfer stops short rather than overshoot by more
    than half a unit. Returns the amount moved.
    """
    n = assign.shape[0]
    mark = np.zeros((n, 2), np.int64)
    queue = np.empty(n, np.int64)
    stamp = 0
    moved = 0.0
    while moved < amount and counts[a] > 1:
        remaining = amount - moved
        best = -1
        bestgain = -1e300
        for u in range(n):
            if assign[u] != a or frozen[u]:
                continue
            gain = 0.0
            touches = False
            for p in range(indptr[u], indptr[u + 1]):
                c = assign[indices[p]]
                if c == b:
                    gain += cost[p]
                    touches = True
                elif c == a:
                    gain -= cost[p]
            if not touches:
                continue
            if gain > bestgain:
                stamp += 1
                if _removable(u, a, indptr, indices, assign, mark, queue, stamp):
                    bestgain = gain
                    best = u
        if best < 0 or w[best] > 2.0 * remaining:
            break  # the next compact unit would overshoot: leave the rest to the local search
        assign[best] = b
        counts[a] -= 1
        counts[b] += 1
        moved += w[best]
    return moved


# ---------------------------------------------------------------------------
# initial plan and repair


def _multisection(xy: np.ndarray, w: np.ndarray, k: int, *, angle: float = 0.0) -> np.ndarray:
    """Recursive multisection of points into ``k`` near-square, weight-balanced parts."""
    n = len(xy)
    labels = np.zeros(n, dtype=np.int64)
    if angle:
        c, s = math.cos(angle), math.sin(angle)
        xy = xy @ np.array([[c, -s], [s, c]])
    w = np.maximum(np.asarray(w, dtype=float), 0.0)
    if w.sum() <= 0:
        w = np.ones(n)
    next_label = [0]

    def split(idx: np.ndarray, parts: int) -> None:
        if parts == 1 or len(idx) <= 1:
            labels[idx] = next_label[0]
            next_label[0] += 1
            return
        pts = xy[idx]
        ext = np.ptp(pts, axis=0) + 1e-9
        axis = 0 if ext[0] >= ext[1] else 1
        long, short = ext[axis], ext[1 - axis]
        m = int(np.clip(round(math.sqrt(parts * long / short)), 2, parts))
        counts = np.diff(np.round(np.linspace(0, parts, m + 1)).astype(int))
        counts = counts[counts > 0]
        order = idx[np.lexsort((xy[idx, 1 - axis], xy[idx, axis]))]
        cum = np.cumsum(w[order])
        total = cum[-1]
        start = 0
        done = 0
        for j, c in enumerate(counts):
            done += c
            if j == len(counts) - 1:
                stop = len(order)
            else:
                goal = total * done / parts
                stop = int(np.searchsorted(cum, goal))
                # the unit straddling the goal goes to the side it fits best
                if stop < len(cum) and (cum[stop] - goal) < (goal - (cum[stop - 1] if stop else 0)):
                    stop += 1
                remaining = len(counts) - j - 1
                stop = int(np.clip(stop, start + 1, len(order) - remaining))
            split(order[start:stop], int(c))
            start = stop

    split(np.arange(n), k)
    if next_label[0] < k:  # fewer units than parts cannot happen (checked before)
        raise InfeasibleError(f"could not form {k} grids from {n} units.")
    return labels


def _same_part_components(graph: UnitGraph, labels: np.ndarray) -> np.ndarray:
    rows = np.repeat(np.arange(graph.n), graph.degree)
    same = labels[rows] == labels[graph.indices]
    m = sparse.csr_matrix(
        (np.ones(int(same.sum())), (rows[same], graph.indices[same])), shape=(graph.n, graph.n)
    )
    _, comp = csgraph.connected_components(m, directed=False)
    return comp


def _repair(graph: UnitGraph, labels: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Give pieces cut off from their part to the neighbour part sharing most border."""
    labels = labels.copy()
    rows = np.repeat(np.arange(graph.n), graph.degree)
    for _ in range(graph.n):
        comp = _same_part_components(graph, labels)
        df = pd.DataFrame({"comp": comp, "part": labels, "w": w + 1e-9})
        cw = df.groupby(["part", "comp"])["w"].sum().reset_index()
        main = cw.sort_values(["part", "w"], ascending=[True, False]).drop_duplicates("part")
        is_main = np.zeros(comp.max() + 1, dtype=bool)
        is_main[main["comp"].to_numpy()] = True
        orphan = ~is_main[comp]
        if not orphan.any():
            return labels
        # border between orphan units and units of main components of other parts
        sel = orphan[rows] & ~orphan[graph.indices]
        e = pd.DataFrame(
            {
                "comp": comp[rows[sel]],
                "part": labels[graph.indices[sel]],
                "len": graph.length[sel] + 1e-6,
            }
        )
        if e.empty:
            raise InfeasibleError("a group of units touches no other grid; check the unit graph.")
        choice = (
            e.groupby(["comp", "part"])["len"].sum().reset_index()
            .sort_values(["comp", "len"], ascending=[True, False])
            .drop_duplicates("comp")
        )
        new_part = pd.Series(choice["part"].to_numpy(), index=choice["comp"].to_numpy())
        hit = orphan & np.isin(comp, new_part.index.to_numpy())
        labels[hit] = new_part.reindex(comp[hit]).to_numpy()
    return labels


# ---------------------------------------------------------------------------
# one region


@dataclass
class _Region:
    positions: np.ndarray
    graph: UnitGraph
    k: int
    target: np.ndarray  # per field


def _mean_length(graph: UnitGraph) -> float:
    real = ~graph.virtual & (graph.length > 0)
    return float(graph.length[real].mean()) if real.any() else 1.0


def _cost(graph: UnitGraph, barrier_penalty: float, mean_len: float) -> np.ndarray:
    """Cut cost of each stored edge, in mean edge lengths; cheaper across barriers."""
    cost = graph.length / mean_len
    cost = np.where(graph.barrier, cost * (1.0 - barrier_penalty), cost)
    return np.where(graph.virtual, 0.0, cost)


def _score(labels, vals, wf, target, tol, cost, graph) -> tuple[float, float]:
    k = target.shape[0]
    sums = np.zeros((k, vals.shape[1]))
    np.add.at(sums, labels, vals)
    with np.errstate(divide="ignore", invalid="ignore"):
        dev = np.where(target > 0, np.abs(sums - target) / target, 0.0)
    excess = float((np.maximum(dev - tol, 0.0) * wf).sum())
    rows = np.repeat(np.arange(graph.n), graph.degree)
    cut = float(cost[labels[rows] != labels[graph.indices]].sum()) / 2
    return excess, cut


def _search(graph, labels, vals, wf, target, tol, cost, *, seed, frozen=None, closed=None,
            orig=None, alpha=0.0, taus=(0.25, 0.9), max_sweeps=200, swaps=True) -> np.ndarray:
    labels = labels.astype(np.int64).copy()
    k = target.shape[0]
    sums = np.zeros((k, vals.shape[1]))
    np.add.at(sums, labels, vals)
    counts = np.bincount(labels, minlength=k).astype(np.int64)
    frozen = np.zeros(graph.n, dtype=np.bool_) if frozen is None else frozen
    closed = np.zeros(k, dtype=np.bool_) if closed is None else closed
    orig = labels.copy() if orig is None else orig.astype(np.int64)
    norm = max(tol, _TOL_FLOOR)
    for i, tau in enumerate(taus):
        _local_search(
            graph.indptr, graph.indices, cost, vals, wf, target, tau * tol, norm,
            labels, sums, counts, frozen, closed, orig, float(alpha), max_sweeps, seed + i,
        )
    if swaps:
        # pairs of exchanges smooth boundaries the tight band keeps single moves from fixing
        for rnd in range(3):
            done = _swap_search(
                graph.indptr, graph.indices, cost, vals, wf, target, taus[-1] * tol, norm,
                labels, sums, counts, frozen, closed, orig, float(alpha), max_sweeps,
                seed + 101 + rnd,
            )
            moved = _local_search(
                graph.indptr, graph.indices, cost, vals, wf, target, taus[-1] * tol, norm,
                labels, sums, counts, frozen, closed, orig, float(alpha), max_sweeps,
                seed + 201 + rnd,
            )
            if done == 0 and moved == 0:
                break
    return labels


def _pair_penalty(s1, s2, t1, t2, wf, tol) -> float:
    d1 = np.abs(s1 - t1) / np.where(t1 > 0, t1, 1.0)
    d2 = np.abs(s2 - t2) / np.where(t2 > 0, t2, 1.0)
    return float(((d1 / tol) ** 2 + (d2 / tol) ** 2) @ wf)


@njit(cache=True)
def _tree_split(n, r, c, edge_order, mv, t_a, t_b, wf, tol, root):  # pragma: no cover - numba
    """One ReCom draw: the spanning tree of edges taken in ``edge_order`` (Kruskal),
    and its most balanced edge cut. Returns ``(penalty, side)``; penalty is inf
    when the edges do not connect the ``n`` nodes."""
    parent = np.arange(n)
    tr = np.empty(n - 1, np.int64)
    tc = np.empty(n - 1, np.int64)
    m = 0
    for e in edge_order:
        a = r[e]
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        b = c[e]
        while parent[b] != b:
            parent[b] = parent[parent[b]]
            b = parent[b]
        if a != b:
            parent[a] = b
            tr[m] = r[e]
            tc[m] = c[e]
            m += 1
            if m == n - 1:
                break
    side = np.zeros(n, np.bool_)
    if m < n - 1:
        return np.inf, side
    deg = np.zeros(n + 1, np.int64)
    for i in range(m):
        deg[tr[i] + 1] += 1
        deg[tc[i] + 1] += 1
    for i in range(n):
        deg[i + 1] += deg[i]
    adj = np.empty(2 * m, np.int64)
    fill = deg[:-1].copy()
    for i in range(m):
        adj[fill[tr[i]]] = tc[i]
        fill[tr[i]] += 1
        adj[fill[tc[i]]] = tr[i]
        fill[tc[i]] += 1
    order = np.empty(n, np.int64)
    pred = np.full(n, -1, np.int64)
    seen = np.zeros(n, np.bool_)
    order[0] = root
    seen[root] = True
    head, tail = 0, 1
    while head < tail:
        x = order[head]
        head += 1
        for p in range(deg[x], deg[x + 1]):
            y = adj[p]
            if not seen[y]:
                seen[y] = True
                pred[y] = x
                order[tail] = y
                tail += 1
    acc = mv.copy()
    for i in range(n - 1, 0, -1):
        v = order[i]
        acc[pred[v]] += acc[v]
    nf = mv.shape[1]
    best = np.inf
    v0 = -1
    for i in range(1, n):
        v = order[i]
        pen = 0.0
        for f in range(nf):
            s1 = acc[v, f]
            s2 = acc[root, f] - s1
            d1 = abs(s1 - t_a[f]) / t_a[f] if t_a[f] > 0 else 0.0
            d2 = abs(s2 - t_b[f]) / t_b[f] if t_b[f] > 0 else 0.0
            pen += wf[f] * ((d1 / tol) ** 2 + (d2 / tol) ** 2)
        if pen < best:
            best = pen
            v0 = v
    for i in range(n):
        v = order[i]
        if v == v0:
            side[v] = True
        elif pred[v] >= 0:
            side[v] = side[pred[v]]
    return best, side


def _pair_edges(graph: UnitGraph, members: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Undirected edges (local positions) among sorted ``members``, in O(their degree)."""
    deg = graph.degree[members]
    rows = np.repeat(np.arange(len(members)), deg)
    starts = graph.indptr[members]
    offs = np.arange(int(deg.sum())) - np.repeat(np.cumsum(deg) - deg, deg)
    nbrs = graph.indices[np.repeat(starts, deg) + offs]
    pos = np.searchsorted(members, nbrs)
    pos = np.minimum(pos, len(members) - 1)
    ok = (members[pos] == nbrs) & (rows < pos)
    return rows[ok], pos[ok]


def _best_tree_split(graph, members, vals, t_a, t_b, wf, tol, rng, trees, home=None):
    """Best balanced split of ``members`` over random spanning trees (ReCom step).

    With ``home`` labels (minimum change), edges between units of different
    homes join the trees last, so that cutting one of them restores the old
    boundary. Returns ``(penalty, side)``: ``side`` marks the members (sorted)
    that go to part a.
    """
    n = len(members)
    r, c = _pair_edges(graph, members)
    mv = np.ascontiguousarray(vals[members])
    best = (np.inf, None)
    if n < 2:
        return best
    cross = None if home is None else (home[members][r] != home[members][c]).astype(float)
    t_a = np.asarray(t_a, dtype=np.float64)
    t_b = np.asarray(t_b, dtype=np.float64)
    for _ in range(trees):
        weights = rng.random(len(r))
        if cross is not None:
            weights += cross
        pen, side = _tree_split(n, r, c, np.argsort(weights, kind="stable"), mv, t_a, t_b, wf,
                                max(float(tol), _TOL_FLOOR), int(rng.integers(n)))
        if not np.isfinite(pen):
            return best  # the pair is not connected: nothing to do
        if pen < best[0]:
            best = (float(pen), side)
    return best


def _recombine(graph, labels, vals, wf, target, tol, rng, *, rounds=200, trees=16, home=None,
               frozen=None):
    """Merge and re-split pairs of neighbouring parts until balanced (or no progress)."""
    labels = labels.copy()
    k = target.shape[0]
    rows = np.repeat(np.arange(graph.n), graph.degree)
    stale = 0
    for _ in range(rounds):
        sums = np.zeros((k, vals.shape[1]))
        np.add.at(sums, labels, vals)
        dev = (np.abs(sums - target) / np.where(target > 0, target, 1.0)) @ (wf / wf.sum())
        if frozen is not None and frozen.any():
            dev[np.unique(labels[frozen])] = 0.0  # locked parts cannot change
        if dev.max() <= 0.75 * tol or stale > 2 * k:
            break
        # the worst part, or a random part above tolerance once the worst is stuck
        over = np.flatnonzero(dev > 0.75 * tol)
        a = int(np.argmax(dev)) if stale == 0 else int(rng.choice(over))
        cross = labels[rows] == a
        nbr = np.unique(labels[graph.indices[cross]])
        nbr = nbr[nbr != a]
        if frozen is not None:
            nbr = nbr[~np.isin(nbr, np.unique(labels[frozen]))]
        rng.shuffle(nbr)
        improved = False
        for b in nbr:
            members = np.flatnonzero((labels == a) | (labels == b))  # sorted
            cur = _pair_penalty(sums[a], sums[b], target[a], target[b], wf, max(tol, _TOL_FLOOR))
            pen, side = _best_tree_split(
                graph, members, vals, target[a], target[b], wf, tol, rng, trees, home
            )
            if side is not None and pen < cur - 1e-12:
                labels[members[side]] = a
                labels[members[~side]] = b
                improved = True
                break
        stale = 0 if improved else stale + 1
    return labels


def _partition_region(region: _Region, vals, wf, tol, cost, *, seed, trials) -> np.ndarray:
    g = region.graph
    if region.k == 1:
        return np.zeros(g.n, dtype=np.int64)
    target = np.broadcast_to(region.target, (region.k, vals.shape[1])).copy()
    combined = (vals / np.where(region.target > 0, region.target, 1.0)) @ wf
    rng = np.random.default_rng(seed)
    # at least `trials` initial plans; up to 8 while none meets the tolerance
    angles = [0.0, *list(rng.uniform(0, math.pi, size=max(trials, 8) - 1))]
    plans = []
    for t, angle in enumerate(angles):
        if t >= trials and min(p[0] for p in plans)[0] == 0:
            break
        labels = _multisection(g.xy, combined, region.k, angle=angle)
        labels = _repair(g, labels, combined)
        labels = _search(g, labels, vals, wf, target, tol, cost, seed=seed + 7 * t)
        plans.append((_score(labels, vals, wf, target, tol, cost, g), t, labels))
    plans.sort(key=lambda p: (p[0], p[1]))
    best_score, _, best = plans[0]
    # single moves are stuck (large units): recombine pairs, best plans first, then polish
    for score, t, labels in plans:
        if best_score[0] == 0:
            break
        if score[0] == 0:
            continue
        labels = _recombine(g, labels, vals, wf, target, tol, rng)
        labels = _search(g, labels, vals, wf, target, tol, cost, seed=seed + 7 * t + 3)
        score = _score(labels, vals, wf, target, tol, cost, g)
        if score < best_score:
            best, best_score = labels, score
    return best


def _check_units(region_name, positions, index, vals, names, target, tol) -> None:
    big = vals[:, 0] > target[0] * (1 + tol)
    if big.any():
        ids = list(index[positions[big]][:10])
        raise InfeasibleError(
            f"{region_name}: unit(s) {ids} each hold more {names[0]} "
            f"(up to {vals[big, 0].max():g}) than a whole grid may "
            f"({target[0] * (1 + tol):.6g} = target {target[0]:.6g} + {tol:.1%}); "
            "split those units, use fewer grids, or raise --tolerance."
        )


def _choke_points(region_name, g: UnitGraph, w: np.ndarray, target: float, tol: float) -> None:
    """Raise :class:`InfeasibleError` when an articulation unit makes balance impossible."""
    import networkx as nx

    e = g.edges()
    G = nx.Graph()
    G.add_nodes_from(range(g.n))
    G.add_edges_from(zip(e["i"].to_numpy(), e["j"].to_numpy(), strict=True))
    hi, lo = target * (1 + tol), target * (1 - tol)
    for a in nx.articulation_points(G):
        H = G.copy()
        H.remove_node(a)
        comps = sorted(nx.connected_components(H), key=lambda c: -w[list(c)].sum())
        for pocket in comps[1:]:
            ws = float(w[list(pocket)].sum())
            # m whole grids inside the pocket leave at least `rest` to the grid
            # through the articulation unit; more grids leave less.
            m_max = math.floor(ws / lo) if lo > 0 else 0
            rest = max(ws - m_max * hi, 0.0)
            if rest + w[a] > hi + 1e-9:
                raise InfeasibleError(
                        f"{region_name}: unit {g.index[a]!r} is a choke point: the "
                        f"{len(pocket)} unit(s) behind it (e.g. {list(g.index[sorted(pocket)[:5]])}) "
                        f"hold {ws:g}, which no number of grids within {tol:.1%} of {target:.6g} "
                        "can cover without the grid through the choke point exceeding the target; "
                        "raise --tolerance, change the number of grids, or split the choke unit."
                    )


# ---------------------------------------------------------------------------
# public entry point


def partition_units(
    units: gpd.GeoDataFrame,
    *,
    parts: int | None = None,
    target_size: float | None = None,
    size_field: str | None = None,
    balance: Sequence[str | BalanceField] | None = None,
    tolerance: float = 0.01,
    within: str | gpd.GeoDataFrame | None = None,
    within_id: str | None = None,
    barriers: gpd.GeoDataFrame | Sequence[gpd.GeoDataFrame] | None = None,
    barrier_penalty: float = 4.0,
    graph: UnitGraph | None = None,
    reference: pd.Series | None = None,
    seed: int = 0,
    trials: int = 1,
    strict: bool = False,
) -> PartitionResult:
    """Partition units into contiguous, balanced, compact grids.

    Parameters
    ----------
    units
        Polygon units (blocks, parcels, 万米 cells) with the balance fields.
    parts
        Exact number of grids. Give this or ``target_size``.
    target_size
        Wanted ``size_field`` total per grid; the number of grids is the total
        divided by it, rounded (per parent with ``within``).
    size_field
        The field ``target_size`` refers to; it is balanced first.
    balance
        Fields to balance, ``"FIELD"`` or ``"FIELD:weight"``; the first (or
        ``size_field``) is the primary field. Without any, the unit count is
        balanced.
    tolerance
        Allowed relative deviation from the target (0.01 = ±1%).
    within
        Parents the grids must nest in: a column of ``units`` or a polygon
        layer (each unit goes to the parent it overlaps most). Hard constraint.
    within_id
        Id column of a ``within`` layer (default: its index).
    barriers
        Road / river line layers; grids avoid spanning them.
    barrier_penalty
        Strength of the barrier preference, in multiples of the border length.
    graph
        A prebuilt unit graph (from :func:`gridmap.adjacency.unit_graph`).
    reference
        An existing plan (grid of each unit), to report units moved.
    seed
        Random seed; the same seed gives the same plan.
    trials
        Number of initial plans tried per parent (rotated cuts); the best wins.
    strict
        Raise :class:`InfeasibleError` when the plan misses the tolerance.

    Returns
    -------
    PartitionResult

    Raises
    ------
    InfeasibleError
        A unit holds more than a grid may, a choke point makes balance
        impossible, or there are fewer units than grids; the message names them.
    """
    t0 = time.perf_counter()
    require_nonempty(units, layer="units")
    require_crs(units, layer="units")
    require_geom_types(units, ("Polygon", "MultiPolygon"), layer="units")
    if units.index.has_duplicates:
        raise SchemaError("units have duplicate index labels; reset_index() first.")
    if (parts is None) == (target_size is None):
        raise ValueError("give exactly one of parts=K or target_size=N (with size_field).")
    if not 0 <= tolerance < 1:
        raise ValueError(f"tolerance must be in [0, 1), got {tolerance!r}.")
    fields = parse_balance(balance)
    if target_size is not None:
        if size_field is None:
            raise ValueError("target_size needs size_field (the field it counts, e.g. households).")
        if not target_size > 0:
            raise ValueError(f"target_size must be positive, got {target_size!r}.")
        fields = [BalanceField(size_field, 1.0)] + [f for f in fields if f.name != size_field]
    names, vals, wf = balance_values(units, fields)
    fields_given = bool(fields)

    # parents
    parent, problems = _parents(units, within, within_id)
    parent_codes, parent_names = pd.factorize(parent, sort=True)

    if graph is None:
        graph = unit_graph(units, barriers=barriers)
    elif not graph.index.equals(units.index):
        raise SchemaError("the graph was built for other units; rebuild it from these units.")
    graph, links = link_islands(graph, groups=parent_codes)

    # number of grids per parent
    totals = np.array([vals[parent_codes == p].sum(axis=0) for p in range(len(parent_names))])
    if target_size is not None:
        ks = np.maximum(np.rint(totals[:, 0] / target_size).astype(int), 1)
    elif len(parent_names) == 1:
        ks = np.array([int(parts)])
    else:
        size = totals @ (wf / np.where(totals.sum(axis=0) > 0, totals.sum(axis=0), 1.0))
        ks = apportion(size, int(parts))
    k_total = int(ks.sum())
    if k_total < 1:
        raise ValueError(f"parts must be at least 1, got {k_total}.")
    global_target = vals.sum(axis=0) / k_total

    mean_len = _mean_length(graph)
    labels = np.empty(graph.n, dtype=np.int64)
    target_rows = []
    offset = 0
    for p, pname in enumerate(parent_names):
        positions = np.flatnonzero(parent_codes == p)
        k = int(ks[p])
        region_name = "the units" if within is None else f"parent {pname}"
        if len(positions) < k:
            raise InfeasibleError(
                f"{region_name} has {len(positions)} unit(s) but needs {k} grid(s); "
                "use smaller units or fewer grids."
            )
        sub = graph.subgraph(positions)
        rvals = np.ascontiguousarray(vals[positions])
        target = rvals.sum(axis=0) / k
        if k > 1:
            _check_units(region_name, positions, units.index, rvals, names, target, tolerance)
        region = _Region(positions, sub, k, target)
        sub_cost = _cost(sub, barrier_penalty, mean_len)
        lab = _partition_region(region, rvals, wf, tolerance, sub_cost, seed=seed, trials=trials)
        # reading order of the region's grids
        cx = np.zeros((k, 2))
        np.add.at(cx, lab, sub.xy * sub.area[:, None])
        cx /= np.maximum(np.bincount(lab, weights=sub.area, minlength=k), 1e-12)[:, None]
        order = reading_order(cx)
        rank = np.empty(k, dtype=np.int64)
        rank[order] = np.arange(k)
        labels[positions] = rank[lab] + offset
        target_rows.extend([target] * k)
        sums = np.zeros((k, vals.shape[1]))
        np.add.at(sums, lab, rvals)
        dev = np.abs(sums[:, 0] - target[0]) / target[0] if target[0] > 0 else np.zeros(k)
        if k > 1 and dev.max() > tolerance + 1e-12:
            _choke_points(region_name, sub, rvals[:, 0], float(target[0]), tolerance)
        offset += k

    width = max(3, len(str(k_total)))
    grid_ids = np.array([f"G{i + 1:0{width}d}" for i in range(k_total)], dtype=object)
    assignment = pd.Series(grid_ids[labels], index=units.index, name="grid_id")
    part_parent = np.empty(k_total, dtype=object)
    part_parent[labels] = np.asarray(parent_names, dtype=object)[parent_codes]
    targets = pd.DataFrame(np.array(target_rows), index=grid_ids, columns=names)

    metric_fields = names if fields_given else []
    grids = dissolve_plan(units, assignment)
    per_grid, summary = plan_metrics(
        units,
        assignment,
        fields=metric_fields,
        graph=graph,
        targets=targets if fields_given else None,
        reference=reference,
        grids=grids,
    )
    per_grid.insert(1, "parent", part_parent[np.searchsorted(grid_ids, per_grid["grid_id"])])
    if within is None:
        per_grid = per_grid.drop(columns="parent")
    # balance against each grid's own target, and against the plan mean
    dev_cols = [f"{n}_dev" for n in names]
    max_dev = float(np.nanmax(np.abs(per_grid[dev_cols].to_numpy())))
    sums = per_grid[names].to_numpy(dtype=float)
    glob = np.abs(sums - global_target) / np.where(global_target > 0, global_target, 1.0)
    summary.update(
        {
            "max_dev": max_dev,
            "max_dev_global": float(glob.max()),
            "tolerance": tolerance,
            "balanced": bool(max_dev <= tolerance + 1e-12),
            "fields": names,
            "target": {n: float(t) for n, t in zip(names, global_target, strict=True)},
            "parents": len(parent_names) if within is not None else 0,
            "island_links": len(links),
        }
    )
    if not summary["balanced"]:
        worst = per_grid.loc[np.nanargmax(np.abs(per_grid[dev_cols].to_numpy()).max(axis=1))]
        msg = (
            f"the plan misses the ±{tolerance:.1%} tolerance: grid {worst['grid_id']} is off by "
            f"{max(abs(worst[c]) for c in dev_cols):.2%}; try more trials, another seed, "
            "a larger tolerance or smaller units."
        )
        if strict:
            raise InfeasibleError(msg)
        problems.append(msg)
    if within is not None and summary["max_dev_global"] > tolerance:
        spread = per_grid.groupby("parent")[names[0]].mean() / global_target[0] - 1
        worst_parent = str(spread.abs().idxmax())
        problems.append(
            f"nesting costs balance: grids in parent {worst_parent} average "
            f"{spread[worst_parent]:+.1%} from the plan-wide target (max {summary['max_dev_global']:.1%} "
            "over all grids), because each parent gets a whole number of grids."
        )
    if not summary["all_contiguous"]:
        bad = list(per_grid.loc[~per_grid["contiguous"], "grid_id"])
        problems.append(f"grids {bad} are not contiguous; report this as a bug with the input.")
    links = links.assign(
        grid_u=assignment.reindex(links["u"]).to_numpy(),
        grid_v=assignment.reindex(links["v"]).to_numpy(),
    )
    links["inside_grid"] = links["grid_u"] == links["grid_v"]
    if links["inside_grid"].any():
        problems.append(
            f"{int(links['inside_grid'].sum())} grid(s) join units across water or a gap "
            "through an island link (see island_links)."
        )
    summary["seconds"] = time.perf_counter() - t0
    return PartitionResult(
        assignment=assignment,
        grids=per_grid,
        metrics=summary,
        island_links=links,
        problems=problems,
        graph=graph,
    )
