"""Aggregation: 10M points to square cells and to H3 hexagons.

Input: 10M points (1M with ``--quick``), clustered plus uniform background,
over 20 km × 20 km near Jiaxing; metric x/y in EPSG:4549 and the same points in
longitude/latitude (converted once, outside the timings).

* squares (250 m): gridmap ``aggregate.square_index`` + ``numpy.bincount``
  from metric x/y vs ``numpy.histogram2d`` on the same edges; counts must be
  identical;
* squares from a GeoDataFrame: ``aggregate.count_per_square`` end to end
  (coordinates out of shapely, lattice, polygons, counts), for information;
  once from EPSG:4549 and once from EPSG:4326 (what ingestion produces: the
  10M points are then also projected to the metric CRS);
* H3 (resolution 9): gridmap ``aggregate.latlng_to_h3`` (a numba pass keys
  every point by icosahedron face and hexagon, ``h3`` indexes one point per
  hexagon plus the points within 1e-9 of an edge) vs ``h3ronpy``'s vectorised
  ``coordinates_to_cells`` (Rust, h3o) on the same 10M distinct points; cells
  must be identical to h3ronpy's for all points and to a plain
  ``h3.latlng_to_cell`` loop for the first 1M;
* H3 from a GeoDataFrame: ``aggregate.count_per_h3`` end to end from EPSG:4326
  (coordinates, cells, counts, hexagon polygons), for information.
"""

from __future__ import annotations

import time

import geopandas as gpd
import h3.api.basic_int as h3_int
import numpy as np
import pyarrow as pa
from h3ronpy.vector import coordinates_to_cells
from pyproj import Transformer

from gridmap import aggregate

X0, Y0, SIDE = 480_000.0, 3_390_000.0, 20_000.0


def make_points(n: int, seed: int = 0) -> np.ndarray:
    """Clustered points (70 %) and a uniform background (30 %), metric x/y."""
    rng = np.random.default_rng(seed)
    k = 40
    centres = rng.uniform(0.15, 0.85, size=(k, 2)) * SIDE
    spread = rng.uniform(150, 1200, size=k)
    n_bg = int(0.3 * n)
    which = rng.integers(0, k, size=n - n_bg)
    xy = centres[which] + rng.normal(size=(n - n_bg, 2)) * spread[which, None]
    xy = np.vstack([xy, rng.uniform(0, SIDE, size=(n_bg, 2))])
    # keep clear of the lattice lines: on a horizontal line gridmap counts a point in
    # the cell to the south, numpy.histogram2d in the cell to the north
    return np.clip(xy, 0.5, SIDE - 0.5) + np.array([X0, Y0])


def run(quick: bool) -> list[dict]:
    """Time squares and H3 against their peers."""
    n = 1_000_000 if quick else 10_000_000
    xy = make_points(n)
    x, y = xy[:, 0], xy[:, 1]
    size = 250.0
    # one spare cell on every side: points clipped onto the square's edges stay inside
    rows = cols = int(SIDE // size) + 2
    left, top = X0 - size, Y0 + SIDE + size
    aggregate.square_index(x[:10], y[:10], left=left, top=top, size=size, rows=rows,
                           cols=cols)  # numba warm-up

    t = time.perf_counter()
    idx = aggregate.square_index(x, y, left=left, top=top, size=size, rows=rows, cols=cols)
    ours = np.bincount(idx[idx >= 0], minlength=rows * cols)
    t_ours = time.perf_counter() - t
    xedges = left + np.arange(cols + 1) * size
    yedges = top - np.arange(rows + 1)[::-1] * size
    t = time.perf_counter()
    hist, _, _ = np.histogram2d(x, y, bins=[xedges, yedges])
    t_peer = time.perf_counter() - t
    same = bool((hist.T[::-1].ravel().astype(np.int64) == ours).all())
    out = [{
        "case": f"{n:,} points → {rows}×{cols} squares of {size:g} m (arrays)",
        "gridmap_s": round(t_ours, 3), "peer": "numpy.histogram2d", "peer_s": round(t_peer, 3),
        "speedup": round(t_peer / t_ours, 1), "agree": same,
    }]

    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs="EPSG:4549")
    t = time.perf_counter()
    cells = aggregate.count_per_square(pts, size, crs="EPSG:4549")
    t_full = time.perf_counter() - t
    out.append({"case": f"{n:,} points → squares from a GeoDataFrame (count_per_square)",
                "gridmap_s": round(t_full, 3), "cells": len(cells),
                "agree": int(cells["n"].sum()) == n})
    del pts, cells

    lng, lat = Transformer.from_crs("EPSG:4549", "EPSG:4326", always_xy=True).transform(x, y)
    lng, lat = np.asarray(lng), np.asarray(lat)
    pts_ll = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lng, lat), crs="EPSG:4326")
    t = time.perf_counter()
    cells = aggregate.count_per_square(pts_ll, size, crs="EPSG:4549")
    t_full = time.perf_counter() - t
    out.append({"case": f"{n:,} points in EPSG:4326 → squares (count_per_square, with projection)",
                "gridmap_s": round(t_full, 3), "cells": len(cells),
                "agree": int(cells["n"].sum()) == n})

    aggregate.latlng_to_h3(lat[:1000], lng[:1000], 9)  # numba and face tables warm-up
    t = time.perf_counter()
    ours_h3 = aggregate.latlng_to_h3(lat, lng, 9)
    t_ours = time.perf_counter() - t
    t = time.perf_counter()
    peer = coordinates_to_cells(pa.array(lat), pa.array(lng), 9)
    peer = pa.array(peer).to_numpy(zero_copy_only=False).astype(np.uint64)
    t_peer = time.perf_counter() - t
    m = min(n, 1_000_000)
    loop = np.fromiter((h3_int.latlng_to_cell(a, b, 9) for a, b in
                        zip(lat[:m].tolist(), lng[:m].tolist(), strict=True)),
                       dtype=np.uint64, count=m)
    out.append({
        "case": f"{n:,} distinct points → H3 res 9",
        "gridmap_s": round(t_ours, 3), "peer": "h3ronpy coordinates_to_cells",
        "peer_s": round(t_peer, 3), "speedup": round(t_peer / t_ours, 2),
        "agree": bool((ours_h3 == peer).all() and (ours_h3[:m] == loop).all()),
    })

    t = time.perf_counter()
    hexes = aggregate.count_per_h3(pts_ll, 9)
    t_full = time.perf_counter() - t
    out.append({"case": f"{n:,} points in EPSG:4326 → H3 res 9 (count_per_h3)",
                "gridmap_s": round(t_full, 3), "cells": len(hexes),
                "agree": int(hexes["n"].sum()) == n})
    return out


if __name__ == "__main__":
    for row in run(quick=True):
        print(row)
