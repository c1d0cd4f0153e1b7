"""The map factory, basemaps, legends and HTML escaping shared by every layer.

* :func:`make_map` builds a :class:`folium.Map` that works offline: local
  Leaflet assets (:func:`layers.assets.use_local_assets`) and no basemap by default.
* :data:`BASEMAPS` lists the basemaps a user may pick: none, OpenStreetMap,
  AMap/Gaode (GCJ-02), Tianditu (needs a key) and a custom XYZ URL.
* AMap tiles are in GCJ-02: when one is chosen, :func:`to_display` shifts layers
  to GCJ-02 (:func:`gridmap.crs.convert_datum`) so they line up with the tiles, and
  :func:`from_display` shifts clicked or drawn coordinates back to WGS84.
* :func:`legend` adds a bilingual HTML legend inside the map; :func:`esc`
  escapes any user text before it reaches HTML.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from folium.template import Template

from gridmap._errors import GridmapError
from gridmap.coords import transform_lonlat
from gridmap.crs import WGS84, convert_datum

from .assets import DEFAULT_BASE_URL, use_local_assets

__all__ = [
    "BASEMAPS",
    "Basemap",
    "BasemapError",
    "Legend",
    "basemap_datum",
    "esc",
    "from_display",
    "geojson_dict",
    "legend",
    "make_map",
    "to_display",
]


class BasemapError(GridmapError, ValueError):
    """A basemap is unknown, lacks its key or has an unusable URL."""


@dataclass(frozen=True)
class Basemap:
    """A tile basemap a user may pick.

    Attributes
    ----------
    key
        Identifier (``none``, ``osm``, ``amap``, ``amap_satellite``, ``tianditu``, ``custom``).
    tiles
        XYZ URL template (``{s}``, ``{x}``, ``{y}``, ``{z}``); empty for none/custom.
    attribution
        Attribution text shown on the map (required by the tile providers).
    datum
        ``wgs84`` or ``gcj02``: the datum the tiles are drawn in.
    subdomains
        Values of ``{s}``.
    labels
        Optional label overlay URL template (Tianditu's ``cva`` layer).
    max_zoom
        Highest zoom the provider serves.
    """

    key: str
    tiles: str
    attribution: str
    datum: str = "wgs84"
    subdomains: str = "abc"
    labels: str = ""
    max_zoom: int = 18


_TDT = (
    "https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
    "&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={{key}}"
)

BASEMAPS: dict[str, Basemap] = {
    "none": Basemap("none", "", ""),
    "osm": Basemap(
        "osm",
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "&copy; OpenStreetMap contributors",
        subdomains="abc",
        max_zoom=19,
    ),
    "amap": Basemap(
        "amap",
        "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
        "&x={x}&y={y}&z={z}",
        "&copy; 高德地图 AutoNavi",
        datum="gcj02",
        subdomains="1234",
    ),
    "amap_satellite": Basemap(
        "amap_satellite",
        "https://webst0{s}.is.autonavi.com/appmaptile?style=6&x={x}&y={y}&z={z}",
        "&copy; 高德地图 AutoNavi",
        datum="gcj02",
        subdomains="1234",
    ),
    "tianditu": Basemap(
        "tianditu",
        _TDT.format(layer="vec"),
        "&copy; 天地图 Tianditu",
        subdomains="01234567",
        labels=_TDT.format(layer="cva"),
    ),
    "custom": Basemap("custom", "", ""),
}
"""Basemaps by key. Tianditu's CGCS2000 is within centimetres of WGS84: no shift."""


def basemap_datum(basemap: str, *, custom_datum: str = "wgs84") -> str:
    """The datum (``wgs84`` or ``gcj02``) layers must be drawn in for ``basemap``."""
    if basemap not in BASEMAPS:
        raise BasemapError(f"unknown basemap {basemap!r}; use one of {list(BASEMAPS)}.")
    if basemap == "custom":
        if custom_datum not in ("wgs84", "gcj02"):
            raise BasemapError(f"custom tiles datum {custom_datum!r}: use 'wgs84' or 'gcj02'.")
        return custom_datum
    return BASEMAPS[basemap].datum


def to_display(gdf: gpd.GeoDataFrame, datum: str) -> gpd.GeoDataFrame:
    """Return a copy of ``gdf`` in EPSG:4326, shifted to ``datum`` (``wgs84``/``gcj02``) for drawing."""
    out = gdf.to_crs(WGS84) if gdf.crs is not None and not gdf.crs.equals(WGS84) else gdf.copy()
    if datum == "wgs84":
        return out
    return convert_datum(out, source="wgs84", target=datum)


def from_display(lon: float | np.ndarray, lat: float | np.ndarray, datum: str):
    """Shift map coordinates (clicks, drawings) drawn in ``datum`` back to WGS84."""
    if datum == "wgs84":
        return lon, lat
    return transform_lonlat(lon, lat, source=datum, target="wgs84")


def esc(value: object) -> str:
    """HTML-escape any value for a tooltip, popup or legend; missing values give ``""``."""
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    if value is pd.NA or value is pd.NaT:
        return ""
    return html.escape(str(value), quote=True)


def _check_custom_url(url: str) -> str:
    url = (url or "").strip()
    if not url.lower().startswith(("http://", "https://")):
        raise BasemapError(
            f"custom tile URL {url!r} must start with http:// or https://, "
            "e.g. https://tiles.example.org/{z}/{x}/{y}.png"
        )
    missing = [p for p in ("{x}", "{y}", "{z}") if p not in url]
    if missing:
        raise BasemapError(
            f"custom tile URL lacks {', '.join(missing)}; an XYZ URL looks like "
            "https://tiles.example.org/{z}/{x}/{y}.png"
        )
    return url


def _add_basemap(
    m: folium.Map, basemap: str, *, custom_url: str | None, tianditu_key: str | None
) -> None:
    spec = BASEMAPS[basemap]
    if basemap == "none":
        return
    if basemap == "custom":
        folium.TileLayer(
            tiles=_check_custom_url(custom_url or ""), attr="Custom tiles",
            name="basemap", overlay=False, control=False,
        ).add_to(m)
        return
    tiles, labels = spec.tiles, spec.labels
    if basemap == "tianditu":
        if not tianditu_key:
            raise BasemapError(
                "Tianditu needs a key; set the TIANDITU_KEY environment variable "
                "(apply for one at the Tianditu developer site) or pick another basemap."
            )
        tiles = tiles.replace("{key}", tianditu_key)
        labels = labels.replace("{key}", tianditu_key)
    folium.TileLayer(
        tiles=tiles, attr=spec.attribution, name="basemap", overlay=False, control=False,
        subdomains=spec.subdomains, max_zoom=spec.max_zoom, max_native_zoom=spec.max_zoom,
    ).add_to(m)
    if labels:
        folium.TileLayer(
            tiles=labels, attr=spec.attribution, name="labels", overlay=True, control=False,
            subdomains=spec.subdomains, max_zoom=spec.max_zoom,
        ).add_to(m)


def make_map(
    bounds: Sequence[float],
    *,
    basemap: str = "none",
    custom_url: str | None = None,
    tianditu_key: str | None = None,
    asset_base: str = DEFAULT_BASE_URL,
    background: str = "#f4f3ef",
) -> folium.Map:
    """Build an empty map fitted to ``bounds`` that draws without the internet.

    Parameters
    ----------
    bounds
        ``(minx, miny, maxx, maxy)`` in the display datum (lon/lat).
    basemap
        A key of :data:`BASEMAPS`; ``none`` (default) draws a plain background.
    custom_url
        XYZ URL template when ``basemap="custom"``.
    tianditu_key
        Tianditu key when ``basemap="tianditu"`` (the app reads ``TIANDITU_KEY``).
    asset_base
        URL prefix of the vendored Leaflet files (see :mod:`layers.assets`).
    background
        CSS colour behind the layers when there are no tiles.

    Raises
    ------
    BasemapError
        Unknown basemap, missing Tianditu key, or unusable custom URL.
    """
    if basemap not in BASEMAPS:
        raise BasemapError(f"unknown basemap {basemap!r}; use one of {list(BASEMAPS)}.")
    use_local_assets(asset_base)
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)):
        raise GridmapError("map bounds are not finite; is a layer empty?")
    m = folium.Map(
        location=[(miny + maxy) / 2, (minx + maxx) / 2],
        zoom_start=12,
        tiles=None,
        control_scale=False,
        prefer_canvas=False,
        zoom_control=True,
    )
    # Leaflet.markercluster needs the map's own maxZoom (folium only sets it on tile layers).
    m.options.update(min_zoom=3, max_zoom=19)
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    _add_basemap(m, basemap, custom_url=custom_url, tianditu_key=tianditu_key)
    _MetricScale().add_to(m)
    m.get_root().header.add_child(
        folium.Element(
            "<style>.leaflet-container{background:" + esc(background) + ";}"
            ".gridmap-legend{background:rgba(255,255,255,.92);padding:6px 9px;"
            "border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.3);font:12px/1.35 "
            "system-ui,'Noto Sans CJK SC','Microsoft YaHei',sans-serif;max-width:230px;}"
            ".gridmap-legend .t{font-weight:600;margin-bottom:3px;}"
            ".gridmap-legend i{display:inline-block;width:12px;height:12px;margin-right:5px;"
            "vertical-align:-1px;border:1px solid rgba(0,0,0,.35);}"
            ".gridmap-legend i.dot{border-radius:50%;}"
            ".gridmap-legend .more{color:#666;font-style:italic;}"
            ".leaflet-control-layers{font:13px/1.4 system-ui,'Noto Sans CJK SC',"
            "'Microsoft YaHei',sans-serif;}"
            ".leaflet-control-layers label{margin-bottom:1px;}</style>"
        )
    )
    return m


class _MetricScale(MacroElement):
    """Leaflet's scale bar in metres only."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        L.control.scale({imperial: false, maxWidth: 150}).addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )


class Legend(MacroElement):
    """An HTML legend drawn inside the map as a Leaflet control.

    Build it with :func:`legend`; every text is escaped there. With ``layer``
    set, the legend is shown only while that layer is on the map.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function(){
            var map = {{ this._parent.get_name() }};
            var ctl = L.control({position: {{ this.position|tojson }}});
            ctl.onAdd = function() {
                var div = L.DomUtil.create('div', 'gridmap-legend');
                div.setAttribute('data-legend', {{ this.legend_id|tojson }});
                div.innerHTML = {{ this.html|tojson }};
                L.DomEvent.disableClickPropagation(div);
                return div;
            };
            {%- if this.layer is not none %}
            var layer = {{ this.layer.get_name() }};
            var sync = function() {
                if (map.hasLayer(layer)) { if (!ctl._map) { ctl.addTo(map); } }
                else { ctl.remove(); }
            };
            map.on('overlayadd overlayremove', sync);
            sync();
            {%- else %}
            ctl.addTo(map);
            {%- endif %}
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self,
        html_text: str,
        *,
        legend_id: str,
        position: str = "bottomright",
        layer: MacroElement | None = None,
    ) -> None:
        super().__init__()
        self._name = "Legend"
        self.html = html_text
        self.legend_id = legend_id
        self.position = position
        self.layer = layer

    def follow(self, layer: MacroElement) -> Legend:
        """Show this legend only while ``layer`` is on the map; returns ``self``."""
        self.layer = layer
        return self


def legend(
    title: str,
    items: Sequence[tuple[str, str]],
    *,
    legend_id: str,
    shape: str = "box",
    more: str | None = None,
    position: str = "bottomright",
) -> Legend:
    """An in-map legend: a title and ``(css colour, label)`` rows, all escaped.

    Parameters
    ----------
    title
        Legend title (already translated).
    items
        ``(colour, label)`` pairs.
    legend_id
        Stable identifier written to ``data-legend`` (used by tests and CSS).
    shape
        ``box`` for areas, ``dot`` for points.
    more
        Optional last line (e.g. "12 more") for truncated categorical legends.
    position
        Leaflet control corner.
    """
    cls = ' class="dot"' if shape == "dot" else ""
    rows = [f'<div class="t">{esc(title)}</div>']
    rows += [f'<div><i{cls} style="background:{esc(c)}"></i>{esc(label)}</div>' for c, label in items]
    if more:
        rows.append(f'<div class="more">{esc(more)}</div>')
    return Legend("".join(rows), legend_id=legend_id, position=position)


def geojson_dict(gdf: gpd.GeoDataFrame, *, precision: int = 5) -> dict:
    """GeoJSON FeatureCollection of ``gdf`` (lon/lat) with coordinates rounded.

    ``precision=5`` decimals of a degree keep ~1 m (about two screen pixels at
    zoom 18) and shrink the page; shared vertices round alike, so neighbouring
    grids stay seamless. Properties are the non-geometry columns.

    Every feature gets its position (``"0"``, ``"1"``...) as ``id``: folium keys
    the per-feature styles of ``style_function``/``highlight_function`` on it.
    Without ids folium keys them on the first property with unique values (often
    a whole tooltip), which then appears once more per feature in the page.
    """
    out = gdf.copy()
    geoms = out.geometry.values
    out[out.geometry.name] = shapely.transform(geoms, lambda c: np.round(c, precision))
    data = json.loads(out.to_json(drop_id=True, na="null", to_wgs84=False))
    for i, feat in enumerate(data["features"]):
        feat["id"] = str(i)
    return data
