"""Editing a plan: merge, split, move units, lock, undo and redo.

The functions take a plan (the grid id of each unit) and return a new one;
they never change their inputs, and they refuse edits that would break a
grid's contiguity or touch a locked grid (raising :class:`DataError` with the
reason). :class:`PlanEditor` keeps the history for undo/redo and the live
balance statistics an app shows after each edit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse import csgraph

from ._errors import DataError, SchemaError
from ._validate import require_crs
from .adjacency import UnitGraph, unit_graph
from .metrics import balance_table, dissolve_plan
from .partition import BalanceField, partition_units

__all__ = [
    "PlanEditor",
    "merge_grids",
    "move_units",
    "split_grid",
    "split_grid_by_line",
]


def _connected(graph: UnitGraph, mask: np.ndarray) -> bool:
    """True when the units in ``mask`` form one connected piece (or none)."""
    pos = np.flatnonzero(mask)
    if len(pos) <= 1:
        return True
    sub = graph.subgraph(pos)
    m = sparse.csr_matrix(
        (np.ones(len(sub.indices)), sub.indices, sub.indptr), shape=(sub.n, sub.n)
    )
    n, _ = csgraph.connected_components(m, directed=False)
    return n == 1


def _check(assignment: pd.Series, grid_ids: Iterable[str], locked: Iterable[str]) -> None:
    present = set(assignment.unique())
    missing = [g for g in grid_ids if g not in present]
    if missing:
        raise DataError(f"grid(s) {missing} are not in the plan; pick existing grids.")
    hit = sorted(set(grid_ids) & set(locked))
    if hit:
        raise DataError(f"grid(s) {hit} are locked; unlock them before editing.")


def _new_ids(base: str, k: int, taken: set[str]) -> list[str]:
    out, j = [], 2
    while len(out) < k:
        cand = f"{base}-{j}"
        if cand not in taken:
            out.append(cand)
            taken.add(cand)
        j += 1
    return out


def _graph_for(units: gpd.GeoDataFrame, graph: UnitGraph | None) -> UnitGraph:
    if graph is None:
        return unit_graph(units)
    if not graph.index.equals(units.index):
        raise SchemaError("the graph was built for other units; rebuild it from these units.")
    return graph


def merge_grids(
    units: gpd.GeoDataFrame,
    assignment: pd.Series,
    grid_ids: Sequence[str],
    *,
    into: str | None = None,
    graph: UnitGraph | None = None,
    locked: Iterable[str] = (),
) -> pd.Series:
    """Merge grids into one (named ``into``, default the first of ``grid_ids``).

    The grids must touch each other so that the merged grid is contiguous.
    """
    grid_ids = list(dict.fromkeys(grid_ids))
    if len(grid_ids) < 2:
        raise DataError("pick at least two grids to merge.")
    _check(assignment, grid_ids, locked)
    into = grid_ids[0] if into is None else into
    if into not in grid_ids:
        raise DataError(f"the merged grid must take one of the merged ids {grid_ids}, not {into!r}.")
    graph = _graph_for(units, graph)
    mask = assignment.reindex(graph.index).isin(grid_ids).to_numpy()
    if not _connected(graph, mask):
        raise DataError(f"grids {grid_ids} do not touch each other; merge neighbouring grids only.")
    out = assignment.copy()
    out[out.isin(grid_ids)] = into
    return out


def move_units(
    units: gpd.GeoDataFrame,
    assignment: pd.Series,
    unit_ids: Sequence[object],
    to_grid: str,
    *,
    graph: UnitGraph | None = None,
    locked: Iterable[str] = (),
) -> pd.Series:
    """Move units to a neighbouring grid, keeping every grid contiguous and non-empty."""
    unit_ids = list(dict.fromkeys(unit_ids))
    missing = [u for u in unit_ids if u not in assignment.index]
    if missing:
        raise DataError(f"unit(s) {missing[:10]} are not in the plan.")
    donors = sorted(set(assignment.loc[unit_ids]) - {to_grid})
    _check(assignment, [to_grid, *donors], locked)
    graph = _graph_for(units, graph)
    out = assignment.copy()
    out.loc[unit_ids] = to_grid
    lab = out.reindex(graph.index).to_numpy()
    if not _connected(graph, lab == to_grid):
        raise DataError(
            f"units {unit_ids[:10]} do not touch grid {to_grid!r}; move units between neighbours only."
        )
    for d in donors:
        left = lab == d
        if not left.any():
            raise DataError(f"moving these units would empty grid {d!r}; merge it instead.")
        if not _connected(graph, left):
            raise DataError(
                f"moving these units would cut grid {d!r} in two; move units on its edge instead."
            )
    return out


def split_grid_by_line(
    units: gpd.GeoDataFrame,
    assignment: pd.Series,
    grid_id: str,
    line: shapely.Geometry,
    *,
    line_crs: object = None,
    graph: UnitGraph | None = None,
    locked: Iterable[str] = (),
) -> tuple[pd.Series, list[str]]:
    """Split a grid along a drawn line; each unit goes to the side holding most of it.

    Parameters
    ----------
    units, assignment
        The plan.
    grid_id
        The grid to split.
    line
        A (multi)line crossing the grid from edge to edge.
    line_crs
        CRS of ``line`` (default: the units' CRS; map drawings are EPSG:4326).
    graph, locked
        Unit graph and locked grids.

    Returns
    -------
    (pandas.Series, list)
        The new plan and the ids of the grids made (the side with most units
        keeps ``grid_id``).
    """
    _check(assignment, [grid_id], locked)
    require_crs(units, layer="units")
    if line is None or line.is_empty or line.geom_type not in ("LineString", "MultiLineString"):
        raise DataError("draw a line (not a point or polygon) across the grid to split it.")
    if line_crs is not None:
        line = gpd.GeoSeries([line], crs=line_crs).to_crs(units.crs).iloc[0]
    members = assignment.index[assignment == grid_id]
    sub = units.loc[members]
    outline = shapely.union_all(sub.geometry.values)
    pieces = [p for p in shapely.get_parts(_split(outline, line)) if p.area > 0]
    if len(pieces) < 2:
        raise DataError(
            f"the line does not cut grid {grid_id!r} in two; draw it across the grid from edge to edge."
        )
    tree = shapely.STRtree(np.array(pieces, dtype=object))
    ug = sub.geometry.values
    ui, pi = tree.query(ug, predicate="intersects")
    share = shapely.area(shapely.intersection(ug[ui], np.array(pieces, dtype=object)[pi]))
    best = (
        pd.DataFrame({"u": ui, "p": pi, "a": share})
        .sort_values(["u", "a"], ascending=[True, False])
        .drop_duplicates("u")
    )
    side = np.zeros(len(sub), dtype=int)
    side[best["u"].to_numpy()] = best["p"].to_numpy()
    counts = np.bincount(side, minlength=len(pieces))
    used = [p for p in np.argsort(-counts) if counts[p] > 0]
    if len(used) < 2:
        raise DataError(
            f"all units of grid {grid_id!r} lie on one side of the line (units are not cut); "
            "draw the line between units."
        )
    taken = set(assignment.unique())
    ids = [grid_id, *_new_ids(grid_id, len(used) - 1, taken)]
    out = assignment.copy()
    for new, p in zip(ids, used, strict=True):
        out.loc[members[side == p]] = new
    graph = _graph_for(units, graph)
    lab = out.reindex(graph.index).to_numpy()
    broken = [g for g in ids if not _connected(graph, lab == g)]
    if broken:
        raise DataError(
            f"splitting {grid_id!r} along this line leaves {broken} in separate pieces; "
            "draw a line that cuts the grid into connected parts."
        )
    return out, ids


def _split(polygon: shapely.Geometry, line: shapely.Geometry) -> shapely.Geometry:
    """Split a polygon by a line whose ends are extended by 2% of the polygon's size.

    A line drawn by hand often stops just short of the grid's edge.
    """
    from shapely.ops import split

    xmin, ymin, xmax, ymax = polygon.bounds
    reach = 0.02 * float(np.hypot(xmax - xmin, ymax - ymin))
    lines = []
    for part in shapely.get_parts(line):
        xy = shapely.get_coordinates(part)
        if len(xy) >= 2 and reach > 0:
            for end, nxt in ((0, 1), (-1, -2)):
                d = xy[end] - xy[nxt]
                norm = float(np.hypot(*d))
                if norm > 0:
                    xy[end] = xy[end] + d / norm * reach
        lines.append(shapely.LineString(xy))
    return split(polygon, shapely.MultiLineString(lines) if len(lines) > 1 else lines[0])


def split_grid(
    units: gpd.GeoDataFrame,
    assignment: pd.Series,
    grid_id: str,
    k: int,
    *,
    balance: Sequence[str | BalanceField] | None = None,
    tolerance: float = 0.01,
    seed: int = 0,
    graph: UnitGraph | None = None,
    locked: Iterable[str] = (),
) -> tuple[pd.Series, list[str]]:
    """Split a grid into ``k`` balanced, contiguous, compact parts (a partition of its units).

    Returns
    -------
    (pandas.Series, list)
        The new plan and the ids of the ``k`` grids (the first keeps ``grid_id``).
    """
    _check(assignment, [grid_id], locked)
    if int(k) < 2:
        raise DataError("split a grid into at least 2 parts.")
    members = assignment.index[assignment == grid_id]
    if len(members) < k:
        raise DataError(f"grid {grid_id!r} has {len(members)} unit(s); it cannot make {k} grids.")
    sub = units.loc[members]
    sub_graph = None if graph is None else _graph_for(units, graph).subgraph(
        graph.index.get_indexer(members)
    )
    res = partition_units(
        sub, parts=int(k), balance=balance, tolerance=tolerance, seed=seed, graph=sub_graph
    )
    parts = res.assignment
    # the part with the most units keeps the id
    order = parts.value_counts().sort_index().sort_values(ascending=False, kind="stable").index
    taken = set(assignment.unique())
    ids = [grid_id, *_new_ids(grid_id, int(k) - 1, taken)]
    rename = dict(zip(order, ids, strict=True))
    out = assignment.copy()
    out.loc[members] = parts.map(rename).to_numpy()
    return out, ids


@dataclass(frozen=True)
class _State:
    assignment: pd.Series
    locked: frozenset
    action: str


class PlanEditor:
    """An editing session over a plan, with undo/redo and live balance statistics.

    Parameters
    ----------
    units
        Polygon units with the balance fields.
    assignment
        Initial grid id of each unit (indexed like ``units``).
    fields
        Fields whose sums and deviations :meth:`stats` reports.
    target
        Target per field (default: the current mean per grid, recomputed
        after each edit).
    graph
        Prebuilt unit graph.
    locked
        Grids locked from the start.
    """

    def __init__(
        self,
        units: gpd.GeoDataFrame,
        assignment: pd.Series,
        *,
        fields: Sequence[str] = (),
        target: dict[str, float] | None = None,
        graph: UnitGraph | None = None,
        locked: Iterable[str] = (),
    ) -> None:
        missing = units.index.difference(assignment.index)
        if len(missing):
            raise SchemaError(f"the plan lacks {len(missing)} unit(s), e.g. {list(missing[:5])}.")
        self._units = units
        self._graph = _graph_for(units, graph)
        self._fields = list(fields)
        self._target = dict(target) if target else None
        self._done: list[_State] = [
            _State(assignment.reindex(units.index).copy(), frozenset(locked), "start")
        ]
        self._undone: list[_State] = []
        self._grids_of: tuple[_State, gpd.GeoDataFrame] | None = None

    # state ------------------------------------------------------------------
    @property
    def assignment(self) -> pd.Series:
        """The current plan (a copy)."""
        return self._done[-1].assignment.copy()

    @property
    def locked(self) -> frozenset:
        """Locked grid ids."""
        return self._done[-1].locked

    @property
    def graph(self) -> UnitGraph:
        """The unit graph."""
        return self._graph

    @property
    def units(self) -> gpd.GeoDataFrame:
        """The units the plan is made of (shared: copy before changing them)."""
        return self._units

    @property
    def history(self) -> list[str]:
        """Descriptions of the edits made (oldest first)."""
        return [s.action for s in self._done[1:]]

    @property
    def can_undo(self) -> bool:
        return len(self._done) > 1

    @property
    def can_redo(self) -> bool:
        return bool(self._undone)

    def _push(self, assignment: pd.Series, action: str, locked: frozenset | None = None) -> None:
        self._done.append(_State(assignment, self.locked if locked is None else locked, action))
        self._undone.clear()

    def undo(self) -> str:
        """Undo the last edit; returns its description."""
        if not self.can_undo:
            raise DataError("nothing to undo.")
        state = self._done.pop()
        self._undone.append(state)
        return state.action

    def redo(self) -> str:
        """Redo the last undone edit; returns its description."""
        if not self.can_redo:
            raise DataError("nothing to redo.")
        state = self._undone.pop()
        self._done.append(state)
        return state.action

    # edits ------------------------------------------------------------------
    def merge(self, grid_ids: Sequence[str], *, into: str | None = None) -> str:
        """Merge neighbouring grids; returns the merged grid's id."""
        out = merge_grids(self._units, self._done[-1].assignment, grid_ids, into=into,
                          graph=self._graph, locked=self.locked)
        name = into or next(iter(dict.fromkeys(grid_ids)))
        self._push(out, f"merge {', '.join(map(str, grid_ids))} into {name}")
        return name

    def split_by_line(self, grid_id: str, line: shapely.Geometry, *, line_crs: object = None) -> list[str]:
        """Split a grid along a drawn line; returns the ids made."""
        out, ids = split_grid_by_line(self._units, self._done[-1].assignment, grid_id, line,
                                      line_crs=line_crs, graph=self._graph, locked=self.locked)
        self._push(out, f"split {grid_id} by a line into {', '.join(ids)}")
        return ids

    def split(self, grid_id: str, k: int, *, balance: Sequence[str] | None = None, seed: int = 0) -> list[str]:
        """Split a grid into ``k`` balanced parts; returns the ids made."""
        out, ids = split_grid(self._units, self._done[-1].assignment, grid_id, k,
                              balance=balance if balance is not None else self._fields[:1] or None,
                              seed=seed, graph=self._graph, locked=self.locked)
        self._push(out, f"split {grid_id} into {k} balanced parts")
        return ids

    def move(self, unit_ids: Sequence[object], to_grid: str) -> None:
        """Move units to a neighbouring grid (contiguity checked)."""
        out = move_units(self._units, self._done[-1].assignment, unit_ids, to_grid,
                         graph=self._graph, locked=self.locked)
        self._push(out, f"move {len(list(unit_ids))} unit(s) to {to_grid}")

    def apply(self, assignment: pd.Series, action: str) -> None:
        """Replace the whole plan (a redraw or rebalance) as one undoable edit.

        Grids that are locked must keep exactly their units.
        """
        new = assignment.reindex(self._units.index)
        if new.isna().any():
            raise DataError("the new plan leaves units without a grid; assign every unit.")
        old = self._done[-1].assignment
        for g in self.locked:
            if not (new[old == g] == g).all() or (new == g).sum() != (old == g).sum():
                raise DataError(f"the new plan changes locked grid {g!r}; unlock it first.")
        self._push(new.copy(), action)

    def lock(self, grid_ids: Iterable[str]) -> None:
        """Lock grids against edits."""
        grid_ids = list(grid_ids)
        _check(self._done[-1].assignment, grid_ids, ())
        self._push(self._done[-1].assignment, f"lock {', '.join(grid_ids)}",
                   self.locked | set(grid_ids))

    def unlock(self, grid_ids: Iterable[str]) -> None:
        """Unlock grids."""
        grid_ids = list(grid_ids)
        self._push(self._done[-1].assignment, f"unlock {', '.join(grid_ids)}",
                   self.locked - set(grid_ids))

    # views ------------------------------------------------------------------
    def unit_at(self, point: shapely.Geometry, *, crs: object = None) -> object:
        """Index label of the unit containing ``point`` (e.g. a map click), or raise."""
        if crs is not None:
            point = gpd.GeoSeries([point], crs=crs).to_crs(self._units.crs).iloc[0]
        hit = self._units.sindex.query(point, predicate="intersects")
        if len(hit) == 0:
            raise DataError("no unit at this point; click inside a unit.")
        return self._units.index[int(hit[0])]

    def stats(self) -> pd.DataFrame:
        """Per grid: units, field sums, targets, deviations and ``locked``."""
        values = self._units[self._fields].astype(float) if self._fields else pd.DataFrame(
            index=self._units.index
        )
        values = values.assign(n_units=1.0)
        a = self._done[-1].assignment
        targets = None
        if self._target:
            k = a.nunique()
            targets = pd.Series({**{f: self._target.get(f, np.nan) for f in self._fields},
                                 "n_units": len(a) / k})
            targets = targets.fillna(values.sum() / k)
        table, _ = balance_table(values, a, targets=targets)
        table["n_units"] = table["n_units"].astype(int)
        table["locked"] = table.index.isin(self.locked)
        return table.rename_axis("grid_id").reset_index()

    def grids(self) -> gpd.GeoDataFrame:
        """The current grids as polygons, with :meth:`stats` columns (a new frame each call)."""
        state = self._done[-1]
        if self._grids_of is None or self._grids_of[0] is not state:
            # dissolving is the slow part: done once per state of the plan
            g = dissolve_plan(self._units, state.assignment)
            self._grids_of = (state, g.drop(columns="n_units").merge(self.stats(), on="grid_id"))
        return self._grids_of[1].copy()
