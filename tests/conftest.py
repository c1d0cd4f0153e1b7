"""Shared fixtures.

``realdata`` points at the shared folder of real public files beside the
project (``../shared/realdata``); tests that use it are skipped, with the
reason, when it is absent. ``demo_small`` is a folder holding the small
synthetic demo district (see ``gridmap.demo``), generated once per session.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

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
