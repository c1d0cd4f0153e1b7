"""The workspace's district (:class:`gridmap.district.District`), built once per data folder.

The Overview and Report pages share it: camera density, the closed-loop state
of every incident and the residents per grid are computed once per data folder
(``st.cache_resource``, read-only) and reused by both pages and every language.
"""

from __future__ import annotations

import streamlit as st

from app_pages._workspace import DemoData, Workspace, population_path
from gridmap.district import District

__all__ = ["district"]


@st.cache_resource(show_spinner=False, max_entries=4)
def _district(_data: DemoData, data_key: str, population: str | None) -> District:
    return District(_data.grids, _data.cameras, _data.incidents, streets=_data.streets,
                    communities=_data.communities, population=population)


def district(ws: Workspace, data: DemoData) -> District:
    """The district of the loaded layers; residents from the population raster when there is one."""
    pop = population_path(ws)
    return _district(data, ws.data_key, str(pop) if pop.exists() else None)
