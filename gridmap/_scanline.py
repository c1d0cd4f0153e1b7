"""Scanline helpers shared by the polygon rasterisers (numba).

Polygons arrive flattened as in :func:`shapely.to_ragged_array`: ``coords``
(n, 2) holds every ring's vertices (closed: last vertex repeats the first),
``ring_off`` gives the first vertex of each ring and ``geom_ring`` the first
ring of each polygon. Cells are ``cs`` wide with the raster's top edge at
``y1``; row 0 is the top row and a row is scanned at its cell centres.

For one polygon, :func:`polygon_rows` gives the rows its y extent reaches
and :func:`row_crossings` the sorted x of its edges crossing one row's
centre line; callers fill between pairs of crossings (even-odd rule).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["polygon_rows", "row_crossings", "sort_small"]


@njit(cache=True, nogil=True)
def polygon_rows(coords: np.ndarray, ring_off: np.ndarray, geom_ring: np.ndarray, g: int,
                 y1: float, cs: float, ny: int) -> tuple[int, int]:
    """First and last row (inclusive) whose centre line polygon ``g`` may cross.

    Clipped to ``0 .. ny - 1``; ``(0, -1)`` (no rows) for a polygon without
    vertices.
    """
    c0 = ring_off[geom_ring[g]]
    c1 = ring_off[geom_ring[g + 1]]
    if c1 <= c0:
        return 0, -1
    gymin = np.inf
    gymax = -np.inf
    for k in range(c0, c1):
        gymin = min(gymin, coords[k, 1])
        gymax = max(gymax, coords[k, 1])
    r_lo = max(int(np.floor((y1 - gymax) / cs - 0.5)), 0)
    r_hi = min(int(np.ceil((y1 - gymin) / cs - 0.5)), ny - 1)
    return r_lo, r_hi


@njit(cache=True, nogil=True)
def row_crossings(coords: np.ndarray, ring_off: np.ndarray, geom_ring: np.ndarray, g: int,
                  yc: float, xs: np.ndarray) -> tuple[np.ndarray, int]:
    """The x of every edge of polygon ``g`` crossing the line ``y = yc``, sorted.

    An edge crosses when exactly one of its ends is above ``yc``, so a vertex
    on the line counts once. The crossings are written to ``xs[:n]``; when
    ``xs`` is too short a buffer twice as long is used instead.

    Returns
    -------
    xs
        The buffer holding the crossings (``xs`` itself or a longer one, to
        pass to the next call).
    n
        Number of crossings.
    """
    n = 0
    for r in range(geom_ring[g], geom_ring[g + 1]):
        for k in range(ring_off[r], ring_off[r + 1] - 1):
            ya = coords[k, 1]
            yb = coords[k + 1, 1]
            if (ya > yc) != (yb > yc):
                if n == len(xs):
                    bigger = np.empty(2 * n, dtype=np.float64)
                    bigger[:n] = xs
                    xs = bigger
                xa = coords[k, 0]
                xs[n] = xa + (yc - ya) * (coords[k + 1, 0] - xa) / (yb - ya)
                n += 1
    if n <= 32:
        sort_small(xs, n)
    else:
        xs[:n] = np.sort(xs[:n])
    return xs, n


@njit(cache=True, nogil=True)
def sort_small(a: np.ndarray, n: int) -> None:
    """Insertion sort of ``a[:n]`` in place (short arrays)."""
    for i in range(1, n):
        v = a[i]
        j = i - 1
        while j >= 0 and a[j] > v:
            a[j + 1] = a[j]
            j -= 1
        a[j + 1] = v
