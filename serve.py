"""Start the gridmap app with its modules already imported.

``streamlit run app.py`` imports nothing until the first visitor arrives, so
the first page after a server start also pays for importing geopandas, numba,
scipy, folium and the analysis modules (about 2 s). This launcher imports
every module that ``app.py`` and the page scripts import, then hands over to
Streamlit's own command line in the same process, so the first visitor finds
them loaded. ``./run app`` uses it; any Streamlit flag may follow::

    python serve.py --server.port 8600

The page scripts themselves are not imported (Streamlit runs them per
session); only what they import.
"""

from __future__ import annotations

import ast
import importlib
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
# not streamlit_folium: a component declared before Streamlit's runtime exists is
# registered where the server never looks, and the map iframe stays empty
_OURS = ("gridmap", "layers", "app_pages")


def app_imports(root: Path = ROOT) -> list[str]:
    """Modules of this project imported by ``app.py`` and the pages."""
    names: set[str] = set()
    for script in [root / "app.py", *sorted((root / "app_pages").glob("*.py"))]:
        tree = ast.parse(script.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
                # `from gridmap import district` imports the submodule gridmap.district
                names.update(f"{node.module}.{a.name}" for a in node.names)
            elif isinstance(node, ast.Import):
                names.update(a.name for a in node.names)
    mods = sorted(n for n in names if n.split(".")[0] in _OURS)
    return [m for m in mods if _is_module(m)]


def _is_module(name: str) -> bool:
    """Whether ``name`` is a module or package (not a function or class imported by name)."""
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def preload(modules: list[str]) -> float:
    """Import ``modules``; return the seconds it took."""
    t0 = time.perf_counter()
    for name in modules:
        importlib.import_module(name)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(ROOT))
    seconds = preload(app_imports())
    print(f"gridmap: modules loaded in {seconds:.1f} s; starting the app", flush=True)
    from streamlit.web import cli

    sys.argv = ["streamlit", "run", str(ROOT / "app.py"),
                *(sys.argv[1:] if argv is None else argv)]
    return cli.main()


if __name__ == "__main__":
    sys.exit(main())
