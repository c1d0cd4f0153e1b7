"""Compare two plans: a per-grid table, the units that moved, and the areas that changed.

:func:`compare_plans` takes the grids before and after (polygons with ids and,
optionally, codes) and, when given, the units: each unit is put in the grid it
overlaps most in each plan. Grids are matched by id when the two plans share
most ids, otherwise by largest overlap (Hungarian matching).
:func:`plot_changes` draws the map of changes with matplotlib.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._errors import SchemaError
from ._validate import require_columns, require_crs, require_nonempty
from .crs import to_metric
from .metrics import compactness, match_labels
from .partition import assign_parents
from .validate import _polygonal

__all__ = ["Comparison", "compare_plans", "plot_changes"]


@dataclass
class Comparison:
    """What changed between two plans.

    Attributes
    ----------
    table
        One row per grid (matched pairs, and grids only in one plan):
        ``grid_before``, ``grid_after``, ``status`` (unchanged, changed,
        removed, added), codes, ``{field}_before/_after`` sums and
        ``{field}_dev_before/_after`` deviations from each plan's mean,
        ``area_m2_*``, ``polsby_popper_*``, ``units_in``, ``units_out``.
    moved
        Units whose grid changed (units' CRS): ``unit``, ``grid_before``,
        ``grid_after``, fields; empty without units.
    changes
        Areas that changed grid: ``grid_before``, ``grid_after``, ``area_m2``
        and geometry (the before grids' CRS).
    before, after
        The two grid layers (after matching: ``after`` has ``matched_before``).
    summary
        ``grids_before``, ``grids_after``, ``units_moved``, ``area_changed_m2``,
        ``matched_by`` and per-field ``{field}_moved``.
    """

    table: pd.DataFrame
    moved: gpd.GeoDataFrame
    changes: gpd.GeoDataFrame
    before: gpd.GeoDataFrame
    after: gpd.GeoDataFrame
    summary: dict[str, object]


def compare_plans(
    before: gpd.GeoDataFrame,
    after: gpd.GeoDataFrame,
    *,
    grid_id: str = "grid_id",
    units: gpd.GeoDataFrame | None = None,
    fields: Sequence[str] = (),
    code_col: str = "code",
    match: str = "auto",
) -> Comparison:
    """Compare two plans grid by grid.

    Parameters
    ----------
    before, after
        Grid polygons with ``grid_id`` (and optionally ``code_col``).
    grid_id
        Id column of both layers.
    units
        Units to count moves with (and to sum ``fields`` from). Without units,
        field sums are read from grid columns of the same name, and only areas
        are compared.
    fields
        Numeric fields to sum per grid.
    code_col
        Code column copied to the table when present.
    match
        ``"ids"`` (same id = same grid), ``"overlap"`` (largest-overlap
        matching) or ``"auto"`` (ids when at least half the ids are shared).

    Returns
    -------
    Comparison
    """
    for name, layer in (("before", before), ("after", after)):
        require_nonempty(layer, layer=f"{name} grids")
        require_crs(layer, layer=f"{name} grids")
        require_columns(layer, [grid_id], layer=f"{name} grids")
        if layer[grid_id].duplicated().any():
            raise SchemaError(f"{name} grids have duplicate {grid_id} values; make them unique.")
    if match not in ("auto", "ids", "overlap"):
        raise ValueError(f"match must be 'auto', 'ids' or 'overlap', got {match!r}.")
    mb = to_metric(before)
    ma = after.to_crs(mb.crs)
    ids_b = mb[grid_id].astype(str).to_numpy()
    ids_a = ma[grid_id].astype(str).to_numpy()
    # overlaps between the two plans
    tree = shapely.STRtree(mb.geometry.values)
    ai, bi = tree.query(ma.geometry.values, predicate="intersects")
    pieces = shapely.intersection(ma.geometry.values[ai], mb.geometry.values[bi])
    pieces = np.array([_polygonal(p) for p in pieces], dtype=object)
    area = shapely.area(pieces)
    ov = pd.DataFrame({"a": ids_a[ai], "b": ids_b[bi], "area": area, "geometry": pieces})
    ov = ov[ov["area"] > 1e-6]
    shared = len(set(ids_a) & set(ids_b)) / max(min(len(ids_a), len(ids_b)), 1)
    by = "ids" if match == "ids" or (match == "auto" and shared >= 0.5) else "overlap"
    if by == "ids":
        mapping = {a: (a if a in set(ids_b) else None) for a in ids_a}
    else:
        mapping = match_labels(ov["a"].to_numpy(), ov["b"].to_numpy(), weights=ov["area"].to_numpy())
        mapping = {a: mapping.get(a) for a in ids_a}
    # changed areas: after-piece whose matched before grid differs
    ov["matched"] = ov["a"].map(mapping)
    changed = ov[ov["matched"].astype(object) != ov["b"].astype(object)]
    changes = gpd.GeoDataFrame(
        {"grid_before": changed["b"].to_numpy(), "grid_after": changed["a"].to_numpy(),
         "area_m2": changed["area"].to_numpy()},
        geometry=list(changed["geometry"]), crs=mb.crs,
    )
    changes = changes[changes["area_m2"] > 1.0].to_crs(before.crs).reset_index(drop=True)

    fields = list(fields)
    moved = gpd.GeoDataFrame({"unit": [], "grid_before": [], "grid_after": []}, geometry=[], crs=before.crs)
    sums_b = sums_a = None
    summary: dict[str, object] = {}
    if units is not None:
        require_crs(units, layer="units")
        require_columns(units, fields, layer="units")
        pb, _ = assign_parents(units, before, id_column=grid_id)
        pa, _ = assign_parents(units, after, id_column=grid_id)
        pb, pa = pb.astype(str), pa.astype(str)
        matched = pa.map(mapping)
        is_moved = (matched.astype(object) != pb.astype(object)).to_numpy()
        moved = units.loc[is_moved, [*fields, units.geometry.name]].copy()
        moved.insert(0, "grid_after", pa[is_moved].to_numpy())
        moved.insert(0, "grid_before", pb[is_moved].to_numpy())
        moved.insert(0, "unit", units.index[is_moved])
        moved = moved.reset_index(drop=True)
        vals = units[fields].astype(float).assign(n_units=1.0)
        sums_b = vals.groupby(pb.to_numpy()).sum()
        sums_a = vals.groupby(pa.to_numpy()).sum()
        summary["units_moved"] = int(is_moved.sum())
        for f in fields:
            summary[f"{f}_moved"] = float(vals[f].to_numpy()[is_moved].sum())
        units_out = pd.Series(pb[is_moved].to_numpy()).value_counts()
        units_in = pd.Series(pa[is_moved].to_numpy()).value_counts()
    else:
        present = [f for f in fields if f in before.columns and f in after.columns]
        if present != fields:
            missing = sorted(set(fields) - set(present))
            raise SchemaError(
                f"fields {missing} are not columns of both grid layers; pass the units (--units) "
                "to sum them."
            )
        if fields:
            sums_b = before.set_index(before[grid_id].astype(str))[fields].astype(float)
            sums_a = after.set_index(after[grid_id].astype(str))[fields].astype(float)
        units_out = units_in = pd.Series(dtype=float)

    comp_b = compactness(mb).set_index(ids_b)
    comp_a = compactness(ma).set_index(ids_a)
    rows = []
    matched_b = {v for v in mapping.values() if v is not None}
    for a in ids_a:
        rows.append((mapping.get(a), a))
    for b in ids_b:
        if b not in matched_b:
            rows.append((b, None))
    table = pd.DataFrame(rows, columns=["grid_before", "grid_after"])
    code_b = before.set_index(before[grid_id].astype(str))[code_col] if code_col in before else None
    code_a = after.set_index(after[grid_id].astype(str))[code_col] if code_col in after else None
    if code_b is not None:
        table["code_before"] = table["grid_before"].map(code_b)
    if code_a is not None:
        table["code_after"] = table["grid_after"].map(code_a)
    for col, src in (("area_m2", "area_m2"), ("polsby_popper", "polsby_popper")):
        table[f"{col}_before"] = table["grid_before"].map(comp_b[src])
        table[f"{col}_after"] = table["grid_after"].map(comp_a[src])
    if sums_b is not None:
        for f in [*fields, *(["n_units"] if units is not None else [])]:
            table[f"{f}_before"] = table["grid_before"].map(sums_b[f])
            table[f"{f}_after"] = table["grid_after"].map(sums_a[f])
            mean_b, mean_a = sums_b[f].mean(), sums_a[f].mean()
            table[f"{f}_dev_before"] = (table[f"{f}_before"] - mean_b) / mean_b if mean_b else np.nan
            table[f"{f}_dev_after"] = (table[f"{f}_after"] - mean_a) / mean_a if mean_a else np.nan
    table["units_out"] = table["grid_before"].map(units_out).fillna(0).astype(int)
    table["units_in"] = table["grid_after"].map(units_in).fillna(0).astype(int)
    changed_after = set(changes["grid_after"]) | set(changes["grid_before"].map(
        {v: k for k, v in mapping.items() if v is not None}).dropna())
    status = []
    for b, a in zip(table["grid_before"], table["grid_after"], strict=True):
        if pd.isna(a):
            status.append("removed")
        elif pd.isna(b):
            status.append("added")
        elif a in changed_after or (units is not None and (units_in.get(a, 0) or units_out.get(b, 0))):
            status.append("changed")
        else:
            status.append("unchanged")
    table.insert(2, "status", status)
    summary.update(
        {
            "grids_before": len(ids_b),
            "grids_after": len(ids_a),
            "matched_by": by,
            "area_changed_m2": float(changes["area_m2"].sum()),
            "grids_changed": int((table["status"] != "unchanged").sum()),
        }
    )
    after_out = after.copy()
    after_out["matched_before"] = after[grid_id].astype(str).map(mapping).to_numpy()
    return Comparison(
        table=table, moved=moved, changes=changes, before=before.copy(), after=after_out,
        summary=summary,
    )


def plot_changes(comparison: Comparison, *, ax: object = None, title: str | None = None) -> object:
    """Map of the changes: after grids outlined, changed areas filled, before lines dashed.

    Returns the matplotlib Figure.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    crs = to_metric(comparison.before).crs
    if ax is None:
        fig, ax = plt.subplots(figsize=(8, 8))
    else:
        fig = ax.figure
    before = comparison.before.to_crs(crs)
    after = comparison.after.to_crs(crs)
    if len(comparison.changes):
        comparison.changes.to_crs(crs).plot(ax=ax, color="#e4572e", alpha=0.6, linewidth=0)
    before.boundary.plot(ax=ax, color="#555555", linewidth=0.8, linestyle="--")
    after.boundary.plot(ax=ax, color="#1f3b73", linewidth=1.2)
    ax.set_axis_off()
    ax.set_title(
        title
        or f"{comparison.summary['grids_before']} → {comparison.summary['grids_after']} grids; "
        f"changed area {comparison.summary['area_changed_m2'] / 1e6:.2f} km²"
    )
    return fig
