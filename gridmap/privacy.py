"""Privacy by default: small-count suppression and sparse-cell masking.

Published aggregates (exports and map layers) are about places, never about
people. gridmap therefore:

* **suppresses small counts** (primary suppression, :func:`suppress_small_counts`)
  — a count of 1 to ``k - 1`` (default ``k = 5``) in an exported table or map
  layer is replaced by a missing value, and any column derived from it (a rate,
  a density) is blanked with it. Zero is kept: it discloses nobody. Suppression
  is applied to the *filtered* data, i.e. after category/date/hour filters, so
  filtering cannot be used to isolate a single incident;
* **suppresses complementary cells** (secondary suppression,
  :func:`suppress_complementary`) where per-unit counts are published next to
  the totals of the units they belong to (grids and their street's total,
  streets and the district's total, statuses and the row's ``n``): if a total
  and every cell but one are known, the blank one is their difference. So in
  every group whose total is published, and every row relation
  ``total = part + part + …``, the blanked nonzero cells are either none or at
  least two, and two or more blanks whose sum would still give them away (all
  ones, all ``k - 1``, or small ones at 1 and complements at exactly ``k``)
  get company too;
* **masks kernel-density rasters** where fewer than ``k`` points lie within
  one bandwidth of a cell centre (see :func:`gridmap.kde.contributing_counts`);
* **never embeds raw incident points** in a shareable HTML map unless the
  caller asks for them explicitly (map layers take ``show_points=False``).

What is and is not protected
----------------------------
Secondary suppression works on one table and the totals named for it (one
grouping ``by`` plus row ``margins``). It protects each published level
against its own parent total; a hierarchy published as several tables
(grids → communities → streets → district) is protected level by level only:
a street blanked as a complement in the street table may still be the sum of
its communities published in the community table, which then gives away the
street's primary blank. Within one grouping (relations that share no cell, as
in a ranking against its parents' totals) no blank can be worked out even by a
reader who knows which blanks are complementary (they are at least ``k``), so
a table may mark them apart from the small counts; with row ``margins`` too,
relations overlap and such a reader may still narrow a blank by combining them,
so there do not publish the ``secondary`` flag. Blanks are guaranteed to come
in twos or more, not to leave a wide range. A published total that is itself a small count must be
suppressed by the same rule (a group whose only nonzero cell is blank has it
as its total). Values of cells across different tables and time periods
(trend tables with per-period and per-unit totals) are not cross-checked;
publish such cross-tables with care, or raise ``k``.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = [
    "DEFAULT_MIN_COUNT",
    "mask_sparse_cells",
    "suppress_complementary",
    "suppress_small_counts",
]

DEFAULT_MIN_COUNT = 5
"""The default minimum count ``k`` below which published counts are suppressed."""


def _check_k(k: int) -> int:
    if int(k) != k or k < 0:
        raise ValueError(f"minimum count k must be a whole number ≥ 0, got {k!r}.")
    return int(k)


def _sources(dependent: Mapping[str, str | Sequence[str]] | None) -> dict[str, tuple[str, ...]]:
    """``{derived: count column(s)}`` with every value a tuple of count columns."""
    return {derived: (src,) if isinstance(src, str) else tuple(src)
            for derived, src in (dependent or {}).items()}


def _require(df: pd.DataFrame, names: Iterable[Hashable]) -> None:
    missing = [c for c in dict.fromkeys(names) if c not in df.columns]
    if missing:
        raise KeyError(f"cannot suppress: no column(s) {missing}; columns are {list(df.columns)}.")


def _numeric(column: pd.Series) -> np.ndarray:
    return pd.to_numeric(column, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _small(values: np.ndarray, k: int) -> np.ndarray:
    return (values > 0) & (values < k)


def _blank(out: pd.DataFrame, col: Hashable, mask: np.ndarray) -> None:
    """Set ``out[col]`` missing where ``mask`` (in place on the copy).

    Numbers become nullable floats; other columns (a hot-spot class, a label)
    become objects holding ``pd.NA``.
    """
    if mask.any():
        numeric = pd.api.types.is_numeric_dtype(out[col]) and not pd.api.types.is_bool_dtype(
            out[col])
        out[col] = out[col].astype("Float64" if numeric else object)
        out.loc[mask, col] = pd.NA


def _blank_dependent(out: pd.DataFrame, sources: Mapping[str, tuple[str, ...]],
                     hidden: Mapping[str, np.ndarray], k: int) -> np.ndarray:
    """Blank each derived column where any of its count columns is blank; rows touched."""
    rows = np.zeros(len(out), dtype=bool)
    for derived, counts in sources.items():
        mask = np.zeros(len(out), dtype=bool)
        for count_col in counts:
            m = hidden.get(count_col)
            mask |= _small(_numeric(out[count_col]), k) if m is None else m
        _blank(out, derived, mask)
        rows |= mask
    return rows


def suppress_small_counts(
    df: pd.DataFrame,
    columns: Iterable[str],
    *,
    k: int = DEFAULT_MIN_COUNT,
    dependent: Mapping[str, str | Sequence[str]] | None = None,
    flag: str | None = "suppressed",
) -> pd.DataFrame:
    """Blank counts between 1 and ``k - 1``, and the values derived from them.

    Parameters
    ----------
    df
        A table of counts (a GeoDataFrame keeps its geometry).
    columns
        Count columns to check.
    k
        Minimum publishable count; ``k <= 1`` suppresses nothing.
    dependent
        ``{derived_column: count_column}``: the derived column (e.g. a rate) is
        blanked wherever its count column is. A tuple of count columns blanks
        it wherever any of them is (a ratio of two counts reveals either).
    flag
        Name of a boolean column added to mark rows where anything was
        suppressed (``None``: add no column).

    Returns
    -------
    pandas.DataFrame
        A copy; suppressed cells are missing (``<NA>`` / ``NaN``).

    See Also
    --------
    suppress_complementary : also blanks the cells a published total would give away.
    """
    k = _check_k(k)
    columns = list(dict.fromkeys(columns))
    sources = _sources(dependent)
    _require(df, [*columns, *sources, *(c for cs in sources.values() for c in cs)])
    out = df.copy()
    any_row = np.zeros(len(out), dtype=bool)
    masks: dict[str, np.ndarray] = {}
    for col in columns:
        small = _small(_numeric(out[col]), k)
        masks[col] = small
        _blank(out, col, small)
        any_row |= small
    any_row |= _blank_dependent(out, sources, masks, k)
    if flag is not None:
        out[flag] = any_row
    return out


def suppress_complementary(
    df: pd.DataFrame,
    columns: Iterable[str],
    *,
    by: Hashable | Sequence[Hashable] | pd.Series | np.ndarray | None = None,
    also_by: Hashable | Sequence[Hashable] | pd.Series | np.ndarray | None = None,
    margins: Mapping[str, Sequence[str]] | None = None,
    k: int = DEFAULT_MIN_COUNT,
    dependent: Mapping[str, str | Sequence[str]] | None = None,
    flag: str | None = "suppressed",
    secondary: str | None = None,
) -> pd.DataFrame:
    """Blank small counts and the complementary cells their published totals would reveal.

    First every count of 1 to ``k - 1`` is blanked (primary suppression, as
    :func:`suppress_small_counts`). Then, for each *relation* whose total is
    published, blanks are added until the relation holds no blank, or at least
    two, among its nonzero cells:

    * each count column within each group of ``by`` (the group's total of that
      column is published elsewhere, e.g. a street's incidents next to its
      grids' incidents), and within each group of ``also_by`` when given (a
      table of two dimensions, e.g. unit × period, whose totals are published
      both ways);
    * each row's ``margins`` (``total = part + part + …``, e.g. ``n`` = the
      four statuses): its total cell and its part cells.

    A relation with exactly one blank gets its smallest other nonzero cell
    blanked too (the *secondary* or complementary cell; ties go to the first
    row, then the first column in ``columns``). A relation with a known total
    whose blanks add up to the least they could (each small count 1, each
    complement ``k``: a reader who can tell them apart would pin them all), or
    whose blanks are all small counts adding up to the most they could (all
    ``k - 1``), gets one more. Blanking one relation may break another
    (a secondary cell of a group sits in its row's margin), so the rules are
    applied until nothing changes. Zeros are never blanked and never chosen:
    they disclose nobody, and a blank is known to be nonzero.

    Parameters
    ----------
    df
        A table of raw counts, one row per unit (a GeoDataFrame keeps its
        geometry). Missing counts are not cells of any relation.
    columns
        Count columns to check.
    by
        The groups whose totals are published: a column label, a list of
        labels (their combination), or an array/Series of group keys aligned
        with the rows (by position); ``None`` (default): the whole table is
        one group with a published total. Missing keys form a group of their
        own. Use the finest published parent level (communities rather than
        streets when both are published): protecting each community protects
        each street made of them.
    also_by
        A second grouping whose totals are published too, given like ``by``
        (``None``, the default: none). Each cell then sits in two relations,
        one of each grouping, as in a unit × period table whose unit totals
        and period totals are both published.
    margins
        ``{total_column: [part_columns]}``: in every row the parts add up to
        the total (all must be in ``columns``).
    k
        Minimum publishable count; ``k <= 1`` suppresses nothing.
    dependent
        ``{derived_column: count_column(s)}``: the derived column is blanked
        wherever any of its count columns is (primary or secondary).
    flag
        Name of a boolean column marking rows where anything was blanked
        (``None``: no column).
    secondary
        Name of a boolean column marking rows with a secondary blank, for
        checking (``None``, the default: no column). Do not publish it: a
        reader who knows which blanks are secondary knows they are at least
        ``k`` and can narrow the others.

    Returns
    -------
    pandas.DataFrame
        A copy; blanked cells are missing (``<NA>``). Totals that are
        themselves small counts are not touched here: suppress them in their
        own table.

    Raises
    ------
    KeyError
        A named column is missing.
    ValueError
        ``k`` is not a whole number ≥ 0, ``by`` has the wrong length, or a
        margin column is not among ``columns``.

    Examples
    --------
    Grid counts of one street whose total (14) is published: blanking only
    the 3 would let a reader compute it as 14 − 11, so the 11 goes too.

    >>> t = pd.DataFrame({"street": ["s1", "s1", "s1"], "n": [0, 3, 11]})
    >>> suppress_complementary(t, ["n"], by="street")["n"].isna().tolist()
    [False, True, True]
    """
    k = _check_k(k)
    columns = list(dict.fromkeys(columns))
    sources = _sources(dependent)
    margins = {total: list(parts) for total, parts in (margins or {}).items()}
    margin_cols = [*margins, *(p for parts in margins.values() for p in parts)]
    _require(df, [*columns, *margin_cols, *sources, *(c for cs in sources.values() for c in cs)])
    outside = [c for c in dict.fromkeys(margin_cols) if c not in columns]
    if outside:
        raise ValueError(f"margin column(s) {outside} are not among the count columns "
                         f"{columns}; add them to `columns`.")
    groupings = [_group_codes(df, by)]
    if also_by is not None:
        groupings.append(_group_codes(df, also_by))
    values = (np.column_stack([_numeric(df[c]) for c in columns]) if columns
              else np.empty((len(df), 0)))
    primary = _small(values, k)
    position = {c: j for j, c in enumerate(columns)}
    hidden = _complementary(values, primary, groupings,
                            [(position[t], [position[p] for p in parts])
                             for t, parts in margins.items()], k)
    out = df.copy()
    masks = {c: hidden[:, j] for j, c in enumerate(columns)}
    for col, mask in masks.items():
        _blank(out, col, mask)
    any_row = hidden.any(axis=1) | _blank_dependent(out, sources, masks, k)
    if flag is not None:
        out[flag] = any_row
    if secondary is not None:
        out[secondary] = (hidden & ~primary).any(axis=1)
    return out


def _group_codes(df: pd.DataFrame,
                 by: Hashable | Sequence[Hashable] | pd.Series | np.ndarray | None) -> np.ndarray:
    """One integer group code per row (0 … groups − 1)."""
    n = len(df)
    if by is None:
        return np.zeros(n, dtype=np.intp)
    if isinstance(by, pd.Series | pd.Index | np.ndarray):
        keys = np.asarray(by, dtype=object)
        if len(keys) != n:
            raise ValueError(f"`by` holds {len(keys)} group keys for {n} rows; give one per row "
                             "or a column name.")
        return pd.factorize(pd.Series(keys), use_na_sentinel=False)[0].astype(np.intp)
    labels = list(by) if isinstance(by, list | tuple) else [by]
    _require(df, labels)
    return df.groupby(labels, sort=False, dropna=False).ngroup().to_numpy(dtype=np.intp)


def _complementary(values: np.ndarray, primary: np.ndarray, groupings: list[np.ndarray],
                   margins: list[tuple[int, list[int]]], k: int) -> np.ndarray:
    """Cells to blank (rows × columns): ``primary`` plus the secondary cells.

    Each relation family is a set of memberships ``(relation, cell, is_total)``
    over the flattened cells; only nonzero cells take part.
    """
    n_rows, n_cols = values.shape
    if not primary.any():
        return primary.copy()
    v = np.nan_to_num(values, nan=0.0).ravel()
    nonzero = (np.isfinite(values) & (values > 0)).ravel()
    prim = primary.ravel()
    rows = np.arange(n_rows)
    families = []
    # every count column within every group of each grouping: relation = column × group
    cell = np.arange(n_rows * n_cols)
    for groups in groupings:
        n_groups = int(groups.max()) + 1
        rel = (np.arange(n_cols)[None, :] * n_groups + groups[:, None]).ravel()
        families.append((rel, cell, np.zeros(cell.size, dtype=bool)))
    # every row's margins: relation = margin × row, its total cell first
    for m, (total, parts) in enumerate(margins):
        cols = np.array([total, *parts], dtype=np.intp)
        rel = np.tile(m * n_rows + rows, cols.size)
        cell = (cols[:, None] + rows[None, :] * n_cols).ravel()
        is_total = np.repeat(np.arange(cols.size) == 0, n_rows)
        families.append((rel, cell, is_total))
    families = [(r[nonzero[c]], c[nonzero[c]], t[nonzero[c]]) for r, c, t in families]

    hidden = prim.copy()
    changed = True
    while changed:
        changed = False
        for rel, cell, is_total in families:
            add = _secondary_cells(rel, cell, is_total, hidden, prim, v, k)
            if add.size:
                hidden[add] = True
                changed = True
    return hidden.reshape(n_rows, n_cols)


def _secondary_cells(rel: np.ndarray, cell: np.ndarray, is_total: np.ndarray, hidden: np.ndarray,
                     prim: np.ndarray, v: np.ndarray, k: int) -> np.ndarray:
    """For each relation that gives a blank away, its smallest visible nonzero cell."""
    if rel.size == 0:
        return rel
    n_rel = int(rel.max()) + 1
    blank = hidden[cell]
    n_blank = np.bincount(rel, weights=blank, minlength=n_rel)
    need = n_blank == 1
    # total known and the blanks' sum at an end of its range pins each blank: the least
    # (small counts 1, complements k) or, all small, the most (all k − 1)
    small = np.bincount(rel, weights=blank & prim[cell] & ~is_total, minlength=n_rel)
    total_blank = np.bincount(rel, weights=blank & is_total, minlength=n_rel)
    blank_sum = np.bincount(rel, weights=np.where(blank, v[cell], 0.0), minlength=n_rel)
    least = small + k * (n_blank - small)
    most = np.where(small == n_blank, small * (k - 1), np.inf)
    need |= ((n_blank >= 2) & (total_blank == 0)
             & (np.isclose(blank_sum, least) | np.isclose(blank_sum, most)))
    pick = need[rel] & ~blank
    if not pick.any():
        return rel[:0]
    r, c = rel[pick], cell[pick]
    order = np.lexsort((c, v[c], r))  # by relation, then smallest value, then first cell
    r, c = r[order], c[order]
    first = np.r_[True, r[1:] != r[:-1]]
    return c[first]


def mask_sparse_cells(
    array: np.ndarray, counts: np.ndarray, *, k: int = DEFAULT_MIN_COUNT, nodata: float = np.nan
) -> np.ndarray:
    """Set raster cells with fewer than ``k`` contributing points to ``nodata``.

    Parameters
    ----------
    array
        Density (or any) raster.
    counts
        Same-shaped raster of how many points contribute to each cell.
    k
        Minimum number of contributing points; ``k <= 1`` masks nothing.
    nodata
        Value written into masked cells.

    Returns
    -------
    numpy.ndarray
        A masked copy of ``array``. Cells that no point reaches keep their
        value (zero): like a zero count, they disclose nobody.
    """
    k = _check_k(k)
    if array.shape != counts.shape:
        raise ValueError(f"array {array.shape} and counts {counts.shape} differ in shape.")
    out = np.array(array, copy=True)
    out[(counts > 0) & (counts < k)] = nodata
    return out
