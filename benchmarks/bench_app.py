"""The overview map: gridmap's layers vs ``GeoDataFrame.explore()`` on the same demo district.

Both sides draw the same content — grids coloured by street, every camera, and
incident totals per grid — from the same GeoDataFrames:

* gridmap: ``layers`` (seamless display simplification, one clustered marker per
  camera point with tooltips assembled on hover, choropleth from ``assign_points``
  drawn on the grid polygons already sent), as the overview page does;
* peer: what a user would otherwise write: ``grids.explore(column="street_code")``,
  ``cameras.explore(m=...)`` (one circle marker per camera) and
  ``sjoin`` + ``groupby`` + ``explore(column="incidents")``.

Measured: time to build and render the map HTML, its size, the URLs it would
fetch from the internet, and (when Chromium is installed) the time Chromium takes
to draw it, served from localhost with the internet blocked. Both pages are
rendered after :func:`layers.assets.use_local_assets`, so both load Leaflet from
this machine and the browser comparison is fair.

Agreement checks: both maps hold one polygon per grid; our camera points hold
every camera; our incident counts equal ``sjoin(predicate="within")`` counts for
every grid (points on shared edges, which ``within`` leaves out, are reported).

Also measured, at city scale (``--quick``: small): the HTML payload of the
map(s) of every page in ``app.PAGES`` (:func:`_page_payloads`), against the
5 MB target of issue 7.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import socketserver
import tempfile
import threading
import time
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np

from gridmap import demo
from gridmap.assign import assign_points
from gridmap.ingest import read_layer
from layers.assets import external_urls, use_local_assets
from layers.base import make_map
from layers.cameras import camera_layer, camera_points
from layers.grids import grid_layer, simplify_for_display
from layers.incidents import incident_layer

ROOT = Path(__file__).resolve().parents[1]
OUT = Path(__file__).parent / "out"


def _district(scale: str) -> Path:
    path = OUT / f"demo-{scale}"
    if not demo.district_complete(path, scale=scale, seed=0):
        demo.generate(path, scale=scale, seed=0)
    return path


def _load(path: Path) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    grids = gpd.read_file(path / "grids.gpkg", layer="grids").to_crs(4326)
    cameras = read_layer(path / "cameras.csv", kind="cameras").data
    incidents = read_layer(path / "incidents.parquet", kind="incidents").data
    return grids, cameras, incidents


def ours(grids, cameras, incidents) -> tuple[str, dict]:
    """The overview map as the app builds it; returns HTML and what it holds."""
    shown = simplify_for_display(grids, tolerance_m=5.0)
    counts = assign_points(incidents, grids).counts().to_numpy()
    m = make_map(shown.total_bounds)
    g_layer, g_leg = grid_layer(shown, color_by="street_code", lang="en")
    i_layer, i_leg = incident_layer(shown, counts, lang="en", show=True, geometry_from=g_layer)
    c_layer, c_leg = camera_layer(cameras, lang="en")
    for layer, leg in ((g_layer, g_leg), (i_layer, i_leg), (c_layer, c_leg)):
        layer.add_to(m)
        leg.add_to(m)
    folium.LayerControl().add_to(m)
    html = m.get_root().render()
    return html, {"grid_features": len(g_layer.data["features"]), "counts": counts}


def peer(grids, cameras, incidents) -> tuple[str, dict]:
    """The same map with ``explore()``, ``sjoin`` and ``groupby``."""
    m = grids.explore(column="street_code", tooltip=["grid_id", "name"], tiles=None,
                      legend=False, name="grids")
    cameras.explore(m=m, tooltip=["camera_id", "kind", "status"], name="cameras",
                    marker_kwds={"radius": 4})
    joined = gpd.sjoin(incidents[["geometry"]], grids[["grid_id", "geometry"]],
                       predicate="within")
    n = joined.groupby("index_right").size().reindex(grids.index, fill_value=0)
    choro = grids.assign(incidents=n.to_numpy())
    choro.explore(m=m, column="incidents", scheme=None, legend=False, name="incidents",
                  tooltip=["grid_id", "incidents"])
    folium.LayerControl().add_to(m)
    html = m.get_root().render()
    return html, {"counts": n.to_numpy(), "n_within": len(joined)}


def _serve(files: dict[str, str]) -> tuple[socketserver.TCPServer, str, Path]:
    tmp = Path(tempfile.mkdtemp(prefix="bench-app-"))
    (tmp / "app" / "static").mkdir(parents=True)
    os.symlink(ROOT / "static" / "vendor", tmp / "app" / "static" / "vendor")
    for name, text in files.items():
        (tmp / name).write_text(text, encoding="utf-8")
    handler = functools.partial(_QuietHandler, directory=str(tmp))
    server = socketserver.TCPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}", tmp


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def _draw_times(pages: dict[str, tuple[str, int]]) -> dict[str, float]:
    """Seconds until each page shows ``n`` interactive paths (median of 3 loads)."""
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        return {}
    from playwright.sync_api import sync_playwright

    server, base, tmp = _serve({name: html for name, (html, _) in pages.items()})
    out: dict[str, float] = {}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=chromium,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                      "--disable-component-update", "--disable-sync", "--no-first-run"],
            )
            for name, (_, n_paths) in pages.items():
                runs = []
                for _ in range(3):
                    page = browser.new_page(viewport={"width": 1280, "height": 900})
                    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(
                        "http://127.0.0.1") else r.abort())
                    t0 = time.perf_counter()
                    page.goto(f"{base}/{name}")
                    page.wait_for_function(
                        "n => document.querySelectorAll('path.leaflet-interactive').length >= n",
                        arg=n_paths, timeout=180_000,
                    )
                    runs.append(time.perf_counter() - t0)
                    page.close()
                out[name] = float(np.median(runs))
            browser.close()
    finally:
        server.shutdown()
        shutil.rmtree(tmp)
    return out


PAYLOAD_TARGET_MB = 5.0


def _page_payloads(data_dir: Path) -> dict[str, list[float]]:
    """MB of HTML of every map each app page sends (AppTest, ``st_folium`` replaced).

    Each page in ``app.PAGES`` runs once on ``data_dir`` with its default
    widgets; every map it passes to ``st_folium`` is rendered with
    ``get_root().render()``, the document streamlit-folium builds its payload from.
    """
    from unittest import mock

    from streamlit.testing.v1 import AppTest

    from benchmarks.bench_pages import pages

    sizes: dict[str, list[float]] = {}
    for script in pages():
        got: list[float] = []

        def fake(m, got=got, **kw):
            got.append(len(m.get_root().render().encode("utf-8")) / 1e6)
            return {}

        with mock.patch.dict(os.environ, {"GRIDMAP_DATA_DIR": str(data_dir)}), \
                mock.patch("streamlit_folium.st_folium", fake):
            at = AppTest.from_file(str(ROOT / script), default_timeout=1800)
            at.session_state["ws.lang"] = "en"
            at.run()
        if at.exception:
            raise RuntimeError(f"{script} failed on {data_dir}: {at.exception[0].message}")
        sizes[Path(script).stem] = got
    return sizes


def run(quick: bool) -> list[dict]:
    use_local_assets()
    rows = []
    scale = "small" if quick else "city"
    for page, mbs in _page_payloads(_district(scale)).items():
        rows.append({
            "case": f"map HTML payload of the {page} page, demo {scale}",
            "maps": len(mbs),
            "ours_html_mb": round(max(mbs), 2) if mbs else 0.0,
            "target_mb": PAYLOAD_TARGET_MB,
            "meets_target": all(mb < PAYLOAD_TARGET_MB for mb in mbs),
        })
    for scale in (["small"] if quick else ["default", "city"]):
        grids, cameras, incidents = _load(_district(scale))
        # warm-up (numba compilation, caches), not timed
        ours(grids.head(50), cameras.head(200), incidents.head(1000))
        peer(grids.head(50), cameras.head(200), incidents.head(1000))

        t0 = time.perf_counter()
        html_ours, held = ours(grids, cameras, incidents)
        t_ours = time.perf_counter() - t0
        t0 = time.perf_counter()
        html_peer, peer_held = peer(grids, cameras, incidents)
        t_peer = time.perf_counter() - t0

        # agreement
        counts_ours, counts_peer = held["counts"], peer_held["counts"]
        on_edges = int(counts_ours.sum() - counts_peer.sum())
        agree = (
            held["grid_features"] == len(grids)
            and int(camera_points(cameras, lang="en")["n_cameras"].sum()) == len(cameras)
            and int(counts_ours.sum()) <= len(incidents)
            and bool(np.all(counts_ours >= counts_peer))
            and on_edges >= 0
        )
        draw = _draw_times({
            "ours.html": (html_ours, 2 * len(grids)),
            "peer.html": (html_peer, 2 * len(grids) + len(cameras)),
        })
        rows.append({
            "case": f"overview map, demo {scale}: {len(grids):,} grids, "
                    f"{len(cameras):,} cameras, {len(incidents):,} incidents",
            "ours_build_s": round(t_ours, 3),
            "peer_build_s": round(t_peer, 3),
            "build_ratio": round(t_peer / t_ours, 2),
            "ours_html_mb": round(len(html_ours.encode()) / 1e6, 2),
            "peer_html_mb": round(len(html_peer.encode()) / 1e6, 2),
            "size_ratio": round(len(html_peer) / len(html_ours), 2),
            "ours_internet_urls": len(external_urls(html_ours)),
            "peer_internet_urls": len(external_urls(html_peer)),
            "ours_draw_s": round(draw["ours.html"], 2) if draw else None,
            "peer_draw_s": round(draw["peer.html"], 2) if draw else None,
            "draw_ratio": round(draw["peer.html"] / draw["ours.html"], 2) if draw else None,
            "incidents_on_shared_edges": on_edges,
            "agree": agree,
        })
    return rows
