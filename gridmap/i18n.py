"""Chinese and English user-facing strings.

Every label the app, the map legends or a report shows to a person is looked up
here by key, so a page can be switched between 中文 and English. Modules add
their own keys with :func:`register` at import time; :func:`tr` formats them.

Table headers work the same way: the library's column names (``grid_id``,
``density_per_km2``...) are registered once with :func:`register_columns`
(the table at the end of this module), and :func:`label_columns` returns a
copy of a table with its headers in one language. Files written for download
keep the stable column names; only what a person reads is labelled.

Examples
--------
>>> from gridmap.i18n import register, tr
>>> register({"hello": {"zh": "你好，{name}", "en": "Hello, {name}"}})
>>> tr("hello", "en", name="Jiaxing")
'Hello, Jiaxing'
>>> column_label("grid_id", "zh")
'网格编码'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from ._errors import GridmapError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "LANGS",
    "I18nError",
    "column_label",
    "default_lang",
    "has",
    "has_column",
    "label_columns",
    "label_values",
    "register",
    "register_columns",
    "register_values",
    "tr",
]

LANGS = ("zh", "en")


class I18nError(GridmapError, KeyError):
    """A string key or language is unknown, or a registration is incomplete."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0])


_STRINGS: dict[str, dict[str, str]] = {}
_COLUMNS: dict[str, dict[str, str]] = {}
_VALUES: dict[str, dict[str, dict[str, str]]] = {}  # column -> value -> lang -> text


def _stage(mapping: Mapping[str, Mapping[str, str]], table: dict[str, dict[str, str]],
           what: str, hint: str) -> dict[str, dict[str, str]]:
    """Check ``mapping`` against ``table``; return the entries to add (all or nothing)."""
    staged: dict[str, dict[str, str]] = {}
    for key, texts in mapping.items():
        missing = [lang for lang in LANGS if lang not in texts]
        if missing:
            raise I18nError(
                f"{what} {key!r} lacks {missing}; give a text for every language in {LANGS}."
            )
        entry = {lang: str(texts[lang]) for lang in LANGS}
        old = table.get(key)
        if old is not None and old != entry:
            raise I18nError(f"{what} {key!r} is already registered as {old}; {hint}")
        staged[key] = entry
    return staged


def register(mapping: Mapping[str, Mapping[str, str]]) -> None:
    """Add strings: ``{key: {"zh": ..., "en": ...}}``.

    Both languages are required. Registering the same key again with the same
    texts is allowed (modules may be re-imported, e.g. by Streamlit); with
    different texts it is an error, so two modules cannot silently fight over a key.

    Raises
    ------
    I18nError
        When a language is missing or a key is already registered with other texts.
    """
    _STRINGS.update(_stage(
        mapping, _STRINGS, "string",
        "pick another key (prefix it with your module's name, e.g. 'cameras.title').",
    ))


def has(key: str) -> bool:
    """True when ``key`` is registered."""
    return key in _STRINGS


def tr(key: str, lang: str, /, **fmt: object) -> str:
    """Return the text of ``key`` in ``lang`` (``"zh"`` or ``"en"``), formatted with ``fmt``.

    Raises
    ------
    I18nError
        When ``key`` is not registered or ``lang`` is not one of :data:`LANGS`.
    """
    _check_lang(lang)
    try:
        text = _STRINGS[key][lang]
    except KeyError:
        raise I18nError(
            f"no string registered for {key!r}; add it with gridmap.i18n.register()."
        ) from None
    return text.format(**fmt) if fmt else text


def _check_lang(lang: str) -> None:
    if lang not in LANGS:
        raise I18nError(f"unknown language {lang!r}; use one of {LANGS}.")


def register_columns(mapping: Mapping[str, Mapping[str, str]]) -> None:
    """Add table header labels: ``{column_name: {"zh": ..., "en": ...}}``.

    The same rules as :func:`register`: both languages are required, the same
    texts may be registered again, other texts for a registered column raise.

    Raises
    ------
    I18nError
        When a language is missing or a column is already registered with other texts.
    """
    _COLUMNS.update(_stage(
        mapping, _COLUMNS, "column",
        "a column name means one thing in every table: give it the same label, or name "
        "the column differently.",
    ))


def has_column(name: str) -> bool:
    """True when column ``name`` has a registered label."""
    return name in _COLUMNS


def column_label(name: str, lang: str, /, *, strict: bool = False) -> str:
    """The header of column ``name`` in ``lang``.

    An unregistered column keeps its name, or raises when ``strict``.

    Raises
    ------
    I18nError
        When ``lang`` is unknown, or ``strict`` and ``name`` is not registered.
    """
    _check_lang(lang)
    entry = _COLUMNS.get(name)
    if entry is not None:
        return entry[lang]
    if strict:
        raise I18nError(
            f"no label registered for column {name!r}; add it with "
            "gridmap.i18n.register_columns()."
        )
    return name


def label_columns(
    df: pd.DataFrame,
    lang: str,
    /,
    *,
    keep: Iterable[str] = (),
    strict: bool = False,
) -> pd.DataFrame:
    """A copy of ``df`` with its column headers (and a named index) labelled in ``lang``.

    Parameters
    ----------
    df
        The table; it is not changed.
    lang
        ``"zh"`` or ``"en"``.
    keep
        Columns shown as they are, e.g. the headers of a person's own uploaded file.
    strict
        Raise for a column that is neither registered nor in ``keep``, instead
        of showing its raw name.

    Raises
    ------
    I18nError
        When ``lang`` is unknown, or ``strict`` and a column has no label.
    """
    _check_lang(lang)
    kept = set(keep)
    names = [c for c in df.columns if isinstance(c, str) and c not in kept]
    if strict:
        unknown = [c for c in df.columns if c not in kept and c not in _COLUMNS]
        if unknown:
            raise I18nError(
                f"no label registered for columns {unknown}; add them with "
                "gridmap.i18n.register_columns() or pass them in keep=."
            )
    out = df.rename(columns={c: column_label(c, lang) for c in names})
    if isinstance(df.index.name, str) and df.index.name not in kept:
        out.index = out.index.rename(column_label(df.index.name, lang, strict=strict))
    return out


def register_values(column: str, mapping: Mapping[str, Mapping[str, str]]) -> None:
    """Add labels for the vocabulary of a column: ``{value: {"zh": ..., "en": ...}}``.

    For columns whose values are words of the library (``zone``: ``urban``,
    ``rural``; a compliance ``status``: ``met``, ``short``; a Gi* class...),
    not a person's data. The rules of :func:`register` apply per column.

    Raises
    ------
    I18nError
        When a language is missing or a value is already registered with other texts.
    """
    table = _VALUES.setdefault(column, {})
    table.update(_stage(
        mapping, table, f"value of column {column!r}",
        "a value means one thing in a column: give it the same label.",
    ))


def label_values(df: pd.DataFrame, lang: str, /, *, keep: Iterable[str] = ()) -> pd.DataFrame:
    """A copy of ``df`` whose registered vocabulary values read in ``lang``.

    Only columns with a registered vocabulary (:func:`register_values`) and
    only the registered values change; anything else (names, codes, a
    person's own words) is shown as it is. Columns in ``keep`` are left alone.

    Raises
    ------
    I18nError
        When ``lang`` is unknown.
    """
    _check_lang(lang)
    kept = set(keep)
    out = df
    for col in df.columns:
        vocab = _VALUES.get(col) if isinstance(col, str) and col not in kept else None
        if not vocab:
            continue
        series = df[col]
        if not (series.dtype == object or str(series.dtype) in ("string", "str", "category")):
            continue
        if out is df:
            out = df.copy()
        out[col] = series.map(lambda v, vocab=vocab: vocab[v][lang] if v in vocab else v)
    return out


def default_lang(locale: str | None) -> str:
    """Pick ``"zh"`` for Chinese locales (``zh``, ``zh-CN``, ``zh_TW``...), else ``"en"``.

    ``None`` or an empty string (no browser locale known) gives ``"zh"``: the
    tool's users are Chinese planners.
    """
    if not locale:
        return "zh"
    return "zh" if str(locale).strip().lower().replace("_", "-").startswith("zh") else "en"


register(
    {
        # Workspace sidebar
        "app.title": {"zh": "网格一张网", "en": "Grid one-network map"},
        "ws.heading": {"zh": "工作区", "en": "Workspace"},
        "ws.language": {"zh": "语言 / Language", "en": "Language / 语言"},
        "ws.data_source": {"zh": "数据来源", "en": "Data source"},
        "ws.source.demo": {"zh": "演示区县（合成数据）", "en": "Demo district (synthetic)"},
        "ws.basemap": {"zh": "底图", "en": "Basemap"},
        "ws.custom_url": {"zh": "自定义瓦片地址（XYZ）", "en": "Custom tile URL (XYZ)"},
        "ws.custom_url.help": {
            "zh": "形如 https://host/{z}/{x}/{y}.png；需要能访问该地址的网络。",
            "en": "Like https://host/{z}/{x}/{y}.png; needs a network that reaches it.",
        },
        "ws.custom_url.empty": {
            "zh": "请输入瓦片地址；在此之前不显示底图。",
            "en": "Enter a tile URL; no basemap is shown until then.",
        },
        "ws.custom_gcj": {"zh": "瓦片为 GCJ-02 坐标", "en": "Tiles are in GCJ-02"},
        "ws.tianditu_missing": {
            "zh": "天地图需要密钥：启动前设置环境变量 TIANDITU_KEY。",
            "en": "Tianditu needs a key: set the TIANDITU_KEY environment variable before starting.",
        },
        "ws.online_note": {
            "zh": "在线底图需要联网；离线时请选“无底图”。",
            "en": "Online basemaps need the internet; choose “None” when offline.",
        },
        "ws.generating": {
            "zh": "首次运行：正在生成演示数据（{scale}）到 {path} …",
            "en": "First run: generating the demo district ({scale}) into {path} …",
        },
        "ws.data_dir": {"zh": "数据目录：{path}", "en": "Data folder: {path}"},
        "ws.load_error": {"zh": "无法读取数据：{error}", "en": "Cannot read the data: {error}"},
        # Basemaps
        "basemap.none": {"zh": "无底图（离线可用）", "en": "None (works offline)"},
        "basemap.osm": {"zh": "OpenStreetMap", "en": "OpenStreetMap"},
        "basemap.amap": {"zh": "高德地图（GCJ-02）", "en": "AMap / Gaode (GCJ-02)"},
        "basemap.amap_satellite": {
            "zh": "高德影像（GCJ-02）", "en": "AMap satellite (GCJ-02)",
        },
        "basemap.tianditu": {"zh": "天地图（需密钥）", "en": "Tianditu (key required)"},
        "basemap.custom": {"zh": "自定义 XYZ 瓦片", "en": "Custom XYZ tiles"},
        # Pages
        "page.overview": {"zh": "一张网总览", "en": "One-network overview"},
        "page.grids": {"zh": "网格划分", "en": "Grid partition"},
        "page.heatmaps": {"zh": "人地事热力", "en": "Heatmaps"},
        "page.events": {"zh": "事件闭环", "en": "Closed loop"},
        "page.cameras": {"zh": "视频监控", "en": "Cameras"},
        # Overview page
        "overview.title": {"zh": "一张网总览", "en": "One-network overview"},
        "demo.label": {
            "zh": "合成演示数据（非真实数据） · Synthetic demo district — not real data",
            "en": "Synthetic demo district — not real data · 合成演示数据（非真实数据）",
        },
        "fig.grids": {"zh": "网格", "en": "Grids"},
        "fig.streets": {"zh": "街道", "en": "Streets"},
        "fig.communities": {"zh": "社区", "en": "Communities"},
        "fig.camera_points": {"zh": "监控点位", "en": "Camera points"},
        "fig.cameras": {"zh": "摄像机", "en": "Cameras"},
        "fig.incidents": {"zh": "事件", "en": "Incidents"},
        "overview.colour_by": {"zh": "网格着色", "en": "Colour grids by"},
        "overview.by_street": {"zh": "按街道", "en": "Street"},
        "overview.by_community": {"zh": "按社区", "en": "Community"},
        "overview.outside": {
            "zh": "{n} 个事件点位于所有网格之外（已计数，未丢弃）。",
            "en": "{n} incidents lie outside every grid (counted, not dropped).",
        },
        "overview.map_help": {
            "zh": "摄像机按点位聚合显示，放大后展开；事件只按网格汇总显示。",
            "en": "Cameras are clustered by point and split apart as you zoom in; "
            "incidents are shown only as totals per grid.",
        },
        # Map layers and legends
        "layer.grids": {"zh": "网格", "en": "Grids"},
        "layer.cameras": {"zh": "摄像机点位", "en": "Camera points"},
        "layer.incidents": {"zh": "事件（按网格汇总）", "en": "Incidents per grid"},
        "legend.grids.street": {"zh": "网格（按街道）", "en": "Grids by street"},
        "legend.grids.community": {"zh": "网格（按社区）", "en": "Grids by community"},
        "legend.more": {"zh": "另有 {n} 项", "en": "{n} more"},
        "legend.reused": {
            "zh": "共 {n} 个；相邻者颜色不同", "en": "{n} in all; neighbours differ in colour",
        },
        "legend.cameras": {"zh": "摄像机点位状态", "en": "Camera point status"},
        "legend.incidents": {"zh": "事件数（每网格）", "en": "Incidents per grid"},
        "legend.suppressed": {"zh": "少于 {k}（不公开）", "en": "fewer than {k} (suppressed)"},
        "legend.withheld": {"zh": "少于 {k}，或可据此推算出小数（不公开）",
                            "en": "fewer than {k}, or would let one be worked out (withheld)"},
        "status.online": {"zh": "全部在线", "en": "all online"},
        "status.mixed": {"zh": "部分离线", "en": "some offline"},
        "status.offline": {"zh": "全部离线", "en": "all offline"},
        "status.planned": {"zh": "规划中", "en": "planned"},
        "status.unknown": {"zh": "状态未知", "en": "status unknown"},
        "tip.grid": {"zh": "网格", "en": "Grid"},
        "tip.street": {"zh": "街道", "en": "Street"},
        "tip.community": {"zh": "社区", "en": "Community"},
        "tip.point": {"zh": "点位", "en": "Point"},
        "tip.cameras": {"zh": "摄像机 {n} 台", "en": "cameras: {n}"},
        "tip.more": {"zh": "… 另有 {n} 台", "en": "… {n} more"},
        "tip.incidents": {"zh": "事件数", "en": "Incidents"},
        "kind.bullet": {"zh": "枪机", "en": "bullet"},
        "kind.dome": {"zh": "球机", "en": "dome"},
        "kind.ptz": {"zh": "云台", "en": "PTZ"},
        "kind.hemisphere": {"zh": "半球", "en": "hemisphere"},
        "kind.other": {"zh": "其他", "en": "other"},
        "camstatus.online": {"zh": "在线", "en": "online"},
        "camstatus.offline": {"zh": "离线", "en": "offline"},
        "camstatus.planned": {"zh": "规划", "en": "planned"},
        "camstatus.unknown": {"zh": "未知", "en": "unknown"},
    }
)


# Table headers: the column names of the library's results, as people read them.
register_columns(
    {
        # ids and places
        "grid_id": {"zh": "网格编码", "en": "Grid code"},
        "unit": {"zh": "单元编码", "en": "Unit code"},
        "name": {"zh": "名称", "en": "Name"},
        "zone": {"zh": "城乡分区", "en": "Zone"},
        "camera_id": {"zh": "摄像机编号", "en": "Camera ID"},
        "point_id": {"zh": "点位编号", "en": "Point ID"},
        "gb28181_id": {"zh": "国标编码（GB/T 28181）", "en": "GB/T 28181 ID"},
        "site_id": {"zh": "点位编号（建议）", "en": "Site ID"},
        "lon": {"zh": "经度", "en": "Longitude"},
        "lat": {"zh": "纬度", "en": "Latitude"},
        "status": {"zh": "状态", "en": "Status"},
        "kind": {"zh": "类型", "en": "Kind"},
        "detail": {"zh": "详情", "en": "Details"},
        "count": {"zh": "数量", "en": "Count"},
        "rank": {"zh": "排序", "en": "Rank"},
        "source": {"zh": "来源", "en": "Source"},
        # camera density (gridmap.density)
        "area_km2": {"zh": "面积（km²）", "en": "Area (km²)"},
        "area_m2": {"zh": "面积（m²）", "en": "Area (m²)"},
        "cameras": {"zh": "摄像机（台）", "en": "Cameras"},
        "points": {"zh": "已建点位", "en": "Built points"},
        "online": {"zh": "在线摄像机", "en": "Cameras online"},
        "planned_points": {"zh": "规划点位", "en": "Planned points"},
        "planned_cameras": {"zh": "规划摄像机", "en": "Planned cameras"},
        "density_per_km2": {"zh": "密度（个/km²）", "en": "Density (per km²)"},
        "target": {"zh": "目标（个/km²）", "en": "Target (per km²)"},
        "completion_pct": {"zh": "完成率（%）", "en": "Completion (%)"},
        "shortfall": {"zh": "缺口", "en": "Shortfall"},
        "with_planned_pct": {"zh": "含规划完成率（%）", "en": "Completion with planned (%)"},
        "units": {"zh": "统计单元数", "en": "Units"},
        "units_met": {"zh": "达标单元", "en": "Units meeting target"},
        # coverage (gridmap.coverage)
        "covered_pct": {"zh": "覆盖率（%）", "en": "Covered (%)"},
        "overlap_pct": {"zh": "重叠覆盖（%）", "en": "Seen twice or more (%)"},
        "blind_spots": {"zh": "盲区个数", "en": "Blind spots"},
        "blind_m2": {"zh": "盲区面积（m²）", "en": "Blind area (m²)"},
        "incidents": {"zh": "事件数", "en": "Incidents"},
        "incidents_covered_pct": {"zh": "事件覆盖率（%）", "en": "Incidents seen (%)"},
        "road_km": {"zh": "道路长度（km）", "en": "Roads (km)"},
        "road_covered_pct": {"zh": "道路覆盖率（%）", "en": "Roads seen (%)"},
        # new sites (gridmap.placement)
        "gain": {"zh": "新增覆盖需求", "en": "Demand newly covered"},
        "cumulative_gain": {"zh": "累计新增覆盖", "en": "Cumulative demand covered"},
        "cumulative_pct": {"zh": "累计覆盖未覆盖需求（%）", "en": "Cumulative share of unseen demand (%)"},
        # GB/T 28181 check (gridmap.gb28181)
        "finding": {"zh": "问题", "en": "Finding"},
        "device_class": {"zh": "设备大类", "en": "Device class"},
        "type_code": {"zh": "类型码", "en": "Type code"},
        "type_name": {"zh": "设备类型", "en": "Device type"},
        # per-grid figures (gridmap.aggregate, gridmap.population, gridmap.hotspots)
        "population": {"zh": "人口", "en": "Residents"},
        "n_places": {"zh": "场所数", "en": "Places"},
        "n": {"zh": "点数", "en": "Points counted"},
        "n_per_km2": {"zh": "每平方公里点数", "en": "Points per km²"},
        "n_per_1000": {"zh": "每千人点数", "en": "Points per 1,000 residents"},
        "incidents_per_km2": {"zh": "每平方公里事件数", "en": "Incidents per km²"},
        "incidents_per_1000": {"zh": "每千人事件数", "en": "Incidents per 1,000 residents"},
        "gi_z": {"zh": "Gi* Z 值", "en": "Gi* z-score"},
        "gi_p": {"zh": "Gi* P 值", "en": "Gi* p-value"},
        "gi_bin": {"zh": "热点置信等级", "en": "Gi* confidence class"},
        "hotspot": {"zh": "冷热点", "en": "Hot or cold spot"},
        "composite": {"zh": "综合指数", "en": "Composite index"},
        # grid plans (gridmap.validate, gridmap.workspace, gridmap.compare, gridmap.edit)
        "grids": {"zh": "涉及网格", "en": "Grids involved"},
        "created_at": {"zh": "保存时间", "en": "Saved at"},
        "note": {"zh": "备注", "en": "Note"},
        "n_grids": {"zh": "网格数", "en": "Grids"},
        "n_units": {"zh": "单元格数", "en": "Square units"},
        "locked": {"zh": "锁定网格", "en": "Locked grids"},
        "deviation_pct": {"zh": "偏差（%）", "en": "Deviation (%)"},
        "grid_before": {"zh": "原网格", "en": "Grid before"},
        "grid_after": {"zh": "新网格", "en": "Grid after"},
        "code_before": {"zh": "原编码", "en": "Code before"},
        "code_after": {"zh": "新编码", "en": "Code after"},
        "area_m2_before": {"zh": "原面积（m²）", "en": "Area before (m²)"},
        "area_m2_after": {"zh": "新面积（m²）", "en": "Area after (m²)"},
        "polsby_popper_before": {"zh": "原紧凑度", "en": "Compactness before"},
        "polsby_popper_after": {"zh": "新紧凑度", "en": "Compactness after"},
        "population_before": {"zh": "原人口", "en": "Residents before"},
        "population_after": {"zh": "新人口", "en": "Residents after"},
        "population_dev_before": {"zh": "原人口偏差", "en": "Residents deviation before"},
        "population_dev_after": {"zh": "新人口偏差", "en": "Residents deviation after"},
        "n_units_before": {"zh": "原单元格数", "en": "Square units before"},
        "n_units_after": {"zh": "新单元格数", "en": "Square units after"},
        "n_units_dev_before": {"zh": "原单元格数偏差", "en": "Square units deviation before"},
        "n_units_dev_after": {"zh": "新单元格数偏差", "en": "Square units deviation after"},
        "units_out": {"zh": "移出单元格", "en": "Square units moved out"},
        "units_in": {"zh": "移入单元格", "en": "Square units moved in"},
        # ingest report (gridmap.ingest)
        "row": {"zh": "行号", "en": "Row"},
        "reason": {"zh": "原因", "en": "Reason"},
        "repairs": {"zh": "修复", "en": "Repairs"},
    }
)


# Cell values: the library's own vocabularies in result tables (not a person's data).
def _vocab(pairs: Mapping[str, tuple[str, str]]) -> dict[str, dict[str, str]]:
    return {value: {"zh": zh, "en": en} for value, (zh, en) in pairs.items()}


register_values("zone", _vocab({"urban": ("城区", "urban"), "rural": ("农村", "rural"),
                                "all": ("全部", "all")}))
register_values("status", _vocab({
    # density compliance (gridmap.density)
    "met": ("达标", "met"), "short": ("未达标", "short"),
    # camera status (gridmap.schema)
    "online": ("在线", "online"), "offline": ("离线", "offline"),
    "planned": ("规划", "planned"), "unknown": ("未知", "unknown"),
    # incident status (gridmap.schema)
    "reported": ("已上报", "reported"), "dispatched": ("已派遣", "dispatched"),
    "handled": ("已处置", "handled"), "closed": ("已结案", "closed"),
}))
register_values("finding", _vocab({
    "missing": ("缺少国标编码", "missing"), "malformed": ("编码格式错误", "malformed"),
    "not a camera": ("非摄像机编码", "not a camera"),
    "district mismatch": ("行政区划与所在网格不符", "district mismatch"),
    "duplicate": ("编码重复", "duplicate"),
}))
register_values("device_class", _vocab({
    "camera": ("摄像机", "camera"), "recorder": ("录像设备", "recorder"),
    "directory": ("目录/组织", "directory"), "front-end device": ("前端设备", "front-end device"),
    "peripheral": ("外围设备", "peripheral"), "server": ("平台服务器", "server"),
    "user": ("用户", "user"), "unknown": ("未知", "unknown"),
    "missing": ("缺少编码", "missing"), "malformed": ("编码格式错误", "malformed"),
}))
register_values("type_name", _vocab({  # GB/T 28181-2016 Appendix D type codes 111-400
    "DVR": ("数字视频录像机（DVR）", "DVR"), "video server": ("视频服务器", "video server"),
    "encoder": ("编码器", "encoder"), "decoder": ("解码器", "decoder"),
    "video switching matrix": ("视频切换矩阵", "video switching matrix"),
    "audio switching matrix": ("音频切换矩阵", "audio switching matrix"),
    "alarm controller": ("报警控制器", "alarm controller"),
    "NVR": ("网络视频录像机（NVR）", "NVR"), "HVR": ("混合硬盘录像机（HVR）", "HVR"),
    "camera": ("摄像机", "camera"), "IPC": ("网络摄像机（IPC）", "IPC"),
    "display": ("显示器", "display"), "alarm input device": ("报警输入设备", "alarm input device"),
    "alarm output device": ("报警输出设备", "alarm output device"),
    "voice input device": ("语音输入设备", "voice input device"),
    "voice output device": ("语音输出设备", "voice output device"),
    "mobile transmission device": ("移动传输设备", "mobile transmission device"),
    "other peripheral": ("其他外围设备", "other peripheral"),
    "central SIP server": ("中心信令控制服务器", "central SIP server"),
    "web application server": ("Web 应用服务器", "web application server"),
    "media distribution server": ("媒体分发服务器", "media distribution server"),
    "proxy server": ("代理服务器", "proxy server"),
    "security server": ("安全服务器", "security server"),
    "alarm server": ("报警服务器", "alarm server"),
    "database server": ("数据库服务器", "database server"),
    "GIS server": ("GIS 服务器", "GIS server"),
    "management server": ("管理服务器", "management server"),
    "access gateway": ("接入网关", "access gateway"),
    "media storage server": ("媒体存储服务器", "media storage server"),
    "signalling security gateway": ("信令安全路由网关", "signalling security gateway"),
    "business group": ("业务分组", "business group"),
    "virtual organisation": ("虚拟组织", "virtual organisation"),
    "central user": ("中心用户", "central user"), "terminal user": ("终端用户", "terminal user"),
}))
register_values("hotspot", _vocab({
    "hot 99%": ("热点（99% 置信）", "hot 99%"), "hot 95%": ("热点（95% 置信）", "hot 95%"),
    "hot 90%": ("热点（90% 置信）", "hot 90%"), "not significant": ("不显著", "not significant"),
    "cold 90%": ("冷点（90% 置信）", "cold 90%"), "cold 95%": ("冷点（95% 置信）", "cold 95%"),
    "cold 99%": ("冷点（99% 置信）", "cold 99%"),
}))
register_values("kind", _vocab({  # grid plan issues (gridmap.validate.ISSUE_KINDS)
    "invalid": ("几何无效", "invalid"), "empty": ("几何为空", "empty"),
    "duplicate_id": ("编码重复", "duplicate id"), "multipart": ("多部件网格", "multipart"),
    "overlap": ("重叠", "overlap"), "gap": ("缝隙", "gap"),
    "parent": ("跨越上级单元", "crosses its parent"), "island": ("飞地", "island"),
}))
register_values("reason", _vocab({  # ingest rejection reasons (gridmap.ingest.REASONS)
    "missing coordinate": ("缺少坐标", "missing coordinate"),
    "unparseable coordinate": ("坐标无法解析", "unparseable coordinate"),
    "out of range": ("坐标超出范围", "out of range"),
    "outside study area": ("位于研究区外", "outside study area"),
    "duplicate id": ("编号重复", "duplicate id"),
    "missing geometry": ("缺少几何", "missing geometry"),
    "unparseable geometry": ("几何无法解析", "unparseable geometry"),
    "wrong geometry type": ("几何类型不符", "wrong geometry type"),
    "malformed line": ("行格式错误", "malformed line"),
}))
