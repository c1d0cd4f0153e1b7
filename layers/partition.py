"""Map layers for the Grids page: a plan coloured by balance, validation issues, unit lines.

Every text that reaches HTML goes through :func:`layers.base.esc`.
"""

from __future__ import annotations

from collections.abc import Iterable

import folium
import geopandas as gpd
import numpy as np

from gridmap.i18n import register, tr

from .base import Legend, esc, geojson_dict, legend

__all__ = ["DEV_CLASSES", "deviation_colour", "issues_layer", "plan_layer", "unit_lines"]

register({
    "plan.layer": {"zh": "网格方案", "en": "Grid plan"},
    "plan.legend": {"zh": "与目标的偏差", "en": "Deviation from target"},
    "plan.units": {"zh": "单元", "en": "units"},
    "plan.target": {"zh": "目标", "en": "target"},
    "plan.locked": {"zh": "已锁定", "en": "locked"},
    "plan.issues": {"zh": "校验问题", "en": "Validation issues"},
    "plan.unit_lines": {"zh": "单元边界", "en": "Unit lines"},
})

DEV_CLASSES: tuple[tuple[float, float, str], ...] = (
    (-np.inf, -0.10, "#2166ac"),
    (-0.10, -0.05, "#67a9cf"),
    (-0.05, -0.01, "#d1e5f0"),
    (-0.01, 0.01, "#f7f7f7"),
    (0.01, 0.05, "#fddbc7"),
    (0.05, 0.10, "#ef8a62"),
    (0.10, np.inf, "#b2182b"),
)
"""Diverging classes of deviation (blue under target, red over, white within ±1%)."""

_ISSUE_COLOURS = {
    "gap": "#e41a1c", "overlap": "#ff7f00", "invalid": "#984ea3", "multipart": "#a65628",
    "parent": "#377eb8", "island": "#4daf4a", "empty": "#999999", "duplicate_id": "#f781bf",
}


def deviation_colour(dev: float) -> str:
    """Fill colour of a deviation (``(sum - target) / target``); grey when unknown."""
    if dev is None or not np.isfinite(dev):
        return "#cccccc"
    for lo, hi, colour in DEV_CLASSES:
        if lo <= dev < hi:
            return colour
    return DEV_CLASSES[-1][2]


def _label(lo: float, hi: float) -> str:
    if not np.isfinite(lo):
        return f"< {hi:+.0%}"
    if not np.isfinite(hi):
        return f"> {lo:+.0%}"
    return f"{lo:+.0%} … {hi:+.0%}"


def plan_layer(
    grids: gpd.GeoDataFrame,
    *,
    field: str,
    lang: str = "zh",
    selected: Iterable[str] = (),
    locked: Iterable[str] = (),
    name: str | None = None,
) -> tuple[folium.GeoJson, Legend]:
    """Grids coloured by their deviation on ``field``; selected grids outlined thick.

    Parameters
    ----------
    grids
        Grids in the display datum (lon/lat) with ``grid_id``, ``{field}``,
        ``{field}_dev`` and ``n_units`` (as :meth:`gridmap.edit.PlanEditor.grids` gives).
    field
        The balance field shown.
    lang
        ``zh`` or ``en``.
    selected, locked
        Grid ids to outline (selected: thick dark line; locked: dashed).
    name
        Layer name in the layer switcher.
    """
    selected, locked = set(map(str, selected)), set(map(str, locked))
    dev_col = f"{field}_dev"
    g = grids[["grid_id", "n_units", field, dev_col, f"{field}_target", grids.geometry.name]].copy()
    g["grid_id"] = g["grid_id"].astype(str)
    g["fill"] = [deviation_colour(d) for d in g[dev_col]]
    g["sel"] = g["grid_id"].isin(selected)
    g["lock"] = g["grid_id"].isin(locked)
    g["tip"] = [
        f"<b>{esc(gid)}</b>{' 🔒' if lk else ''}<br>{esc(field)}: {esc(f'{v:,.0f}')} "
        f"({esc(f'{d:+.1%}')} {esc(tr('plan.target', lang))} {esc(f'{t:,.0f}')})<br>"
        f"{esc(n)} {esc(tr('plan.units', lang))}"
        for gid, v, d, t, n, lk in zip(g["grid_id"], g[field], g[dev_col], g[f"{field}_target"],
                                       g["n_units"], g["lock"], strict=True)
    ]
    data = geojson_dict(g[["grid_id", "fill", "sel", "lock", "tip", g.geometry.name]])

    def style(feature):
        p = feature["properties"]
        return {
            "fillColor": p["fill"], "fillOpacity": 0.65,
            "color": "#111111" if p["sel"] else "#555555",
            "weight": 3.5 if p["sel"] else 1.0,
            "dashArray": "6 4" if p["lock"] else None,
        }

    layer = folium.GeoJson(
        data, name=name or tr("plan.layer", lang), style_function=style,
        highlight_function=lambda f: {"weight": 3, "color": "#000000"},
        tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False),
    )
    items = [(c, _label(lo, hi)) for lo, hi, c in DEV_CLASSES]
    leg = legend(f"{tr('plan.legend', lang)} ({field})", items, legend_id="plan-deviation")
    return layer, leg.follow(layer)


def issues_layer(issues: gpd.GeoDataFrame, *, lang: str = "zh") -> folium.FeatureGroup:
    """Validation issues (from :func:`gridmap.validate.validate_coverage`) in lon/lat."""
    group = folium.FeatureGroup(name=tr("plan.issues", lang))
    for row in issues.itertuples():
        geom = row.geometry
        if geom is None or geom.is_empty:
            continue
        colour = _ISSUE_COLOURS.get(row.kind, "#333333")
        tip = f"<b>{esc(row.kind)}</b> {esc(row.grids)}<br>{esc(row.detail)}"
        if geom.geom_type == "Point":
            folium.CircleMarker([geom.y, geom.x], radius=7, color=colour, fill=True,
                                fill_opacity=0.9, tooltip=tip).add_to(group)
        else:
            gj = geojson_dict(gpd.GeoDataFrame(geometry=[geom], crs=issues.crs))
            folium.GeoJson(gj, style_function=lambda f, c=colour: {
                "color": c, "weight": 2, "fillColor": c, "fillOpacity": 0.5},
                tooltip=tip).add_to(group)
    return group


def unit_lines(units: gpd.GeoDataFrame, *, lang: str = "zh", max_units: int = 20_000) -> folium.GeoJson | None:
    """Thin outlines of the units (None above ``max_units``: too heavy for the browser)."""
    if len(units) > max_units:
        return None
    data = geojson_dict(gpd.GeoDataFrame(geometry=units.geometry.values, crs=units.crs))
    return folium.GeoJson(
        data, name=tr("plan.unit_lines", lang), interactive=False,
        style_function=lambda f: {"color": "#777777", "weight": 0.4, "fillOpacity": 0.0},
    )


