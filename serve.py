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

Once the server answers, a background thread opens every page once, as a
browser would, over the app's own websocket (:func:`warm_up`): each page's
analyses of the configured data folder are then cached before the first
planner arrives, and a first visit is as quick as a later one. It is skipped
when sign-in is on (the pages stop at the sign-in form) or when
``GRIDMAP_WARMUP=0``. A session's own uploads are computed when its pages
are first opened.
"""

from __future__ import annotations

import ast
import importlib
import os
import sys
import threading
import time
import urllib.request
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


def page_scripts(root: Path = ROOT) -> list[str]:
    """Page scripts listed in ``app.PAGES``, in order (read from the source: importing
    app.py would run it)."""
    tree = ast.parse((root / "app.py").read_text(encoding="utf-8"))
    return [node.args[0].value for node in ast.walk(tree)
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Page"
            and node.args and isinstance(node.args[0], ast.Constant)]


def page_paths(root: Path = ROOT) -> list[str]:
    """URL path of every page in ``app.PAGES``, ``""`` for the first (the default page)."""
    names = [Path(script).stem for script in page_scripts(root)]
    return ["", *names[1:]] if names else []


def open_page(base_url: str, name: str, *, locale: str = "zh-CN",
              timeout: float = 900.0) -> tuple[float, list[str]]:
    """Run page ``name`` (a URL path; ``""``: the default page) once in a new session, as a
    browser would; wait for it to finish.

    Speaks Streamlit's own protocol over ``<base_url>/_stcore/stream``: one
    ``rerun_script`` request, then messages until ``script_finished``.

    Returns
    -------
    seconds, errors
        How long the run took, and the text of every error the page showed
        (``st.error`` or an exception).
    """
    from streamlit.proto.Alert_pb2 import Alert
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ClientState_pb2 import ContextInfo
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from websockets.sync.client import connect

    url = base_url.replace("http", "ws", 1).rstrip("/") + "/_stcore/stream"
    request = BackMsg()
    request.rerun_script.page_name = name
    request.rerun_script.query_string = ""
    request.rerun_script.context_info.CopyFrom(
        ContextInfo(locale=locale, timezone="Asia/Shanghai", url=f"{base_url}/{name}"))
    errors: list[str] = []
    t0 = time.perf_counter()
    with connect(url, subprotocols=["streamlit"], max_size=None, open_timeout=30) as ws:
        ws.send(request.SerializeToString())
        while True:
            left = timeout - (time.perf_counter() - t0)
            if left <= 0:
                raise TimeoutError(f"page {name!r} did not finish within {timeout:.0f} s")
            msg = ForwardMsg.FromString(ws.recv(timeout=left))
            kind = msg.WhichOneof("type")
            if kind == "script_finished":
                return time.perf_counter() - t0, errors
            if kind == "page_not_found":
                raise LookupError(f"the app has no page {name!r}")
            if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                element = msg.delta.new_element
                if element.WhichOneof("type") == "exception":
                    errors.append(f"{element.exception.type}: {element.exception.message}")
                elif element.WhichOneof("type") == "alert" and element.alert.format == Alert.ERROR:
                    errors.append(element.alert.body)  # st.error


def warm_up(base_url: str, names: list[str], *, log=print) -> dict[str, float]:
    """Open every page in ``names`` once (see :func:`open_page`); seconds per page.

    A page that fails is reported through ``log`` and the others still run:
    the app works without a warm-up, only its first visits are slower.
    """
    from websockets.exceptions import WebSocketException

    done: dict[str, float] = {}
    for name in names:
        try:
            seconds, errors = open_page(base_url, name)
        except (OSError, TimeoutError, LookupError, WebSocketException) as exc:
            log(f"gridmap: warm-up of page {name or '(default)'!r} failed ({exc}); "
                "it computes on its first visit")
            continue
        for text in errors:
            log(f"gridmap: warm-up: page {name or '(default)'!r} showed an error: {text}")
        done[name] = seconds
    return done


def _server_url() -> str:
    from streamlit import config

    address = config.get_option("server.address") or "127.0.0.1"
    if address in ("0.0.0.0", "::"):
        address = "127.0.0.1"
    elif ":" in address:
        address = f"[{address}]"  # an IPv6 address in a URL
    base = (config.get_option("server.baseUrlPath") or "").strip("/")
    return f"http://{address}:{config.get_option('server.port')}" + (f"/{base}" if base else "")


def _warm_when_ready(deadline_s: float = 300.0) -> None:
    """Thread body: wait for this process's server to answer, then :func:`warm_up` every page."""
    from streamlit import config
    from streamlit.runtime import Runtime

    t0 = time.monotonic()
    while time.monotonic() - t0 < deadline_s:
        time.sleep(0.5)
        # the runtime exists once the command line's options (the port...) are in force
        if not Runtime.exists():
            continue
        if config.get_option("server.sslCertFile"):
            print("gridmap: warm-up skipped: the server speaks TLS", flush=True)
            return
        try:
            url = _server_url()
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.read().strip() == b"ok":
                    break
        except OSError:
            continue
    else:
        print("gridmap: warm-up skipped: the server did not answer", flush=True)
        return
    t1 = time.perf_counter()
    done = warm_up(url, page_paths(), log=lambda text: print(text, flush=True))
    print(f"gridmap: warm-up done: {len(done)} of {len(page_paths())} pages run in "
          f"{time.perf_counter() - t1:.1f} s; their first visits use the cached results",
          flush=True)


def warm_up_wanted() -> str | None:
    """Why the warm-up is skipped (``None``: it runs)."""
    if os.environ.get("GRIDMAP_WARMUP", "1").strip().lower() in ("0", "false", "no", "off"):
        return "GRIDMAP_WARMUP is off"
    from app_pages._auth import mode

    if mode() != "open":
        return "sign-in is on and the pages stop at the sign-in form"
    return None


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(ROOT))
    seconds = preload(app_imports())
    print(f"gridmap: modules loaded in {seconds:.1f} s; starting the app", flush=True)
    skip = warm_up_wanted()
    if skip:
        print(f"gridmap: warm-up skipped: {skip}", flush=True)
    else:
        threading.Thread(target=_warm_when_ready, name="gridmap-warm-up", daemon=True).start()
    from streamlit.web import cli

    sys.argv = ["streamlit", "run", str(ROOT / "app.py"),
                *(sys.argv[1:] if argv is None else argv)]
    return cli.main()


if __name__ == "__main__":
    sys.exit(main())
