"""Time until every app page is interactive, in headless Chromium with the internet blocked.

For the ``default`` and ``city`` demo districts (``--quick``: ``small``) the app
is started as ``./run app`` starts it (``python serve.py``: the app's modules
are imported before Streamlit takes over, and once the server answers every
page is run once in the background so its analyses are cached — the
warm-up) against the district (``GRIDMAP_DATA_DIR``). When the warm-up is
done, every page listed in ``app.PAGES`` is opened by its URL in a new tab (a
new Streamlit session) of one browser profile, as a planner's browser would:
after the very first visit, Streamlit's JavaScript comes from the browser
cache. ``cold_browser_s`` times one more visit of the Overview in a fresh
profile (empty cache). A page counts as interactive when Streamlit reports
the script ``notRunning`` with every element drawn (no skeleton left, the
title shown) and, on pages with a map, the map iframe's Leaflet container is
visible with its first layer element (path, marker or image overlay) attached.

Three rounds are timed: round 1 is each page's first visit (the Overview,
opened first, in an empty browser cache), rounds 2 and 3 are later visits
(the median is reported). The server is then restarted with the warm-up off
(``GRIDMAP_WARMUP=0``) and each page visited once more in a new profile:
``first_visit_without_warm_up_s`` includes computing the page's analyses
(the layers themselves come from the layer cache of an earlier start, see
``bench_ingest`` for a first read). The internet is blocked at the network
level, not by Playwright's request routing (which turns the HTTP cache off);
requests that tried to leave the machine are counted. Targets (issue 7): 3 s
on the default district, 10 s at city scale. There is no peer: ``explore()``
has no app; ``bench_app`` compares the overview map with ``explore()``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

from benchmarks.bench_app import _district
from serve import page_scripts

ROOT = Path(__file__).resolve().parents[1]
MAP_FRAME = "iframe[title='streamlit_folium.st_folium']"
TARGET_S = {"small": 3.0, "default": 3.0, "city": 10.0}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
LOCAL = ("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:", "about:")
READY_JS = """() => {
    const app = document.querySelector('[data-test-script-state]');
    return app && app.dataset.testScriptState === 'notRunning'
        && !document.querySelector('[data-testid="stSkeleton"]')
        && document.querySelector('h1') !== null;
}"""
DRAWN = "path.leaflet-interactive, .leaflet-marker-icon, .leaflet-image-layer, .marker-cluster"


def pages() -> list[str]:
    """Page scripts listed in ``app.PAGES``."""
    return page_scripts()

def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(data_dir: Path, log: Path, *, warm_up: bool = True) -> tuple[subprocess.Popen, str]:
    """Start the app (``serve.py``) on a free port against ``data_dir``; wait for health."""
    port = _free_port()
    env = {**os.environ, "GRIDMAP_DATA_DIR": str(data_dir), "GRIDMAP_WARMUP": str(int(warm_up))}
    env.pop("TIANDITU_KEY", None)
    env.pop("GRIDMAP_PASSWORD", None)
    with log.open("wb") as fh:
        proc = subprocess.Popen(
            [sys.executable, "serve.py", "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1",
             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
            cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.read().decode().strip() == "ok":
                    return proc, url
        except OSError:
            pass
        if time.monotonic() > deadline:
            proc.terminate()
            raise RuntimeError(f"streamlit did not answer on {url}:\n{log.read_text()}")
        time.sleep(0.5)


def wait_warm_up(proc: subprocess.Popen, log: Path, timeout_s: float = 900) -> None:
    """Wait for ``serve.py``'s warm-up to finish (its "warm-up done" line)."""
    t0 = time.monotonic()
    while "gridmap: warm-up done" not in log.read_text(encoding="utf-8", errors="replace"):
        if proc.poll() is not None or time.monotonic() - t0 > timeout_s:
            raise RuntimeError(f"the warm-up did not finish:\n{log.read_text()}")
        time.sleep(0.2)


def stop_app(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=20)


# The internet is blocked at the network level (every non-loopback request goes to a
# closed proxy port, every host name fails to resolve) rather than by Playwright's
# request routing: routing turns the browser's HTTP cache off and passes every
# request through the test process, which would time Playwright, not the app.
NO_INTERNET = {"server": "http://127.0.0.1:9", "bypass": "127.0.0.1,localhost"}
NO_DNS = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost"


def launch(pw, chromium: str):
    """Headless Chromium that cannot reach anything but this machine."""
    return pw.chromium.launch(executable_path=chromium, args=[*CHROMIUM_ARGS, NO_DNS],
                              proxy=NO_INTERNET)


def new_profile(browser, external: list[str] | None = None):
    """A browser context (profile); requests that leave localhost are listed in ``external``."""
    ctx = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 1000})
    if external is not None:
        ctx.on("request", lambda r: None if r.url.startswith(LOCAL) else external.append(r.url))
    return ctx


def time_page(ctx, url: str, timeout_ms: int) -> tuple[float, int]:
    """Seconds until the page at ``url``, opened in a new tab of ``ctx``, is interactive
    (see the module docstring), and its number of maps."""
    page = ctx.new_page()
    try:
        t0 = time.perf_counter()
        page.goto(url, timeout=timeout_ms)
        page.wait_for_function(READY_JS, timeout=timeout_ms, polling=50)
        ready = time.perf_counter() - t0
        # a map's iframe may be mounted a moment after the script ends
        n_maps = page.locator(MAP_FRAME).count()
        waited = 0
        while n_maps == 0 and waited < 1000:
            page.wait_for_timeout(100)
            waited += 100
            n_maps = page.locator(MAP_FRAME).count()
        if n_maps == 0:
            return ready, 0
        for i in range(n_maps):
            frame = page.frame_locator(MAP_FRAME).nth(i)
            frame.locator(".leaflet-container").wait_for(state="visible", timeout=timeout_ms)
            frame.locator(DRAWN).first.wait_for(state="attached", timeout=timeout_ms)
        return time.perf_counter() - t0, n_maps
    finally:
        page.close()


def _chromium() -> str | None:
    path = os.environ.get("GRIDMAP_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    return path if Path(path).exists() else None


def _fill_layer_cache(data_dir: Path) -> None:
    """Make sure the data folder's layer cache exists, as after the app's first start.

    Round 1 is then a server *restart* on known files; the one-time check of new
    files is timed by ``bench_ingest`` (a million incidents: ~5 s).
    """
    from gridmap.layercache import read_layer_cached

    for name, kind in (("cameras.csv", "cameras"), ("incidents.parquet", "incidents"),
                       ("places.csv", "places")):
        if (data_dir / name).exists():
            read_layer_cached(data_dir / name, kind=kind)


def measure(scale: str, *, rounds: int = 3) -> list[dict]:
    """Every page's time to interactive on the ``scale`` demo district."""
    chromium = _chromium()
    if chromium is None:
        return [{"case": f"app pages, demo {scale}", "skipped": "no Chromium installed"}]
    from playwright.sync_api import sync_playwright

    data_dir = _district(scale)
    _fill_layer_cache(data_dir)
    scripts = pages()
    tmp = Path(tempfile.mkdtemp(prefix="bench-pages-"))
    timeout_ms = 600_000
    times: dict[str, list[float]] = {s: [] for s in scripts}
    unwarmed: dict[str, float] = {}
    maps: dict[str, int] = {}
    external: list[str] = []

    def visit_all(ctx, url: str, out: dict) -> None:
        for i, script in enumerate(scripts):
            t, maps[script] = time_page(ctx, url if i == 0 else f"{url}/{Path(script).stem}",
                                        timeout_ms)
            out.setdefault(script, []).append(t)

    try:
        with sync_playwright() as pw:
            browser = launch(pw, chromium)
            # 1. as `./run app` runs: the server warms every page up, then planners arrive
            t_server = time.perf_counter()
            proc, url = start_app(data_dir, tmp / "streamlit.log")
            server_s = time.perf_counter() - t_server
            try:
                wait_warm_up(proc, tmp / "streamlit.log")
                warm_s = time.perf_counter() - t_server
                ctx = new_profile(browser, external)
                for _ in range(rounds):
                    visit_all(ctx, url, times)
                ctx.close()
                cold = new_profile(browser, external)
                cold_s = time_page(cold, url, timeout_ms)[0]
                cold.close()
            finally:
                stop_app(proc)
            # 2. without the warm-up (GRIDMAP_WARMUP=0): each page's first visit computes
            proc, url = start_app(data_dir, tmp / "streamlit-nowarm.log", warm_up=False)
            try:
                ctx = new_profile(browser, external)
                once: dict[str, list[float]] = {}
                visit_all(ctx, url, once)
                unwarmed = {k: v[0] for k, v in once.items()}
                ctx.close()
            finally:
                stop_app(proc)
            browser.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    target = TARGET_S[scale]
    rows = []
    for script in scripts:
        first, later = times[script][0], float(np.median(times[script][1:]))
        rows.append({
            "case": f"app page {Path(script).stem}, demo {scale}",
            "maps": maps[script],
            "first_visit_s": round(first, 2),
            "later_visits_s": round(later, 2),
            "first_visit_without_warm_up_s": round(unwarmed[script], 2),
            "target_s": target,
            "meets_target": bool(max(first, later) <= target),
        })
    rows.append({"case": f"app server start to health, demo {scale}",
                 "server_start_s": round(server_s, 2),
                 "server_start_to_warm_up_done_s": round(warm_s, 2)})
    rows.append({"case": f"app overview in a fresh browser profile (empty cache), demo {scale}",
                 "cold_browser_s": round(cold_s, 2)})
    rows.append({"case": f"app requests that tried to leave this machine, demo {scale}",
                 "external_requests": len(external), "examples": sorted(set(external))[:5]})
    return rows


def run(quick: bool) -> list[dict]:
    rows: list[dict] = []
    for scale in (["small"] if quick else ["default", "city"]):
        rows.extend(measure(scale))
    return rows
