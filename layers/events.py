"""Closed-loop metrics per grid on the map (a choropleth), never raw incidents.

:func:`closed_loop_layer` colours grids by one metric of
:func:`gridmap.events.closed_loop` (closure rate, overdue cases, median hours
to close...). The map shows the table as published
(:func:`gridmap.events.published_table`): a grid whose count of cases is
small, or would let a small count be worked out from the area's totals, is
drawn grey ("withheld") without figures, and a metric blanked there (a small
overdue count, a rate of few closed cases) is withheld too.
"""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from gridmap.events import published_table
from gridmap.i18n import register, tr

from .base import Legend, esc, geojson_dict, legend

__all__ = ["METRICS", "closed_loop_layer"]

register({
    "eventslayer.closure_rate": {"zh": "结案率", "en": "Closure rate"},
    "eventslayer.on_time_rate": {"zh": "按时办结率", "en": "On-time rate"},
    "eventslayer.overdue": {"zh": "超期件数", "en": "Overdue cases"},
    "eventslayer.median_hours": {"zh": "办结时长中位数（小时）", "en": "Median hours to close"},
    "eventslayer.n": {"zh": "事件数", "en": "Cases"},
    "eventslayer.withheld": {"zh": "已隐去：小于 {k} 的数，或可据此推算出这类小数的数",
                             "en": "withheld: a count below {k}, or one that would reveal it"},
    "eventslayer.value_withheld": {"zh": "已隐去", "en": "withheld"},
    "eventslayer.none": {"zh": "无事件", "en": "no cases"},
})

METRICS = ("closure_rate", "on_time_rate", "overdue", "median_hours")
# good is green for rates, red for counts and times
_GOOD_HIGH = ("#d73027", "#fc8d59", "#fee08b", "#91cf60", "#1a9850")
_GOOD_LOW = tuple(reversed(_GOOD_HIGH))


def _fmt(metric: str, v: float) -> str:
    if metric in ("closure_rate", "on_time_rate"):
        return f"{v:.0%}"
    if metric == "median_hours":
        return f"{v:.1f}"
    return f"{v:,.0f}"


def closed_loop_layer(
    grids: gpd.GeoDataFrame,
    table: pd.DataFrame,
    *,
    metric: str = "closure_rate",
    lang: str = "zh",
    min_count: int = 5,
    grid_id: str = "grid_id",
    show: bool = True,
) -> tuple[folium.GeoJson, Legend]:
    """Grids coloured by a closed-loop ``metric`` from a per-grid table.

    Parameters
    ----------
    grids
        Grid polygons in the display datum.
    table
        ``closed_loop(..., by="grid").table`` (``unit`` = grid id) of the grids
        shown, raw: the layer publishes it (:func:`gridmap.events.published_table`).
    metric
        One of :data:`METRICS`.
    lang
        ``zh`` or ``en``.
    min_count
        ``k``: counts of 1 to ``k - 1``, and the complements that would reveal
        them, are withheld (grey, no figures).
    grid_id
        Grid id column of ``grids``.
    show
        Whether the layer is on when the map opens.
    """
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; choose one of {METRICS}.")
    ids = grids[grid_id].astype(str)
    raw = table.set_index(table["unit"].astype(str))
    pub = published_table(table, k=min_count)
    pub = pub.set_index(pub["unit"].astype(str))
    cases = raw["n"].reindex(ids).fillna(0).to_numpy(dtype=float) > 0
    n = pd.to_numeric(pub["n"], errors="coerce").reindex(ids).to_numpy(dtype=float)
    v = pd.to_numeric(pub[metric], errors="coerce").reindex(ids).to_numpy(dtype=float)
    withheld = cases & ~np.isfinite(n)  # small, or a complement: the same grey, one label
    ok = cases & np.isfinite(n) & np.isfinite(v)
    value_withheld = cases & np.isfinite(n) & ~np.isfinite(v)
    ramp = _GOOD_HIGH if metric in ("closure_rate", "on_time_rate") else _GOOD_LOW
    if ok.any():
        lo, hi = float(np.nanmin(v[ok])), float(np.nanmax(v[ok]))
    else:
        lo, hi = 0.0, 1.0
    edges = np.linspace(lo, hi, len(ramp) + 1)
    fills = np.full(len(grids), "#ffffff", dtype=object)
    fills[withheld | value_withheld] = "#c7c7c7"
    if ok.any():
        k = np.clip(np.searchsorted(edges[1:-1], v[ok], side="right"), 0, len(ramp) - 1)
        fills[ok] = np.asarray(ramp, dtype=object)[k]
    names = grids["name"].astype(str).to_numpy() if "name" in grids else ids.to_numpy()
    label = tr(f"eventslayer.{metric}", lang)
    grey = tr("eventslayer.withheld", lang, k=min_count)
    n_label = tr("eventslayer.n", lang)
    tips = []
    for i, nm in enumerate(names):
        if withheld[i]:
            body = esc(grey)
        elif cases[i]:
            shown = _fmt(metric, v[i]) if ok[i] else tr("eventslayer.value_withheld", lang)
            body = f"{esc(label)}: {esc(shown)}<br>{esc(n_label)}: {n[i]:,.0f}"
        else:
            body = esc(tr("eventslayer.none", lang))
        tips.append(f"<b>{esc(nm)}</b><br>{body}")
    frame = gpd.GeoDataFrame({"tip": tips, "fill": fills}, geometry=grids.geometry.values,
                             crs=grids.crs)
    layer = folium.GeoJson(
        geojson_dict(frame), name=label, show=show,
        style_function=lambda f: {"fillColor": f["properties"]["fill"], "fillOpacity": 0.75,
                                  "color": "#7a7a7a", "weight": 0.5},
        highlight_function=lambda f: {"weight": 2.5, "color": "#1a1a1a"},
        tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False, sticky=True),
    )
    items = [(c, f"{_fmt(metric, a)}–{_fmt(metric, b)}")
             for c, a, b in zip(ramp, edges[:-1], edges[1:], strict=True)] if ok.any() else []
    if (withheld | value_withheld).any():
        items.append(("#c7c7c7", grey))
    return layer, legend(label, items, legend_id=f"events-{metric}").follow(layer)
