"""Chinese and English user-facing strings.

Every label the app, the map legends or a report shows to a person is looked up
here by key, so a page can be switched between 中文 and English. Modules add
their own keys with :func:`register` at import time; :func:`tr` formats them.

Examples
--------
>>> from gridmap.i18n import register, tr
>>> register({"hello": {"zh": "你好，{name}", "en": "Hello, {name}"}})
>>> tr("hello", "en", name="Jiaxing")
'Hello, Jiaxing'
"""

from __future__ import annotations

from collections.abc import Mapping

from ._errors import GridmapError

__all__ = ["LANGS", "I18nError", "default_lang", "has", "register", "tr"]

LANGS = ("zh", "en")


class I18nError(GridmapError, KeyError):
    """A string key or language is unknown, or a registration is incomplete."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0])


_STRINGS: dict[str, dict[str, str]] = {}


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
    staged: dict[str, dict[str, str]] = {}
    for key, texts in mapping.items():
        missing = [lang for lang in LANGS if lang not in texts]
        if missing:
            raise I18nError(
                f"string {key!r} lacks {missing}; give a text for every language in {LANGS}."
            )
        entry = {lang: str(texts[lang]) for lang in LANGS}
        old = _STRINGS.get(key)
        if old is not None and old != entry:
            raise I18nError(
                f"string {key!r} is already registered as {old}; pick another key "
                "(prefix it with your module's name, e.g. 'cameras.title')."
            )
        staged[key] = entry
    _STRINGS.update(staged)


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
    if lang not in LANGS:
        raise I18nError(f"unknown language {lang!r}; use one of {LANGS}.")
    try:
        text = _STRINGS[key][lang]
    except KeyError:
        raise I18nError(
            f"no string registered for {key!r}; add it with gridmap.i18n.register()."
        ) from None
    return text.format(**fmt) if fmt else text


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
