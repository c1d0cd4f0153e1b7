"""One-network overview (一张网总览): grids, camera points and incidents per grid on one map."""

from __future__ import annotations

import folium
import numpy as np
import pandas as pd
import streamlit as st

from app_pages._district import district
from app_pages._workspace import (
    DemoData,
    Workspace,
    current,
    load,
    new_map,
    render_map,
    show_table,
)
from gridmap import GridmapError
from gridmap.assign import assign_points
from gridmap.district import District, grid_parents, parent_units, ranking_table
from gridmap.i18n import register, tr
from layers.base import to_display
from layers.cameras import camera_layer
from layers.grids import boundary_layer, grid_layer, simplify_for_display, unit_outlines
from layers.incidents import incident_layer

register({
    "overview.rankings": {"zh": "定量化考核排名", "en": "Rankings (定量化考核)"},
    "overview.rank.street": {"zh": "街道", "en": "Streets"},
    "overview.rank.community": {"zh": "社区", "en": "Communities"},
    "overview.rank_help": {
        "zh": "得分 = 100 × 加权平均（密度完成率 0.3、结案率 0.3、1 − 超期占比 0.2、每千人事件数 0.2，"
              "无人口数据时不含后者）；少于 5 的事件数不公开（标 * 者为免由合计推算而不公开）。"
              "详见区县报告的方法说明。",
        "en": "Score = 100 × weighted mean of density completion (0.3), closure rate (0.3), "
              "1 − overdue share (0.2) and incidents per 1,000 residents (0.2, left out without "
              "residents); incident counts below 5 are not published (* marks a count withheld "
              "so that a total cannot reveal one). The district report "
              "explains the method.",
    },
})


@st.cache_resource(show_spinner=False, max_entries=8)
def display_grids(_data: DemoData, data_key: str, datum: str):
    """Grids simplified (seamless) and shifted to the display datum."""
    return to_display(simplify_for_display(_data.grids, tolerance_m=5.0), datum)


@st.cache_resource(show_spinner=False, max_entries=8)
def display_cameras(_data: DemoData, data_key: str, datum: str):
    """Cameras shifted to the display datum."""
    return to_display(_data.cameras, datum)


@st.cache_resource(show_spinner=False, max_entries=8)
def display_outlines(_data: DemoData, data_key: str, datum: str, by: str):
    """Street or community outlines dissolved from the displayed grids."""
    return unit_outlines(display_grids(_data, data_key, datum), by)


@st.cache_data(show_spinner=False, max_entries=8)
def incident_counts(_data: DemoData, data_key: str) -> tuple[np.ndarray, int]:
    """Incidents per grid (aligned with the grids) and the number outside every grid."""
    a = assign_points(_data.incidents, _data.grids)
    return a.counts().to_numpy(), a.n_outside


def key_figures(data: DemoData) -> dict[str, int]:
    """The overview's key figures, by i18n key."""
    grids, cams = data.grids, data.cameras
    streets = (
        len(data.streets) if data.streets is not None
        else grids["street_code"].nunique() if "street_code" in grids else 0
    )
    communities = (
        len(data.communities) if data.communities is not None
        else grids["community_code"].nunique() if "community_code" in grids else 0
    )
    points = cams["point_id"].nunique() if "point_id" in cams else len(cams)
    return {
        "fig.grids": len(grids),
        "fig.streets": int(streets),
        "fig.communities": int(communities),
        "fig.camera_points": int(points),
        "fig.cameras": len(cams),
        "fig.incidents": len(data.incidents),
    }


def district_tables(ws: Workspace, data: DemoData) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """The district key figures and the published street/community rankings, in ``ws.lang``.

    The district (density, closed-loop state, residents per grid) is computed once per
    data folder and shared with the Report page (:func:`app_pages._district.district`).
    """
    return _district_tables(district(ws, data), ws.data_key, ws.lang)


@st.cache_data(show_spinner=False, max_entries=8)
def _district_tables(_d: District, data_key: str, lang: str):
    ranks = {by: ranking_table(_d.ranking(by), lang=lang, within=parent_units(_d.grids, by))
             for by in ("street", "community") if f"{by}_code" in _d.grids.columns}
    return _d.figures().table(lang), ranks


def build_map(ws: Workspace, data: DemoData, colour_by: str) -> folium.Map:
    """The one-network map: grids, camera points (clustered), incidents per grid."""
    grids = display_grids(data, ws.data_key, ws.datum)
    cameras = display_cameras(data, ws.data_key, ws.datum)
    counts, _ = incident_counts(data, ws.data_key)
    m = new_map(ws, grids.total_bounds)
    # grids and the outlines of their street/community, switched on and off together
    polygons, grid_legend = grid_layer(
        grids, color_by=colour_by, lang=ws.lang,
        street_names=data.street_names, community_names=data.community_names,
    )
    group = folium.FeatureGroup(name=tr("layer.grids", ws.lang))
    polygons.add_to(group)
    if colour_by in grids.columns:
        boundary_layer(display_outlines(data, ws.data_key, ws.datum, colour_by)).add_to(group)
    for layer, leg in (
        (group, grid_legend.follow(group)),
        # the rankings publish each community's (or street's) incidents: protect those totals
        incident_layer(grids, counts, lang=ws.lang, show=False, geometry_from=polygons,
                       within=grid_parents(grids)),
        camera_layer(cameras, lang=ws.lang),
    ):
        layer.add_to(m)
        leg.add_to(m)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    return m


def main() -> None:
    ws = current()
    lang = ws.lang
    st.title(tr("overview.title", lang))
    if ws.synthetic:
        st.info(tr("demo.label", lang), icon=":material/science:")
    try:
        data = load(ws)
    except GridmapError as exc:
        st.error(tr("ws.load_error", lang, error=str(exc)))
        return
    figures = key_figures(data)
    for col, (key, value) in zip(st.columns(len(figures)), figures.items(), strict=True):
        col.metric(tr(key, lang), f"{value:,}")
    # filled after the map is drawn: the district figures take longer on a first visit
    figures_box = st.container()
    colour_by = st.radio(
        tr("overview.colour_by", lang), ["street_code", "community_code"],
        key="overview.colour_by", horizontal=True,
        format_func=lambda k: tr("overview.by_street" if k == "street_code"
                                 else "overview.by_community", lang),
    )
    try:
        m = build_map(ws, data, colour_by)
    except GridmapError as exc:
        st.error(str(exc))
        return
    render_map(m, key="overview.map")
    st.caption(tr("overview.map_help", lang))
    _, outside = incident_counts(data, ws.data_key)
    if outside:
        st.caption(tr("overview.outside", lang, n=f"{outside:,}"))
    with figures_box:
        district_section(ws, data)


def district_section(ws: Workspace, data: DemoData) -> None:
    """The district key figures and the rankings of streets and communities."""
    lang = ws.lang
    try:
        table, ranks = district_tables(ws, data)
    except GridmapError as exc:  # e.g. incidents without report times: figures unavailable
        st.info(str(exc))
        return
    with st.expander(tr("district.sec.figures", lang), expanded=True):
        show_table(table, lang, width="stretch")
    if ranks:
        with st.expander(tr("overview.rankings", lang)):
            tabs = st.tabs([tr(f"overview.rank.{by}", lang) for by in ranks])
            for tab, frame in zip(tabs, ranks.values(), strict=True):
                with tab:
                    show_table(frame, lang, width="stretch")
            st.caption(tr("overview.rank_help", lang))


main()
