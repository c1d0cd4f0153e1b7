"""Cameras page (视频监控): density against targets, coverage, blind spots, new sites, GB/T 28181.

Reads its widgets → cached :mod:`gridmap.density`, :mod:`gridmap.coverage`,
:mod:`gridmap.placement` and :mod:`gridmap.gb28181` calls → layers from
:mod:`layers.cameras_analysis` and :mod:`layers.cameras` → one map and the tables.
"""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st

from app_pages._workspace import (
    DemoData,
    Workspace,
    current,
    download_table,
    load,
    load_extra,
    new_map,
    render_map,
    require,
    show_table,
)
from gridmap import GridmapError
from gridmap.assign import assign_points
from gridmap.coverage import DORI_PPM, camera_views, coverage
from gridmap.density import DEFAULT_TARGETS, camera_density
from gridmap.gb28181 import check_cameras
from gridmap.i18n import register, tr
from gridmap.placement import candidate_sites, demand_points, place_cameras
from layers.base import to_display
from layers.cameras import camera_layer
from layers.cameras_analysis import blind_spot_layer, compliance_layer, sites_layer, views_layer
from layers.grids import simplify_for_display

register({
    "cameras.title": {"zh": "视频监控", "en": "Cameras"},
    "cameras.intro": {
        "zh": "按网格、社区或街道统计摄像机点位密度并与目标比较；视域、盲区与建议新增点位；"
              "GB/T 28181 编码校验。规划中的摄像机不计入已建。",
        "en": "Camera point density per grid, community or street against targets; views, "
              "blind spots and suggested new sites; GB/T 28181 id check. Planned cameras "
              "never count as built.",
    },
    "cameras.by": {"zh": "统计单元", "en": "Units"},
    "cameras.by.grid": {"zh": "网格", "en": "Grid"},
    "cameras.by.community": {"zh": "社区", "en": "Community"},
    "cameras.by.street": {"zh": "街道", "en": "Street"},
    "cameras.target_urban": {"zh": "城区目标（点位/平方公里）", "en": "Urban target (points/km²)"},
    "cameras.target_rural": {"zh": "农村目标（点位/平方公里）", "en": "Rural target (points/km²)"},
    "cameras.fill": {"zh": "着色", "en": "Colour by"},
    "cameras.fill.status": {"zh": "是否达标", "en": "Met / short"},
    "cameras.fill.completion": {"zh": "完成率", "en": "Completion %"},
    "cameras.level": {"zh": "视距（DORI 等级）", "en": "Range (DORI level)"},
    "cameras.level.data": {"zh": "按数据", "en": "From the data"},
    "cameras.level.detection": {"zh": "探测", "en": "Detection"},
    "cameras.level.observation": {"zh": "观察", "en": "Observation"},
    "cameras.level.recognition": {"zh": "识别", "en": "Recognition"},
    "cameras.level.identification": {"zh": "辨认", "en": "Identification"},
    "cameras.occlusion": {"zh": "建筑物遮挡", "en": "Buildings block views"},
    "cameras.focus": {"zh": "视域与盲区显示范围", "en": "Show views and blind spots for"},
    "cameras.focus.all": {"zh": "全部", "en": "Everything"},
    "cameras.fig.units": {"zh": "达标单元", "en": "Units meeting target"},
    "cameras.fig.density": {"zh": "点位密度（个/平方公里）", "en": "Point density (per km²)"},
    "cameras.fig.completion": {"zh": "总体完成率", "en": "Overall completion"},
    "cameras.fig.shortfall": {"zh": "点位缺口", "en": "Points short"},
    "cameras.fig.covered": {"zh": "视频覆盖率", "en": "Area covered"},
    "cameras.fig.outside": {"zh": "网格外摄像机", "en": "Cameras outside grids"},
    "cameras.tab.density": {"zh": "密度表", "en": "Density table"},
    "cameras.tab.summary": {"zh": "按城乡汇总", "en": "Summary by zone"},
    "cameras.tab.coverage": {"zh": "覆盖情况", "en": "Coverage"},
    "cameras.tab.sites": {"zh": "建议新增点位", "en": "Suggested sites"},
    "cameras.tab.gb": {"zh": "GB/T 28181 校验", "en": "GB/T 28181 check"},
    "cameras.download": {"zh": "下载（CSV）", "en": "Download (CSV)"},
    "cameras.k": {"zh": "新增点位数", "en": "New sites"},
    "cameras.demand": {"zh": "优先覆盖", "en": "Cover first"},
    "cameras.demand.incidents": {"zh": "事件", "en": "Incidents"},
    "cameras.demand.population": {"zh": "人口", "en": "Population"},
    "cameras.suggest": {"zh": "计算建议点位", "en": "Suggest sites"},
    "cameras.suggested": {
        "zh": "{n} 个建议点位，新增覆盖 {pct}% 的未覆盖需求。",
        "en": "{n} suggested sites, covering {pct}% of the demand no camera sees.",
    },
    "cameras.gb_none": {"zh": "未发现编码问题。", "en": "No id problems found."},
    "cameras.gb_devices": {"zh": "设备类型（仅 131/132 计为摄像机）",
                           "en": "Device types (only 131/132 count as cameras)"},
    "cameras.outside_list": {"zh": "网格外的摄像机（未计入）",
                             "en": "Cameras outside every grid (not counted)"},
    "cameras.map_help": {
        "zh": "放大到 16 级以上显示视域；摄像机点位在低缩放级别聚合显示。",
        "en": "Zoom to 16 or closer to see the views; camera points cluster at low zoom.",
    },
})

CELL_M = 5.0  # coverage raster of the page (the CLI defaults to 2 m)
MAX_VIEWS_ALL = 3000  # above this many views, the map shows one street at a time


@st.cache_data(show_spinner=False, max_entries=16)
def density_result(_data: DemoData, data_key: str, by: str, urban: float, rural: float):
    """Density table (EPSG:4326), summary, cameras outside and notes."""
    res = camera_density(_data.cameras, _data.grids, by=by,
                         targets={"urban": urban, "rural": rural})
    return res.table, res.summary, res.outside, res.notes


@st.cache_resource(show_spinner=False, max_entries=8)
def coverage_result(_data: DemoData, _buildings, data_key: str, level: str | None,
                    occlusion: bool):
    """Coverage per grid, views and blind spots (shared, read-only)."""
    return coverage(_data.cameras, _data.grids, level=level,
                    buildings=_buildings if occlusion else None,
                    incidents=_data.incidents, cell_m=CELL_M, min_blind_m2=400.0)


@st.cache_resource(show_spinner=False, max_entries=8)
def display_views(_data: DemoData, _buildings, data_key: str, level: str | None,
                  occlusion: bool, datum: str) -> gpd.GeoDataFrame:
    """View polygons with 5° arcs for the map, in the display datum."""
    views = camera_views(_data.cameras, level=level,
                         buildings=_buildings if occlusion else None, arc_step_deg=5.0)
    return to_display(views, datum)


@st.cache_data(show_spinner=False, max_entries=8)
def gb_check(_data: DemoData, data_key: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """GB/T 28181 findings and device counts."""
    cams, grids = _data.cameras, _data.grids
    if "gb28181_id" not in cams.columns:
        return (pd.DataFrame(columns=["camera_id", "gb28181_id", "finding", "detail"]),
                pd.DataFrame(columns=["device_class", "type_code", "type_name", "count"]))
    district = None
    if "district_code" in grids.columns:
        a = assign_points(cams, grids)
        codes = grids["district_code"].astype("string").to_numpy(dtype=object)
        district = np.where(a.index >= 0, codes[a.index.clip(0)], None)
    return check_cameras(cams, district_codes=district)


@st.cache_data(show_spinner=False, max_entries=8)
def suggest_sites(_data: DemoData, _roads, pop_path: str, data_key: str, k: int,
                  demand_kind: str, level: str | None) -> tuple[gpd.GeoDataFrame, float]:
    """Ranked new sites (EPSG:4326) and the share of unseen demand they cover."""
    cand = candidate_sites(_data.grids, roads=_roads)
    if demand_kind == "population":
        demand, _ = demand_points(_data.grids, population=pop_path)
    else:
        demand, _ = demand_points(_data.grids, incidents=_data.incidents)
    res = place_cameras(_data.cameras, _data.grids, cand, demand, k=k, level=level,
                        site_kind="ptz")
    pct = float(res.sites["cumulative_pct"].iat[-1]) if len(res.sites) else 0.0
    return res.sites, pct


@st.cache_resource(show_spinner=False, max_entries=16)
def display_table(_table: gpd.GeoDataFrame, data_key: str, by: str, urban: float,
                  rural: float, datum: str) -> gpd.GeoDataFrame:
    """Density units simplified and shifted for the map."""
    return to_display(simplify_for_display(_table, tolerance_m=5.0), datum)


def _names(data: DemoData, by: str) -> dict:
    if by == "street":
        return data.street_names
    if by == "community":
        return data.community_names
    if "name" in data.grids.columns:
        return dict(zip(data.grids["grid_id"], data.grids["name"], strict=True))
    return {}


def _focus_mask(frame: gpd.GeoDataFrame, data: DemoData, street: str | None) -> np.ndarray:
    if street is None or data.streets is None:
        return np.ones(len(frame), dtype=bool)
    area = data.streets.loc[data.streets["street_code"] == street].geometry.union_all()
    return frame.to_crs(4326).intersects(area).to_numpy()


def _download(frame: pd.DataFrame, name: str, key: str, lang: str) -> None:
    flat = pd.DataFrame(frame.drop(columns=frame.geometry.name)
                        if isinstance(frame, gpd.GeoDataFrame) else frame)
    download_table(flat, name, lang, key, label=tr("cameras.download", lang))


def main(ws: Workspace) -> None:
    lang = ws.lang
    st.title(tr("cameras.title", lang))
    st.caption(tr("cameras.intro", lang))
    data = load(ws)
    require(data, "cameras", lang=lang)

    c1, c2, c3, c4 = st.columns(4)
    by = c1.selectbox(tr("cameras.by", lang), ["grid", "community", "street"], key="cameras.by",
                      format_func=lambda k: tr(f"cameras.by.{k}", lang))
    urban = c2.number_input(tr("cameras.target_urban", lang), min_value=0.1, max_value=1000.0,
                            value=DEFAULT_TARGETS["urban"], step=5.0, key="cameras.urban")
    rural = c3.number_input(tr("cameras.target_rural", lang), min_value=0.1, max_value=1000.0,
                            value=DEFAULT_TARGETS["rural"], step=1.0, key="cameras.rural")
    fill = c4.radio(tr("cameras.fill", lang), ["status", "completion"], key="cameras.fill",
                    horizontal=True, format_func=lambda k: tr(f"cameras.fill.{k}", lang))
    c5, c6, c7 = st.columns([2, 1, 2])
    level_key = c5.selectbox(tr("cameras.level", lang), ["data", *DORI_PPM], key="cameras.level",
                             format_func=lambda k: tr(f"cameras.level.{k}", lang))
    level = None if level_key == "data" else level_key
    occlusion = c6.checkbox(tr("cameras.occlusion", lang), key="cameras.occlusion")

    table, summary, outside, notes = density_result(data, ws.data_key, by, float(urban),
                                                    float(rural))
    buildings = load_extra(ws, "buildings") if occlusion else None
    cov = coverage_result(data, buildings, ws.data_key, level, occlusion)

    all_rows = summary.set_index("zone").loc["all"]
    grid_area = cov.grids["area_km2"].to_numpy()
    covered = float(np.nansum(cov.grids["covered_pct"].to_numpy() * grid_area)
                    / grid_area.sum()) if grid_area.sum() else 0.0
    m1, m2, m3, m4, m5, m6 = st.columns(6)
    m1.metric(tr("cameras.fig.units", lang), f"{int(all_rows['units_met'])} / "
                                              f"{int(all_rows['units'])}")
    m2.metric(tr("cameras.fig.density", lang), f"{all_rows['density_per_km2']:.2f}")
    m3.metric(tr("cameras.fig.completion", lang), f"{all_rows['completion_pct']:.2f}%")
    m4.metric(tr("cameras.fig.shortfall", lang), f"{int(all_rows['shortfall']):,}")
    m5.metric(tr("cameras.fig.covered", lang), f"{covered:.2f}%")
    m6.metric(tr("cameras.fig.outside", lang), f"{len(outside):,}")
    for note in notes:
        st.caption(note)

    # which part of the district gets views and blind spots on the map
    views_all = display_views(data, buildings, ws.data_key, level, occlusion, ws.datum)
    options: list[str | None] = []
    if len(views_all) <= MAX_VIEWS_ALL or data.streets is None:
        options.append(None)
    if data.streets is not None:
        options += data.streets["street_code"].tolist()
    street = c7.selectbox(
        tr("cameras.focus", lang), options, key="cameras.focus",
        format_func=lambda k: tr("cameras.focus.all", lang) if k is None
        else str(data.street_names.get(k, k)),
    )

    m = new_map(ws, data.grids.total_bounds)
    shown = display_table(table, ws.data_key, by, float(urban), float(rural), ws.datum)
    layer, leg = compliance_layer(shown, lang=lang, fill_by=fill, names=_names(data, by))
    layer.add_to(m)
    m.add_child(leg)
    cams, cam_leg = camera_layer(to_display(data.cameras, ws.datum), lang=lang)
    cams.add_to(m)
    m.add_child(cam_leg)
    vlayer, gate = views_layer(views_all[_focus_mask(views_all, data, street)], lang=lang)
    vlayer.add_to(m)
    m.add_child(gate)
    blind = cov.blind_spots
    if len(blind):
        blind = to_display(blind[_focus_mask(blind, data, street)], ws.datum)
        blayer, bleg = blind_spot_layer(blind, lang=lang, show=False)
        blayer.add_to(m)
        m.add_child(bleg)
    sites = st.session_state.get(f"cameras.sites:{ws.data_key}")
    if sites is not None and len(sites[0]):
        slayer, sleg = sites_layer(to_display(sites[0], ws.datum), lang=lang)
        slayer.add_to(m)
        m.add_child(sleg)
    folium.LayerControl(collapsed=True).add_to(m)
    render_map(m, key="cameras.map")
    st.caption(tr("cameras.map_help", lang))

    tabs = st.tabs([tr(f"cameras.tab.{t}", lang)
                    for t in ("density", "summary", "coverage", "sites", "gb")])
    with tabs[0]:
        show_table(table, lang, width="stretch")
        _download(table, f"density_{by}.csv", "cameras.dl_density", lang)
        if len(outside):
            st.caption(tr("cameras.outside_list", lang))
            cols = [c for c in ("camera_id", "point_id", "status") if c in outside.columns]
            show_table(pd.DataFrame(outside[cols]), lang)
    with tabs[1]:
        show_table(summary, lang, width="stretch")
        _download(summary, "density_summary.csv", "cameras.dl_summary", lang)
    with tabs[2]:
        show_table(cov.grids, lang, width="stretch")
        _download(cov.grids, "coverage.csv", "cameras.dl_coverage", lang)
        for note in cov.notes:
            st.caption(note)
    with tabs[3]:
        s1, s2, s3 = st.columns([1, 1, 1])
        k = s1.number_input(tr("cameras.k", lang), min_value=1, max_value=200, value=10,
                            key="cameras.k")
        demand_kind = s2.radio(tr("cameras.demand", lang), ["incidents", "population"],
                               key="cameras.demand", horizontal=True,
                               format_func=lambda d: tr(f"cameras.demand.{d}", lang))
        if s3.button(tr("cameras.suggest", lang), key="cameras.run_sites"):
            from app_pages._workspace import population_path

            roads = load_extra(ws, "roads")
            st.session_state[f"cameras.sites:{ws.data_key}"] = suggest_sites(
                data, roads, str(population_path(ws)), ws.data_key, int(k), demand_kind, level)
            st.rerun()
        if sites is not None:
            frame, pct = sites
            st.success(tr("cameras.suggested", lang, n=len(frame), pct=f"{pct:.2f}"))
            show_table(frame, lang, width="stretch")
            _download(frame, "suggested_sites.csv", "cameras.dl_sites", lang)
    with tabs[4]:
        findings, devices = gb_check(data, ws.data_key)
        st.caption(tr("cameras.gb_devices", lang))
        show_table(devices, lang)
        if len(findings):
            show_table(findings, lang, width="stretch")
            _download(findings, "gb28181_findings.csv", "cameras.dl_gb", lang)
        else:
            st.success(tr("cameras.gb_none", lang))


ws = current()
try:
    main(ws)
except GridmapError as exc:
    st.error(str(exc))
