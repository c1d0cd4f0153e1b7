"""Importing any gridmap module loads neither streamlit nor folium (the library stays headless)."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import gridmap

FORBIDDEN = ("streamlit", "folium", "streamlit_folium", "branca")


def test_no_ui_library_imported_by_any_gridmap_module():
    names = sorted(m.name for m in pkgutil.walk_packages(gridmap.__path__, prefix="gridmap.")
                   if not m.name.endswith("__main__"))  # running the CLI is not importing
    assert "gridmap.ingest" in names
    assert "gridmap.cli.check" in names
    code = (
        "import importlib, json, sys\n"
        f"names = {names!r}\n"
        "failed = {}\n"
        "for name in names:\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except ImportError as exc:\n"
        "        failed[name] = str(exc)\n"
        f"loaded = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})\n"
        "print(json.dumps({'loaded': loaded, 'failed': failed}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["failed"] == {}
    assert result["loaded"] == []
