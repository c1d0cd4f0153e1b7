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
