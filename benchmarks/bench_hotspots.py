"""Getis-Ord Gi*: ``gridmap.hotspots.gi_star`` vs ``esda.G_Local(star=True)`` on 100k cells.

Input: a 317 × 317 square lattice (100,489 cells) of Poisson counts with
planted hot blocks, queen contiguity. Both sides use the same weights matrix
(gridmap's lattice builder, handed to esda as a libpysal ``W``).

* analytic: gridmap ``gi_star(y, w)`` vs ``G_Local(y, w, transform="B",
  star=True, permutations=0)``; z-scores must agree to 1e-6;
* permutations (999): gridmap ``gi_star(..., permutations=999)`` vs esda's
  ``permutations=999`` (numba, all cores); pseudo p-values are random on both
  sides and are compared by their correlation.

Times include building the star weights inside each call; the lattice weights
build is timed on its own.
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from gridmap import hotspots, weights

SIDE = 317


def make_counts(side: int, seed: int = 0) -> np.ndarray:
    """Poisson(3) counts with a few hot 10 × 10 blocks."""
    rng = np.random.default_rng(seed)
    y = rng.poisson(3.0, size=(side, side)).astype(float)
    for _ in range(12):
        r, c = rng.integers(0, side - 10, size=2)
        y[r:r + 10, c:c + 10] += rng.poisson(4.0, size=(10, 10))
    return y.ravel()


def run(quick: bool) -> list[dict]:
    """Time gridmap and esda on the same lattice."""
    import esda
    import libpysal

    side = 100 if quick else SIDE
    y = make_counts(side)
    t = time.perf_counter()
    w = weights.lattice_weights(side, side)
    t_w = time.perf_counter() - t
    wl = libpysal.weights.W.from_sparse(w.matrix)

    hotspots.gi_star(y[:1000], weights.lattice_weights(10, 100), permutations=9)  # warm-up

    t = time.perf_counter()
    ours = hotspots.gi_star(y, w)
    t_ours = time.perf_counter() - t
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = time.perf_counter()
        theirs = esda.G_Local(y, wl, transform="B", star=True, permutations=0)
        t_peer = time.perf_counter() - t
    dz = float(np.abs(ours.z - theirs.Zs).max())
    rows = [{
        "case": f"Gi* analytic, {len(y):,} cells, queen",
        "gridmap_s": round(t_ours, 3), "weights_build_s": round(t_w, 3),
        "peer": "esda.G_Local", "peer_s": round(t_peer, 3),
        "speedup": round(t_peer / t_ours, 1), "max_abs_dz": dz, "agree": dz < 1e-6,
    }]

    t = time.perf_counter()
    ours_p = hotspots.gi_star(y, w, permutations=999, seed=1)
    t_ours = time.perf_counter() - t
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # warm esda's numba kernels on a small problem first
        esda.G_Local(y[:1000], libpysal.weights.W.from_sparse(
            weights.lattice_weights(10, 100).matrix), transform="B", star=True,
            permutations=9, seed=1)
        t = time.perf_counter()
        theirs_p = esda.G_Local(y, wl, transform="B", star=True, permutations=999, seed=1)
        t_peer = time.perf_counter() - t
    corr = float(np.corrcoef(ours_p.p_sim, theirs_p.p_sim)[0, 1])
    rows.append({
        "case": f"Gi* + 999 permutations, {len(y):,} cells, queen",
        "gridmap_s": round(t_ours, 3), "peer": "esda.G_Local (numba, all cores)",
        "peer_s": round(t_peer, 3), "speedup": round(t_peer / t_ours, 1),
        "p_sim_correlation": round(corr, 4), "agree": corr > 0.95,
    })
    return rows


if __name__ == "__main__":
    for row in run(quick=True):
        print(row)
