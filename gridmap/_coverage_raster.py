"""Numba kernels of :func:`gridmap.coverage.coverage`, on rasters of square cells.

* burning: :func:`_burn_views` counts the views that see each cell centre,
  :func:`_burn_polygons` fills the cell centres inside polygons with their
  label (the grids) or a count,
  :func:`_burn_state` / :func:`_burn_polygon_state` mark the cells a view (or a
  polygon) certainly covers whole or certainly misses, read back per point by
  :func:`_read_state` (only the other points need shapely's exact test);
* :func:`_tally` counts covered and overlapped cells per grid;
* blind spots: :func:`_unseen_runs` labels the unseen runs of each row and joins
  them across rows (union-find), :func:`_trace_rings` walks the outline of each
  labelled region along cell edges, :func:`_drop_collinear` thins the rings;
* :func:`_points_in_boxes` pre-sorts points into bounding boxes.

Rows run north to south: row ``r`` spans ``y1 - (r + 1) * cs .. y1 - r * cs``,
column ``c`` spans ``x0 + c * cs .. x0 + (c + 1) * cs``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ._scanline import polygon_rows, row_crossings


@njit(cache=True, nogil=True)
def _burn_views(count: np.ndarray, x0: float, y1: float, cs: float, vx: np.ndarray,
                vy: np.ndarray, vr: np.ndarray, saz: np.ndarray, caz: np.ndarray,
                chalf: np.ndarray, disc: np.ndarray) -> None:
    """Add 1 to every cell whose centre a sector/disc sees (saturating at 255)."""
    ny, nx = count.shape
    for i in range(len(vx)):
        r = vr[i]
        r2 = r * r
        r_lo = max(int(np.floor((y1 - (vy[i] + r)) / cs - 0.5)), 0)
        r_hi = min(int(np.ceil((y1 - (vy[i] - r)) / cs - 0.5)), ny - 1)
        for row in range(r_lo, r_hi + 1):
            dy = y1 - (row + 0.5) * cs - vy[i]
            if dy * dy > r2:
                continue
            half = math.sqrt(r2 - dy * dy)
            ca = max(int(np.ceil((vx[i] - half - x0) / cs - 0.5)), 0)
            cb = min(int(np.floor((vx[i] + half - x0) / cs - 0.5)), nx - 1)
            for col in range(ca, cb + 1):
                if not disc[i]:
                    dx = x0 + (col + 0.5) * cs - vx[i]
                    dot = dx * saz[i] + dy * caz[i]
                    if dot < math.sqrt(dx * dx + dy * dy) * chalf[i]:
                        continue
                if count[row, col] < 255:
                    count[row, col] += 1


@njit(cache=True, nogil=True)
def _burn_polygons(target: np.ndarray, x0: float, y1: float, cs: float, coords: np.ndarray,
                   ring_off: np.ndarray, geom_ring: np.ndarray, which: np.ndarray,
                   label: bool) -> None:
    """Scanline fill of cell centres: ``target = g`` (label) or ``target += 1`` (count)."""
    ny, nx = target.shape
    xs = np.empty(64, dtype=np.float64)
    for g in which:
        r_lo, r_hi = polygon_rows(coords, ring_off, geom_ring, g, y1, cs, ny)
        for row in range(r_lo, r_hi + 1):
            xs, n = row_crossings(coords, ring_off, geom_ring, g, y1 - (row + 0.5) * cs, xs)
            if n < 2:
                continue
            for j in range(0, n - 1, 2):
                ca = max(int(np.ceil((xs[j] - x0) / cs - 0.5)), 0)
                cb = min(int(np.floor((xs[j + 1] - x0) / cs - 0.5)), nx - 1)
                for col in range(ca, cb + 1):
                    if label:
                        target[row, col] = g
                    elif target[row, col] < 255:
                        target[row, col] += 1


@njit(cache=True, nogil=True)
def _tally(label: np.ndarray, count: np.ndarray, total: np.ndarray, covered: np.ndarray,
           overlap: np.ndarray) -> None:
    """Cells, covered cells and overlapped cells per grid label."""
    ny, nx = label.shape
    for row in range(ny):
        for col in range(nx):
            g = label[row, col]
            if g < 0:
                continue
            total[g] += 1
            c = count[row, col]
            if c >= 1:
                covered[g] += 1
                if c >= 2:
                    overlap[g] += 1


@njit(cache=True, nogil=True)
def _burn_state(state: np.ndarray, x0: float, y1: float, cs: float, vx: np.ndarray,
                vy: np.ndarray, vr: np.ndarray, r_in: np.ndarray, saz: np.ndarray,
                caz: np.ndarray, chalf: np.ndarray, u1x: np.ndarray, u1y: np.ndarray,
                u2x: np.ndarray, u2y: np.ndarray, disc: np.ndarray, wide: np.ndarray,
                margin: float) -> None:
    """Mark cells a sector/disc may touch (bit 1) or certainly covers whole (bit 2).

    A cell centre within ``margin`` (half the cell diagonal and a little) of the
    view's outer shape (radius ``vr``) may touch the view polygon; one at least
    ``margin`` inside its inner shape (radius ``r_in``, inside both edges of the
    wedge) has the whole cell inside the view polygon.
    """
    ny, nx = state.shape
    m2 = margin * margin
    for i in range(len(vx)):
        ro = vr[i] + margin
        ro2 = ro * ro
        si = r_in[i] - margin
        si2 = si * si if si > 0.0 else -1.0
        r_lo = max(int(np.floor((y1 - (vy[i] + ro)) / cs - 0.5)), 0)
        r_hi = min(int(np.ceil((y1 - (vy[i] - ro)) / cs - 0.5)), ny - 1)
        for row in range(r_lo, r_hi + 1):
            dy = y1 - (row + 0.5) * cs - vy[i]
            if dy * dy > ro2:
                continue
            half = math.sqrt(ro2 - dy * dy)
            ca = max(int(np.floor((vx[i] - half - x0) / cs - 0.5)), 0)
            cb = min(int(np.ceil((vx[i] + half - x0) / cs - 0.5)), nx - 1)
            for col in range(ca, cb + 1):
                dx = x0 + (col + 0.5) * cs - vx[i]
                d2 = dx * dx + dy * dy
                if d2 > ro2:
                    continue
                if disc[i]:
                    s = 3 if d2 <= si2 else 1
                else:
                    if dx * saz[i] + dy * caz[i] < math.sqrt(d2) * chalf[i]:
                        # outside the wedge: only cells near one of its edges may touch it
                        t = min(max(dx * u1x[i] + dy * u1y[i], 0.0), vr[i])
                        ex = dx - t * u1x[i]
                        ey = dy - t * u1y[i]
                        if ex * ex + ey * ey > m2:
                            t = min(max(dx * u2x[i] + dy * u2y[i], 0.0), vr[i])
                            ex = dx - t * u2x[i]
                            ey = dy - t * u2y[i]
                            if ex * ex + ey * ey > m2:
                                continue
                    s = 1
                    if d2 <= si2:
                        c1 = u1y[i] * dx - u1x[i] * dy  # distance inside the first edge
                        c2 = u2x[i] * dy - u2y[i] * dx  # distance inside the last edge
                        if wide[i]:
                            if c1 >= margin or c2 >= margin:
                                s = 3
                        elif c1 >= margin and c2 >= margin:
                            s = 3
                state[row, col] |= s


@njit(cache=True, nogil=True)
def _burn_polygon_state(state: np.ndarray, x0: float, y1: float, cs: float,
                        coords: np.ndarray, ring_off: np.ndarray, geom_ring: np.ndarray,
                        which: np.ndarray) -> None:
    """:func:`_burn_state` for polygons (views cut by buildings).

    Cells an edge touches, and their eight neighbours, may touch the polygon
    (bit 1); the other cells whose centre is inside lie whole inside it
    (bits 1 and 2).
    """
    ny, nx = state.shape
    xs = np.empty(64, dtype=np.float64)
    for g in which:
        k0 = ring_off[geom_ring[g]]
        k1 = ring_off[geom_ring[g + 1]]
        if k1 <= k0:
            continue
        bx0, by0 = coords[k0:k1, 0].min(), coords[k0:k1, 1].min()
        bx1, by1 = coords[k0:k1, 0].max(), coords[k0:k1, 1].max()
        ca = max(int(np.floor((bx0 - x0) / cs)) - 1, 0)
        cb = min(int(np.floor((bx1 - x0) / cs)) + 1, nx - 1)
        ra = max(int(np.floor((y1 - by1) / cs)) - 1, 0)
        rb = min(int(np.floor((y1 - by0) / cs)) + 1, ny - 1)
        if ca > cb or ra > rb:
            continue
        edge = np.zeros((rb - ra + 1, cb - ca + 1), dtype=np.bool_)
        for r in range(geom_ring[g], geom_ring[g + 1]):
            for k in range(ring_off[r], ring_off[r + 1] - 1):
                xa, ya = coords[k, 0], coords[k, 1]
                xb, yb = coords[k + 1, 0], coords[k + 1, 1]
                ylo, yhi = min(ya, yb), max(ya, yb)
                top = max(int(np.floor((y1 - yhi) / cs)), ra)
                bottom = min(int(np.floor((y1 - ylo) / cs)), rb)
                for row in range(top, bottom + 1):
                    # the part of the segment in this row's band, widened by a cell
                    if yb == ya:
                        xlo, xhi = min(xa, xb), max(xa, xb)
                    else:
                        ta = (max(y1 - (row + 1) * cs, ylo) - ya) / (yb - ya)
                        tb = (min(y1 - row * cs, yhi) - ya) / (yb - ya)
                        xlo = min(xa + ta * (xb - xa), xa + tb * (xb - xa))
                        xhi = max(xa + ta * (xb - xa), xa + tb * (xb - xa))
                    cl = max(int(np.floor((xlo - x0) / cs)) - 1, ca)
                    cr = min(int(np.floor((xhi - x0) / cs)) + 1, cb)
                    for rr in range(max(row - 1, ra), min(row + 1, rb) + 1):
                        for col in range(cl, cr + 1):
                            edge[rr - ra, col - ca] = True
        for row in range(ra, rb + 1):
            xs, n = row_crossings(coords, ring_off, geom_ring, g, y1 - (row + 0.5) * cs, xs)
            for j in range(0, n - 1, 2):
                cl = max(int(np.ceil((xs[j] - x0) / cs - 0.5)), ca)
                cr = min(int(np.floor((xs[j + 1] - x0) / cs - 0.5)), cb)
                for col in range(cl, cr + 1):
                    if not edge[row - ra, col - ca]:
                        state[row, col] |= 3
            for col in range(ca, cb + 1):
                if edge[row - ra, col - ca]:
                    state[row, col] |= 1


@njit(cache=True, nogil=True)
def _read_state(state: np.ndarray, rows: np.ndarray, cols: np.ndarray, which: np.ndarray,
                known: np.ndarray) -> None:
    """``known[which] =`` 1 (certainly seen), 0 (certainly unseen) or -1 (test exactly)."""
    for k in range(len(rows)):
        s = state[rows[k], cols[k]]
        known[which[k]] = 1 if s & 2 else (0 if s == 0 else -1)


@njit(cache=True, nogil=True)
def _grown(a: np.ndarray, cap: int) -> np.ndarray:
    out = np.empty(cap, dtype=np.int64)
    out[:len(a)] = a
    return out


@njit(cache=True, nogil=True)
def _find(parent: np.ndarray, i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


@njit(cache=True, nogil=True)
def _row_runs(label: np.ndarray, count: np.ndarray, r: int, n: int, rrow: np.ndarray,
              ra: np.ndarray, rb: np.ndarray, rkey: np.ndarray, parent: np.ndarray) -> int:
    """Append the runs of unseen cells of one grid in row ``r``; return the run count."""
    nx = label.shape[1]
    c = 0
    while c < nx:
        g = label[r, c]
        if g < 0 or count[r, c] != 0:
            c += 1
            continue
        a = c
        c += 1
        while c < nx and label[r, c] == g and count[r, c] == 0:
            c += 1
        rrow[n] = r
        ra[n] = a
        rb[n] = c - 1
        rkey[n] = g
        parent[n] = n
        n += 1
    return n


@njit(cache=True, nogil=True)
def _unseen_runs(label: np.ndarray, count: np.ndarray) -> tuple[
        np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """Runs of unseen cells of one grid in each row, and their 4-connected component.

    Returns the row, first and last column, grid label and component of every
    run (row-major order; a component's first run comes first) and the number
    of components.
    """
    ny, nx = label.shape
    cap = 1 << 14
    rrow = np.empty(cap, dtype=np.int64)
    ra = np.empty(cap, dtype=np.int64)
    rb = np.empty(cap, dtype=np.int64)
    rkey = np.empty(cap, dtype=np.int64)
    parent = np.empty(cap, dtype=np.int64)
    n = 0
    prev = 0
    for r in range(ny):
        if n + nx > cap:  # room for a whole row (growing here keeps the cell loop fast)
            cap = 2 * (n + nx)
            rrow, ra, rb = _grown(rrow, cap), _grown(ra, cap), _grown(rb, cap)
            rkey, parent = _grown(rkey, cap), _grown(parent, cap)
        cur = n
        n = _row_runs(label, count, r, n, rrow, ra, rb, rkey, parent)
        # join with the overlapping runs of the row above (same grid)
        i, j = prev, cur
        while i < cur and j < n:
            if rb[i] < ra[j]:
                i += 1
            elif rb[j] < ra[i]:
                j += 1
            else:
                if rkey[i] == rkey[j]:
                    p = _find(parent, i)
                    q = _find(parent, j)
                    if p < q:
                        parent[q] = p
                    elif q < p:
                        parent[p] = q
                if rb[i] < rb[j]:
                    i += 1
                else:
                    j += 1
        prev = cur
    comp = np.empty(n, dtype=np.int64)
    ncomp = 0
    for i in range(n):
        root = _find(parent, i)  # the smallest run of the component
        if root == i:
            comp[i] = ncomp
            ncomp += 1
        else:
            comp[i] = comp[root]
    return rrow[:n], ra[:n], rb[:n], rkey[:n], comp, ncomp


@njit(cache=True, nogil=True)
def _cell(cid: np.ndarray, i: int, j: int) -> int:
    if i < 0 or j < 0 or i >= cid.shape[0] or j >= cid.shape[1]:
        return -1
    return cid[i, j]


@njit(cache=True, nogil=True)
def _edge_ok(cid: np.ndarray, d: int, i: int, j: int, k: int) -> bool:
    """Whether the edge leaving vertex (i, j) in direction d has component k on its right."""
    if d == 0:  # east
        return _cell(cid, i, j) == k and _cell(cid, i - 1, j) != k
    if d == 1:  # south
        return _cell(cid, i, j - 1) == k and _cell(cid, i, j) != k
    if d == 2:  # west
        return _cell(cid, i - 1, j - 1) == k and _cell(cid, i, j - 1) != k
    return _cell(cid, i - 1, j) == k and _cell(cid, i - 1, j - 1) != k  # north


@njit(cache=True, nogil=True)
def _walk(cid: np.ndarray, done: np.ndarray, k: int, r: int, c: int, vi: np.ndarray,
          vj: np.ndarray, nv: int) -> int:
    """Walk one ring of component k from the top-left corner of cell (r, c).

    Appends its corners to ``vi``, ``vj`` from ``nv``; returns the new count,
    or -1 if the ring cannot be closed.
    """
    start = nv
    i, j, d, prev = r, c, 0, -1
    limit = 4 * (cid.shape[0] + 1) * (cid.shape[1] + 1)
    for _ in range(limit):
        if d == 0:
            done[i, j] = 1
        if d != prev:
            vi[nv] = i
            vj[nv] = j
            nv += 1
        prev = d
        if d == 0:
            j += 1
        elif d == 1:
            i += 1
        elif d == 2:
            j -= 1
        else:
            i -= 1
        nd = (d + 3) % 4  # turn left (away from the cell followed) first
        if not _edge_ok(cid, nd, i, j, k):
            nd = d
            if not _edge_ok(cid, nd, i, j, k):
                nd = (d + 1) % 4
                if not _edge_ok(cid, nd, i, j, k):
                    return -1
        if i == r and j == c and nd == 0:
            if prev == 0:  # the ring comes back heading east: its start is no corner
                for q in range(start, nv - 1):
                    vi[q] = vi[q + 1]
                    vj[q] = vj[q + 1]
                nv -= 1
            return nv
        d = nd
    return -1


@njit(cache=True, nogil=True)
def _trace_rings(ny: int, nx: int, rrow: np.ndarray, ra: np.ndarray, rb: np.ndarray,
                 rk: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                          np.ndarray, bool]:
    """Boundary rings of the components of the runs with ``rk >= 0``.

    Rings run along cell edges (vertex (i, j) is the top-left corner of cell
    (i, j)) with the component on the right in row-down order, so an outer
    ring has a positive doubled area in (column, row) and a hole a negative
    one. Only corners are kept. Where a component meets itself at a vertex
    (two diagonal cells), the ring turns away from the cell it follows, so
    every ring is simple and a hole may touch the outer ring at a point.
    Returns the vertices, ring offsets, component and doubled area of each
    ring, and False if a ring could not be closed.
    """
    cid = np.full((ny, nx), -1, dtype=np.int32)
    kept = 0
    for n in range(len(rrow)):
        if rk[n] >= 0:
            kept += 1
            for c in range(ra[n], rb[n] + 1):
                cid[rrow[n], c] = rk[n]
    done = np.zeros((ny, nx), dtype=np.uint8)  # top edges already on a ring
    # every corner ends a vertical stretch of edges, each run has two vertical edges,
    # and a ring has at least four corners
    vi = np.empty(4 * kept, dtype=np.int64)
    vj = np.empty(4 * kept, dtype=np.int64)
    roff = np.zeros(kept + 1, dtype=np.int64)
    rcomp = np.empty(kept, dtype=np.int64)
    rarea = np.empty(kept, dtype=np.int64)
    nv = 0
    nr = 0
    for n in range(len(rrow)):
        k = rk[n]
        if k < 0:
            continue
        r = rrow[n]
        for c in range(ra[n], rb[n] + 1):
            if done[r, c] or (r > 0 and cid[r - 1, c] == k):
                continue
            start = nv
            nv = _walk(cid, done, k, r, c, vi, vj, nv)
            if nv < 0:
                return vi[:0], vj[:0], roff[:1], rcomp[:0], rarea[:0], False
            m = nv - start
            a2 = 0
            for q in range(m):
                p = start + q
                s = start + (q + 1) % m
                a2 += vj[p] * vi[s] - vj[s] * vi[p]
            rcomp[nr] = k
            rarea[nr] = a2
            nr += 1
            roff[nr] = nv
    return vi[:nv], vj[:nv], roff[:nr + 1], rcomp[:nr], rarea[:nr], True


@njit(cache=True, nogil=True)
def _points_in_boxes(bounds: np.ndarray, x: np.ndarray, y: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (box, point) of every point inside (or on) every box ``xmin, ymin, xmax, ymax``.

    Points are bucketed on a grid of at most 1024 × 1024 buckets over the boxes.
    """
    n = len(x)
    bx0, by0 = bounds[:, 0].min(), bounds[:, 1].min()
    side = max(bounds[:, 2].max() - bx0, bounds[:, 3].max() - by0, 1e-9) / 1024.0
    nb = 1024
    bucket = np.empty(n, dtype=np.int64)
    for k in range(n):
        if np.isfinite(x[k]) and np.isfinite(y[k]):
            cx = min(max(int((x[k] - bx0) / side), 0), nb - 1)
            cy = min(max(int((y[k] - by0) / side), 0), nb - 1)
            bucket[k] = cy * nb + cx
        else:
            bucket[k] = nb * nb  # never inside a box
    order = np.argsort(bucket, kind="mergesort")
    first = np.searchsorted(bucket[order], np.arange(nb * nb + 1))
    pairs = 0
    for sweep in range(2):  # count, then fill
        if sweep == 1:
            box = np.empty(pairs, dtype=np.int64)
            pt = np.empty(pairs, dtype=np.int64)
        pairs = 0
        for b in range(len(bounds)):
            cx0 = min(max(int((bounds[b, 0] - bx0) / side), 0), nb - 1)
            cx1 = min(max(int((bounds[b, 2] - bx0) / side), 0), nb - 1)
            cy0 = min(max(int((bounds[b, 1] - by0) / side), 0), nb - 1)
            cy1 = min(max(int((bounds[b, 3] - by0) / side), 0), nb - 1)
            for cy in range(cy0, cy1 + 1):
                for q in range(first[cy * nb + cx0], first[cy * nb + cx1 + 1]):
                    k = order[q]
                    if (bounds[b, 0] <= x[k] <= bounds[b, 2]
                            and bounds[b, 1] <= y[k] <= bounds[b, 3]):
                        if sweep == 1:
                            box[pairs] = b
                            pt[pairs] = k
                        pairs += 1
    return box, pt


@njit(cache=True, nogil=True)
def _drop_collinear(coords: np.ndarray, ring_off: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Closed rings of axis-parallel edges without the vertices inside a straight run."""
    out = np.empty_like(coords)
    off = np.zeros_like(ring_off)
    n = 0
    for r in range(len(ring_off) - 1):
        a = ring_off[r]
        m = ring_off[r + 1] - a - 1  # the closing vertex repeats the first
        first = n
        for q in range(m):
            p = a + (q - 1) % m
            s = a + (q + 1) % m
            x, y = coords[a + q, 0], coords[a + q, 1]
            if (coords[p, 0] == x and coords[s, 0] == x) or (
                    coords[p, 1] == y and coords[s, 1] == y):
                continue
            out[n] = coords[a + q]
            n += 1
        out[n] = out[first]
        n += 1
        off[r + 1] = n
    return out[:n], off
