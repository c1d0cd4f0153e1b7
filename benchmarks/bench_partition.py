"""Balanced redraw: gridmap against GerryChain and spopt on the same inputs, in the same run.

Cases
-----
* 100×100 cells of 100 m, households = round(lognormal(4, 0.8)) (seed 42),
  into 50 grids. Goal: ≤ 5 s, max deviation ≤ 1%, mean Polsby-Popper ≥ 0.6,
  cut edges ≤ 1,600, all contiguous. (``--quick``: 30×30 into 9.)
* The same on 50×50 cells (2,500 units), where spopt's SKATER and max-p run.
* A heavy tail: lognormal(4, 1.0), single cells up to 17% of a grid.
* 579 San Francisco block groups (``Population``, with islands) into 11.
* 77 Chicago community areas (``TOT_POP``) into 7.

Every plan is scored by the same code (:func:`gridmap.metrics.plan_metrics`);
cut edges are cross-checked against GerryChain's own adjacency graph. Peers:
GerryChain ``recursive_tree_part`` (ε = 0.02) and spopt Ward, RegionKMeans,
SKATER and max-p, each in a child process with a time cap (slow ones are
reported as timed out rather than left running).
"""

from __future__ import annotations

import json
import multiprocessing as mp
import queue as queue_mod
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmap.metrics import plan_metrics
from gridmap.partition import partition_units

ROOT = Path(__file__).resolve().parents[1]
REALDATA = ROOT.parent / "shared" / "realdata"
CAP_S = 150.0  # time cap per peer run (a child process is stopped there)


def lattice(n: int, *, seed: int = 42, sigma: float = 0.8) -> gpd.GeoDataFrame:
    """n×n cells of 100 m near Jiaxing (EPSG:4549); households ~ round(lognormal(4, sigma)), ≥ 1."""
    cols = np.tile(np.arange(n), n)
    rows = np.repeat(np.arange(n), n)
    x0, y0 = 500_000.0, 3_400_000.0
    boxes = shapely.box(x0 + cols * 100, y0 + rows * 100, x0 + (cols + 1) * 100, y0 + (rows + 1) * 100)
    hh = np.round(np.random.default_rng(seed).lognormal(mean=4.0, sigma=sigma, size=n * n))
    return gpd.GeoDataFrame({"households": np.maximum(hh, 1.0)}, geometry=boxes, crs="EPSG:4549")


def _score(units, labels, field, graph, k_wanted, tool, case, seconds, note=""):
    labels = pd.Series(np.asarray(labels), index=units.index).astype(str)
    target = units[field].sum() / k_wanted
    _, m = plan_metrics(units, labels, fields=[field], graph=graph,
                        targets=pd.Series({field: target}))
    return {
        "case": case, "tool": tool, "seconds": round(seconds, 2), "k": m["k"],
        "max_dev": round(m[f"{field}_max_abs_dev"], 4), "mean_dev": round(m[f"{field}_mean_abs_dev"], 4),
        "cv": round(m[f"{field}_cv"], 4), "mean_polsby_popper": round(m["mean_polsby_popper"], 3),
        "mean_reock": round(m["mean_reock"], 3), "cut_edges": m["cut_edges"],
        "contiguous": m["all_contiguous"], "note": note,
    }


def _child(fn, args, queue):
    t0 = time.perf_counter()
    try:
        labels = fn(*args)
    except Exception as exc:  # noqa: BLE001 - a peer's failure is a result to report
        queue.put((f"{type(exc).__name__}: {exc}"[:300], time.perf_counter() - t0))
        return
    queue.put((np.asarray(labels), time.perf_counter() - t0))


def _capped(fn, *args, cap=CAP_S):
    """Run ``fn(*args)`` in a child process; (labels, seconds) or (None, cap) on timeout.

    The child is spawned, not forked: a fork of a process whose OpenMP/numba
    threads have run can hang.
    """
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(fn, args, queue))
    proc.start()
    start = time.monotonic()
    # wait for the result (a large result must be read before the child can exit)
    while time.monotonic() - start < cap + 60:  # the child's own clock starts after its imports
        try:
            labels, secs = queue.get(timeout=1.0)
        except queue_mod.Empty:
            if not proc.is_alive():
                return None, float("nan")
            continue
        proc.join()
        if isinstance(labels, str):  # the peer raised: report its message
            return labels, secs
        return (labels, secs) if secs <= cap else (None, cap)
    proc.terminate()
    proc.join()
    return None, cap


# --- peers ------------------------------------------------------------------

def _nx_graph(graph, units, field):
    import networkx as nx

    e = graph.edges()
    G = nx.Graph()
    for i, v in enumerate(units[field].to_numpy()):
        G.add_node(i, pop=float(v))
    G.add_edges_from(zip(e["i"].to_numpy(), e["j"].to_numpy(), strict=True))
    return G


def _gerrychain(units, G, field, k, eps, seed):
    """GerryChain's own graph from the GeoDataFrame (timed with the plan), or the
    island-linked gridmap graph ``G`` when the units have islands."""
    from gerrychain import Graph
    from gerrychain.partition import recursive_tree_part

    if G is None:
        gdf = units.reset_index(drop=True)
        gdf["geometry"] = shapely.make_valid(gdf.geometry.values)
        graph = Graph.from_geodataframe(gdf, adjacency="rook", cols_to_add=[field])
        pop = field
    else:
        graph = Graph.from_networkx(G)
        pop = "pop"
    total = float(units[field].sum())
    plan = recursive_tree_part(graph, range(k), total / k, pop, eps, rng=seed)
    return [plan[i] for i in range(len(plan))]


def _spopt(kind, units, field, k, threshold):
    import warnings

    from libpysal.weights import Rook
    from spopt.region import MaxPHeuristic, RegionKMeansHeuristic, Skater, WardSpatial

    warnings.filterwarnings("ignore")
    gdf = units.reset_index(drop=True)
    w = Rook.from_dataframe(gdf, use_index=False, silence_warnings=True)
    if kind == "ward":
        model = WardSpatial(gdf, w, [field], n_clusters=k)
    elif kind == "regionkmeans":
        model = RegionKMeansHeuristic(gdf[[field]].to_numpy(), k, w, seed=0)
    elif kind == "skater":
        model = Skater(gdf, w, [field], n_clusters=k)
    else:
        model = MaxPHeuristic(gdf, w, [field], field, threshold, top_n=2)
    model.solve()
    return model.labels_


# --- cases -------------------------------------------------------------------

class _Rows(list):
    """Rows that are also logged to stderr as they come (a long run keeps its progress)."""

    def append(self, row):
        print(json.dumps(row, default=str), file=sys.stderr, flush=True)
        super().append(row)


def _case(case, units, field, k, *, peers, seed=42, gerry_cap=CAP_S, linked=False):
    rows = _Rows()
    # warm the numba kernels (compiled once, then cached on disk) on a small input
    partition_units(lattice(12), parts=3, balance=["households"])
    t0 = time.perf_counter()
    res = partition_units(units, parts=k, balance=[field], tolerance=0.01, seed=seed)
    ours = time.perf_counter() - t0
    graph = res.graph  # with island links, for scoring every plan the same way
    rows.append(_score(units, res.assignment, field, graph, k, "gridmap", case, ours,
                       note="total: graph, plan, grids and metrics"))
    # independent adjacency (GerryChain / shapely rook) must give the same cut edges
    from gerrychain import Graph

    fixed = units.reset_index(drop=True)
    fixed["geometry"] = shapely.make_valid(fixed.geometry.values)  # Chicago has one invalid area
    gc_graph = Graph.from_geodataframe(fixed, adjacency="rook")
    lab = res.assignment.to_numpy()
    # GerryChain's rook also joins polygons touching at several points (its shared_perim is
    # positive there): compare on its edges whose shapely boundary intersection has length
    edges = np.array(list(gc_graph.edges), dtype=np.int64).reshape(-1, 2)
    b = shapely.boundary(fixed.geometry.values)
    length = shapely.length(shapely.intersection(b[edges[:, 0]], b[edges[:, 1]]))
    shared = edges[length > 0]
    gc_cut = int((lab[shared[:, 0]] != lab[shared[:, 1]]).sum())
    rows.append({"case": case, "tool": "check", "cut_edges_gridmap": rows[0]["cut_edges"],
                 "cut_edges_gerrychain_graph": gc_cut, "agree": gc_cut == rows[0]["cut_edges"],
                 "gerrychain_point_contacts": len(edges) - len(shared)})
    total = float(units[field].sum())
    G = _nx_graph(graph, units, field) if linked else None
    labels, secs = _capped(_gerrychain, units, G, field, k, 0.02, seed, cap=gerry_cap)
    name = "gerrychain recursive_tree_part"
    if isinstance(labels, str):
        rows.append({"case": case, "tool": name, "seconds": round(secs, 2), "note": f"failed: {labels}"})
    elif labels is None:
        rows.append({"case": case, "tool": name, "seconds": secs,
                     "note": f"did not finish within {gerry_cap:.0f} s" if secs == secs else "failed"})
    else:
        note = ("epsilon 0.02, on gridmap's island-linked graph" if linked
                else "epsilon 0.02; includes building its graph from the polygons")
        rows.append(_score(units, labels, field, graph, k, name, case, secs, note=note))
    for kind in peers:
        labels, secs = _capped(_spopt, kind, units, field, k, 0.98 * total / k)
        name = f"spopt {kind}"
        if isinstance(labels, str):
            rows.append({"case": case, "tool": name, "seconds": round(secs, 2),
                         "note": f"failed: {labels}"})
            continue
        if labels is None:
            rows.append({"case": case, "tool": name, "seconds": secs,
                         "note": f"stopped at the {CAP_S:.0f} s cap" if secs == secs else "failed"})
            continue
        rows.append(_score(units, labels, field, graph, k, name, case, secs,
                           note="max-p picks its own k" if kind == "maxp" else ""))
    return list(rows)


def run(quick: bool) -> list[dict]:
    """Run the partition benchmark; one dict per tool and case."""
    rows = []
    if quick:
        return _case("lattice 30x30 into 9", lattice(30), "households", 9, peers=("ward",))
    # the goal case; spopt's slow methods are run on the 2,500-unit lattice below
    rows += _case("lattice 100x100 into 50 (sigma 0.8)", lattice(100), "households", 50,
                  peers=("ward", "regionkmeans"))
    rows += _case("lattice 50x50 into 50 (sigma 0.8)", lattice(50), "households", 50,
                  peers=("ward", "regionkmeans", "skater", "maxp"))
    rows += _case("lattice 100x100 into 50, heavy tail (sigma 1.0)", lattice(100, sigma=1.0),
                  "households", 50, peers=())
    if REALDATA.is_dir():
        sf = gpd.read_file(REALDATA / "sf" / "SFCrime_blocks.shp")
        rows += _case("sf 579 block groups into 11", sf, "Population", 11,
                      peers=("ward", "skater"), linked=True)
        chi = gpd.read_file(REALDATA / "chicago" / "community_areas_2020.geojson")
        rows += _case("chicago 77 areas into 7", chi, "TOT_POP", 7, peers=("ward", "skater"))
    return rows

