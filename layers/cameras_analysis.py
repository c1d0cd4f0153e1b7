"""Map layers of the camera analyses: compliance, view sectors, blind spots, suggested sites.

* :func:`compliance_layer` — units (grids, communities or streets) filled by
  density status (met / short) or by completion % of the target.
* :func:`views_layer` — view sectors and discs, shown only from ``min_zoom``
  (at lower zooms the camera points, clustered, say enough).
* :func:`blind_spot_layer` — unseen parts of grids.
* :func:`sites_layer` — suggested new sites, numbered by rank.

The first three are :class:`TipPolygons`: per feature only its rounded
coordinates, a style index and a row of values travel to the browser; the
tooltip layout and its labels (:class:`TipSpec`) are sent once and each tooltip
is assembled on hover. The browser puts every text in the page as a DOM text
node, never parsed as HTML, so user text (unit names, camera ids) stays text.
Sites' tooltips are built in Python and go through :func:`layers.base.esc`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import cached_property

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from folium.map import Layer
from folium.template import Template

from gridmap.i18n import has, register, tr

from .base import Legend, esc, geojson_dict, legend

__all__ = [
    "COMPLETION_BINS",
    "COMPLETION_COLOURS",
    "STATUS_FILL",
    "TipPolygons",
    "TipSpec",
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
_NO_STATUS_FILL = "#9e9e9e"
_SEP = " · "


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


def _missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float | np.floating) and not math.isfinite(value)


def _texts(values: Sequence[object] | np.ndarray) -> list[str | None]:
    """User values as plain strings for the browser (missing values become ``None``)."""
    return [None if _missing(v) else str(v) for v in values]


def _numbers(values: Sequence[object] | np.ndarray, digits: int) -> list[float | int | None]:
    """Numbers rounded to the ``digits`` the tooltip shows (ints for 0), missing as ``None``.

    Rounding here, in Python, makes the browser's formatting of the value exact,
    so both sides show the same digits.
    """
    out: list[float | int | None] = []
    for v in values:
        if _missing(v):
            out.append(None)
            continue
        x = round(float(v), digits) + 0.0  # + 0.0 turns -0.0 into 0.0
        out.append(int(x) if digits == 0 else x)
    return out


def _codes(values: Sequence[object] | np.ndarray, keys: Sequence[str]) -> list[int | None]:
    """Position of each value in ``keys``; ``None`` for values not there."""
    pos = {k: i for i, k in enumerate(keys)}
    return [None if _missing(v) else pos.get(str(v)) for v in values]


_JS_UNSAFE = str.maketrans({
    "<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "'": "\\u0027",
    "\u2028": "\\u2028", "\u2029": "\\u2029",
})


def _script_json(obj: object) -> str:
    """Compact JSON that is safe inside a ``<script>`` element.

    Like Jinja's ``tojson`` (``<``, ``>``, ``&`` and ``'`` as ``\\u`` escapes, so no
    value can close the script), but without spaces after separators and with
    non-ASCII text (Chinese names and labels) as UTF-8 instead of ``\\uXXXX``.
    """
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.translate(_JS_UNSAFE)


@dataclass(frozen=True)
class TipSpec:
    """How the browser assembles a tooltip from one feature's row of values.

    Sent once per layer. ``lines`` is a list of lines, each a list of parts. A
    part is either a text (a translated label, shown as is) or a dict naming a
    value of the row:

    * ``"c"``: position of the value in the row (required);
    * ``"d"``: the value is a number shown with this many decimals and thousands
      separators (the row holds it already rounded, see :func:`_numbers`);
    * ``"l"``: the value is a position in ``lookups[l]`` (translated labels);
    * ``"b"``: ``1`` shows the value in bold;
    * ``"o"``: ``[before, after]``: an optional value, left out together with
      these texts when missing. Any other missing value shows as "—".

    Every text reaches the page as a DOM text node: nothing is parsed as HTML.
    """

    lines: list[list[str | dict]]
    lookups: list[list[str]] = field(default_factory=list)

    def text(self, row: Sequence[object]) -> str:
        """The tooltip of ``row`` as plain text, lines joined by ``"\\n"``.

        This is exactly the text the map's JavaScript puts in the tooltip.
        """
        lines = []
        for line in self.lines:
            out = ""
            for part in line:
                if isinstance(part, str):
                    out += part
                    continue
                value = row[part["c"]]
                if value is None:
                    if "o" in part:
                        continue
                    shown = "—"
                elif "l" in part:
                    shown = self.lookups[part["l"]][int(value)]
                elif "d" in part:
                    shown = f"{float(value):,.{part['d']}f}"
                else:
                    shown = str(value)
                before, after = part.get("o", ("", ""))
                out += f"{before}{shown}{after}"
            lines.append(out)
        return "\n".join(lines)


class TipPolygons(Layer):
    """Polygons whose tooltips the browser assembles on hover from labels sent once.

    Per feature, only its coordinates (rounded to ``precision`` decimals of a
    degree), its style index and its row of values travel; the styles and the
    tooltip layout with its labels (:class:`TipSpec`) are sent once. Features
    with a missing or empty geometry are left out (with their rows).

    Parameters
    ----------
    geometry
        (Multi)Polygons in lon/lat (the display datum).
    rows
        One list of JSON values per geometry (see :class:`TipSpec`).
    spec
        Tooltip layout and labels.
    styles
        Leaflet path options; each feature takes ``styles[style_index[i]]``.
    style_index
        Style of each feature (default: ``styles[0]`` for all).
    highlight
        Path options applied while the pointer is over a feature.
    precision
        Decimals of a degree kept in coordinates (5 ≈ 1 m, 6 ≈ 0.1 m).
    name, show
        Layer name in the layer control; whether it is on when the map opens.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function(){
            var d = {{ this.payload }};
            function fmt(v, p) {
                if (v === null || v === undefined) { return null; }
                if (p.l !== undefined) { return d.tip.lookups[p.l][v]; }
                if (p.d !== undefined) {
                    return Number(v).toLocaleString('en-US', {minimumFractionDigits: p.d,
                                                               maximumFractionDigits: p.d});
                }
                return String(v);
            }
            function text(el, s) { el.appendChild(document.createTextNode(s)); }
            function tip(row) {
                var div = document.createElement('div');
                for (var n = 0; n < d.tip.lines.length; n++) {
                    if (n) { div.appendChild(document.createElement('br')); }
                    var line = d.tip.lines[n];
                    for (var k = 0; k < line.length; k++) {
                        var p = line[k];
                        if (typeof p === 'string') { text(div, p); continue; }
                        var v = fmt(row[p.c], p);
                        if (v === null && p.o) { continue; }
                        if (v === null) { v = '\\u2014'; }
                        if (p.o) { text(div, p.o[0]); }
                        if (p.b) {
                            var b = document.createElement('b');
                            b.textContent = v;
                            div.appendChild(b);
                        } else { text(div, v); }
                        if (p.o) { text(div, p.o[1]); }
                    }
                }
                return div;
            }
            function geometry(c) {
                if (c.type) { return c; }
                return {type: Array.isArray(c[0][0][0]) ? 'MultiPolygon' : 'Polygon',
                        coordinates: c};
            }
            var layer = L.geoJSON(null, {
                style: function(f) { return d.styles[d.s ? d.s[f.id] : 0]; },
                onEachFeature: function(f, l) {
                    l.bindTooltip(function() { return tip(d.rows[f.id]); }, {sticky: true});
                    if (d.hl) {
                        l.on('mouseover', function() { l.setStyle(d.hl); });
                        l.on('mouseout', function() { layer.resetStyle(l); });
                    }
                }
            });
            var features = new Array(d.g.length);
            for (var i = 0; i < d.g.length; i++) {
                features[i] = {type: 'Feature', id: i, properties: {}, geometry: geometry(d.g[i])};
            }
            layer.addData({type: 'FeatureCollection', features: features});
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
        geometry: gpd.GeoSeries | Sequence[shapely.Geometry] | np.ndarray,
        rows: Sequence[Sequence[object]],
        spec: TipSpec,
        *,
        styles: Sequence[dict],
        style_index: Sequence[int] | None = None,
        highlight: dict | None = None,
        precision: int = 6,
        name: str,
        show: bool = True,
    ) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "TipPolygons"
        geoms = np.asarray(gpd.GeoSeries(geometry).values, dtype=object)
        if len(rows) != len(geoms):
            raise ValueError(f"{len(rows)} rows for {len(geoms)} geometries; give one row each.")
        if style_index is not None and len(style_index) != len(geoms):
            raise ValueError(f"{len(style_index)} style indices for {len(geoms)} geometries.")
        if not styles:
            raise ValueError("styles is empty; give at least one dict of Leaflet path options.")
        keep = np.flatnonzero(~(shapely.is_missing(geoms) | shapely.is_empty(geoms)))
        frame = gpd.GeoDataFrame(geometry=gpd.GeoSeries(geoms[keep]))
        self.coords = [
            g["coordinates"] if g["type"] in ("Polygon", "MultiPolygon") else g
            for g in (f["geometry"] for f in geojson_dict(frame, precision=precision)["features"])
        ]
        self.rows = [list(rows[i]) for i in keep]
        self.style_index = (None if style_index is None or len(styles) == 1
                            else [int(style_index[i]) for i in keep])
        self.styles = list(styles)
        self.highlight = highlight
        self.spec = spec

    @cached_property
    def payload(self) -> str:
        """The layer's data as JSON safe inside ``<script>``.

        Built on the first render and kept: ``st_folium`` renders a map's elements
        more than once, and the layer's data does not change after construction.
        """
        return _script_json({
            "g": self.coords, "rows": self.rows, "s": self.style_index,
            "styles": self.styles, "hl": self.highlight, "tip": asdict(self.spec),
        })


def compliance_layer(
    table: gpd.GeoDataFrame,
    *,
    lang: str = "zh",
    fill_by: str = "status",
    names: dict | None = None,
    name: str | None = None,
    show: bool = True,
) -> tuple[TipPolygons, Legend]:
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

    Returns
    -------
    (TipPolygons, Legend)
        Tooltips (assembled on hover): unit name (and id), points, density, target,
        completion with status, shortfall and completion with planned cameras.
    """
    if fill_by not in ("status", "completion"):
        raise ValueError(f"fill_by must be 'status' or 'completion', got {fill_by!r}.")
    names = names or {}
    statuses = list(STATUS_FILL)
    status_code = _codes(table["status"].to_numpy(dtype=object), statuses)
    if fill_by == "status":
        styles_fill = [*STATUS_FILL.values(), _NO_STATUS_FILL]
        style_index = [len(statuses) if c is None else c for c in status_code]
    else:
        styles_fill = list(COMPLETION_COLOURS)
        colours = _completion_colour(table["completion_pct"].to_numpy(dtype=float))
        style_index = [COMPLETION_COLOURS.index(c) for c in colours]
    units = table["unit"].to_numpy(dtype=object)
    labels = [names.get(u, u) for u in units]
    titles = _texts([u if _missing(lb) else lb for u, lb in zip(units, labels, strict=True)])
    # the id in brackets only when a name differs from it
    ids = [None if t == u else u for t, u in zip(titles, _texts(units), strict=True)]

    def digits(column: str) -> int:
        return 0 if pd.api.types.is_integer_dtype(table[column].dtype) else 2

    numeric = ("points", "density_per_km2", "target", "completion_pct", "shortfall",
               "with_planned_pct")
    values = {c: _numbers(table[c].to_numpy(), digits(c)) for c in numeric}
    rows = [list(r) for r in zip(titles, ids, *(values[c] for c in numeric), status_code,
                                 strict=True)]

    def label(key: str) -> str:
        return tr(f"camlayer.tip.{key}", lang) + ": "

    spec = TipSpec(
        lines=[
            [{"c": 0, "b": 1}, {"c": 1, "o": [" (", ")"]}],
            [label("points"), {"c": 2, "d": digits("points")}],
            [label("density"), {"c": 3, "d": digits("density_per_km2")}],
            [label("target"), {"c": 4, "d": digits("target")}],
            [label("completion"), {"c": 5, "d": digits("completion_pct")}, "%",
             {"c": 8, "l": 0, "o": [" (", ")"]}],
            [label("shortfall"), {"c": 6, "d": digits("shortfall")}],
            [label("with_planned"), {"c": 7, "d": digits("with_planned_pct")}, "%"],
        ],
        lookups=[[tr(f"camlayer.{s}", lang) for s in statuses]],
    )
    layer = TipPolygons(
        table.geometry.values, rows, spec,
        styles=[{"fillColor": c, "fillOpacity": 0.5, "color": "#424242", "weight": 0.8}
                for c in styles_fill],
        style_index=style_index,
        highlight={"weight": 2.5, "color": "#111111", "fillOpacity": 0.7},
        precision=5,  # ~1 m: the units are simplified by 5 m for display
        name=name or tr("camlayer.compliance", lang), show=show,
    )
    if fill_by == "status":
        items = [(STATUS_FILL[s], tr(f"camlayer.{s}", lang)) for s in ("met", "short")
                 if (table["status"] == s).any()]
        title = tr("camlayer.compliance", lang)
    else:
        edges = ["0", "50", "80", "100", "150"]
        legend_labels = [f"< {edges[1]}%", f"{edges[1]}–{edges[2]}%", f"{edges[2]}–{edges[3]}%",
                         f"{edges[3]}–{edges[4]}%", f"≥ {edges[4]}%"]
        items = list(zip(COMPLETION_COLOURS, legend_labels, strict=True))
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
) -> tuple[TipPolygons, MacroElement]:
    """Camera view polygons, drawn only from zoom ``min_zoom``.

    Parameters
    ----------
    views
        :func:`gridmap.coverage.camera_views` output in the display datum
        (draw them with a coarse ``arc_step_deg`` such as 5° to keep the page small).
        Tooltips show ``camera_id``, ``kind`` (translated) and ``range_m`` when present.
    lang
        ``zh`` or ``en``.
    min_zoom
        Lowest zoom at which the views are drawn.
    name
        Layer name in the layer control.
    show
        Whether the layer is on (from ``min_zoom``) when the map opens.

    Returns
    -------
    (TipPolygons, MacroElement)
        Add both to the map; the second switches the layer by zoom.
    """
    n = len(views)
    ids = _texts(views["camera_id"].to_numpy(dtype=object)) if "camera_id" in views else [None] * n
    kinds_raw = (views["kind"].to_numpy(dtype=object) if "kind" in views
                 else np.full(n, None, dtype=object))
    kind_keys = sorted({k for k in _texts(kinds_raw) if k is not None})
    kind_code = _codes(kinds_raw, kind_keys)
    ranges = _numbers(views["range_m"].to_numpy() if "range_m" in views else [None] * n, 0)
    occluded = (views["occluded"].to_numpy(dtype=bool) if "occluded" in views.columns
                else np.zeros(n, dtype=bool))
    spec = TipSpec(
        lines=[[tr("camlayer.tip.camera", lang) + " ", {"c": 0}, _SEP, {"c": 1, "l": 0},
                _SEP + tr("camlayer.tip.range", lang) + " ", {"c": 2, "d": 0}, " m"]],
        lookups=[[tr(f"kind.{k}", lang) if has(f"kind.{k}") else k for k in kind_keys]],
    )
    style = {"fillColor": "#1e88e5", "fillOpacity": 0.18, "weight": 0.6}
    label = name or f"{tr('camlayer.views', lang)} ({tr('camlayer.zoom_in', lang, z=min_zoom)})"
    layer = TipPolygons(
        views.geometry.values, [list(r) for r in zip(ids, kind_code, ranges, strict=True)], spec,
        styles=[{**style, "color": "#1565c0"}, {**style, "color": "#0d47a1"}],
        style_index=occluded.astype(int).tolist(), precision=6, name=label, show=show,
    )
    return layer, _ZoomGate(layer, min_zoom)


def blind_spot_layer(
    blind: gpd.GeoDataFrame,
    *,
    lang: str = "zh",
    name: str | None = None,
    show: bool = True,
) -> tuple[TipPolygons, Legend]:
    """Blind spots (unseen parts of grids) as hatched-red polygons, with their legend.

    Tooltips show the grid (the first column other than ``area_m2`` and
    ``incidents``, e.g. ``grid_id``) and the area in m².
    """
    gid = next((c for c in blind.columns if c not in ("area_m2", "incidents",
                                                       blind.geometry.name)), None)
    grids = _texts(blind[gid].to_numpy(dtype=object)) if gid else [None] * len(blind)
    rows = [list(r) for r in zip(grids, _numbers(blind["area_m2"].to_numpy(), 0), strict=True)]
    spec = TipSpec(lines=[
        [tr("camlayer.blind", lang) + _SEP + tr("camlayer.tip.grid", lang) + " ", {"c": 0}],
        [tr("camlayer.tip.area", lang) + ": ", {"c": 1, "d": 0}, " m²"],
    ])
    layer = TipPolygons(
        shapely.simplify(np.asarray(blind.geometry.values), 1e-5), rows, spec,
        styles=[{"fillColor": "#d50000", "fillOpacity": 0.35, "color": "#b71c1c",
                 "weight": 0.5, "dashArray": "3"}],
        precision=6, name=name or tr("camlayer.blind", lang), show=show,
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
