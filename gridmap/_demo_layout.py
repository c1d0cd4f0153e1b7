"""Layout of the demo district: outline, urban cores, the street → community →
grid → block hierarchy, roads and the exact polygon coverage.

Geometry is built in a local frame ``(u, v)`` in metres: the district's metric
CRS (EPSG:4549 near Jiaxing) moved to the district centre and turned by a small
random angle, so the road lattice is not aligned with grid north.

The hierarchy is a recursive split of rectangles. A *demand* surface (one plus
a multiple of the urban level, zero outside the outline) is integrated with a
summed-area table; each rectangle holding ``n`` future units is cut across its
demand-weighted longer side where the demand splits ``k : n - k``. So every
grid carries about the same demand, which makes core grids small and rural
ones big. Each cut is a road: cuts between streets are primary roads, between
communities secondary, the rest local. Blocks are a last, purely geometric
split of each grid. The cuts plus the outline are noded once and polygonised,
so grids, communities and streets share vertices exactly: a true coverage with
no gaps or overlaps, and grid edges follow roads.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import shapely

from ._errors import DataError

if TYPE_CHECKING:
    from .demo import Scale

Rect = tuple[float, float, float, float]  # u0, u1, v0, v1
Sides = tuple[int, int, int, int]  # road ids at left, right, bottom, top (-1: frame edge)

__all__ = ["Cores", "Layout", "build_layout", "spread_counts"]

# levels of the hierarchy; the level of a cut decides its road class
STREET, COMMUNITY, GRID, BLOCK = 0, 1, 2, 3


@dataclass(frozen=True)
class Cores:
    """Urban cores: Gaussian bumps of urban level in the local frame."""

    uv: np.ndarray  # (k, 2) centres in metres
    sigma: np.ndarray  # (k,) metres
    weight: np.ndarray  # (k,) peak urban level, the main core is 1

    def level(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Urban level in [0, 1] at the points ``(u, v)``."""
        u = np.asarray(u, dtype=float)
        v = np.asarray(v, dtype=float)
        out = np.zeros(np.broadcast(u, v).shape)
        for (cu, cv), s, w in zip(self.uv, self.sigma, self.weight, strict=True):
            out += w * np.exp(-((u - cu) ** 2 + (v - cv) ** 2) / (2.0 * s * s))
        return np.minimum(out, 1.0)


@dataclass
class Layout:
    """Everything the other demo builders need, in the local frame.

    Road arrays are indexed by road id; ``road_ends`` holds, for both ends of
    each cut, the id of the road it ends on (-1 at the edge of the frame).
    """

    outline: shapely.Polygon  # smooth district outline
    district: shapely.Polygon  # outline noded with the roads (= union of grids)
    cores: Cores
    theta: float  # lattice angle, radians, counter-clockwise from east
    # roads (unclipped cuts)
    road_axis: np.ndarray  # 0: u = pos (runs along v); 1: v = pos (runs along u)
    road_pos: np.ndarray
    road_lo: np.ndarray
    road_hi: np.ndarray
    road_level: np.ndarray
    road_depth: np.ndarray
    road_ends: np.ndarray  # (n, 2)
    # blocks (leaf rectangles) with the grid they belong to
    block_rect: np.ndarray  # (m, 4) u0, u1, v0, v1
    block_sides: np.ndarray  # (m, 4) road ids at left, right, bottom, top
    block_grid: np.ndarray  # (m,) index into grid arrays (before merges)
    # grids, communities, streets: final polygons and parents
    grid_geom: np.ndarray
    grid_community: np.ndarray
    community_geom: np.ndarray
    community_street: np.ndarray
    street_geom: np.ndarray
    faces: np.ndarray  # polygons of the coverage (pieces of blocks)
    face_block: np.ndarray
    face_grid: np.ndarray
    notes: dict = field(default_factory=dict)


def spread_counts(rng: np.random.Generator, total: int, n: int, *, jitter: float = 0.2) -> np.ndarray:
    """Split ``total`` into ``n`` positive integers of about equal size."""
    if total < n:
        raise DataError(f"cannot split {total} units into {n} parts; lower the number of parts.")
    w = rng.uniform(1.0 - jitter, 1.0 + jitter, size=n)
    raw = 1 + (total - n) * w / w.sum()
    out = np.floor(raw).astype(np.int64)
    short = total - int(out.sum())
    if short:
        order = np.argsort(-(raw - out), kind="stable")
        out[order[:short]] += 1
    return out


def _outline(rng: np.random.Generator, area_m2: float) -> shapely.Polygon:
    """A smooth star-shaped outline of the given area centred on (0, 0)."""
    n = 256
    t = np.linspace(0.0, 2.0 * np.pi, n, endpoint=False)
    r = np.ones(n)
    for k in range(2, 7):
        amp = rng.uniform(0.04, 0.12) / (k - 1) ** 0.7
        r += amp * np.cos(k * t + rng.uniform(0, 2 * np.pi))
    poly = shapely.Polygon(np.column_stack([r * np.cos(t), r * np.sin(t)]))
    scale = math.sqrt(area_m2 / poly.area)
    coords = np.column_stack([r * np.cos(t), r * np.sin(t)]) * scale
    return shapely.Polygon(np.round(coords, 3))


def _cores(rng: np.random.Generator, outline: shapely.Polygon, n: int, sigma_m: float) -> Cores:
    """The main core near the centre, then satellites spread over the district."""
    radius = math.sqrt(outline.area / math.pi)
    ang = rng.uniform(0, 2 * np.pi)
    uv = [(0.25 * radius * math.cos(ang), 0.25 * radius * math.sin(ang))]
    sigma = [sigma_m]
    weight = [1.0]
    tries = 0
    while len(uv) < n:
        tries += 1
        p = rng.uniform(-radius, radius, size=2)
        min_gap = radius * 1.6 / math.sqrt(n) if tries < 2000 else 0.0
        near = min(math.hypot(p[0] - a, p[1] - b) for a, b in uv)
        if not shapely.contains_xy(outline, p[0], p[1]) or near < min_gap:
            continue
        uv.append((float(p[0]), float(p[1])))
        sigma.append(sigma_m * rng.uniform(0.35, 0.7))
        weight.append(rng.uniform(0.7, 0.95))
    return Cores(np.asarray(uv), np.asarray(sigma), np.asarray(weight))


class _Demand:
    """Integrated demand (summed-area table) on a raster covering the outline."""

    def __init__(self, outline: shapely.Polygon, cores: Cores, ratio: float) -> None:
        minx, miny, maxx, maxy = outline.bounds
        cell = max(20.0, math.sqrt((maxx - minx) * (maxy - miny) / 2.0e6))
        self.cell = cell
        self.u0 = minx - cell
        self.v0 = miny - cell
        self.nu = math.ceil((maxx - self.u0) / cell) + 1
        self.nv = math.ceil((maxy - self.v0) / cell) + 1
        uc = self.u0 + (np.arange(self.nu) + 0.5) * cell
        vc = self.v0 + (np.arange(self.nv) + 0.5) * cell
        uu, vv = np.meshgrid(uc, vc)
        inside = shapely.contains_xy(outline, uu, vv)
        dens = (1.0 + ratio * cores.level(uu, vv)) * inside * (cell * cell)
        sat = np.zeros((self.nv + 1, self.nu + 1))
        sat[1:, 1:] = dens.cumsum(axis=0).cumsum(axis=1)
        self.sat = sat

    def cum(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Demand in ``[-inf, u] x [-inf, v]``: bilinear in the summed-area table (exact)."""
        x = np.minimum(np.maximum((u - self.u0) / self.cell, 0.0), self.nu)
        y = np.minimum(np.maximum((v - self.v0) / self.cell, 0.0), self.nv)
        i = np.minimum(x.astype(np.int64), self.nu - 1)
        j = np.minimum(y.astype(np.int64), self.nv - 1)
        fx = x - i
        fy = y - j
        s = self.sat
        return (
            s[j, i] * (1 - fx) * (1 - fy)
            + s[j, i + 1] * fx * (1 - fy)
            + s[j + 1, i] * (1 - fx) * fy
            + s[j + 1, i + 1] * fx * fy
        )

    def _breaks(self, a0: float, a1: float, origin: float) -> np.ndarray:
        """``a0``, the cell edges strictly between, ``a1``."""
        k0 = math.floor((a0 - origin) / self.cell) + 1
        k1 = math.ceil((a1 - origin) / self.cell) - 1
        inner = origin + np.arange(k0, k1 + 1) * self.cell
        return np.concatenate([[a0], inner[(inner > a0) & (inner < a1)], [a1]])

    def profiles(self, rect: Rect) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
        """For each axis: positions across it and the demand on their low side.

        Between cell edges the demand is linear in the position, so linear
        interpolation in these profiles is exact.
        """
        u0, u1, v0, v1 = rect
        su = self._breaks(u0, u1, self.u0)
        sv = self._breaks(v0, v1, self.v0)
        nu, nv = len(su), len(sv)
        c = self.cum(
            np.concatenate([su, su, np.full(nv, u1), np.full(nv, u0)]),
            np.concatenate([np.full(nu, v1), np.full(nu, v0), sv, sv]),
        )
        gu = c[:nu] - c[nu : 2 * nu]
        gv = c[2 * nu : 2 * nu + nv] - c[2 * nu + nv :]
        return (su, np.maximum.accumulate(gu - gu[0])), (sv, np.maximum.accumulate(gv - gv[0]))

    def cut(self, rect: Rect, frac: float) -> tuple[int, float]:
        """Axis and position splitting the rectangle's demand ``frac : 1 - frac``.

        The axis is the one along which the demand is spread widest (between
        its 15th and 85th percentiles), so cells stay compact where people are.
        """
        best = None
        for axis, (s, g) in enumerate(self.profiles(rect)):
            total = g[-1]
            if total <= 0:
                continue
            lo, hi, pos = np.interp([0.15 * total, 0.85 * total, frac * total], g, s)
            if best is None or hi - lo > best[0]:
                best = (hi - lo, axis, float(pos))
        if best is None:  # no demand at all: cut the longer side in the middle
            u0, u1, v0, v1 = rect
            axis = 0 if (u1 - u0) >= (v1 - v0) else 1
            return axis, (u0 + u1) / 2 if axis == 0 else (v0 + v1) / 2
        _, axis, pos = best
        lo, hi = (rect[0], rect[1]) if axis == 0 else (rect[2], rect[3])
        margin = min(1.0, (hi - lo) / 4)
        return axis, min(max(pos, lo + margin), hi - margin)


class _Roads:
    """Registry of cuts; a cut's id is its index."""

    def __init__(self) -> None:
        self.axis: list[int] = []
        self.pos: list[float] = []
        self.lo: list[float] = []
        self.hi: list[float] = []
        self.level: list[int] = []
        self.depth: list[int] = []
        self.ends: list[tuple[int, int]] = []

    def cut(
        self, rect: Rect, sides: Sides, axis: int, pos: float, level: int, depth: int
    ) -> tuple[tuple[Rect, Sides], tuple[Rect, Sides]]:
        """Register a cut of ``rect``; return the two child (rect, sides)."""
        u0, u1, v0, v1 = rect
        left, right, bottom, top = sides
        rid = len(self.axis)
        self.axis.append(axis)
        self.pos.append(pos)
        self.level.append(level)
        self.depth.append(depth)
        if axis == 0:
            self.lo.append(v0)
            self.hi.append(v1)
            self.ends.append((bottom, top))
            return ((u0, pos, v0, v1), (left, rid, bottom, top)), ((pos, u1, v0, v1), (rid, right, bottom, top))
        self.lo.append(u0)
        self.hi.append(u1)
        self.ends.append((left, right))
        return ((u0, u1, v0, pos), (left, right, bottom, rid)), ((u0, u1, pos, v1), (left, right, rid, top))


def _split_demand(
    rect: Rect, sides: Sides, n: int, depth: int, level: int,
    demand: _Demand, roads: _Roads, rng: np.random.Generator,
) -> list[tuple[Rect, Sides, int]]:
    """Split ``rect`` into ``n`` leaves of about equal demand; leaves in a fixed order."""
    stack = [(rect, sides, n, depth)]
    leaves = []
    while stack:
        r, s, k, d = stack.pop()
        if k == 1:
            leaves.append((r, s, d))
            continue
        left = k // 2 if (k % 2 == 0 or rng.random() < 0.5) else k - k // 2
        frac = float(np.clip(left / k + rng.normal(0.0, 0.04), 0.1, 0.9))
        axis, pos = demand.cut(r, frac)
        (ra, sa), (rb, sb) = roads.cut(r, s, axis, pos, level, d)
        stack.append((rb, sb, k - left, d + 1))
        stack.append((ra, sa, left, d + 1))
    return leaves


def _split_blocks(
    rect: Rect, sides: Sides, depth: int, max_side: float, roads: _Roads, rng: np.random.Generator
) -> list[tuple[Rect, Sides]]:
    """Cut ``rect`` geometrically until no side exceeds ``max_side`` metres."""
    stack = [(rect, sides, depth)]
    leaves = []
    while stack:
        r, s, d = stack.pop()
        w, h = r[1] - r[0], r[3] - r[2]
        if max(w, h) <= max_side:
            leaves.append((r, s))
            continue
        axis = 0 if w >= h else 1
        lo, hi = (r[0], r[1]) if axis == 0 else (r[2], r[3])
        pos = lo + (hi - lo) * rng.uniform(0.38, 0.62)
        (ra, sa), (rb, sb) = roads.cut(r, s, axis, pos, BLOCK, d)
        stack.append((rb, sb, d + 1))
        stack.append((ra, sa, d + 1))
    return leaves


def _coverage_union(geoms: np.ndarray) -> shapely.Geometry:
    if len(geoms) == 1:
        return geoms[0]
    return shapely.coverage_union_all(geoms)


def _group_union(geoms: np.ndarray, groups: np.ndarray, n: int) -> np.ndarray:
    """Coverage union of ``geoms`` per group 0..n-1 (empty polygon for empty groups)."""
    order = np.argsort(groups, kind="stable")
    bounds = np.searchsorted(groups[order], np.arange(n + 1))
    out = np.empty(n, dtype=object)
    for g in range(n):
        idx = order[bounds[g] : bounds[g + 1]]
        out[g] = _coverage_union(geoms[idx]) if len(idx) else shapely.Polygon()
    return out


def _reassign_islands(
    face_geom: np.ndarray, face_grid: np.ndarray, grid_geom: np.ndarray, grid_community: np.ndarray
) -> tuple[np.ndarray, np.ndarray, int]:
    """Give detached pieces of a grid to the neighbouring grid they share most border with.

    Returns new grid polygons, new face→grid labels and the number of faces moved.
    """
    face_grid = face_grid.copy()
    grid_geom = grid_geom.copy()
    multi = np.flatnonzero(shapely.get_num_geometries(grid_geom) > 1)
    if len(multi) == 0:
        return grid_geom, face_grid, 0
    tree = shapely.STRtree(grid_geom)
    rp = shapely.point_on_surface(face_geom)
    changed = [int(g) for g in multi]
    moved = 0
    for g in multi:
        parts = shapely.get_parts(grid_geom[g])
        parts = parts[np.argsort(-shapely.area(parts), kind="stable")]
        for part in parts[1:]:
            cand = tree.query(part, predicate="intersects")
            cand = cand[cand != g]
            if len(cand) == 0:
                continue
            shared = shapely.length(
                shapely.intersection(part.boundary, shapely.boundary(grid_geom[cand]))
            )
            if shared.max() <= 0:
                continue
            same = grid_community[cand] == grid_community[g]
            score = np.where(shared > 0, shared + np.where(same, shared.max() + 1.0, 0.0), -1.0)
            target = int(cand[int(np.argmax(score))])
            mine = np.flatnonzero((face_grid == g) & shapely.contains(part, rp))
            face_grid[mine] = target
            moved += len(mine)
            changed.append(target)
    for g in np.unique(changed):
        sel = face_grid == g
        grid_geom[g] = _coverage_union(face_geom[sel]) if sel.any() else shapely.Polygon()
    return grid_geom, face_grid, moved


def build_layout(
    scale: Scale, rng: np.random.Generator, progress: Callable[[str], None] | None = None
) -> Layout:
    """Build the district layout for a :class:`gridmap.demo.Scale`."""
    outline = _outline(rng, scale.area_km2 * 1e6)
    cores = _cores(rng, outline, scale.n_cores, scale.core_sigma_km * 1000.0)
    theta = float(np.deg2rad(rng.uniform(-18.0, 18.0)))
    demand = _Demand(outline, cores, scale.urban_ratio)
    roads = _Roads()

    minx, miny, maxx, maxy = outline.bounds
    root = (minx - 10.0, maxx + 10.0, miny - 10.0, maxy + 10.0)
    edge = (-1, -1, -1, -1)

    streets = _split_demand(root, edge, scale.n_streets, 0, STREET, demand, roads, rng)
    n_comm = spread_counts(rng, scale.n_communities, scale.n_streets, jitter=0.25)
    communities = []  # (rect, sides, depth, street)
    for si, (r, s, d) in enumerate(streets):
        for leaf in _split_demand(r, s, int(n_comm[si]), d, COMMUNITY, demand, roads, rng):
            communities.append((*leaf, si))
    n_grid = spread_counts(rng, scale.n_grids, len(communities), jitter=0.3)
    grids = []  # (rect, sides, depth, community)
    for ci, (r, s, d, _) in enumerate(communities):
        for leaf in _split_demand(r, s, int(n_grid[ci]), d, GRID, demand, roads, rng):
            grids.append((*leaf, ci))
    if progress:
        progress(f"layout: {len(streets)} streets, {len(communities)} communities, {len(grids)} grids cut")

    block_rect, block_sides, block_grid = [], [], []
    grid_rect = np.asarray([g[0] for g in grids])
    lvl = cores.level((grid_rect[:, 0] + grid_rect[:, 1]) / 2, (grid_rect[:, 2] + grid_rect[:, 3]) / 2)
    max_side = scale.block_rural_m + (scale.block_urban_m - scale.block_rural_m) * np.minimum(1.0, lvl / 0.5)
    for gi, (r, s, d, _) in enumerate(grids):
        for br, bs in _split_blocks(r, s, d, float(max_side[gi]), roads, rng):
            block_rect.append(br)
            block_sides.append(bs)
            block_grid.append(gi)
    block_rect = np.asarray(block_rect, dtype=float)
    block_sides = np.asarray(block_sides, dtype=np.int64)
    block_grid = np.asarray(block_grid, dtype=np.int64)

    road_axis = np.asarray(roads.axis, dtype=np.int8)
    road_pos = np.asarray(roads.pos)
    road_lo = np.asarray(roads.lo)
    road_hi = np.asarray(roads.hi)

    # node every cut with the outline once, polygonise, keep faces inside
    lines = road_lines(road_axis, road_pos, road_lo, road_hi)
    noded = shapely.union_all(np.concatenate([lines, [outline.exterior]]))
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    rp = shapely.point_on_surface(faces)
    inside = shapely.contains(outline, rp)
    faces, rp = faces[inside], rp[inside]
    boxes = shapely.box(block_rect[:, 0], block_rect[:, 2], block_rect[:, 1], block_rect[:, 3])
    hit = shapely.STRtree(boxes).query(rp, predicate="within")
    face_block = np.full(len(faces), -1, dtype=np.int64)
    face_block[hit[0]] = hit[1]
    if (face_block < 0).any():
        raise DataError("demo layout: a face lies in no block; try another seed.")
    face_grid = block_grid[face_block]
    n_grids = len(grids)
    grid_community = np.asarray([g[3] for g in grids], dtype=np.int64)
    grid_geom = _group_union(faces, face_grid, n_grids)
    grid_geom, face_grid, moved = _reassign_islands(faces, face_grid, grid_geom, grid_community)

    # drop grids left without area (their leaf fell outside the outline)
    alive = ~shapely.is_empty(grid_geom)
    remap = np.cumsum(alive) - 1
    face_grid = remap[face_grid]
    grid_geom = grid_geom[alive]
    grid_community = grid_community[alive]
    block_grid = np.where(alive[block_grid], remap[block_grid], -1)

    community_street = np.asarray([c[3] for c in communities], dtype=np.int64)
    comm_alive = np.bincount(grid_community, minlength=len(communities)) > 0
    cremap = np.cumsum(comm_alive) - 1
    grid_community = cremap[grid_community]
    community_street = community_street[comm_alive]
    community_geom = _group_union(grid_geom, grid_community, int(comm_alive.sum()))
    street_geom = _group_union(community_geom, community_street, len(streets))
    district = _coverage_union(street_geom)
    if progress:
        progress(f"layout: {len(grid_geom)} grids, {len(faces)} faces, {moved} detached faces moved")

    return Layout(
        outline=outline,
        district=district,
        cores=cores,
        theta=theta,
        road_axis=road_axis,
        road_pos=road_pos,
        road_lo=road_lo,
        road_hi=road_hi,
        road_level=np.asarray(roads.level, dtype=np.int8),
        road_depth=np.asarray(roads.depth, dtype=np.int16),
        road_ends=np.asarray(roads.ends, dtype=np.int64).reshape(-1, 2),
        block_rect=block_rect,
        block_sides=block_sides,
        block_grid=block_grid,
        grid_geom=grid_geom,
        grid_community=grid_community,
        community_geom=community_geom,
        community_street=community_street,
        street_geom=street_geom,
        faces=faces,
        face_block=face_block,
        face_grid=face_grid,
        notes={"detached_faces_moved": int(moved)},
    )


def road_lines(axis: np.ndarray, pos: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Cut segments as LineStrings in the local frame."""
    x0 = np.where(axis == 0, pos, lo)
    x1 = np.where(axis == 0, pos, hi)
    y0 = np.where(axis == 0, lo, pos)
    y1 = np.where(axis == 0, hi, pos)
    coords = np.stack([np.column_stack([x0, y0]), np.column_stack([x1, y1])], axis=1)
    return shapely.linestrings(coords)
