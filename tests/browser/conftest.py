"""Fixtures of the browser tests: a real app server and headless Chromium, offline.

* ``app_data`` generates the small demo district into a temporary folder.
* ``app_url`` starts the app (``serve.py``, as ``./run app`` does) on a free
  localhost port against it
  (``GRIDMAP_DATA_DIR``), waits for ``/_stcore/health`` and stops it afterwards.
* ``browser`` launches Debian's Chromium (``/usr/bin/chromium``; never a
  downloaded browser) through Playwright.
* ``offline_page(locale)`` opens a page that blocks every request leaving
  localhost and records console errors, page errors and blocked URLs; the test
  ends with ``watch.assert_clean()``.
* ``screenshot(page, name)`` saves ``test-artifacts/<name>.png`` (gitignored).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
XSS_ID = "<img src=x onerror=alert(1)>"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}


def _chromium() -> str:
    path = os.environ.get("GRIDMAP_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail(
            f"Chromium not found at {path}: install Debian's package (`apt-get install chromium`, "
            "done by `./run test`) or set GRIDMAP_CHROMIUM."
        )
    return path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def app_data(tmp_path_factory) -> Path:
    """The small demo district, generated once per session.

    Its first camera is renamed to :data:`XSS_ID`, an HTML payload that must
    reach the page only as text.
    """
    import pandas as pd

    from gridmap import demo

    path = tmp_path_factory.mktemp("browser") / "demo"
    demo.generate(path, scale="small", seed=0)
    cameras = pd.read_csv(path / "cameras.csv", dtype=str, keep_default_na=False)
    cameras.loc[0, "camera_id"] = XSS_ID
    cameras.to_csv(path / "cameras.csv", index=False)
    return path


@pytest.fixture(scope="session")
def app_url(app_data: Path, tmp_path_factory) -> Iterator[str]:
    """URL of a running app server on the small demo district."""
    from layers.assets import missing_files

    missing = missing_files(ROOT / "static" / "vendor")
    if missing:
        pytest.fail(
            f"static/vendor lacks {missing[:3]}...: run `npm ci && python -m layers.assets "
            "--vendor node_modules --out static/vendor` (done by `./run test`)."
        )
    port = _free_port()
    env = {**os.environ, "GRIDMAP_DATA_DIR": str(app_data)}
    env.pop("TIANDITU_KEY", None)
    log_path = tmp_path_factory.mktemp("server") / "streamlit.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable, "serve.py",  # as `./run app` starts it
                "--server.headless", "true", "--server.port", str(port),
                "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
                "--server.fileWatcherType", "none",
            ],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                pytest.fail(f"streamlit exited with {proc.returncode}:\n{log_path.read_text()}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                    if resp.read().decode().strip() == "ok":
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit did not answer on {url}:\n{log_path.read_text()}")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@dataclass
class Watch:
    """What a page did that a test must see: errors and requests leaving localhost."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        """No request left localhost or failed, no console error, no uncaught page error."""
        assert self.blocked == [], f"requests to the internet: {self.blocked}"
        assert self.failed == [], f"failed requests: {self.failed}"
        assert self.page_errors == [], f"page errors: {self.page_errors}"
        assert self.console_errors == [], f"console errors: {self.console_errors}"


def _is_local(url: str) -> bool:
    parsed = urlparse(url)
    if parsed.scheme in ("data", "blob", "about"):
        return True
    return parsed.hostname in LOCAL_HOSTS


@pytest.fixture
def offline_page(browser) -> Iterator[Callable]:
    """Factory: ``page, watch = offline_page("en-US")``; every non-localhost request is blocked."""
    contexts = []

    def open_page(locale: str = "en-US"):
        ctx = browser.new_context(locale=locale, viewport={"width": 1400, "height": 1250})
        contexts.append(ctx)
        watch = Watch()

        def route(r):
            if _is_local(r.request.url):
                r.continue_()
            else:
                watch.blocked.append(r.request.url)
                r.abort()

        ctx.route("**/*", route)
        page = ctx.new_page()
        page.on("console", lambda m: watch.console_errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: watch.page_errors.append(str(e)))
        page.on("response", lambda r: watch.failed.append(f"{r.status} {r.url}")
                if r.status >= 400 else None)
        return page, watch

    yield open_page
    for ctx in contexts:
        ctx.close()


@pytest.fixture
def screenshot() -> Callable:
    """Factory: ``screenshot(page, name)`` saves test-artifacts/<name>.png."""

    def save(page, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save
