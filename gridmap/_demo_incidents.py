"""One year of synthetic incidents (事件) for the demo district.

Each incident draws, independently and vectorised:

* a place: one of the Gaussian hotspots, the population raster (people make
  events) or anywhere in the district;
* a category (and a subcategory), with some hotspots favouring one category;
* a day of 2025 with a seasonal cosine (summer peak for most categories,
  winter for fire hazards) times a weekday factor per category;
* an hour of day from a per-category profile (evening peaks);
* a closed loop: dispatch, handling and closing delays (log-normal, a tail of
  slow cases, a few stuck ones); the status is the stage reached on
  2026-01-01 00:00, and ``closed_at`` is missing when not closed.

The parameters are returned with the table and written to ``meta.json`` so
tests and users can compare the data with the patterns that made it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import shapely

from ._demo_frame import Frame
from ._demo_layout import Layout
from .crs import WGS84

if TYPE_CHECKING:
    from .demo import Scale

__all__ = [
    "CATEGORIES",
    "HOUR_PROFILES",
    "build_incidents",
    "day_weights",
    "hour_profile",
    "incidents_table",
    "write_geoparquet",
]

YEAR_START = np.datetime64("2025-01-01T00:00:00", "s")
AS_OF = np.datetime64("2026-01-01T00:00:00", "s")
N_DAYS = 365

# category: share, weight, weekday factor (Mon-Fri vs weekend), seasonal amplitude,
# seasonal peak (day of year, 0 = 1 January), hour profile, median handling hours,
# time limit hours, subcategories
_FIELDS = ("share", "weight", "weekday", "season_amp", "season_peak", "hours", "handle_h", "limit_h", "sub")
CATEGORIES: dict[str, dict] = {
    name: dict(zip(_FIELDS, row, strict=True))
    for name, row in (
        ("环境卫生", (0.22, 1.0, 1.15, 0.45, 200, "day", 2.0, 24, ("垃圾堆放", "污水外溢", "河道漂浮物", "卫生死角"))),
        ("市容秩序", (0.20, 1.0, 1.3, 0.3, 190, "evening", 1.5, 24, ("占道经营", "乱停乱放", "违规广告", "违章搭建"))),
        ("矛盾纠纷", (0.14, 2.0, 0.85, 0.25, 210, "evening", 6.0, 72, ("邻里纠纷", "家庭纠纷", "劳资纠纷", "物业纠纷", "土地纠纷"))),
        ("治安隐患", (0.12, 2.0, 1.0, 0.3, 200, "night", 3.0, 24, ("可疑人员", "治安混乱场所", "盗窃隐患", "群租房"))),
        ("民生服务", (0.13, 1.0, 1.1, 0.2, 195, "day", 5.0, 48, ("噪音扰民", "停水停电", "助老帮困", "道路破损"))),
        ("消防隐患", (0.11, 3.0, 1.0, 0.25, 15, "evening", 3.0, 24, ("消防通道堵塞", "电动车违规充电", "消防设施损坏", "违规用火"))),
        ("安全生产", (0.08, 3.0, 1.5, 0.2, 180, "day", 8.0, 48, ("违规施工", "危化品隐患", "特种设备隐患", "企业安全隐患"))),
    )
}

SOURCES = ("网格员巡查", "群众上报", "12345热线", "视频巡查")
SOURCE_P = (0.55, 0.2, 0.15, 0.1)

# location mix: hotspots, population, anywhere
LOCATION_MIX = {"hotspots": 0.25, "population": 0.65, "uniform": 0.10}
HOTSPOT_FOCUS = 0.4  # share of a hotspot's incidents in its focus category


def _bump(h: np.ndarray, centre: float, width: float) -> np.ndarray:
    d = np.abs(h - centre)
    d = np.minimum(d, 24 - d)
    return np.exp(-(d**2) / (2 * width**2))


def hour_profile(kind: str) -> np.ndarray:
    """Relative incident rate for each hour 0..23 (hour midpoints), summing to 1."""
    h = np.arange(24) + 0.5
    if kind == "evening":
        p = 0.12 + 0.45 * _bump(h, 10.0, 2.0) + 1.0 * _bump(h, 20.0, 2.2)
    elif kind == "day":
        p = 0.08 + 0.8 * _bump(h, 10.0, 2.0) + 0.7 * _bump(h, 15.0, 2.0) + 0.55 * _bump(h, 19.5, 1.8)
    elif kind == "night":
        p = 0.2 + 0.3 * _bump(h, 11.0, 2.5) + 1.0 * _bump(h, 21.5, 2.6)
    else:
        raise ValueError(f"unknown hour profile {kind!r}; use evening, day or night.")
    return p / p.sum()


HOUR_PROFILES = {k: hour_profile(k) for k in ("evening", "day", "night")}


def day_weights(category: str) -> np.ndarray:
    """Relative rate for each day of 2025 (seasonal cosine × weekday factor), summing to 1."""
    c = CATEGORIES[category]
    doy = np.arange(N_DAYS)
    season = 1.0 + c["season_amp"] * np.cos(2 * np.pi * (doy - c["season_peak"]) / 365.0)
    weekday = (doy + 2) % 7 < 5  # 2025-01-01 is a Wednesday (Mon = 0)
    w = season * np.where(weekday, c["weekday"], 1.0)
    return w / w.sum()


def _hotspots(
    layout: Layout, frame: Frame, places_uv: np.ndarray, n: int, rng: np.random.Generator
) -> list[dict]:
    """Hotspot centres in urban land (half of them at key places), with sigma and share."""
    cats = list(CATEGORIES)
    out = []
    minx, miny, maxx, maxy = layout.outline.bounds
    tries = 0
    while len(out) < n:
        tries += 1
        if len(out) % 2 == 0 and len(places_uv):
            u, v = places_uv[rng.integers(len(places_uv))]
        else:
            u, v = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if not shapely.contains_xy(layout.outline, u, v):
            continue
        if layout.cores.level(u, v) < 0.3 and tries < 10_000:
            continue
        out.append({"u": float(u), "v": float(v), "sigma_m": float(np.round(rng.uniform(120, 350), 1)),
                    "focus": cats[int(rng.integers(len(cats)))]})
    w = rng.uniform(0.5, 1.5, n)
    share = LOCATION_MIX["hotspots"] * w / w.sum()
    for h, s in zip(out, share, strict=True):
        h["share"] = float(np.round(s, 6))
        x, y = frame.to_metric(h["u"], h["v"])
        lon, lat = frame.to_lonlat(np.array([x]), np.array([y]))
        h.update(lon=round(float(lon[0]), 7), lat=round(float(lat[0]), 7),
                 x=round(float(x), 3), y=round(float(y), 3))
    return out


def _sample_locations(
    comp: np.ndarray, hotspots: list[dict], layout: Layout, population: dict, frame: Frame,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Local-frame positions for each incident component (rejecting points outside)."""
    n = len(comp)
    u = np.empty(n)
    v = np.empty(n)
    pop = population["array"]
    valid = pop > 0
    p_cells = np.where(valid, pop, 0.0).ravel().astype(np.float64)
    p_cells /= p_cells.sum()
    tr = population["transform"]
    cell = tr.a
    width = pop.shape[1]
    minx, miny, maxx, maxy = layout.outline.bounds
    todo = np.arange(n)
    shapely.prepare(layout.outline)
    while len(todo):
        c = comp[todo]
        uu = np.empty(len(todo))
        vv = np.empty(len(todo))
        hot = c >= 0
        if hot.any():
            cu = np.array([h["u"] for h in hotspots])[c[hot]]
            cv = np.array([h["v"] for h in hotspots])[c[hot]]
            s = np.array([h["sigma_m"] for h in hotspots])[c[hot]]
            uu[hot] = cu + rng.normal(0, 1, hot.sum()) * s
            vv[hot] = cv + rng.normal(0, 1, hot.sum()) * s
        popi = c == -1
        if popi.any():
            k = rng.choice(len(p_cells), popi.sum(), p=p_cells)
            row, col = np.divmod(k, width)
            x = tr.c + (col + rng.random(len(k))) * cell
            y = tr.f - (row + rng.random(len(k))) * cell
            uu[popi], vv[popi] = frame.to_local(x, y)
        uni = c == -2
        if uni.any():
            uu[uni] = rng.uniform(minx, maxx, uni.sum())
            vv[uni] = rng.uniform(miny, maxy, uni.sum())
        ok = shapely.contains_xy(layout.outline, uu, vv)
        u[todo[ok]] = uu[ok]
        v[todo[ok]] = vv[ok]
        todo = todo[~ok]
    return u, v


def build_incidents(
    layout: Layout,
    frame: Frame,
    population: dict,
    places_uv: np.ndarray,
    scale: Scale,
    rng: np.random.Generator,
) -> tuple[dict, dict]:
    """Incident columns (numpy / pyarrow ready) and the pattern parameters."""
    n = scale.n_incidents
    cats = list(CATEGORIES)
    hotspots = _hotspots(layout, frame, places_uv, scale.n_hotspots, rng)
    # location component: k >= 0 hotspot k, -1 population, -2 uniform
    p = np.concatenate([[h["share"] for h in hotspots], [LOCATION_MIX["population"], LOCATION_MIX["uniform"]]])
    p = p / p.sum()
    comp = rng.choice(len(p), n, p=p)
    comp = np.where(comp == len(hotspots), -1, np.where(comp == len(hotspots) + 1, -2, comp))
    u, v = _sample_locations(comp, hotspots, layout, population, frame, rng)

    share = np.array([CATEGORIES[c]["share"] for c in cats])
    cat = rng.choice(len(cats), n, p=share / share.sum())
    focus = np.array([cats.index(h["focus"]) for h in hotspots], dtype=np.int64)
    to_focus = (comp >= 0) & (rng.random(n) < HOTSPOT_FOCUS)
    cat[to_focus] = focus[comp[to_focus]]

    day = np.empty(n, dtype=np.int64)
    hour = np.empty(n, dtype=np.int64)
    sub = np.empty(n, dtype=np.int64)
    handle_med = np.empty(n)
    sub_names: list[str] = []
    sub_offset = {}
    for ci, name in enumerate(cats):
        c = CATEGORIES[name]
        sub_offset[name] = len(sub_names)
        sub_names.extend(c["sub"])
        idx = np.flatnonzero(cat == ci)
        day[idx] = rng.choice(N_DAYS, len(idx), p=day_weights(name))
        hour[idx] = rng.choice(24, len(idx), p=HOUR_PROFILES[c["hours"]])
        sub[idx] = sub_offset[name] + rng.integers(0, len(c["sub"]), len(idx))
        handle_med[idx] = c["handle_h"] * 3600.0
    sec = day * 86400 + hour * 3600 + rng.integers(0, 3600, n)

    # closed loop delays (seconds)
    dispatch = rng.lognormal(math.log(600.0), 0.8, n)
    handle = rng.lognormal(np.log(handle_med), 0.9)
    slow = rng.random(n) < 0.04
    handle[slow] *= rng.uniform(8.0, 40.0, slow.sum())
    close = rng.lognormal(math.log(1800.0), 0.7, n)
    stuck = rng.random(n) < 0.005
    t_rep = sec.astype(np.int64)
    t_dis = t_rep + np.round(dispatch).astype(np.int64)
    t_han = t_dis + np.round(handle).astype(np.int64)
    t_clo = t_han + np.round(close).astype(np.int64)
    asof = int((AS_OF - YEAR_START).astype(np.int64))
    big = np.iinfo(np.int64).max // 4
    t_han = np.where(stuck, big, t_han)
    t_clo = np.where(stuck, big, t_clo)
    status = np.where(t_dis > asof, 0, np.where(t_han > asof, 1, np.where(t_clo > asof, 2, 3)))

    order = np.argsort(t_rep, kind="stable")
    x, y = frame.to_metric(u[order], v[order])
    lon, lat = frame.to_lonlat(x, y)
    weights = np.array([CATEGORIES[c]["weight"] for c in cats])
    limits = np.array([CATEGORIES[c]["limit_h"] for c in cats], dtype=np.int16)
    cat, sub, status = cat[order], sub[order], status[order]
    cols = {
        "cat": cat, "sub": sub, "status": status,
        "reported": t_rep[order], "dispatched": t_dis[order], "handled": t_han[order], "closed": t_clo[order],
        "asof": asof, "weight": weights[cat] * np.where(sub % 2 == 0, 1.0, 1.5),
        "limit": limits[cat], "source": rng.choice(len(SOURCES), n, p=SOURCE_P),
        "lon": lon, "lat": lat, "x": x, "y": y,
        "cat_names": cats, "sub_names": sub_names,
    }
    patterns = {
        "period": ["2025-01-01", "2025-12-31"],
        "as_of": "2026-01-01T00:00:00",
        "timezone": "Asia/Shanghai (naive local times)",
        "location_mix": LOCATION_MIX,
        "hotspot_focus_share": HOTSPOT_FOCUS,
        "hotspots": [{k: h[k] for k in ("lon", "lat", "x", "y", "sigma_m", "share", "focus")} for h in hotspots],
        "categories": {
            name: {k: (list(val) if isinstance(val, tuple) else val) for k, val in CATEGORIES[name].items()}
            for name in cats
        },
        "hour_profiles": {k: [round(float(p), 6) for p in prof] for k, prof in HOUR_PROFILES.items()},
        "seasonal": "rate(day) ∝ (1 + season_amp·cos(2π(day − season_peak)/365)) × (weekday factor Mon–Fri)",
        "closed_loop": {
            "dispatch_median_min": 10, "handle_median_h": "per category (handle_h)",
            "close_median_min": 30, "slow_share": 0.04, "slow_factor": [8, 40], "stuck_share": 0.005,
        },
        "sources": dict(zip(SOURCES, SOURCE_P, strict=True)),
    }
    return cols, patterns


def incidents_table(cols: dict, label: str) -> pa.Table:
    """A GeoParquet-ready Arrow table (WKB points in WGS84)."""
    n = len(cols["cat"])
    serial = pa.array(np.arange(1, n + 1))
    ids = pc.binary_join_element_wise("E", pc.utf8_lpad(pc.cast(serial, pa.string()), width=8, padding="0"), "")
    cat = pc.take(pa.array(cols["cat_names"]), pa.array(cols["cat"]))
    sub = pc.take(pa.array(cols["sub_names"]), pa.array(cols["sub"]))
    status = pc.take(pa.array(["reported", "dispatched", "handled", "closed"]), pa.array(cols["status"]))
    source = pc.take(pa.array(list(SOURCES)), pa.array(cols["source"]))
    asof = cols["asof"]
    base = int(YEAR_START.astype(np.int64))

    def _ts(t: np.ndarray) -> pa.Array:
        return pa.array(base + t, type=pa.timestamp("s"), mask=t > asof)

    wkb = np.empty(n, dtype=[("o", "u1"), ("t", "<u4"), ("x", "<f8"), ("y", "<f8")])
    wkb["o"] = 1
    wkb["t"] = 1
    wkb["x"] = cols["lon"]
    wkb["y"] = cols["lat"]
    offsets = np.arange(0, 21 * (n + 1), 21, dtype=np.int32)
    geom = pa.BinaryArray.from_buffers(pa.binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(wkb.tobytes())])
    table = pa.table(
        {
            "incident_id": ids,
            "category": cat,
            "subcategory": sub,
            "reported_at": _ts(cols["reported"]),
            "dispatched_at": _ts(cols["dispatched"]),
            "handled_at": _ts(cols["handled"]),
            "closed_at": _ts(cols["closed"]),
            "status": status,
            "weight": pa.array(cols["weight"], type=pa.float64()),
            "time_limit_h": pa.array(cols["limit"], type=pa.int16()),
            "source": source,
            "geometry": geom,
        }
    )
    bbox = [float(np.min(cols["lon"])), float(np.min(cols["lat"])), float(np.max(cols["lon"])), float(np.max(cols["lat"]))]
    geo = {
        "version": "1.0.0",
        "primary_column": "geometry",
        "columns": {
            "geometry": {
                "encoding": "WKB",
                "geometry_types": ["Point"],
                "crs": WGS84.to_json_dict(),
                "bbox": bbox,
            }
        },
    }
    meta = {b"geo": json.dumps(geo).encode(), b"gridmap": json.dumps({"synthetic": True, "label": label}, ensure_ascii=False).encode()}
    return table.replace_schema_metadata(meta)


def write_geoparquet(table: pa.Table, path: str | Path) -> None:
    """Write deterministically (no timestamps in Parquet metadata)."""
    pq.write_table(table, path, compression="zstd", row_group_size=1_000_000)

