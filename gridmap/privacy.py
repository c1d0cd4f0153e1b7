"""Privacy by default: small-count suppression and sparse-cell masking.

Published aggregates (exports and map layers) are about places, never about
people. gridmap therefore:

* **suppresses small counts** — a count of 1 to ``k - 1`` (default ``k = 5``)
  in an exported table or map layer is replaced by a missing value, and any
  column derived from it (a rate, a density) is blanked with it. Zero is kept:
  it discloses nobody. Suppression is applied to the *filtered* data, i.e.
  after category/date/hour filters, so filtering cannot be used to isolate a
  single incident;
* **masks kernel-density rasters** where fewer than ``k`` points lie within
  one bandwidth of a cell centre (see :func:`gridmap.kde.contributing_counts`);
* **never embeds raw incident points** in a shareable HTML map unless the
  caller asks for them explicitly (map layers take ``show_points=False``).

This is primary suppression only: a determined reader with the row and column
totals of a cross-table may still recover a suppressed cell. Publish totals
with care, or raise ``k``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

__all__ = [
    "DEFAULT_MIN_COUNT",
    "mask_sparse_cells",
    "suppress_small_counts",
]

DEFAULT_MIN_COUNT = 5
"""The default minimum count ``k`` below which published counts are suppressed."""


def _check_k(k: int) -> int:
    if int(k) != k or k < 0:
        raise ValueError(f"minimum count k must be a whole number ≥ 0, got {k!r}.")
    return int(k)


def suppress_small_counts(
    df: pd.DataFrame,
    columns: Iterable[str],
    *,
    k: int = DEFAULT_MIN_COUNT,
    dependent: Mapping[str, str] | None = None,
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
        blanked wherever its count column is.
    flag
        Name of a boolean column added to mark rows where anything was
        suppressed (``None``: add no column).

    Returns
    -------
    pandas.DataFrame
        A copy; suppressed cells are missing (``<NA>`` / ``NaN``).
    """
    k = _check_k(k)
    out = df.copy()
    columns = list(columns)
    missing = [c for c in [*columns, *(dependent or {}).keys(), *(dependent or {}).values()]
               if c not in out.columns]
    if missing:
        raise KeyError(f"cannot suppress: no column(s) {missing}; columns are {list(out.columns)}.")
    any_row = np.zeros(len(out), dtype=bool)
    masks: dict[str, np.ndarray] = {}
    for col in columns:
        values = pd.to_numeric(out[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        small = (values > 0) & (values < k)
        masks[col] = small
        if small.any():
            out[col] = out[col].astype("Float64" if values.dtype.kind == "f" else "Int64")
            out.loc[small, col] = pd.NA
        any_row |= small
    for derived, count_col in (dependent or {}).items():
        small = masks.get(count_col)
        if small is None:
            values = pd.to_numeric(out[count_col], errors="coerce").to_numpy(dtype=float,
                                                                             na_value=np.nan)
            small = (values > 0) & (values < k)
        if small.any():
            out[derived] = out[derived].astype("Float64")
            out.loc[small, derived] = pd.NA
        any_row |= small
    if flag is not None:
        out[flag] = any_row
    return out


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
