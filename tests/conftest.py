"""Shared fixtures.

``realdata`` points at the shared folder of real public files beside the
project (``../shared/realdata``); tests that use it are skipped, with the
reason, when it is absent. ``demo_small`` is a folder holding the small
synthetic demo district (see ``gridmap.demo``), generated once per session.

``app_page`` builds an ``AppTest`` of one page of ``app_pages/`` reading a copy
of the small demo (``app_data_dir``, one copy per test module), with
``streamlit_folium.st_folium`` replaced by a stub that records the maps.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
REALDATA = Path(os.environ.get("GRIDMAP_REALDATA", ROOT.parent / "shared" / "realdata"))


@pytest.fixture(scope="session")
def realdata() -> Path:
    """The shared real-data folder; skip when it is not beside the project."""
    if not REALDATA.is_dir():
        pytest.skip(f"real data folder {REALDATA} is absent (set GRIDMAP_REALDATA to use it)")
    return REALDATA


@pytest.fixture(scope="session")
def demo_small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folder holding the small synthetic demo district (seed 0), generated once per session."""
    from gridmap.demo import generate

    out = tmp_path_factory.mktemp("demo_small")
    generate(out, scale="small", seed=0)
    return out


@pytest.fixture(scope="module")
def app_data_dir(demo_small: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the small demo for one test module's app pages to read (and write to)."""
    dst = tmp_path_factory.mktemp("app") / "data"
    shutil.copytree(demo_small, dst)
    return dst


@pytest.fixture
def app_page(app_data_dir: Path,
             monkeypatch: pytest.MonkeyPatch) -> Callable[..., tuple[AppTest, dict[str, Any]]]:
    """Factory: ``app_page("events.py", lang="en") -> (at, state)``, not yet run.

    The page reads ``app_data_dir`` (``GRIDMAP_DATA_DIR``). Each call of the
    stubbed ``st_folium`` appends the rendered map HTML to ``state["maps"]``
    and sets ``state["html"]`` to it (``render=False`` skips rendering); it
    returns ``state["out"]`` when ``map_out`` was given (the test may replace
    it to simulate clicks), else an empty dict.
    """
    from streamlit.testing.v1 import AppTest

    def make(script: str, *, lang: str = "en", map_out: dict | None = None,
             render: bool = True) -> tuple[AppTest, dict[str, Any]]:
        monkeypatch.setenv("GRIDMAP_DATA_DIR", str(app_data_dir))
        if str(ROOT) not in sys.path:
            monkeypatch.syspath_prepend(str(ROOT))
        state: dict[str, Any] = {"maps": []}
        if map_out is not None:
            state["out"] = map_out

        def fake(m: Any, **kw: Any) -> dict:
            if render:
                state["html"] = m.get_root().render()
                state["maps"].append(state["html"])
            return state.get("out", {})

        monkeypatch.setattr("streamlit_folium.st_folium", fake)
        at = AppTest.from_file(str(ROOT / "app_pages" / script), default_timeout=180)
        at.session_state["ws.lang"] = lang
        return at, state

    return make


@pytest.fixture
def downloads(monkeypatch) -> list[tuple[str, object, dict]]:
    """Every ``st.download_button`` call: (label, data, options); the button still renders."""
    calls: list[tuple[str, object, dict]] = []
    import streamlit

    original = streamlit.download_button

    def record(label, data, *args, **kw):
        calls.append((label, data, kw))
        return original(label, data, *args, **kw)

    monkeypatch.setattr(streamlit, "download_button", record)
    return calls
