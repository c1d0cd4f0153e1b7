"""Map layers of the camera analyses: compliance, view sectors, blind spots, suggested sites.

* :func:`compliance_layer` — units (grids, communities or streets) filled by
  density status (met / short) or by completion % of the target.
* :func:`views_layer` — view sectors and discs, shown only from ``min_zoom``
  (at lower zooms the camera points, clustered, say enough).
* :func:`blind_spot_layer` — unseen parts of grids.
* :func:`sites_layer` — suggested new sites, numbered by rank.

Every text that reaches HTML goes through :func:`layers.base.esc`.
"""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from folium.template import Template

from gridmap.i18n import register, tr

from .base import Legend, esc, geojson_dict, legend

__all__ = [
    "COMPLETION_BINS",
    "COMPLETION_COLOURS",
    "STATUS_FILL",
    "blind_spot_layer",
    "compliance_layer",
    "sites_layer",
    "views_layer",
]

register({
    "camlayer.compliance": {"zh": "密度达标情况", "en": "Density compliance"},
    "camlayer.completion": {"zh": "目标完成率", "en": "Completion of target"},
    "camlayer.views": {"zh": "监控视域", "en": "Camera views"},
    "camlayer.blind": {"zh": "监控盲区", "en": "Blind spots"},
    "camlayer.sites": {"zh": "建议新增点位", "en": "Suggested sites"},
    "camlayer.met": {"zh": "达标", "en": "Met"},
    "camlayer.short": {"zh": "未达标", "en": "Short"},
    "camlayer.tip.unit": {"zh": "单元", "en": "Unit"},
    "camlayer.tip.points": {"zh": "点位", "en": "Points"},
    "camlayer.tip.density": {"zh": "密度（个/平方公里）", "en": "Density (per km²)"},
    "camlayer.tip.target": {"zh": "目标", "en": "Target"},
    "camlayer.tip.completion": {"zh": "完成率", "en": "Completion"},
    "camlayer.tip.shortfall": {"zh": "缺口", "en": "Shortfall"},
    "camlayer.tip.with_planned": {"zh": "含规划", "en": "With planned"},
    "camlayer.tip.camera": {"zh": "摄像机", "en": "Camera"},
    "camlayer.tip.range": {"zh": "视距", "en": "Range"},
    "camlayer.tip.area": {"zh": "面积", "en": "Area"},
    "camlayer.tip.rank": {"zh": "排名", "en": "Rank"},
    "camlayer.tip.gain": {"zh": "新增覆盖", "en": "Gain"},
    "camlayer.tip.grid": {"zh": "网格", "en": "Grid"},
    "camlayer.zoom_in": {"zh": "放大到 {z} 级以上显示", "en": "shown from zoom {z}"},
})

STATUS_FILL = {"met": "#2e7d32", "short": "#c62828"}
#: Completion % classes (upper bounds) and their colours, red (far short) to green.
COMPLETION_BINS = (50.0, 80.0, 100.0, 150.0, np.inf)
COMPLETION_COLOURS = ("#b2182b", "#ef8a62", "#fddbc7", "#a6d96a", "#1a9641")


def _completion_colour(values: np.ndarray) -> list[str]:
    idx = np.searchsorted(np.asarray(COMPLETION_BINS), np.nan_to_num(values, nan=0.0),
                          side="right")
    idx = np.minimum(idx, len(COMPLETION_COLOURS) - 1)
    return [COMPLETION_COLOURS[i] for i in idx]


def _fmt(value: object, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)) or pd.isna(value):
        return "—"
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    return f"{float(value):,.{digits}f}"


def compliance_layer(
    table: gpd.GeoDataFrame,
    *,
    lang: str = "zh",
    fill_by: str = "status",
    names: dict | None = None,
    name: str | None = None,
    show: bool = True,
) -> tuple[folium.GeoJson, Legend]:
    """Density units filled by ``status`` (met/short) or ``completion`` (% of target).

    Parameters
    ----------
    table
        :attr:`gridmap.density.DensityResult.table` in the display datum.
    lang
        ``zh`` or ``en``.
    fill_by
        ``status`` or ``completion``.
    names
        Optional unit id → name lookup for tooltips.
    name
        Layer name in the layer control.
    show
        Whether the layer is on when the map opens.
    """
    if fill_by not in ("status", "completion"):
        raise ValueError(f"fill_by must be 'status' or 'completion', got {fill_by!r}.")
    names = names or {}
    if fill_by == "status":
        fill = [STATUS_FILL.get(s, "#9e9e9e") for s in table["status"]]
    else:
        fill = _completion_colour(table["completion_pct"].to_numpy(dtype=float))
    tips = []
    for row in table.drop(columns=table.geometry.name).to_dict("records"):
        unit = row["unit"]
        label = names.get(unit, unit)
        status = tr(f"camlayer.{row['status']}", lang) if row["status"] in STATUS_FILL else ""
        lines = [
            f"<b>{esc(label)}</b>" + (f" ({esc(unit)})" if label != unit else ""),
            f"{esc(tr('camlayer.tip.points', lang))}: {_fmt(row['points'])}",
            f"{esc(tr('camlayer.tip.density', lang))}: {_fmt(row['density_per_km2'])}",
            f"{esc(tr('camlayer.tip.target', lang))}: {_fmt(row['target'])}",
            f"{esc(tr('camlayer.tip.completion', lang))}: {_fmt(row['completion_pct'])}% "
            f"({esc(status)})",
            f"{esc(tr('camlayer.tip.shortfall', lang))}: {_fmt(row['shortfall'])}",
            f"{esc(tr('camlayer.tip.with_planned', lang))}: {_fmt(row['with_planned_pct'])}%",
        ]
        tips.append("<br>".join(lines))
    out = gpd.GeoDataFrame({"tip": tips, "fill": fill}, geometry=table.geometry.values,
                           crs=table.crs)
    layer = folium.GeoJson(
        geojson_dict(out),
        name=name or tr("camlayer.compliance", lang),
        show=show,
        style_function=lambda f: {"fillColor": f["properties"]["fill"], "fillOpacity": 0.5,
                                  "color": "#424242", "weight": 0.8},
        highlight_function=lambda f: {"weight": 2.5, "color": "#111111", "fillOpacity": 0.7},
        tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False, sticky=True),
    )
    if fill_by == "status":
        items = [(STATUS_FILL[s], tr(f"camlayer.{s}", lang)) for s in ("met", "short")
                 if (table["status"] == s).any()]
        title = tr("camlayer.compliance", lang)
    else:
        edges = ["0", "50", "80", "100", "150"]
        labels = [f"< {edges[1]}%", f"{edges[1]}–{edges[2]}%", f"{edges[2]}–{edges[3]}%",
                  f"{edges[3]}–{edges[4]}%", f"≥ {edges[4]}%"]
        items = list(zip(COMPLETION_COLOURS, labels, strict=True))
        title = tr("camlayer.completion", lang)
    return layer, legend(title, items, legend_id="compliance").follow(layer)


class _ZoomGate(MacroElement):
    """Keep a layer off the map below ``min_zoom`` (while the user has it switched on)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function(){
            var map = {{ this._parent.get_name() }};
            var layer = {{ this.layer.get_name() }};
            var wanted = map.hasLayer(layer);
            var busy = false;
            map.on('overlayadd', function(e) { if (!busy && e.layer === layer) { wanted = true; gate(); } });
            map.on('overlayremove', function(e) { if (!busy && e.layer === layer) { wanted = false; } });
            function gate() {
                busy = true;
                var on = wanted && map.getZoom() >= {{ this.min_zoom }};
                if (on && !map.hasLayer(layer)) { map.addLayer(layer); }
                if (!on && map.hasLayer(layer)) { map.removeLayer(layer); }
                busy = false;
            }
            map.on('zoomend', gate);
            gate();
        })();
        {% endmacro %}
        """
    )

    def __init__(self, layer: MacroElement, min_zoom: int) -> None:
        super().__init__()
        self._name = "ZoomGate"
        self.layer = layer
        self.min_zoom = int(min_zoom)


def views_layer(
    views: gpd.GeoDataFrame,
    *,
    lang: str = "zh",
    min_zoom: int = 16,
    name: str | None = None,
    show: bool = True,
) -> tuple[folium.GeoJson, MacroElement]:
    """Camera view polygons, drawn only from zoom ``min_zoom``.

    Parameters
    ----------
    views
        :func:`gridmap.coverage.camera_views` output in the display datum
        (draw them with a coarse ``arc_step_deg`` such as 5° to keep the page small).

    Returns
    -------
    (folium.GeoJson, MacroElement)
        Add both to the map; the second switches the layer by zoom.
    """
    cols = {c: views[c] for c in ("camera_id", "kind", "range_m") if c in views.columns}
    tips = [
        f"{esc(tr('camlayer.tip.camera', lang))} {esc(cid)} · {esc(kind)} · "
        f"{esc(tr('camlayer.tip.range', lang))} {_fmt(r, 0)} m"
        for cid, kind, r in zip(cols.get("camera_id", [""] * len(views)),
                                cols.get("kind", [""] * len(views)),
                                cols.get("range_m", [np.nan] * len(views)), strict=True)
    ]
    occluded = (views["occluded"].to_numpy(dtype=bool) if "occluded" in views.columns
                else np.zeros(len(views), dtype=bool))
    out = gpd.GeoDataFrame({"tip": tips, "cut": occluded}, geometry=views.geometry.values,
                           crs=views.crs)
    label = name or f"{tr('camlayer.views', lang)} ({tr('camlayer.zoom_in', lang, z=min_zoom)})"
    layer = folium.GeoJson(
        geojson_dict(out, precision=6), name=label, show=show,
        style_function=lambda f: {"fillColor": "#1e88e5", "fillOpacity": 0.18,
                                  "color": "#0d47a1" if f["properties"]["cut"] else "#1565c0",
                                  "weight": 0.6},
        tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False, sticky=True),
    )
    return layer, _ZoomGate(layer, min_zoom)


def blind_spot_layer(
    blind: gpd.GeoDataFrame,
    *,
    lang: str = "zh",
    name: str | None = None,
    show: bool = True,
) -> tuple[folium.GeoJson, Legend]:
    """Blind spots (unseen parts of grids) as hatched-red polygons, with their legend."""
    gid = next((c for c in blind.columns if c not in ("area_m2", "incidents",
                                                       blind.geometry.name)), None)
    tips = [
        f"{esc(tr('camlayer.blind', lang))} · {esc(tr('camlayer.tip.grid', lang))} "
        f"{esc(g if gid else '')}<br>{esc(tr('camlayer.tip.area', lang))}: {_fmt(a, 0)} m²"
        for g, a in zip(blind[gid] if gid else [""] * len(blind), blind["area_m2"], strict=True)
    ]
    out = gpd.GeoDataFrame({"tip": tips}, geometry=blind.geometry.values, crs=blind.crs)
    out = out[~(out.geometry.isna() | out.geometry.is_empty)]
    out[out.geometry.name] = shapely.simplify(out.geometry.values, 1e-5)
    layer = folium.GeoJson(
        geojson_dict(out, precision=6), name=name or tr("camlayer.blind", lang), show=show,
        style_function=lambda f: {"fillColor": "#d50000", "fillOpacity": 0.35,
                                  "color": "#b71c1c", "weight": 0.5, "dashArray": "3"},
        tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False, sticky=True),
    )
    leg = legend(tr("camlayer.blind", lang), [("#d50000", tr("camlayer.blind", lang))],
                 legend_id="blind_spots")
    return layer, leg.follow(layer)


def sites_layer(
    sites: gpd.GeoDataFrame,
    *,
    lang: str = "zh",
    grid_id: str = "grid_id",
    name: str | None = None,
    show: bool = True,
) -> tuple[folium.FeatureGroup, Legend]:
    """Suggested sites as numbered circle markers (rank), with their legend."""
    group = folium.FeatureGroup(name=name or tr("camlayer.sites", lang), show=show)
    for row in sites.itertuples(index=False):
        geom = row.geometry
        if geom is None or geom.is_empty:
            continue
        grid = getattr(row, grid_id, "") if hasattr(row, grid_id) else ""
        tip = (f"{esc(tr('camlayer.tip.rank', lang))} {int(row.rank)} · {esc(row.site_id)}<br>"
               f"{esc(tr('camlayer.tip.gain', lang))}: {_fmt(row.gain)}<br>"
               f"{esc(tr('camlayer.tip.grid', lang))}: {esc(grid)}")
        folium.CircleMarker(
            location=[geom.y, geom.x], radius=9, color="#ffffff", weight=1.5,
            fill=True, fill_color="#6a1b9a", fill_opacity=0.95, tooltip=tip,
        ).add_to(group)
        folium.Marker(
            location=[geom.y, geom.x],
            icon=folium.DivIcon(html=f'<div style="font:600 10px sans-serif;color:#fff;'
                                     f'text-align:center;width:18px;margin:-6px 0 0 -9px">'
                                     f'{int(row.rank)}</div>'),
        ).add_to(group)
    leg = legend(tr("camlayer.sites", lang), [("#6a1b9a", tr("camlayer.sites", lang))],
                 legend_id="sites", shape="dot")
    return group, leg.follow(group)
