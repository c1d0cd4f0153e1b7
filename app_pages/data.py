"""Data page (数据): upload your own layers or use the demo district.

Each upload is checked (:func:`gridmap.uploads.save_upload`: size, format,
zip traversal and bombs), kept in this browser session's private folder
(``app_pages/_uploads.py``) and read with :func:`gridmap.ingest.read_layer` in
the coordinate system chosen for it. The page shows the ingest report of each
layer (accepted / repaired / rejected rows and why, rejected rows
downloadable), asks for the coordinate columns when they cannot be detected,
and warns when the point layers and the grids look like different datums
(WGS84 against GCJ-02/BD-09). Choosing "my uploads" in the sidebar makes every
page read these layers.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
import streamlit as st

from app_pages._uploads import (
    UPLOAD_KINDS,
    UploadSession,
    outlines,
    read_layer_file,
    session_uploads,
    upload_limits,
)
from app_pages._workspace import Workspace, current, download_table, show_table
from gridmap import CRSError, GridmapError, ReadError
from gridmap.crs import WGS84, convert_datum, parse_crs
from gridmap.i18n import register, tr
from gridmap.ingest import DatumCheck, IngestReport, detect_datum_offset, read_layer
from gridmap.readers import read_table
from gridmap.schema import LAYERS
from gridmap.uploads import UploadError, save_upload

register({
    "data.title": {"zh": "数据", "en": "Data"},
    "data.intro": {
        "zh": "上传本单位的图层（网格、摄像机、事件、场所、人口栅格、道路、建筑物），或使用演示区县。"
              "上传的文件只保存在本浏览器会话的临时目录中，会话结束后删除。",
        "en": "Upload your own layers (grids, cameras, incidents, places, population raster, "
              "roads, buildings) or use the demo district. Uploads stay in a private folder of "
              "this browser session and are deleted when the session ends.",
    },
    "data.using_demo": {
        "zh": "各页面当前使用演示区县。上传后选择“我的上传”即可分析自己的数据。",
        "en": "Pages now show the demo district. Upload your layers, then switch to "
              "“My uploads” to analyse them.",
    },
    "data.using_uploads": {
        "zh": "各页面当前使用本会话上传的图层。",
        "en": "Pages now read the layers uploaded in this session.",
    },
    "data.use_uploads": {"zh": "使用我的上传", "en": "Use my uploads"},
    "data.use_demo": {"zh": "使用演示区县", "en": "Use the demo district"},
    "data.status": {"zh": "图层状态", "en": "Layers"},
    "data.col.layer": {"zh": "图层", "en": "Layer"},
    "data.col.file": {"zh": "文件", "en": "File"},
    "data.col.kept": {"zh": "可用记录", "en": "Rows kept"},
    "data.col.rejected": {"zh": "拒绝记录", "en": "Rows rejected"},
    "data.col.crs": {"zh": "坐标系", "en": "Coordinates"},
    "data.not_uploaded": {"zh": "未上传", "en": "not uploaded"},
    "data.upload": {"zh": "上传{layer}文件", "en": "Upload a {layer} file"},
    "data.formats.table": {
        "zh": "CSV、Excel、GeoJSON、GeoPackage、GeoParquet，或压缩的 Shapefile（zip）",
        "en": "CSV, Excel, GeoJSON, GeoPackage, GeoParquet or a zipped shapefile",
    },
    "data.formats.vector": {
        "zh": "GeoJSON、GeoPackage、GeoParquet，或压缩的 Shapefile（zip）",
        "en": "GeoJSON, GeoPackage, GeoParquet or a zipped shapefile",
    },
    "data.formats.raster": {"zh": "GeoTIFF（人/像元）", "en": "GeoTIFF (persons per pixel)"},
    "data.crs": {"zh": "坐标系", "en": "Coordinate system"},
    "data.crs.auto": {"zh": "自动（文件自带，否则 WGS84）", "en": "Automatic (the file's, else WGS84)"},
    "data.crs.wgs84": {"zh": "WGS84（GPS）", "en": "WGS84 (GPS)"},
    "data.crs.cgcs2000": {"zh": "CGCS2000", "en": "CGCS2000"},
    "data.crs.gcj02": {"zh": "GCJ-02（高德、腾讯）", "en": "GCJ-02 (AMap, Tencent)"},
    "data.crs.bd09": {"zh": "BD-09（百度）", "en": "BD-09 (Baidu)"},
    "data.crs.epsg": {"zh": "EPSG 编码…", "en": "EPSG code…"},
    "data.epsg": {"zh": "EPSG 编码", "en": "EPSG code"},
    "data.epsg_missing": {
        "zh": "请输入 EPSG 编码（如 4549）。", "en": "Enter an EPSG code (e.g. 4549).",
    },
    "data.read_ok": {
        "zh": "{file}：读取 {kept} / {total} 条记录（{crs}）。",
        "en": "{file}: {kept} of {total} rows read ({crs}).",
    },
    "data.m.total": {"zh": "总记录", "en": "Rows"},
    "data.m.accepted": {"zh": "直接接受", "en": "Accepted"},
    "data.m.repaired": {"zh": "修复后接受", "en": "Repaired"},
    "data.m.rejected": {"zh": "拒绝", "en": "Rejected"},
    "data.notes": {"zh": "读取说明", "en": "What was detected"},
    "data.reasons": {"zh": "拒绝原因", "en": "Why rows were rejected"},
    "data.repairs": {"zh": "修复内容", "en": "What was repaired"},
    "data.col.reason": {"zh": "原因", "en": "Reason"},
    "data.col.rows": {"zh": "记录数", "en": "Rows"},
    "data.rejected_rows": {"zh": "被拒绝的记录", "en": "Rejected rows"},
    "data.download_rejected": {"zh": "下载被拒绝的记录（CSV）", "en": "Download rejected rows (CSV)"},
    "data.remove": {"zh": "移除此图层", "en": "Remove this layer"},
    "data.mapping": {"zh": "列对应关系", "en": "Column mapping"},
    "data.mapping_needed": {
        "zh": "无法识别坐标列：请选择经度、纬度（及编号）所在的列。",
        "en": "The coordinate columns could not be detected: choose the longitude and latitude "
              "(and id) columns.",
    },
    "data.map.lon": {"zh": "经度列", "en": "Longitude column"},
    "data.map.lat": {"zh": "纬度列", "en": "Latitude column"},
    "data.map.id": {"zh": "编号列（{column}）", "en": "Id column ({column})"},
    "data.map.auto": {"zh": "（自动）", "en": "(automatic)"},
    "data.map.apply": {"zh": "按此对应重新读取", "en": "Read again with these columns"},
    "data.raster": {
        "zh": "{width} × {height} 像元，{crs}，像元 {res}，合计 {total} 人。",
        "en": "{width} × {height} pixels, {crs}, pixel size {res}, {total} persons in all.",
    },
    "data.mixed": {"zh": "坐标系不一致", "en": "Coordinate systems disagree"},
    "data.mixed_fix": {
        "zh": "建议：将“{layer}”的坐标系选为 {datum} 后重新读取。",
        "en": "Suggested fix: choose {datum} as the coordinate system of the {layer} upload.",
    },
    "data.apply_fix": {"zh": "将“{layer}”改为 {datum}", "en": "Read {layer} as {datum}"},
    "data.datum_ok": {"zh": "{layer}与网格：{message}", "en": "{layer} against the grids: {message}"},
})

TABLE_KINDS = ("grids", "cameras", "incidents", "places")  # read with read_layer
SHAPE_KINDS = {"roads": (1, 5), "buildings": (3, 6)}  # shapely type ids: lines, polygons
POINT_KINDS = ("cameras", "incidents", "places")
CRS_CHOICES = ("auto", "wgs84", "cgcs2000", "gcj02", "bd09", "epsg")
_DATUM_LABEL = {"gcj02": "GCJ-02", "bd09": "BD-09"}
_MISSING_COLUMN = re.compile(r"^no (longitude |latitude )?column")
_TABLE_SUFFIXES = (".csv", ".txt", ".xlsx", ".json")
_REPORT_COLUMNS = ("row", "reason", "detail")  # IngestReport.rejected_rows() before the file's
_TYPE_NAMES = np.array(["Point", "LineString", "LinearRing", "Polygon", "MultiPoint",
                        "MultiLineString", "MultiPolygon", "GeometryCollection"], dtype=object)


# ------------------------------------------------------------------ reading


def _coord_source(choice: str, epsg: str) -> Any:
    """The chosen coordinate system: None (automatic), a pyproj CRS, or "gcj02"/"bd09"."""
    if choice == "auto":
        return None
    if choice == "epsg":
        code = epsg.strip().upper().removeprefix("EPSG:")
        if not code.isdigit():
            raise CRSError(f"EPSG code {epsg.strip()!r} is not a number; enter e.g. 4549.")
        return parse_crs(f"EPSG:{code}")
    return parse_crs(choice)


def _read_points_or_grids(kind: str, path: Path, src: Any, mapping: dict) -> tuple:
    """(clean layer, report, extra layers) of a grids/cameras/incidents/places upload."""
    args: dict[str, Any] = {}
    if isinstance(src, str):
        args["coords"] = src
    elif src is not None:
        args["crs"] = src
    if mapping.get("id"):
        args["columns"] = {mapping["id"]: LAYERS[kind].id_column}
    result = read_layer(path, kind=kind, lon=mapping.get("lon") or None,
                        lat=mapping.get("lat") or None, **args)
    extra: dict[str, gpd.GeoDataFrame | None] = {}
    if kind == "grids":
        for name, code in (("streets", "street_code"), ("communities", "community_code")):
            extra[name] = outlines(result.data, code, _unit_names(path, name))
    return result.data, result.report, extra


def _unit_names(path: Path, layer: str) -> pd.DataFrame | None:
    """Names of streets/communities from a GeoPackage that also holds them (as the demo's)."""
    if path.suffix.lower() != ".gpkg":
        return None
    if layer not in {name for name, _ in pyogrio.list_layers(path)}:
        return None
    return pyogrio.read_dataframe(path, layer=layer, read_geometry=False)


def _read_shapes(kind: str, path: Path, src: Any) -> tuple:
    """Roads (lines) or buildings (polygons): every feature kept or rejected with a reason."""
    raw = read_table(path)
    if not raw.is_spatial:
        raise ReadError(path, f"{kind} need line or polygon geometries",
                        "upload a GeoPackage, GeoJSON, GeoParquet or zipped shapefile")
    frame = raw.frame
    notes = list(raw.notes)
    geoms = shapely.force_2d(np.asarray(frame.geometry.values, dtype=object))
    n = len(frame)
    reason = np.full(n, "", dtype=object)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    reason[missing] = "missing geometry"
    types = np.where(missing, -1, shapely.get_type_id(np.where(missing, None, geoms)))
    wrong = ~missing & ~np.isin(types, SHAPE_KINDS[kind])
    reason[wrong] = "wrong geometry type"
    gdf = gpd.GeoDataFrame(pd.DataFrame(frame.drop(columns=frame.geometry.name)),
                           geometry=geoms, crs=frame.crs)
    if isinstance(src, str):  # GCJ-02 / BD-09 longitude/latitude
        if frame.crs is not None and not frame.crs.is_geographic:
            raise CRSError(f"{path.name}: {src} needs longitude/latitude but the file is in "
                           f"{frame.crs.to_string()}; choose Automatic or its EPSG code.")
        gdf = convert_datum(gdf.set_crs(WGS84, allow_override=True), source=src, target="wgs84")
        notes.append(f"coordinates in {src}, converted to WGS84")
    elif src is not None:
        gdf = gdf.set_crs(src, allow_override=True)
        notes.append(f"coordinates in {src.to_string()}")
    elif gdf.crs is None:
        raise ReadError(path, "has no CRS", "choose its coordinate system above")
    keep = reason == ""
    clean = gdf.loc[keep].to_crs(WGS84).reset_index(drop=True)
    detail = np.where(missing, "missing geometry: the record has no shape",
                      np.where(wrong, "wrong geometry type: " + _TYPE_NAMES[types.clip(0)], ""))
    records = pd.DataFrame({
        "row": np.arange(1, n + 1), "status": np.where(keep, "accepted", "rejected"),
        "reason": reason, "detail": detail, "repairs": "",
    }).astype({"status": "str", "reason": "str", "detail": "str", "repairs": "str"})
    report = IngestReport(file=str(path), kind=kind, records=records,
                          original=frame.copy(deep=False), notes=notes)
    return clean, report, {}


def _read_population(path: Path, src: Any) -> dict:
    """Check a population GeoTIFF; return what the page shows and the CRS to assign (if any)."""
    import rasterio
    from rasterio.errors import RasterioError

    if path.suffix.lower() not in (".tif", ".tiff"):
        raise UploadError(f"{path.name}: the population layer must be a GeoTIFF (.tif); "
                          "export the raster as GeoTIFF.")
    if isinstance(src, str):
        raise CRSError(f"{path.name}: a raster cannot be shifted from {_DATUM_LABEL[src]} here; "
                       "warp it to WGS84 or a projected CRS first (e.g. gdalwarp).")
    try:
        with rasterio.open(path) as ds:
            crs = src if src is not None else ds.crs
            if crs is None:
                raise CRSError(f"{path.name}: the raster has no CRS; choose its coordinate "
                               "system above.")
            band = ds.read(1, masked=True)
            total = float(np.ma.sum(band)) if band.count() else 0.0
            info = {"width": ds.width, "height": ds.height, "res": ds.res,
                    "crs": crs.to_string(), "total": total, "assign": src}
    except RasterioError as exc:
        raise ReadError(path, f"is not a readable GeoTIFF ({exc})",
                        "export the raster again as GeoTIFF") from exc
    return info


def _store_population(up: UploadSession, path: Path, info: dict) -> None:
    import rasterio

    target = up.store_file("population", path)
    if info["assign"] is not None:
        with rasterio.open(target, "r+") as ds:
            ds.crs = rasterio.crs.CRS.from_wkt(info["assign"].to_wkt())


# ------------------------------------------------------------------ state


def _state(kind: str) -> dict:
    return st.session_state.setdefault(f"data.state.{kind}", {})


def _options(kind: str) -> tuple:
    mapping = st.session_state.get(f"data.map.{kind}", {})
    return (st.session_state.get(f"data.crs.{kind}", "auto"),
            st.session_state.get(f"data.epsg.{kind}", "").strip(),
            tuple(sorted(mapping.items())))


def _message(exc: Exception, up: UploadSession) -> str:
    """The error message with the session folder left out (users see their file names)."""
    text = str(exc)
    for folder in sorted({up.path, up.path.resolve()}, key=lambda p: -len(str(p))):
        text = re.sub(re.escape(str(folder)) + r"/raw/[^/]+/", "", text)
    return text


def _ingest(up: UploadSession, kind: str, state: dict) -> None:
    """(Re)read the upload in ``state["path"]`` with the current options; store or fail."""
    choice, epsg, mapping = _options(kind)
    state.update(options=(choice, epsg, mapping), error=None, report=None, raster=None)
    path = Path(state["path"])
    try:
        src = _coord_source(choice, epsg)
        if kind == "population":
            info = _read_population(path, src)
            _store_population(up, path, info)
            state["raster"] = info
        else:
            reader = _read_points_or_grids if kind in TABLE_KINDS else _read_shapes
            args = (dict(mapping),) if kind in TABLE_KINDS else ()
            data, report, extra = reader(kind, path, src, *args)
            up.store(kind, data)
            for name, layer in extra.items():
                if layer is None:
                    up.layer_path(name).unlink(missing_ok=True)
                else:
                    up.store(name, layer)
            report.file = state["name"]
            state["report"] = report
            state["kept"] = len(data)
        state["choice"] = (choice, epsg)
        state["columns"] = _table_columns(path) if kind in POINT_KINDS else None
    except GridmapError as exc:
        for name in (kind, "streets", "communities") if kind == "grids" else (kind,):
            up.layer_path(name).unlink(missing_ok=True)  # what is shown is what pages use
        state["error"] = _message(exc, up)
        state["columns"] = _table_columns(path) if (
            isinstance(exc, ReadError) and _MISSING_COLUMN.match(exc.problem)) else None
        state["mapping_needed"] = state["columns"] is not None


def _table_columns(path: Path) -> list[str] | None:
    """Column names of a table upload (None for vector files: nothing to map)."""
    if path.suffix.lower() not in _TABLE_SUFFIXES:
        return None
    return [str(c) for c in read_table(path).frame.columns]


def _receive(up: UploadSession, kind: str, file: Any) -> None:
    """A new file in the uploader: check it, keep it, read it."""
    state = _state(kind)
    state.clear()
    state.update(file_id=file.file_id, name=file.name)
    st.session_state.pop(f"data.map.{kind}", None)  # a new file gets detected afresh
    try:
        path = save_upload(file.getvalue(), file.name, up.raw_dir(kind), limits=upload_limits())
    except GridmapError as exc:
        up.remove(kind)
        state["error"] = _message(exc, up)
        return
    state["path"] = str(path)
    _ingest(up, kind, state)


def _remove(kind: str) -> None:
    session_uploads().remove(kind)
    # remember the file, so the copy still shown in the uploader is not read again
    file_id = _state(kind).get("file_id")
    st.session_state[f"data.state.{kind}"] = {"file_id": file_id}
    st.session_state.pop(f"data.map.{kind}", None)


def _set_source(source: str) -> None:
    st.session_state["ws.source"] = source


def _set_crs(kind: str, datum: str) -> None:
    st.session_state[f"data.crs.{kind}"] = datum
    st.session_state[f"data.crs_saved.{kind}"] = datum


# ------------------------------------------------------------------ drawing


def _crs_label(state: dict, lang: str) -> str:
    choice, epsg = state.get("choice", ("auto", ""))
    return f"EPSG:{epsg}" if choice == "epsg" else tr(f"data.crs.{choice}", lang)


def _crs_widgets(kind: str, lang: str, column) -> None:
    # widget values vanish when another page runs: restore them from the saved copy
    for name, default in (("crs", "auto"), ("epsg", "")):
        if f"data.{name}.{kind}" not in st.session_state:
            st.session_state[f"data.{name}.{kind}"] = st.session_state.get(
                f"data.{name}_saved.{kind}", default)
    choices = [c for c in CRS_CHOICES if not (kind == "population" and c in _DATUM_LABEL)]
    choice = column.selectbox(tr("data.crs", lang), choices, key=f"data.crs.{kind}",
                              format_func=lambda c: tr(f"data.crs.{c}", lang))
    st.session_state[f"data.crs_saved.{kind}"] = choice
    if choice == "epsg":
        epsg = column.text_input(tr("data.epsg", lang), key=f"data.epsg.{kind}",
                                 placeholder="4549")
        st.session_state[f"data.epsg_saved.{kind}"] = epsg
        if not epsg.strip():
            column.info(tr("data.epsg_missing", lang))


def _report(kind: str, state: dict, lang: str) -> None:
    report: IngestReport = state["report"]
    st.success(tr("data.read_ok", lang, file=state["name"], kept=f"{state['kept']:,}",
                  total=f"{report.total:,}", crs=_crs_label(state, lang)))
    cols = st.columns(4)
    for col, key, value in zip(cols, ("total", "accepted", "repaired", "rejected"),
                               (report.total, report.accepted, report.repaired, report.rejected),
                               strict=True):
        col.metric(tr(f"data.m.{key}", lang), f"{value:,}")
    if report.notes:
        st.caption(tr("data.notes", lang))
        st.text("\n".join(report.notes))  # plain text: user column names are not markdown
    left, right = st.columns(2)
    if report.reasons:
        with left:
            st.caption(tr("data.reasons", lang))
            show_table(pd.DataFrame({tr("data.col.reason", lang): list(report.reasons),
                                     tr("data.col.rows", lang): list(report.reasons.values())}),
                       lang)
    if report.repairs:
        with right:
            st.caption(tr("data.repairs", lang))
            show_table(pd.DataFrame({tr("data.col.reason", lang): list(report.repairs),
                                     tr("data.col.rows", lang): list(report.repairs.values())}),
                       lang)
    if report.rejected:
        rejected = report.rejected_rows()
        st.caption(tr("data.rejected_rows", lang))
        # the report's own columns are labelled; the file's columns keep its headers
        show_table(rejected.head(1000), lang, width="stretch",
                   keep=tuple(c for c in rejected.columns if c not in _REPORT_COLUMNS))
        download_table(rejected, f"{kind}_rejected.csv", lang, key=f"data.dl_rejected.{kind}",
                       label=tr("data.download_rejected", lang))


def _mapping_form(kind: str, state: dict, lang: str) -> None:
    columns = state.get("columns")
    if not columns:
        return
    needed = bool(state.get("mapping_needed"))
    with st.expander(tr("data.mapping", lang), expanded=needed):
        if needed:
            st.warning(tr("data.mapping_needed", lang))
        current_map = st.session_state.get(f"data.map.{kind}", {})
        auto = tr("data.map.auto", lang)
        options = ["", *columns]

        def pick(label: str, name: str) -> str:
            value = current_map.get(name, "")
            return st.selectbox(label, options, index=options.index(value) if value in options
                                else 0, key=f"data.map_{name}.{kind}",
                                format_func=lambda c: c or auto)

        with st.form(f"data.map_form.{kind}"):
            lon = pick(tr("data.map.lon", lang), "lon")
            lat = pick(tr("data.map.lat", lang), "lat")
            idc = pick(tr("data.map.id", lang, column=LAYERS[kind].id_column), "id")
            if st.form_submit_button(tr("data.map.apply", lang)):
                st.session_state[f"data.map.{kind}"] = {
                    k: v for k, v in (("lon", lon), ("lat", lat), ("id", idc)) if v}
                st.rerun()


def _layer_tab(up: UploadSession, kind: str, lang: str) -> None:
    left, right = st.columns([3, 2])
    _crs_widgets(kind, lang, right)
    fmt = ("raster" if kind == "population" else "vector" if kind in SHAPE_KINDS else "table")
    file = left.file_uploader(tr("data.upload", lang, layer=tr(f"upload.kind.{kind}", lang)),
                              key=f"data.file.{kind}", help=tr(f"data.formats.{fmt}", lang))
    state = _state(kind)
    if file is not None and file.file_id != state.get("file_id"):
        _receive(up, kind, file)
        st.rerun()  # the sidebar and the layer table then show the new state
    if state.get("path") and state.get("options") != _options(kind):
        _ingest(up, kind, state)
        st.rerun()
    if state.get("error"):
        st.error(state["error"])
    if state.get("report") is not None:
        _report(kind, state, lang)
    if state.get("raster") is not None:
        info = state["raster"]
        st.success(tr("data.raster", lang, width=info["width"], height=info["height"],
                      crs=info["crs"], res=" × ".join(f"{r:g}" for r in info["res"]),
                      total=f"{info['total']:,.0f}"))
    if kind in POINT_KINDS:
        _mapping_form(kind, state, lang)
    if up.layer_path(kind).exists():
        st.button(tr("data.remove", lang), key=f"data.remove.{kind}", on_click=_remove,
                  args=(kind,))


def _status_table(up: UploadSession, lang: str) -> pd.DataFrame:
    rows = []
    for kind in UPLOAD_KINDS:
        state = st.session_state.get(f"data.state.{kind}", {})
        stored = up.layer_path(kind).exists()
        report = state.get("report")
        rows.append({
            tr("data.col.layer", lang): tr(f"upload.kind.{kind}", lang),
            tr("data.col.file", lang): state.get("name", "") if stored
            else tr("data.not_uploaded", lang),
            tr("data.col.kept", lang): state.get("kept") if stored and report else None,
            tr("data.col.rejected", lang): report.rejected if stored and report else None,
            tr("data.col.crs", lang): _crs_label(state, lang) if stored else "",
        })
    return pd.DataFrame(rows)


@st.cache_data(show_spinner=False, max_entries=16)
def _datum_check(points_path: str, grids_path: str, signature: str) -> DatumCheck:
    """Datum offset between an uploaded point layer and the uploaded grids."""
    return detect_datum_offset(read_layer_file(Path(points_path)),
                               read_layer_file(Path(grids_path)))


def _mixed_crs(up: UploadSession, signature: str, lang: str) -> None:
    """Warn when a point layer and the grids look like different datums, with the fix."""
    if not up.layer_path("grids").exists():
        return
    for kind in POINT_KINDS:
        if not up.layer_path(kind).exists():
            continue
        check = _datum_check(str(up.layer_path(kind)), str(up.layer_path("grids")), signature)
        layer_name = tr(f"upload.kind.{kind}", lang)
        if not check.suspected:
            st.caption(tr("data.datum_ok", lang, layer=layer_name, message=check.message))
            continue
        fix_kind = kind if check.layer == "points" else "grids"
        datum = _DATUM_LABEL[check.datum]
        fix_name = tr(f"upload.kind.{fix_kind}", lang)
        st.warning(f"**{tr('data.mixed', lang)}** — {check.message}\n\n"
                   + tr("data.mixed_fix", lang, layer=fix_name, datum=datum))
        if _state(fix_kind).get("path"):
            st.button(tr("data.apply_fix", lang, layer=fix_name, datum=datum),
                      key=f"data.fix.{kind}", on_click=_set_crs, args=(fix_kind, check.datum))


def main(ws: Workspace) -> None:
    lang = ws.lang
    st.title(tr("data.title", lang))
    st.caption(tr("data.intro", lang))
    up = session_uploads()
    if ws.source == "uploads":
        st.info(tr("data.using_uploads", lang), icon=":material/upload_file:")
        st.button(tr("data.use_demo", lang), key="data.use_demo", on_click=_set_source,
                  args=("demo",))
    else:
        st.info(tr("data.using_demo", lang), icon=":material/science:")
        st.button(tr("data.use_uploads", lang), key="data.use_uploads", on_click=_set_source,
                  args=("uploads",))
    st.subheader(tr("data.status", lang))
    show_table(_status_table(up, lang), lang, width="stretch")
    # one container whatever it holds: the tabs below keep their place (and the open tab)
    with st.container():
        _mixed_crs(up, _signature(up), lang)
    tabs = st.tabs([tr(f"upload.kind.{k}", lang) for k in UPLOAD_KINDS])
    for tab, kind in zip(tabs, UPLOAD_KINDS, strict=True):
        with tab:
            _layer_tab(up, kind, lang)


def _signature(up: UploadSession) -> str:
    parts = []
    for kind in ("grids", *POINT_KINDS):
        p = up.layer_path(kind)
        if p.exists():
            s = p.stat()
            parts.append(f"{kind}:{s.st_size}:{s.st_mtime_ns}")
    return "|".join(parts)


ws = current()
try:
    main(ws)
except GridmapError as exc:
    st.error(str(exc))
