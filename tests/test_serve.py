"""serve.py: the launcher preloads exactly the project modules the app imports."""

from __future__ import annotations

import ast
import importlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import serve  # noqa: E402


def test_app_imports_lists_modules_the_pages_import(tmp_path):
    (tmp_path / "app_pages").mkdir()
    (tmp_path / "app.py").write_text("import streamlit as st\nfrom gridmap.i18n import tr\n",
                                     encoding="utf-8")
    (tmp_path / "app_pages" / "p.py").write_text(
        "import numpy\nfrom layers.base import esc\nfrom gridmap import district, GridmapError\n"
        "import streamlit_folium\n", encoding="utf-8")
    got = serve.app_imports(tmp_path)
    # modules only: GridmapError and esc/tr are names inside modules; numpy/streamlit are
    # not the project's
    # streamlit_folium is left to Streamlit: its component must be declared at run time
    assert got == ["gridmap", "gridmap.district", "gridmap.i18n", "layers.base"]


def test_every_project_module_imported_by_the_real_pages_is_listed():
    listed = set(serve.app_imports())
    for script in [ROOT / "app.py", *(ROOT / "app_pages").glob("*.py")]:
        for node in ast.walk(ast.parse(script.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 \
                    and node.module.split(".")[0] in ("gridmap", "layers", "app_pages"):
                assert node.module in listed, (script.name, node.module)
    for name in listed:
        assert importlib.import_module(name).__name__ == name


def test_page_paths_follow_app_pages():
    import re

    listed = re.findall(r'Page\("(app_pages/\w+\.py)"', (ROOT / "app.py").read_text("utf-8"))
    assert len(listed) == 7
    assert serve.page_scripts() == listed
    assert all((ROOT / script).is_file() for script in listed)
    stems = [Path(p).stem for p in listed]
    assert stems[0] == "overview"
    assert serve.page_paths() == ["", *stems[1:]]  # the first page is the default one


def test_warm_up_is_skipped_when_off_or_behind_sign_in(monkeypatch):
    monkeypatch.delenv("GRIDMAP_PASSWORD", raising=False)
    monkeypatch.setenv("GRIDMAP_WARMUP", "1")
    assert serve.warm_up_wanted() is None
    monkeypatch.setenv("GRIDMAP_WARMUP", "0")
    assert "GRIDMAP_WARMUP" in serve.warm_up_wanted()
    monkeypatch.setenv("GRIDMAP_WARMUP", "1")
    monkeypatch.setenv("GRIDMAP_PASSWORD", "s3cret")
    assert "sign-in" in serve.warm_up_wanted()


def test_a_page_that_cannot_be_opened_is_reported_and_skipped():
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    said: list[str] = []
    done = serve.warm_up(f"http://127.0.0.1:{port}", ["", "events"], log=said.append)
    assert done == {}
    assert len(said) == 2
    assert "'(default)' failed" in said[0]
    assert "'events' failed" in said[1]
    assert all("computes on its first visit" in line for line in said)


def test_server_warms_up_every_page_and_reports_page_errors(app_data_dir, tmp_path):
    """The launcher runs every page once at start (no page shows an error on the demo);
    on a data folder without a district each page's error reaches the server log.
    The server is started as the page benchmark starts it (``serve.py``, warm-up on)."""
    from benchmarks.bench_pages import start_app, stop_app, wait_warm_up

    log = tmp_path / "serve.log"
    proc, url = start_app(app_data_dir, log)
    try:
        wait_warm_up(proc, log, timeout_s=240)
        out = log.read_text(encoding="utf-8", errors="replace")
        assert "warm-up done: 7 of 7 pages run" in out, out
        assert "showed an error" not in out, out
        assert "failed" not in out, out
        # the same client, by hand: one page, its time and no errors
        seconds, errors = serve.open_page(url, "events")
        assert seconds > 0
        assert errors == []
    finally:
        stop_app(proc)

    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "notes.txt").write_text("not a district", encoding="utf-8")
    log2 = tmp_path / "serve2.log"
    proc, _ = start_app(broken, log2)
    try:
        wait_warm_up(proc, log2, timeout_s=240)
        out = log2.read_text(encoding="utf-8", errors="replace")
        errors = [line for line in out.splitlines() if "showed an error" in line]
        # every page that reads the district says what is missing (the data page reads
        # only this session's uploads)
        pages = {line.split("page ")[1].split(" ")[0].strip("'") for line in errors}
        assert pages == {"(default)", "grids", "heatmaps", "events", "cameras", "report"}, out
        assert all("GRIDMAP_DATA_DIR" in line for line in errors), errors
    finally:
        stop_app(proc)
