"""Heatmaps page (人地事热力): people, places and events as density rasters; hot spots.

Every raster is a kernel density estimate in real units (per km²) drawn as one
image overlay, never a screen-space blur; incidents are filtered (categories,
dates, hours, weekdays), masked where fewer than k points contribute, and
never drawn as raw points. A time slider shows one month or one hour of day,
and the frames can be played as an animation (GIF). Every raster and table
can be downloaded.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st
from PIL import Image

from app_pages._workspace import (
    DemoData,
    Workspace,
    current,
    download_table,
    load,
    load_extra,
    new_map,
    population_path,
    render_map,
    require,
    show_table,
)
from gridmap import GridmapError
from gridmap.aggregate import add_rates, count_per_grid
from gridmap.crs import metric_crs
from gridmap.district import grid_parents
from gridmap.filters import PointFilter, apply_filter
from gridmap.hotspots import hot_spots
from gridmap.i18n import register, tr
from gridmap.kde import KERNELS, Raster, kernel_density, write_raster
from gridmap.population import composite_index, people_place_event, zonal_population
from gridmap.privacy import suppress_complementary
from layers.base import to_display
from layers.grids import boundary_layer
from layers.heat import hotspot_layer, raster_overlay, raster_rgba

register({
    "heatmaps.title": {"zh": "人地事热力图", "en": "People, places and events"},
    "heatmaps.intro": {
        "zh": "核密度估计（每平方公里），按真实单位着色；事件少于 k 个的区域不显示。",
        "en": "Kernel density estimates in real units (per km²); areas with fewer than k "
              "incidents are hidden.",
    },
    "heatmaps.layers": {"zh": "图层", "en": "Layers"},
    "heatmaps.people": {"zh": "人口密度", "en": "Residents"},
    "heatmaps.places": {"zh": "场所密度", "en": "Places"},
    "heatmaps.events": {"zh": "事件密度", "en": "Incidents"},
    "heatmaps.hotspots": {"zh": "热点（Gi*）", "en": "Hot spots (Gi*)"},
    "heatmaps.filters": {"zh": "事件筛选", "en": "Incident filters"},
    "heatmaps.categories": {"zh": "事件类别", "en": "Categories"},
    "heatmaps.dates": {"zh": "日期范围", "en": "Dates"},
    "heatmaps.hours": {"zh": "时段（小时）", "en": "Hours of day"},
    "heatmaps.weekdays": {"zh": "星期", "en": "Weekdays"},
    "heatmaps.kernel": {"zh": "核函数", "en": "Kernel"},
    "heatmaps.bandwidth": {"zh": "带宽（米）", "en": "Bandwidth (m)"},
    "heatmaps.cell": {"zh": "像元（米）", "en": "Cell (m)"},
    "heatmaps.k": {"zh": "最小公开数 k", "en": "Minimum count k"},
    "heatmaps.fdr": {"zh": "FDR 校正", "en": "FDR correction"},
    "heatmaps.time": {"zh": "时间切片", "en": "Time slice"},
    "heatmaps.time.all": {"zh": "全部", "en": "All"},
    "heatmaps.time.month": {"zh": "按月", "en": "By month"},
    "heatmaps.time.hour": {"zh": "按小时", "en": "By hour of day"},
    "heatmaps.frame": {"zh": "显示", "en": "Show"},
    "heatmaps.animate": {"zh": "生成动画", "en": "Make the animation"},
    "heatmaps.kept": {"zh": "筛选后 {kept} / {total} 件事件", "en": "{kept} of {total} incidents "
                      "after the filters"},
    "heatmaps.none": {"zh": "筛选后没有事件。", "en": "No incidents left after the filters."},
    "heatmaps.downloads": {"zh": "下载", "en": "Downloads"},
    "heatmaps.table": {"zh": "各网格统计", "en": "Per-grid figures"},
    "heatmaps.composite": {"zh": "综合指数权重（人口 / 场所 / 事件）",
                           "en": "Composite index weights (residents / places / incidents)"},
    "heatmaps.weekday_names": {"zh": "一,二,三,四,五,六,日", "en": "Mon,Tue,Wed,Thu,Fri,Sat,Sun"},
})

_ALL = "__all__"
#: What the generic counts of :func:`gridmap.aggregate.count_per_grid` are on this page.
_INCIDENT_COLUMNS = {"n": "incidents", "n_per_km2": "incidents_per_km2",
                     "n_per_1000": "incidents_per_1000"}


# ---------------------------------------------------------------- cached analyses


@st.cache_data(show_spinner=False, max_entries=16)
def filtered(_data: DemoData, data_key: str, spec: PointFilter) -> tuple[gpd.GeoDataFrame, dict]:
    """Incidents passing the filters, and the row accounting."""
    res = apply_filter(_data.incidents, spec)
    return res.data, res.report


@st.cache_resource(show_spinner=False, max_entries=8)
def base_rasters(_data: DemoData, _places: gpd.GeoDataFrame | None, data_key: str,
                 pop_path: str, spec: PointFilter, kernel: str, bandwidth: float, cell: float,
                 k: int) -> dict[str, Raster]:
    """Residents, places and (filtered) incidents on one grid."""
    events, _ = filtered(_data, data_key, spec)
    pop = pop_path if Path(pop_path).exists() else None
    crs = metric_crs(_data.grids)
    b = _data.grids.to_crs(crs).total_bounds
    return people_place_event(pop, _places, events if len(events) else None, cell=cell,
                              bandwidth=bandwidth, kernel=kernel, crs=crs, bounds=tuple(b),
                              min_count=k)


@st.cache_resource(show_spinner=False, max_entries=8)
def frames(_data: DemoData, _template: Raster, data_key: str, spec: PointFilter, by: str,
           kernel: str, bandwidth: float, k: int) -> dict[str, Raster]:
    """One incident raster per month or per hour of day, all on the template's grid."""
    events, _ = filtered(_data, data_key, spec)
    t = pd.to_datetime(events["reported_at"], errors="coerce")
    keys = t.dt.strftime("%Y-%m") if by == "month" else t.dt.hour.map(lambda h: f"{h:02d}:00")
    out: dict[str, Raster] = {}
    for key in sorted(keys.dropna().unique()):
        part = events[(keys == key).to_numpy()]
        out[key] = kernel_density(part, kernel=kernel, bandwidth=bandwidth, like=_template,
                                  min_count=k)
    return out


@st.cache_data(show_spinner=False, max_entries=8)
def grid_table(_data: DemoData, _places: gpd.GeoDataFrame | None, data_key: str, pop_path: str,
               spec: PointFilter, fdr: bool) -> gpd.GeoDataFrame:
    """Per grid: residents, places, incidents (filtered), rates and Gi* classes."""
    events, _ = filtered(_data, data_key, spec)
    grids = _data.grids
    table = count_per_grid(events, grids)
    if Path(pop_path).exists():
        table = zonal_population(pop_path, table)
    if _places is not None and len(_places):
        table["n_places"] = count_per_grid(_places, grids)["n"].to_numpy()
    table = add_rates(table, population="population" if "population" in table else None)
    if table["n"].nunique() > 1:
        table = hot_spots(table, "n", weights="queen", fdr=fdr)
    return table


# ---------------------------------------------------------------- helpers


def raster_bytes(raster: Raster) -> bytes:
    """The raster as GeoTIFF bytes (written to a temporary folder that is removed)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = write_raster(raster, Path(tmp) / "raster.tif")
        return path.read_bytes()


def animation_gif(rasters: dict[str, Raster], *, cmap: str = "YlOrRd") -> bytes:
    """An animated GIF of the frames on one colour scale, each frame labelled."""
    from PIL import ImageDraw

    values = [r.array[np.isfinite(r.array) & (r.array > 0)] for r in rasters.values()]
    pooled = np.concatenate(values) if values else np.array([1.0])
    vmax = float(np.percentile(pooled, 99)) if len(pooled) else 1.0
    images = []
    for label, r in rasters.items():
        rgba = raster_rgba(np.asarray(r.array, dtype=float), vmax, cmap)
        bg = Image.new("RGBA", (rgba.shape[1], rgba.shape[0]), (245, 244, 239, 255))
        img = Image.alpha_composite(bg, Image.fromarray(rgba, "RGBA"))
        scale = max(1, 480 // max(img.size))
        img = img.resize((img.size[0] * scale, img.size[1] * scale), Image.NEAREST)
        ImageDraw.Draw(img).text((8, 8), label, fill=(20, 20, 20, 255))
        images.append(img.convert("P", palette=Image.ADAPTIVE))
    buf = io.BytesIO()
    images[0].save(buf, format="GIF", save_all=True, append_images=images[1:], duration=700,
                   loop=0)
    return buf.getvalue()


def _filters(ws: Workspace, data: DemoData) -> PointFilter:
    lang = ws.lang
    inc = data.incidents
    with st.expander(tr("heatmaps.filters", lang), expanded=False):
        cats = sorted(inc["category"].dropna().astype(str).unique()) if "category" in inc else []
        chosen = st.multiselect(tr("heatmaps.categories", lang), cats, key="heatmaps.categories")
        t = pd.to_datetime(inc["reported_at"], errors="coerce") if "reported_at" in inc else None
        start = end = None
        if t is not None and t.notna().any():
            lo, hi = t.min().date(), t.max().date()
            picked = st.date_input(tr("heatmaps.dates", lang), (lo, hi), min_value=lo,
                                   max_value=hi, key="heatmaps.dates")
            if isinstance(picked, tuple) and len(picked) == 2:
                start, end = picked
        h0, h1 = st.slider(tr("heatmaps.hours", lang), 0, 23, (0, 23), key="heatmaps.hours")
        names = tr("heatmaps.weekday_names", lang).split(",")
        days = st.multiselect(tr("heatmaps.weekdays", lang), list(range(1, 8)),
                              default=list(range(1, 8)), format_func=lambda d: names[d - 1],
                              key="heatmaps.weekdays")
    return PointFilter.build(
        categories=chosen or None,
        start=str(start) if start else None, end=str(end) if end else None,
        hours=None if (h0, h1) == (0, 23) else f"{h0}-{h1}",
        weekdays=None if len(days) in (0, 7) else days,
    )


def main() -> None:
    ws = current()
    lang = ws.lang
    st.title(tr("heatmaps.title", lang))
    if ws.synthetic:
        st.info(tr("demo.label", lang), icon=":material/science:")
    st.caption(tr("heatmaps.intro", lang))
    try:
        data = load(ws)
        require(data, "incidents", lang=lang)
        try:
            places = load_extra(ws, "places")
        except GridmapError:
            places = None
    except GridmapError as exc:
        st.error(tr("ws.load_error", lang, error=str(exc)))
        return
    spec = _filters(ws, data)
    c1, c2, c3, c4, c5 = st.columns(5)
    kernel = c1.selectbox(tr("heatmaps.kernel", lang), KERNELS, key="heatmaps.kernel")
    bandwidth = c2.number_input(tr("heatmaps.bandwidth", lang), 50.0, 5000.0, 300.0, 50.0,
                                key="heatmaps.bandwidth")
    cell = c3.number_input(tr("heatmaps.cell", lang), 10.0, 500.0, 50.0, 10.0,
                           key="heatmaps.cell")
    k = int(c4.number_input(tr("heatmaps.k", lang), 0, 50, 5, 1, key="heatmaps.k"))
    fdr = c5.checkbox(tr("heatmaps.fdr", lang), value=True, key="heatmaps.fdr")
    layer_names = {"people": tr("heatmaps.people", lang), "places": tr("heatmaps.places", lang),
                   "events": tr("heatmaps.events", lang),
                   "hotspots": tr("heatmaps.hotspots", lang)}
    shown = st.multiselect(tr("heatmaps.layers", lang), list(layer_names),
                           default=["events"], format_func=layer_names.get,
                           key="heatmaps.layers")
    time_by = st.radio(tr("heatmaps.time", lang), ["all", "month", "hour"], horizontal=True,
                       format_func=lambda v: tr(f"heatmaps.time.{v}", lang),
                       key="heatmaps.time")

    events, report = filtered(data, ws.data_key, spec)
    st.caption(tr("heatmaps.kept", lang, kept=f"{report['kept']:,}",
                  total=f"{report['input']:,}"))
    if len(events) == 0:
        st.warning(tr("heatmaps.none", lang))
        return
    pop = str(population_path(ws))
    try:
        rasters = dict(base_rasters(data, places, ws.data_key, pop, spec, kernel, bandwidth,
                                    cell, k))
        table = grid_table(data, places, ws.data_key, pop, spec, fdr)
        frame_rasters: dict[str, Raster] = {}
        if time_by != "all" and "events" in rasters:
            frame_rasters = frames(data, rasters["events"], ws.data_key, spec, time_by, kernel,
                                   bandwidth, k)
    except GridmapError as exc:
        st.error(str(exc))
        return
    if frame_rasters:
        label = st.select_slider(tr("heatmaps.frame", lang), list(frame_rasters),
                                 key=f"heatmaps.frame.{time_by}")
        rasters["events"] = frame_rasters[label]
        layer_names["events"] = f"{layer_names['events']} · {label}"

    grids_disp = to_display(data.grids, ws.datum)
    m = new_map(ws, grids_disp.total_bounds)
    boundary_layer(grids_disp).add_to(m)
    for key in ("people", "places", "events"):
        if key in shown and key in rasters:
            overlay, leg = raster_overlay(
                rasters[key], name=layer_names[key], lang=lang, datum=ws.datum,
                min_count=k if key == "events" else 0, legend_id=f"heat-{key}",
                cmap={"people": "Blues", "places": "Greens"}.get(key, "YlOrRd"))
            overlay.add_to(m)
            leg.add_to(m)
    if "hotspots" in shown and "gi_bin" in table:
        layer, leg = hotspot_layer(to_display(table, ws.datum), lang=lang,
                                   name=layer_names["hotspots"])
        layer.add_to(m)
        leg.add_to(m)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    render_map(m, key="heatmaps.map")

    if frame_rasters and st.toggle(tr("heatmaps.animate", lang), key="heatmaps.animate"):
        gif = animation_gif(frame_rasters)
        st.image(gif)
        st.download_button("GIF", gif, file_name=f"incidents_by_{time_by}.gif",
                           mime="image/gif", key="heatmaps.dl.gif")

    st.subheader(tr("heatmaps.table", lang))
    weights = st.columns(3)
    w_people = weights[0].slider(layer_names["people"], 0.0, 3.0, 1.0, 0.5,
                                 key="heatmaps.w.people")
    w_places = weights[1].slider(layer_names["places"], 0.0, 3.0, 1.0, 0.5,
                                 key="heatmaps.w.places")
    w_events = weights[2].slider(tr("heatmaps.events", lang), 0.0, 3.0, 2.0, 0.5,
                                 key="heatmaps.w.events")
    st.caption(tr("heatmaps.composite", lang))
    parts = {c: w for c, w in (("population", w_people), ("n_places", w_places),
                               ("n", w_events)) if c in table and w > 0}
    if parts:
        table = composite_index(table, parts)
    counts = [c for c in ("n",) if c in table]
    # community and street totals are published elsewhere: no grid blank is their difference
    published = suppress_complementary(
        pd.DataFrame(table.drop(columns=table.geometry.name)), counts, k=k,
        by=grid_parents(table),
        # a grid's composite score and Gi* are computed from its count: blank them with it
        dependent={c: "n" for c in ("n_per_km2", "n_per_1000", "gi_z", "gi_p", "hotspot",
                                    "composite") if c in table})
    cols = [c for c in ("grid_id", "name", "population", "n_places", "n", "n_per_km2",
                        "n_per_1000", "gi_z", "gi_p", "hotspot", "composite") if c in published]
    # the page counts incidents: say so in the headers (the download keeps `n`)
    show_table(published[cols].rename(columns=_INCIDENT_COLUMNS), lang, width="stretch")

    st.subheader(tr("heatmaps.downloads", lang))
    dl = st.columns(4)
    with dl[0]:
        download_table(published[cols], "heat_grids.csv", lang, "heatmaps.dl.csv", label="CSV")
    for i, key in enumerate(("people", "places", "events"), start=1):
        if key in rasters:
            dl[i].download_button(f"{layer_names[key]} (GeoTIFF)", raster_bytes(rasters[key]),
                                  file_name=f"{key}.tif", mime="image/tiff",
                                  key=f"heatmaps.dl.{key}")


main()
