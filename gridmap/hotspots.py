"""Hot spots: Getis-Ord Gi*, FDR, confidence classes, and emerging hot spots.

Gi*
---
For a value ``x_j`` per cell and binary weights ``w_ij`` that include the cell
itself (``w_ii = 1``), the Gi* z-score of cell ``i`` is (Ord & Getis 1995,
eq. 14; ArcGIS Pro "How Hot Spot Analysis (Getis-Ord Gi*) works")::

    Gi* = (Σ_j w_ij x_j − X̄ Σ_j w_ij) / (S · sqrt((n Σ_j w_ij² − (Σ_j w_ij)²) / (n − 1)))

with ``X̄`` the mean and ``S = sqrt(Σ x² / n − X̄²)`` over all ``n`` cells. It
equals ``esda.G_Local(y, w, transform="B", star=True).Zs`` (tested to 1e-6).
The analytic p-value is two-sided normal. Permutation p-values use
conditional randomisation: the cell's own value stays, its neighbours' values
are drawn at random from the other cells, and the pseudo p-value is
``(m + 1) / (R + 1)`` where ``m`` counts the ``R`` random sums at least as
extreme as the observed one on the observed side (the esda convention, one-sided
and folded).

Confidence classes (``gi_bin``, as ArcGIS's ``Gi_Bin``): ±3 for 99 %, ±2 for
95 %, ±1 for 90 % confidence, 0 otherwise; positive is hot. With ``fdr=True``
the p-value threshold of each level is lowered by the Benjamini–Hochberg
False Discovery Rate procedure (Benjamini & Hochberg 1995), as ArcGIS's FDR
option does.

Emerging hot spots
------------------
Counts are binned per cell and time step (e.g. weeks). Each bin gets a Gi*
z-score whose neighbourhood is the cell and its spatial neighbours in the same
time step and the ``time_window`` previous steps (ArcGIS's "neighborhood time
step", default 1), against the mean and spread of all bins of the cube. A bin
is a *hot* (*cold*) spot when its z-score is positive (negative) with
``p ≤ alpha`` (default 0.10, i.e. 90 % confidence; FDR-corrected per time step
when ``fdr=True``, as ArcGIS Pro does). The trend of each cell's z-score
series is the Mann–Kendall test (Mann 1945; Kendall 1975): ``S = Σ_{i<j}
sign(z_j − z_i)``, its variance ``n(n−1)(2n+5)/18`` less the ties term, the
continuity-corrected ``Z = (S ∓ 1)/sqrt(var S)``; it is significant when its
two-sided p-value is ``≤ trend_alpha`` (default 0.10).

Each cell then gets one category, checked in this order, following the
definitions of ArcGIS Pro, "How Emerging Hot Spot Analysis works" (T = number
of steps; "hot" = a hot-spot bin; ≥ 90 % means at least 90 % of the T steps):

1. final step hot and ≥ 90 % of steps hot:
   **intensifying** if the trend is significantly upward, **diminishing** if
   significantly downward, otherwise **persistent**;
2. final step hot and never hot before: **new**;
3. final step hot, the final uninterrupted run of hot steps is at least 2 long
   and there was no hot step before it: **consecutive**;
4. final step hot and some earlier step cold: **oscillating**;
5. final step hot otherwise (on-and-off hot, never cold): **sporadic**;
6. final step not hot but ≥ 90 % of steps hot: **historical**.

The same rules with hot and cold swapped give the eight cold-spot
categories (the trend direction is mirrored: an *intensifying* cold spot's
z-scores fall). Everything else is **no pattern**.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from numba import njit
from scipy import stats

from ._errors import DataError, SchemaError
from .weights import SpatialWeights, build_weights

__all__ = [
    "CATEGORIES",
    "GiStar",
    "classify",
    "emerging_categories",
    "emerging_hot_spots",
    "fdr_threshold",
    "gi_star",
    "hot_spots",
    "mann_kendall",
    "spacetime_gi_star",
]

_LEVELS = ((3, 0.01), (2, 0.05), (1, 0.10))
_BIN_LABELS = {3: "hot 99%", 2: "hot 95%", 1: "hot 90%", 0: "not significant",
               -1: "cold 90%", -2: "cold 95%", -3: "cold 99%"}
_PATTERNS = ("new", "consecutive", "intensifying", "persistent", "diminishing", "sporadic",
             "oscillating", "historical")
CATEGORIES = (
    *(f"{p} hot spot" for p in _PATTERNS),
    *(f"{p} cold spot" for p in _PATTERNS),
    "no pattern",
)
"""The 17 emerging-hot-spot categories."""


@dataclass(frozen=True)
class GiStar:
    """Gi* results aligned with the input values.

    Attributes
    ----------
    z
        Gi* z-scores.
    p
        Two-sided normal p-values of ``z``.
    p_sim
        Permutation pseudo p-values (``None`` without permutations).
    """

    z: np.ndarray
    p: np.ndarray
    p_sim: np.ndarray | None = None


def _star_matrix(w: SpatialWeights):
    """The weights with each cell added to its own neighbourhood (diagonal 1)."""
    import scipy.sparse as sp

    m = w.matrix.tocsr(copy=True)
    m.setdiag(0.0)
    m.eliminate_zeros()
    return (m + sp.identity(w.n, format="csr")).tocsr()


def gi_star(y: np.ndarray | pd.Series, w: SpatialWeights, *, permutations: int = 0,
            seed: int | None = 0) -> GiStar:
    """Getis-Ord Gi* z-scores (and optional permutation p-values) of ``y``.

    Parameters
    ----------
    y
        One value per cell (counts or rates), aligned with ``w``.
    w
        Binary neighbours; each cell is added to its own neighbourhood.
    permutations
        Number of conditional permutations (0: analytic p-values only).
    seed
        Seed of the random permutations.

    Returns
    -------
    GiStar
    """
    y = np.asarray(y, dtype=np.float64)
    n = len(y)
    if n != w.n:
        raise DataError(f"{n} values for {w.n} cells in the weights; they must align.")
    if not np.isfinite(y).all():
        raise DataError("values contain NaN or infinity; fill or drop them before Gi*.")
    if n < 3:
        raise DataError(f"Gi* needs at least 3 cells, got {n}.")
    ws = _star_matrix(w)
    mean = y.mean()
    s = math.sqrt(max((y * y).mean() - mean * mean, 0.0))
    if not s > 0:
        raise DataError("every cell has the same value, so no cell stands out; Gi* is undefined.")
    wsum = np.asarray(ws.sum(axis=1)).ravel()
    w2sum = np.asarray(ws.multiply(ws).sum(axis=1)).ravel()
    num = ws @ y - mean * wsum
    den = s * np.sqrt(np.maximum(n * w2sum - wsum * wsum, 0.0) / (n - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(den > 0, num / den, 0.0)
    p = 2.0 * stats.norm.sf(np.abs(z))
    p_sim = None
    if permutations:
        if permutations < 1:
            raise ValueError(f"permutations must be ≥ 1 or 0, got {permutations!r}.")
        obs = ws @ y
        card = w.cardinalities.astype(np.int64)
        p_sim = _crand(y, obs, card, int(permutations), 0 if seed is None else int(seed))
    return GiStar(z=z, p=p, p_sim=p_sim)


def _crand(y: np.ndarray, obs: np.ndarray, card: np.ndarray, perms: int, seed: int
           ) -> np.ndarray:
    """Folded pseudo p-values by conditional randomisation (see the module docstring)."""
    n = len(y)
    kmax = int(card.max()) if n else 0
    rng = np.random.default_rng(seed)
    # one random draw of kmax ids from 0..n-2 per permutation, shared by all
    # cells (ids ≥ i are shifted by one to skip cell i), as esda does
    draws = np.empty((perms, kmax), dtype=np.int64)
    for p in range(perms):
        draws[p] = rng.choice(n - 1, size=kmax, replace=False)
    return _crand_loop(y, obs, card.astype(np.int64), draws)


@njit(cache=True)
def _crand_loop(y, obs, card, draws):  # pragma: no cover - numba
    n = y.shape[0]
    perms = draws.shape[0]
    out = np.empty(n)
    for i in range(n):
        k = card[i]
        larger = 0
        for p in range(perms):
            acc = y[i]
            for q in range(k):
                j = draws[p, q]
                if j >= i:
                    j += 1
                acc += y[j]
            if acc >= obs[i]:
                larger += 1
        if perms - larger < larger:
            larger = perms - larger
        out[i] = (larger + 1.0) / (perms + 1.0)
    return out


def fdr_threshold(p: np.ndarray, alpha: float) -> float:
    """Benjamini–Hochberg threshold: the largest ``p_(k)`` with ``p_(k) ≤ k·alpha/m`` (0 if none)."""
    p = np.sort(np.asarray(p, dtype=float).ravel())
    m = len(p)
    if m == 0:
        return 0.0
    ok = p <= alpha * np.arange(1, m + 1) / m
    return float(p[np.flatnonzero(ok)[-1]]) if ok.any() else 0.0


def classify(z: np.ndarray, p: np.ndarray, *, fdr: bool = False) -> np.ndarray:
    """Confidence classes −3…3 (99/95/90 % cold … hot); see the module docstring."""
    z = np.asarray(z, dtype=float)
    p = np.asarray(p, dtype=float)
    out = np.zeros(len(z), dtype=np.int64)
    for level, a in reversed(_LEVELS):
        thr = fdr_threshold(p, a) if fdr else a
        out[p <= thr] = level
    return out * np.sign(z).astype(np.int64)


def hot_spots(
    cells: gpd.GeoDataFrame,
    column: str,
    *,
    weights: str | SpatialWeights = "queen",
    permutations: int = 0,
    p_value: str = "analytic",
    fdr: bool = False,
    alpha: float = 0.05,
    seed: int | None = 0,
) -> gpd.GeoDataFrame:
    """Gi* hot and cold spots of ``column`` over a cell layer.

    Parameters
    ----------
    cells
        Grids, squares or hexagons with a numeric ``column`` (counts or rates).
    column
        The value analysed.
    weights
        A spec (``queen``, ``rook``, ``knn:8``, ``distance:500``) or prebuilt weights.
    permutations
        Conditional permutations for ``gi_p_sim`` (0: none).
    p_value
        ``"analytic"`` (normal) or ``"permutation"``: which p-value sets the classes.
    fdr
        Apply the False Discovery Rate correction to the class thresholds.
    alpha
        Significance level of the ``significant`` column (FDR-adjusted with ``fdr``).
    seed
        Seed of the permutations.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy with ``gi_z``, ``gi_p``, (``gi_p_sim``), ``gi_bin`` (−3…3),
        ``hotspot`` (label such as ``"hot 95%"``) and ``significant``.
    """
    if column not in cells.columns:
        raise SchemaError(f"no column {column!r} to analyse; columns are {list(cells.columns)}.")
    if p_value not in ("analytic", "permutation"):
        raise ValueError(f"p_value must be 'analytic' or 'permutation', got {p_value!r}.")
    if p_value == "permutation" and not permutations:
        raise ValueError("p_value='permutation' needs permutations > 0 (e.g. 999).")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha!r}.")
    w = weights if isinstance(weights, SpatialWeights) else build_weights(cells, weights)
    y = pd.to_numeric(cells[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    if np.isnan(y).any():
        raise DataError(
            f"{int(np.isnan(y).sum())} cell(s) have no {column!r} value (suppressed or missing); "
            "run hot spots on unsuppressed counts, or fill them."
        )
    res = gi_star(y, w, permutations=permutations, seed=seed)
    p = res.p_sim if p_value == "permutation" else res.p
    out = cells.copy()
    out["gi_z"] = res.z
    out["gi_p"] = res.p
    if res.p_sim is not None:
        out["gi_p_sim"] = res.p_sim
    out["gi_bin"] = classify(res.z, p, fdr=fdr)
    out["hotspot"] = [_BIN_LABELS[int(b)] for b in out["gi_bin"]]
    thr = fdr_threshold(p, alpha) if fdr else alpha
    out["significant"] = p <= thr
    out.attrs["weights"] = w.kind
    return out


# --------------------------------------------------------------------------- space-time


def spacetime_gi_star(counts: np.ndarray, w: SpatialWeights, *, time_window: int = 1
                      ) -> np.ndarray:
    """Gi* z-score of every bin of an ``(n_cells, n_steps)`` cube.

    A bin's neighbourhood is its cell and the cell's neighbours, in the same
    step and the ``time_window`` previous steps; mean and spread are those of
    the whole cube.
    """
    y = np.asarray(counts, dtype=np.float64)
    if y.ndim != 2 or y.shape[0] != w.n:
        raise DataError(f"cube of shape {y.shape} does not match {w.n} cells.")
    if time_window < 0:
        raise ValueError(f"time_window must be ≥ 0, got {time_window!r}.")
    n_cells, steps = y.shape
    big_n = y.size
    mean = y.mean()
    s = math.sqrt(max((y * y).mean() - mean * mean, 0.0))
    if not s > 0:
        raise DataError("every bin has the same count, so no bin stands out.")
    ws = _star_matrix(w)
    spatial = np.asarray(ws @ y)
    csum = np.concatenate([np.zeros((n_cells, 1)), np.cumsum(spatial, axis=1)], axis=1)
    t = np.arange(steps)
    lo = np.maximum(t - time_window, 0)
    window_sum = csum[:, t + 1] - csum[:, lo]
    nsteps = (t - lo + 1).astype(float)
    wsum = np.asarray(ws.sum(axis=1)).ravel()[:, None] * nsteps[None, :]
    num = window_sum - mean * wsum
    den = s * np.sqrt(np.maximum(big_n * wsum - wsum * wsum, 0.0) / (big_n - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / den, 0.0)


def mann_kendall(series: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mann–Kendall trend test of each row of ``series``.

    Returns
    -------
    (z, p)
        Continuity-corrected z-scores (positive: upward) and two-sided p-values.
    """
    x = np.atleast_2d(np.asarray(series, dtype=float))
    m, n = x.shape
    s = np.zeros(m)
    for i in range(n - 1):
        s += np.sign(x[:, i + 1:] - x[:, i:i + 1]).sum(axis=1)
    var = np.full(m, n * (n - 1) * (2 * n + 5) / 18.0)
    for r in range(m):
        _, t = np.unique(x[r], return_counts=True)
        t = t[t > 1]
        if len(t):
            var[r] -= (t * (t - 1) * (2 * t + 5)).sum() / 18.0
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(s > 0, (s - 1) / np.sqrt(var), np.where(s < 0, (s + 1) / np.sqrt(var), 0.0))
    z = np.where(var > 0, z, 0.0)
    return z, 2.0 * stats.norm.sf(np.abs(z))


def _category(sig: np.ndarray, trend_z: float, trend_sig: bool) -> str:
    """Category of one cell from its per-step states (+1 hot, −1 cold, 0)."""
    t = len(sig)
    for sign, name in ((1, "hot"), (-1, "cold")):
        hot = sig == sign
        other = sig == -sign
        share = hot.sum() / t
        if hot[-1]:
            if share >= 0.9:
                if trend_sig and trend_z * sign > 0:
                    return f"intensifying {name} spot"
                if trend_sig and trend_z * sign < 0:
                    return f"diminishing {name} spot"
                return f"persistent {name} spot"
            if not hot[:-1].any():
                return f"new {name} spot"
            run = t - 1
            while run > 0 and hot[run - 1]:
                run -= 1
            if t - run >= 2 and not hot[:run].any():
                return f"consecutive {name} spot"
            if other[:-1].any():
                return f"oscillating {name} spot"
            return f"sporadic {name} spot"
    for sign, name in ((1, "hot"), (-1, "cold")):
        if (sig == sign).sum() / t >= 0.9:
            return f"historical {name} spot"
    return "no pattern"


def emerging_categories(z: np.ndarray, *, alpha: float = 0.10, trend_alpha: float = 0.10,
                        fdr: bool = False) -> pd.DataFrame:
    """Classify each cell of a z-score cube ``(n_cells, n_steps)`` (see the module docstring).

    Returns
    -------
    pandas.DataFrame
        One row per cell: ``category``, ``trend_z``, ``trend_p``, ``hot_steps``,
        ``cold_steps``, ``final_z``.
    """
    z = np.asarray(z, dtype=float)
    p = 2.0 * stats.norm.sf(np.abs(z))
    sig = np.zeros(z.shape, dtype=np.int64)
    for step in range(z.shape[1]):
        thr = fdr_threshold(p[:, step], alpha) if fdr else alpha
        sig[:, step] = np.where(p[:, step] <= thr, np.sign(z[:, step]), 0).astype(np.int64)
    tz, tp = mann_kendall(z)
    cats = [_category(sig[i], tz[i], tp[i] <= trend_alpha) for i in range(z.shape[0])]
    return pd.DataFrame({
        "category": cats, "trend_z": tz, "trend_p": tp,
        "hot_steps": (sig > 0).sum(axis=1), "cold_steps": (sig < 0).sum(axis=1),
        "final_z": z[:, -1],
    })


def emerging_hot_spots(
    cells: gpd.GeoDataFrame,
    cube: pd.DataFrame,
    *,
    weights: str | SpatialWeights = "queen",
    time_window: int = 1,
    alpha: float = 0.10,
    trend_alpha: float = 0.10,
    fdr: bool = True,
) -> gpd.GeoDataFrame:
    """Emerging hot-spot category of every cell.

    Parameters
    ----------
    cells
        The cell layer (grids, squares or hexagons).
    cube
        Counts per cell (rows, aligned with ``cells``) and time step (columns,
        in time order), e.g. from :func:`gridmap.aggregate.space_time_counts`.
    weights
        Spatial weights spec or prebuilt weights.
    time_window
        Previous time steps in each bin's neighbourhood (ArcGIS's default 1).
    alpha
        Per-bin significance of a hot/cold spot (0.10 = 90 % confidence).
    trend_alpha
        Significance of the Mann–Kendall trend.
    fdr
        FDR-correct each time step's bins (as ArcGIS Pro does).

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``cells`` with ``category``, ``trend_z``, ``trend_p``,
        ``hot_steps``, ``cold_steps`` and ``final_z``.
    """
    if len(cube) != len(cells):
        raise DataError(f"cube has {len(cube)} rows for {len(cells)} cells; align them.")
    if cube.shape[1] < 2:
        raise DataError("emerging hot spots need at least 2 time steps (ArcGIS asks for 10).")
    w = weights if isinstance(weights, SpatialWeights) else build_weights(cells, weights)
    z = spacetime_gi_star(cube.to_numpy(dtype=float), w, time_window=time_window)
    res = emerging_categories(z, alpha=alpha, trend_alpha=trend_alpha, fdr=fdr)
    out = cells.copy()
    for col in res.columns:
        out[col] = res[col].to_numpy()
    out.attrs["weights"] = w.kind
    out.attrs["steps"] = [str(c) for c in cube.columns]
    return out
