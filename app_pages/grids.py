"""Grids page (网格划分): view, validate, redraw and edit the grid plan; versions; downloads.

The plan is held at unit level: the district is cut into square units (100 m or
200 m, cut along community lines) with residents summed from the population
raster, and the current grids become the initial plan (each unit in the grid
it overlaps most). Every edit — a redraw, a minimum-change rebalance, a merge,
a split (into k balanced parts or along a line drawn on the map), moving a
clicked unit to a neighbouring grid — is one undoable step of a
:class:`gridmap.edit.PlanEditor` kept in the session.
"""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import streamlit as st
from folium.plugins import Draw

from app_pages._workspace import (
    DemoData,
    Workspace,
    current,
    load,
    load_extra,
    new_map,
    population_path,
    render_map,
    show_table,
)
from gridmap import GridmapError
from gridmap.adjacency import UnitGraph, unit_graph
from gridmap.codes import assign_codes
from gridmap.compare import compare_plans
from gridmap.edit import PlanEditor
from gridmap.i18n import column_label, register, tr
from gridmap.metrics import dissolve_plan
from gridmap.partition import partition_units
from gridmap.population import zonal_population
from gridmap.rebalance import existing_assignment, rebalance_plan
from gridmap.units import square_units
from gridmap.validate import validate_coverage
from gridmap.workspace import Workspace as PlanStore
from layers.base import from_display, to_display
from layers.partition import issues_layer, plan_layer, unit_lines

register({
    "grids.title": {"zh": "网格划分", "en": "Grid partition"},
    "grids.intro": {
        "zh": "以 {size} 米单元（按社区切分，人口来自人口栅格）表示网格方案；每次编辑均可撤销。",
        "en": "The plan is held on {size} m units (cut along communities, residents from the "
              "population raster); every edit can be undone.",
    },
    "grids.unit_size": {"zh": "单元大小（米）", "en": "Unit size (m)"},
    "grids.building": {"zh": "正在生成单元与人口…", "en": "Building units and residents…"},
    "grids.tab.redraw": {"zh": "重新划分", "en": "Redraw"},
    "grids.tab.edit": {"zh": "编辑", "en": "Edit"},
    "grids.tab.validate": {"zh": "校验", "en": "Validate"},
    "grids.tab.versions": {"zh": "版本与下载", "en": "Versions & downloads"},
    "grids.mode": {"zh": "方式", "en": "Method"},
    "grids.mode.rebalance": {"zh": "最小改动调整", "en": "Rebalance with minimum change"},
    "grids.mode.partition": {"zh": "全部重新划分", "en": "Redraw from scratch"},
    "grids.parts": {"zh": "网格数量", "en": "Number of grids"},
    "grids.tolerance": {"zh": "允许偏差（%）", "en": "Tolerance (%)"},
    "grids.within": {"zh": "不跨社区", "en": "Keep grids inside communities"},
    "grids.roads": {"zh": "尽量沿道路划界", "en": "Follow roads where possible"},
    "grids.seed": {"zh": "随机种子", "en": "Seed"},
    "grids.run": {"zh": "计算", "en": "Run"},
    "grids.done": {
        "zh": "完成：{k} 个网格，最大偏差 {dev}，移动单元 {moved} 个。",
        "en": "Done: {k} grids, max deviation {dev}, {moved} units moved.",
    },
    "grids.selected": {"zh": "选中的网格", "en": "Selected grids"},
    "grids.select_help": {
        "zh": "也可在地图上点击网格选择；再次点击取消。",
        "en": "Or click grids on the map to select them; click again to deselect.",
    },
    "grids.merge": {"zh": "合并", "en": "Merge"},
    "grids.split_k": {"zh": "拆分为几份", "en": "Split into"},
    "grids.split": {"zh": "均衡拆分", "en": "Split evenly"},
    "grids.split_line": {"zh": "按所画线拆分", "en": "Split along the drawn line"},
    "grids.no_line": {
        "zh": "请先用地图左侧的画线工具画一条穿过网格的线。",
        "en": "Draw a line across the grid with the line tool on the map first.",
    },
    "grids.pick_one": {"zh": "请只选择一个网格。", "en": "Select exactly one grid."},
    "grids.lock": {"zh": "锁定", "en": "Lock"},
    "grids.unlock": {"zh": "解锁", "en": "Unlock"},
    "grids.undo": {"zh": "撤销", "en": "Undo"},
    "grids.redo": {"zh": "重做", "en": "Redo"},
    "grids.clicked_unit": {
        "zh": "点击的单元 {unit}（属于 {grid}）", "en": "Clicked unit {unit} (in {grid})",
    },
    "grids.move_to": {"zh": "移到相邻网格", "en": "Move it to neighbouring grid"},
    "grids.move": {"zh": "移动单元", "en": "Move unit"},
    "grids.history": {"zh": "编辑记录", "en": "Edit history"},
    "grids.validate_run": {"zh": "校验当前方案", "en": "Validate the current plan"},
    "grids.valid_ok": {"zh": "未发现问题。", "en": "No issues found."},
    "grids.version_name": {"zh": "版本名称", "en": "Version name"},
    "grids.version_note": {"zh": "备注", "en": "Note"},
    "grids.save": {"zh": "保存版本", "en": "Save version"},
    "grids.saved": {"zh": "已保存版本 {name}。", "en": "Saved version {name}."},
    "grids.versions": {"zh": "已保存的版本", "en": "Saved versions"},
    "grids.load": {"zh": "载入所选版本", "en": "Load the selected version"},
    "grids.compare_a": {"zh": "比较：版本 A", "en": "Compare: version A"},
    "grids.compare_b": {"zh": "版本 B", "en": "version B"},
    "grids.compare": {"zh": "比较", "en": "Compare"},
    "grids.compare_result": {
        "zh": "{moved} 个单元改变网格；{changed} 个网格有变化。",
        "en": "{moved} units changed grid; {changed} grids changed.",
    },
    "grids.download_grids": {"zh": "下载网格（GeoJSON）", "en": "Download grids (GeoJSON)"},
    "grids.download_codes": {"zh": "下载网格编码（CSV）", "en": "Download grid codes (CSV)"},
    "grids.download_assignment": {
        "zh": "下载单元→网格对应表（CSV）", "en": "Download unit → grid table (CSV)",
    },
    "grids.stats": {"zh": "均衡情况", "en": "Balance"},
    "grids.fig.grids": {"zh": "网格", "en": "Grids"},
    "grids.fig.maxdev": {"zh": "最大偏差", "en": "Max deviation"},
    "grids.fig.cv": {"zh": "变异系数", "en": "CV"},
    "grids.fig.target": {"zh": "目标人口/网格", "en": "Target residents per grid"},
    "grids.dev_chart": {"zh": "各网格人口偏差（%）", "en": "Deviation of residents per grid (%)"},
    "grids.unit_lines": {"zh": "显示单元边界", "en": "Show unit lines"},
    "grids.map_help": {
        "zh": "颜色表示与目标的偏差（红多蓝少）；粗线为选中网格，虚线为锁定网格。",
        "en": "Colours show the deviation from the target (red above, blue below); thick "
              "outlines are selected grids, dashed ones locked.",
    },
})

FIELD = "population"
SIZES = (200, 100)


@st.cache_resource(show_spinner=False, max_entries=4)
def unit_plan(_data: DemoData, _boundary: gpd.GeoDataFrame, pop_path: str, data_key: str,
              size: int) -> tuple[gpd.GeoDataFrame, pd.Series, UnitGraph]:
    """Units (EPSG:4326, indexed by unit id) with residents, the current plan, and their graph."""
    units = square_units(_boundary, size=float(size), within=_data.communities,
                         within_id="community_code" if _data.communities is not None else None)
    units = zonal_population(pop_path, units, column=FIELD)
    units[FIELD] = units[FIELD].round()
    units = units.set_index("unit_id")
    existing, _ = existing_assignment(units, _data.grids)
    return units, existing.astype(str), unit_graph(units)


def _editor(ws: Workspace, units, existing, graph, size: int) -> PlanEditor:
    key = f"grids.editor:{ws.data_key}:{size}"
    if key not in st.session_state:
        st.session_state[key] = PlanEditor(units, existing, fields=[FIELD], graph=graph)
    return st.session_state[key]


def _selected() -> list[str]:
    return list(st.session_state.get("grids.sel", []))


def _handle_map_events(ws: Workspace, ed: PlanEditor, state: dict) -> bool:
    """A new click selects/deselects its grid and remembers the unit; True when handled."""
    st.session_state["grids.map_out"] = state
    click = state.get("last_clicked")
    if not click or click == st.session_state.get("grids.last_click"):
        return False
    st.session_state["grids.last_click"] = click
    lon, lat = from_display(click["lng"], click["lat"], ws.datum)
    try:
        unit = ed.unit_at(shapely.Point(float(lon), float(lat)), crs=4326)
    except GridmapError:
        return False
    grid = str(ed.assignment[unit])
    st.session_state["grids.unit"] = unit
    sel = _selected()
    st.session_state["grids.sel_next"] = [g for g in sel if g != grid] if grid in sel else [*sel, grid]
    return True


def _drawn_line(ws: Workspace):
    state = st.session_state.get("grids.map_out") or {}
    drawings = state.get("all_drawings") or []
    lines = [d for d in drawings if (d.get("geometry") or {}).get("type") == "LineString"]
    if not lines:
        return None
    xy = np.array(lines[-1]["geometry"]["coordinates"], dtype=float)
    lon, lat = from_display(xy[:, 0], xy[:, 1], ws.datum)
    return shapely.LineString(np.column_stack([lon, lat]))


def _redraw_tab(ws: Workspace, ed: PlanEditor, units, graph, roads) -> None:
    lang = ws.lang
    mode = st.radio(tr("grids.mode", lang), ["rebalance", "partition"], key="grids.mode",
                    horizontal=True, format_func=lambda k: tr(f"grids.mode.{k}", lang))
    c1, c2, c3 = st.columns(3)
    k_now = ed.assignment.nunique()
    parts = c1.number_input(tr("grids.parts", lang), min_value=1, max_value=len(units),
                            value=k_now, step=1, key="grids.parts")
    tol = c2.slider(tr("grids.tolerance", lang), 0.5, 10.0, 2.0, 0.5, key="grids.tol") / 100
    seed = c3.number_input(tr("grids.seed", lang), min_value=0, value=0, step=1, key="grids.seed")
    within = st.checkbox(tr("grids.within", lang), value=True, key="grids.within")
    follow = st.checkbox(tr("grids.roads", lang), value=False, key="grids.roads")
    if not st.button(tr("grids.run", lang), key="grids.run", type="primary"):
        return
    with st.spinner("…"):
        if mode == "partition":
            res = partition_units(
                units, parts=int(parts), balance=[FIELD], tolerance=tol,
                within="parent" if within and "parent" in units.columns else None,
                barriers=roads if follow else None, seed=int(seed), graph=None if follow else graph,
                reference=ed.assignment,
            )
            moved = res.metrics.get("units_moved", 0)
        else:
            res = rebalance_plan(
                units, existing=ed.assignment, parts=int(parts), balance=[FIELD], tolerance=tol,
                within="parent" if within and "parent" in units.columns else None,
                barriers=roads if follow else None, locked=sorted(ed.locked), seed=int(seed),
                graph=None if follow else graph,
            )
            moved = res.metrics["units_moved"]
    ed.apply(res.assignment.astype(str), f"{tr(f'grids.mode.{mode}', lang)} → {int(parts)}")
    st.session_state["grids.sel"] = []
    st.session_state["grids.last_run"] = {
        "text": tr("grids.done", lang, k=res.metrics["k"], dev=f"{res.metrics['max_dev']:.2%}",
                   moved=f"{moved:,}"),
        "problems": list(res.problems),
    }
    st.rerun()


def _edit_tab(ws: Workspace, ed: PlanEditor, units) -> None:
    lang = ws.lang
    ids = sorted(ed.assignment.unique())
    st.session_state["grids.sel"] = [g for g in _selected() if g in ids]
    sel = st.multiselect(tr("grids.selected", lang), ids, key="grids.sel",
                         help=tr("grids.select_help", lang))
    b = st.columns(4)
    if b[0].button(tr("grids.merge", lang), key="grids.do_merge", disabled=len(sel) < 2):
        new = ed.merge(sel)
        st.session_state["grids.sel_next"] = [new]
        st.rerun()  # redraw the selection and map from the edited plan
    k = b[1].number_input(tr("grids.split_k", lang), min_value=2, max_value=9, value=2,
                          key="grids.k")
    if b[2].button(tr("grids.split", lang), key="grids.do_split", disabled=len(sel) != 1):
        st.session_state["grids.sel_next"] = ed.split(sel[0], int(k), balance=[FIELD])
        st.rerun()
    if b[3].button(tr("grids.split_line", lang), key="grids.do_line", disabled=len(sel) != 1):
        line = _drawn_line(ws)
        if line is None:
            st.warning(tr("grids.no_line", lang))
        else:
            st.session_state["grids.sel_next"] = ed.split_by_line(sel[0], line, line_crs=4326)
            st.rerun()
    c = st.columns(4)
    if c[0].button(tr("grids.lock", lang), key="grids.do_lock", disabled=not sel):
        ed.lock(sel)
    if c[1].button(tr("grids.unlock", lang), key="grids.do_unlock", disabled=not sel):
        ed.unlock(sel)
    if c[2].button(tr("grids.undo", lang), key="grids.do_undo", disabled=not ed.can_undo):
        ed.undo()
    if c[3].button(tr("grids.redo", lang), key="grids.do_redo", disabled=not ed.can_redo):
        ed.redo()
    unit = st.session_state.get("grids.unit")
    if unit is not None and unit in units.index:
        grid = str(ed.assignment[unit])
        st.caption(tr("grids.clicked_unit", lang, unit=unit, grid=grid))
        pos = ed.graph.index.get_loc(unit)
        nbrs = sorted({str(ed.assignment.iloc[j]) for j in ed.graph.neighbours(pos)} - {grid})
        if nbrs:
            m1, m2 = st.columns([2, 1])
            target = m1.selectbox(tr("grids.move_to", lang), nbrs, key="grids.move_to")
            if m2.button(tr("grids.move", lang), key="grids.do_move"):
                ed.move([unit], target)
    if ed.history:
        with st.expander(tr("grids.history", lang)):
            for i, action in enumerate(ed.history, 1):
                st.text(f"{i}. {action}")


def _validate_tab(ws: Workspace, ed: PlanEditor, data: DemoData) -> None:
    lang = ws.lang
    if st.button(tr("grids.validate_run", lang), key="grids.do_validate"):
        grids = dissolve_plan(ed.units, ed.assignment)
        parents = data.communities
        report = validate_coverage(grids, parents=parents,
                                   parent_id="community_code" if parents is not None else None)
        st.session_state["grids.issues"] = report.issues
    issues = st.session_state.get("grids.issues")
    if issues is None:
        return
    if len(issues) == 0:
        st.success(tr("grids.valid_ok", lang))
        return
    counts = issues["kind"].value_counts()
    show_table(counts.rename_axis("kind").reset_index(), lang)
    show_table(issues, lang)


def _store(ws: Workspace, units: gpd.GeoDataFrame, size: int) -> PlanStore:
    path = ws.data_dir / f"partition_{size}m.gpkg"
    if path.exists():
        return PlanStore(path)
    return PlanStore.create(path, units.drop(columns=[c for c in ("full", "pieces") if c in units]))


def _versions_tab(ws: Workspace, ed: PlanEditor, units, data: DemoData, size: int) -> None:
    lang = ws.lang
    c1, c2, c3 = st.columns([2, 3, 1])
    name = c1.text_input(tr("grids.version_name", lang), key="grids.vname")
    note = c2.text_input(tr("grids.version_note", lang), key="grids.vnote")
    if c3.button(tr("grids.save", lang), key="grids.do_save", disabled=not name.strip()):
        _store(ws, units, size).save_version(name, ed.assignment, note=note, locked=ed.locked,
                                             overwrite=True)
        st.success(tr("grids.saved", lang, name=name))
    path = ws.data_dir / f"partition_{size}m.gpkg"
    if path.exists():
        store = PlanStore(path)
        versions = store.versions()
        st.caption(tr("grids.versions", lang))
        show_table(versions, lang)
        names = versions["name"].tolist()
        if names:
            v1, v2, v3 = st.columns([2, 2, 1])
            a = v1.selectbox(tr("grids.compare_a", lang), names, key="grids.va")
            b = v2.selectbox(tr("grids.compare_b", lang), names, index=len(names) - 1, key="grids.vb")
            if v3.button(tr("grids.compare", lang), key="grids.do_compare"):
                _, summary = store.diff_versions(a, b)
                ga = dissolve_plan(units, store.load_version(a).reindex(units.index))
                gb = dissolve_plan(units, store.load_version(b).reindex(units.index))
                comp = compare_plans(ga, gb, units=units, fields=[FIELD])
                st.info(tr("grids.compare_result", lang, moved=summary["units_moved"],
                           changed=comp.summary["grids_changed"]))
                show_table(comp.table, lang)
            if st.button(tr("grids.load", lang), key="grids.do_load"):
                ed.apply(store.load_version(a).reindex(units.index), f"load {a}")
    # the files are written when a button is clicked (not on every rerun), from the plan
    # as it is now
    grids = ed.grids()
    assignment = ed.assignment.copy()
    st.download_button(tr("grids.download_grids", lang),
                       lambda: grids.to_crs(4326).to_json(drop_id=True),
                       file_name="grids.geojson", mime="application/geo+json", key="grids.dl_grids",
                       on_click="ignore")
    st.download_button(tr("grids.download_codes", lang),
                       lambda: _codes_csv(grids, units, data, assignment),
                       file_name="grid_codes.csv", mime="text/csv", key="grids.dl_codes",
                       on_click="ignore")
    st.download_button(tr("grids.download_assignment", lang),
                       lambda: pd.DataFrame({"unit_id": assignment.index,
                                             "grid_id": assignment.to_numpy()})
                       .to_csv(index=False).encode("utf-8-sig"),
                       file_name="unit_grid.csv", mime="text/csv", key="grids.dl_assign",
                       on_click="ignore")


def _codes_csv(grids: gpd.GeoDataFrame, units, data: DemoData, assignment: pd.Series) -> bytes:
    """Codes (GB/T 30428 layout) for the current grids; community from the units' parents."""
    g = grids[["grid_id", "geometry"]].copy()
    if "parent" in units.columns and data.communities is not None:
        parent = units["parent"].groupby(assignment).agg(lambda s: s.value_counts().index[0])
        comm = data.communities.set_index("community_code")
        g["community_code"] = g["grid_id"].map(parent).astype(str)
        g["street_code"] = g["community_code"].map(comm["street_code"].astype(str).to_dict())
        g["district_code"] = g["community_code"].map(comm["district_code"].astype(str).to_dict())
        try:
            coded = assign_codes(g)
            return pd.DataFrame(coded[["grid_id", "code"]]).to_csv(index=False).encode("utf-8-sig")
        except GridmapError as exc:
            return f"error\n{exc}\n".encode()
    return pd.DataFrame(g[["grid_id"]]).to_csv(index=False).encode("utf-8-sig")


def _stats(ws: Workspace, ed: PlanEditor) -> pd.DataFrame:
    lang = ws.lang
    stats = ed.stats()
    dev = stats[f"{FIELD}_dev"]
    f = st.columns(4)
    f[0].metric(tr("grids.fig.grids", lang), f"{len(stats):,}")
    f[1].metric(tr("grids.fig.maxdev", lang), f"{dev.abs().max():.1%}")
    s = stats[FIELD]
    f[2].metric(tr("grids.fig.cv", lang), f"{s.std(ddof=0) / s.mean():.3f}" if s.mean() else "–")
    f[3].metric(tr("grids.fig.target", lang), f"{stats[f'{FIELD}_target'].iloc[0]:,.0f}")
    x, y = column_label("grid_id", lang), column_label("deviation_pct", lang)
    chart = pd.DataFrame({y: (dev * 100).round(2).to_numpy()},
                         index=pd.Index(stats["grid_id"].astype(str), name=x))
    st.caption(tr("grids.dev_chart", lang))
    st.bar_chart(chart, height=180, x_label=x, y_label=y)
    return stats


def build_map(ws: Workspace, ed: PlanEditor, units, show_units: bool) -> folium.Map:
    """The plan coloured by deviation, selections, issues, optional unit lines, line drawing."""
    grids = to_display(ed.grids(), ws.datum)
    m = new_map(ws, grids.total_bounds)
    layer, leg = plan_layer(grids, field=FIELD, lang=ws.lang, selected=_selected(), locked=ed.locked)
    layer.add_to(m)
    leg.add_to(m)
    if show_units:
        lines = unit_lines(to_display(units, ws.datum), lang=ws.lang)
        if lines is not None:
            lines.add_to(m)
    issues = st.session_state.get("grids.issues")
    if issues is not None and len(issues):
        issues_layer(to_display(issues, ws.datum), lang=ws.lang).add_to(m)
    Draw(export=False, position="topleft",
         draw_options={"polyline": {"shapeOptions": {"color": "#d7301f"}}, "polygon": False,
                       "rectangle": False, "circle": False, "marker": False,
                       "circlemarker": False},
         edit_options={"edit": False, "remove": True}).add_to(m)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    return m


def main() -> None:
    ws = current()
    lang = ws.lang
    st.title(tr("grids.title", lang))
    if ws.synthetic:
        st.info(tr("demo.label", lang), icon=":material/science:")
    try:
        data = load(ws)
        boundary = load_extra(ws, "boundary")
        roads = load_extra(ws, "roads")
    except GridmapError as exc:
        st.error(tr("ws.load_error", lang, error=str(exc)))
        return
    size = st.radio(tr("grids.unit_size", lang), SIZES, key="grids.size", horizontal=True)
    st.caption(tr("grids.intro", lang, size=size))
    try:
        with st.spinner(tr("grids.building", lang)):
            units, existing, graph = unit_plan(data, boundary, str(population_path(ws)),
                                               ws.data_key, int(size))
        ed = _editor(ws, units, existing, graph, int(size))
        if "grids.sel_next" in st.session_state:
            st.session_state["grids.sel"] = st.session_state.pop("grids.sel_next")
        last = st.session_state.pop("grids.last_run", None)
        if last:
            st.success(last["text"])
            for p in last["problems"]:
                st.warning(p)
        tabs = st.tabs([tr(f"grids.tab.{t}", lang) for t in ("redraw", "edit", "validate", "versions")])
        with tabs[0]:
            _redraw_tab(ws, ed, units, graph, roads)
        with tabs[1]:
            _edit_tab(ws, ed, units)
        with tabs[2]:
            _validate_tab(ws, ed, data)
        with tabs[3]:
            _versions_tab(ws, ed, units, data, int(size))
        st.subheader(tr("grids.stats", lang))
        _stats(ws, ed)
        show_units = st.checkbox(tr("grids.unit_lines", lang), value=False, key="grids.show_units")
        m = build_map(ws, ed, units, show_units)
    except GridmapError as exc:
        st.error(str(exc))
        return
    out = render_map(m, key="grids.map", returned_objects=["last_clicked", "all_drawings"])
    st.caption(tr("grids.map_help", lang))
    if _handle_map_events(ws, ed, out):
        st.rerun()


main()
