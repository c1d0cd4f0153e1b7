"""Incidents on the map only as totals per grid (a choropleth), never as raw points.

Raw incident locations can identify people; the map shows how many incidents
each grid has, with small counts (below ``min_count``) suppressed as "fewer
than k", and with them the counts that would let one be worked out from a
published total (the map's, or each community's: ``within``). The counts come
from :func:`gridmap.assign.assign_points`.
"""

from __future__ import annotations

from collections.abc import Sequence

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from folium.map import Layer
from folium.template import Template

from gridmap.i18n import tr
from gridmap.privacy import DEFAULT_MIN_COUNT, suppress_complementary

from .base import Legend, esc, geojson_dict, legend

__all__ = ["RAMP", "SharedGeometryChoropleth", "class_breaks", "incident_layer"]

RAMP = ("#fff3b0", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")
"""Sequential fill colours (ColorBrewer YlOrRd) from few to many incidents."""

_OPACITY, _ZERO_OPACITY, _LINE = 0.8, 0.15, "#7a7a7a"
ZERO_COLOUR = "#ffffff"
SUPPRESSED_COLOUR = "#c7c7c7"


class SharedGeometryChoropleth(Layer):
    """A choropleth drawn on the polygons of another GeoJSON layer of the same map.

    Only a fill colour and an escaped tooltip per feature travel to the browser;
    the geometry is taken from the source layer's features (matched by their
    ``id``, the position of the grid).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function(){
            var fills = {{ this.fills|tojson }}, tips = {{ this.tips|tojson }},
                zero = {{ this.zero|tojson }};
            var style = function(f) {
                var i = parseInt(f.id, 10);
                return {fillColor: fills[i], fillOpacity: zero[i] ? {{ this.zero_opacity }}
                        : {{ this.opacity }}, color: {{ this.line|tojson }}, weight: 0.5};
            };
            var layer = L.geoJSON(null, {
                style: style,
                onEachFeature: function(f, l) {
                    l.bindTooltip(tips[parseInt(f.id, 10)], {sticky: true});
                    l.on('mouseover', function() { l.setStyle({weight: 2.5, color: '#1a1a1a'}); });
                    l.on('mouseout', function() { layer.resetStyle(l); });
                }
            });
            {{ this.source.get_name() }}.eachLayer(function(l) {
                layer.addData({type: 'Feature', id: l.feature.id, properties: {},
                               geometry: l.feature.geometry});
            });
            {%- if this.show %}
            layer.addTo({{ this._parent.get_name() }});
            {%- endif %}
            return layer;
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self,
        source: folium.GeoJson,
        *,
        fills: list[str],
        tips: list[str],
        zero: list[bool],
        name: str,
        show: bool = False,
    ) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "SharedGeometryChoropleth"
        self.source = source
        self.fills, self.tips, self.zero = fills, tips, zero
        self.opacity, self.zero_opacity, self.line = _OPACITY, _ZERO_OPACITY, _LINE


def class_breaks(values: Sequence[float] | np.ndarray, n_classes: int = 5) -> list[float]:
    """Upper bounds of up to ``n_classes`` quantile classes of ``values`` (unique, ascending).

    With at most ``n_classes`` distinct values each value is its own class;
    otherwise the bounds are the quantiles rounded up. The last bound is the
    maximum. Empty input gives ``[]``.
    """
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return []
    distinct = np.unique(v)
    if len(distinct) <= n_classes:
        return [float(x) for x in distinct]
    qs = np.quantile(v, np.linspace(0, 1, n_classes + 1)[1:])
    return sorted({float(np.ceil(q)) for q in qs})


def _ramp(n: int) -> list[str]:
    """``n`` colours spread evenly over :data:`RAMP`."""
    if n <= 0:
        return []
    return [RAMP[int(i)] for i in np.linspace(0, len(RAMP) - 1, n).round()]


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.1f}"


def incident_layer(
    grids: gpd.GeoDataFrame,
    counts: pd.Series | Sequence[float] | np.ndarray,
    *,
    lang: str = "zh",
    min_count: int = DEFAULT_MIN_COUNT,
    within: Sequence[object] | np.ndarray | pd.Series | None = None,
    n_classes: int = 5,
    name: str | None = None,
    show: bool = False,
    geometry_from: folium.GeoJson | None = None,
) -> tuple[folium.GeoJson | SharedGeometryChoropleth, Legend]:
    """A choropleth of incident totals per grid, and its legend.

    Parameters
    ----------
    grids
        Grid polygons in the display datum, one row per grid.
    counts
        Incidents (or weights) per grid, aligned with ``grids`` by position.
    lang
        ``zh`` or ``en``.
    min_count
        Counts from 1 to ``min_count - 1`` are shown only as "fewer than
        ``min_count``" (``0`` or ``1`` keeps every count).
    within
        The group of each grid (aligned by position, e.g. its community code)
        whose total is published elsewhere, such as a ranking of communities;
        ``None`` (default): the map's total is (the district's incidents).
        Counts that, with the others shown, would give a suppressed count
        away against such a total are withheld too
        (:func:`gridmap.privacy.suppress_complementary`), under the same grey
        and one label, so a reader cannot tell them from small ones.
    n_classes
        Number of quantile classes of the unsuppressed counts.
    name
        Layer name in the layer control.
    show
        Whether the layer is on when the map opens (off by default).
    geometry_from
        The grid layer (:func:`layers.grids.grid_layer`) built from these same
        grids, on the same map: the choropleth then reuses its polygons in the
        browser instead of sending them twice.

    Returns
    -------
    (layer, Legend)
    """
    values = np.asarray(pd.Series(np.asarray(counts)).astype(float).fillna(0.0))
    if len(values) != len(grids):
        raise ValueError(
            f"counts has {len(values)} values for {len(grids)} grids; align counts with grids."
        )
    if within is not None and len(within) != len(grids):
        raise ValueError(f"within has {len(within)} group keys for {len(grids)} grids; give "
                         "one per grid (e.g. grids['community_code']).")
    groups = None if within is None else np.asarray(within, dtype=object)
    published = suppress_complementary(pd.DataFrame({"n": values}), ["n"], by=groups,
                                       k=min_count, flag=None)["n"]
    suppressed = published.isna().to_numpy()
    complements = suppressed & (values >= min_count)
    shown = (values > 0) & ~suppressed
    breaks = class_breaks(values[shown], n_classes)
    ramp = _ramp(len(breaks))
    fills = np.full(len(values), ZERO_COLOUR, dtype=object)
    fills[suppressed] = SUPPRESSED_COLOUR
    if breaks:
        fills[shown] = np.asarray(ramp, dtype=object)[np.searchsorted(breaks, values[shown])]
    label = tr("tip.incidents", lang)
    # one label for every grey grid: small counts and their complements look alike
    fewer = tr("legend.withheld" if complements.any() else "legend.suppressed", lang, k=min_count)
    names = grids["name"].to_numpy() if "name" in grids else np.full(len(grids), None)
    ids = grids["grid_id"].to_numpy() if "grid_id" in grids else grids.index.to_numpy()
    tips = []
    for nm, gid, v, sup in zip(names, ids, values, suppressed, strict=True):
        title = esc(nm) or esc(gid)
        text = esc(fewer) if sup else esc(_fmt(v))
        tips.append(f"<b>{title}</b><br>{esc(label)}: {text}")
    label_name = name or tr("layer.incidents", lang)
    layer: folium.GeoJson | SharedGeometryChoropleth
    if geometry_from is not None:
        n_source = len(geometry_from.data.get("features", []))
        if n_source != len(grids):
            raise ValueError(
                f"geometry_from has {n_source} features for {len(grids)} grids; pass the "
                "grid layer built from these same grids."
            )
        layer = SharedGeometryChoropleth(
            geometry_from, fills=list(fills), tips=tips, zero=(values == 0).tolist(),
            name=label_name, show=show,
        )
    else:
        out = gpd.GeoDataFrame(
            {"tip": tips, "fill": fills, "zero": values == 0},
            geometry=grids.geometry.values, crs=grids.crs,
        )
        data = geojson_dict(out)
        for i, feat in enumerate(data["features"]):
            feat["id"] = str(i)
        layer = folium.GeoJson(
            data,
            name=label_name,
            show=show,
            style_function=lambda f: {
                "fillColor": f["properties"]["fill"],
                "fillOpacity": _ZERO_OPACITY if f["properties"]["zero"] else _OPACITY,
                "color": _LINE,
                "weight": 0.5,
            },
            highlight_function=lambda f: {"weight": 2.5, "color": "#1a1a1a"},
            tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False, sticky=True),
        )
    items: list[tuple[str, str]] = []
    lo = float(values[shown].min()) if shown.any() else 0.0
    for colour, hi in zip(ramp, breaks, strict=True):
        items.append((colour, _fmt(hi) if lo >= hi else f"{_fmt(lo)}–{_fmt(hi)}"))
        lo = hi + 1 if float(hi).is_integer() else hi
    if suppressed.any():
        items.insert(0, (SUPPRESSED_COLOUR, fewer))
    if (values == 0).any():
        items.insert(0, (ZERO_COLOUR, "0"))
    leg = legend(tr("legend.incidents", lang), items, legend_id="incidents", position="bottomleft")
    return layer, leg.follow(layer)
