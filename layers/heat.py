"""Density rasters and hot spots on the map.

* :func:`raster_overlay` draws a :class:`gridmap.kde.Raster` as one PNG image
  overlay — a real density estimate reprojected to Web Mercator, not a
  screen-space blur — with a legend in the raster's own units (e.g. points per
  km²). Cells masked for privacy are drawn light grey ("fewer than k").
* :func:`hotspot_layer` colours cells by Gi* confidence class (ArcGIS colours).
* :func:`emerging_layer` colours cells by emerging-hot-spot category.

No raw incident point is ever drawn here.
"""

from __future__ import annotations

import math

import folium
import geopandas as gpd
import matplotlib as mpl
import numpy as np
from rasterio.enums import Resampling
from rasterio.warp import calculate_default_transform, reproject

from gridmap.coords import transform_lonlat
from gridmap.i18n import register, tr
from gridmap.kde import Raster

from .base import Legend, esc, geojson_dict, legend

__all__ = [
    "BIN_COLOURS",
    "CATEGORY_COLOURS",
    "emerging_layer",
    "hotspot_layer",
    "raster_overlay",
    "raster_rgba",
]

register({
    "heatlayer.masked": {"zh": "少于 {k} 个点（已隐藏）", "en": "fewer than {k} points (hidden)"},
    "heatlayer.hot": {"zh": "热点 Gi*", "en": "Hot spots (Gi*)"},
    "heatlayer.emerging": {"zh": "时空热点趋势", "en": "Emerging hot spots"},
    "heatlayer.bin.3": {"zh": "热点 99% 置信", "en": "Hot spot, 99% confidence"},
    "heatlayer.bin.2": {"zh": "热点 95% 置信", "en": "Hot spot, 95% confidence"},
    "heatlayer.bin.1": {"zh": "热点 90% 置信", "en": "Hot spot, 90% confidence"},
    "heatlayer.bin.0": {"zh": "不显著", "en": "Not significant"},
    "heatlayer.bin.-1": {"zh": "冷点 90% 置信", "en": "Cold spot, 90% confidence"},
    "heatlayer.bin.-2": {"zh": "冷点 95% 置信", "en": "Cold spot, 95% confidence"},
    "heatlayer.bin.-3": {"zh": "冷点 99% 置信", "en": "Cold spot, 99% confidence"},
    "heatlayer.count": {"zh": "数量", "en": "Count"},
})

BIN_COLOURS = {3: "#d62f27", 2: "#ed7551", 1: "#fab984", 0: "#f0f0f0", -1: "#c0ccbe",
               -2: "#849eba", -3: "#4575b5"}
"""Gi* class colours, as in ArcGIS's hot-spot renderer."""

CATEGORY_COLOURS = {
    "new hot spot": "#fff0a0", "consecutive hot spot": "#fdd49e",
    "intensifying hot spot": "#bd0026", "persistent hot spot": "#f03b20",
    "diminishing hot spot": "#fd8d3c", "sporadic hot spot": "#fed976",
    "oscillating hot spot": "#fc9272", "historical hot spot": "#bcbddc",
    "new cold spot": "#deebf7", "consecutive cold spot": "#c6dbef",
    "intensifying cold spot": "#08519c", "persistent cold spot": "#3182bd",
    "diminishing cold spot": "#6baed6", "sporadic cold spot": "#9ecae1",
    "oscillating cold spot": "#a1d99b", "historical cold spot": "#d9d9d9",
    "no pattern": "#f7f7f7",
}
_MASK_RGBA = (199, 199, 199, 110)


def _nice(x: float) -> str:
    if x == 0:
        return "0"
    digits = max(0, 2 - math.floor(math.log10(abs(x))))
    return f"{x:,.{digits}f}"


def _to_mercator(raster: Raster) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """The raster in EPSG:3857 (NaN where masked) and its lon/lat bounds (W, S, E, N)."""
    rows, cols = raster.shape
    src = np.asarray(raster.array, dtype=np.float32)
    dst_crs = "EPSG:3857"
    transform, width, height = calculate_default_transform(
        raster.crs.to_wkt(), dst_crs, cols, rows, *raster.bounds)
    # values and the privacy mask are warped apart, so that cells outside the
    # raster's footprint stay empty instead of looking masked
    masked = np.isnan(src).astype(np.uint8)
    dest = np.zeros((height, width), dtype=np.float32)
    dest_mask = np.zeros((height, width), dtype=np.uint8)
    common = {"src_transform": raster.transform, "src_crs": raster.crs.to_wkt(),
              "dst_transform": transform, "dst_crs": dst_crs, "resampling": Resampling.nearest}
    reproject(np.nan_to_num(src, nan=0.0), dest, **common)
    reproject(masked, dest_mask, **common)
    dest[dest_mask == 1] = np.nan
    left, top = transform.c, transform.f
    right, bottom = left + width * transform.a, top + height * transform.e
    r = 6378137.0
    lon = np.degrees(np.array([left, right]) / r)
    lat = np.degrees(2 * np.arctan(np.exp(np.array([bottom, top]) / r)) - np.pi / 2)
    return dest, (float(lon[0]), float(lat[0]), float(lon[1]), float(lat[1]))


def raster_rgba(values: np.ndarray, vmax: float, cmap: str = "YlOrRd") -> np.ndarray:
    """RGBA uint8 image: zero transparent, NaN (masked) light grey, else the colour ramp."""
    colours = mpl.colormaps[cmap]
    v = np.nan_to_num(values, nan=0.0)
    scaled = np.clip(v / vmax, 0.0, 1.0) if vmax > 0 else np.zeros_like(v)
    rgba = (colours(0.15 + 0.85 * scaled) * 255).astype(np.uint8)
    rgba[..., 3] = np.where(v > 0, 200, 0).astype(np.uint8)
    masked = np.isnan(values)
    rgba[masked] = _MASK_RGBA
    return rgba


def raster_overlay(
    raster: Raster,
    *,
    name: str,
    lang: str = "zh",
    datum: str = "wgs84",
    cmap: str = "YlOrRd",
    vmax: float | None = None,
    min_count: int = 5,
    show: bool = True,
    legend_id: str = "heat",
) -> tuple[folium.raster_layers.ImageOverlay, Legend]:
    """A density raster as an image overlay and its legend in the raster's units.

    Parameters
    ----------
    raster
        A density raster in a metric CRS (e.g. from :func:`gridmap.kde.kernel_density`).
    name
        Layer name in the layer control (already translated).
    lang
        ``zh`` or ``en``.
    datum
        Display datum (``gcj02`` under AMap tiles: the image is shifted with its centre).
    cmap
        Matplotlib colour map.
    vmax
        Value at the top of the ramp; default the 99th percentile of positive cells.
    min_count
        The privacy minimum used to mask the raster (for the legend text).
    show
        Whether the layer is on when the map opens.
    legend_id
        ``data-legend`` id of the legend.

    Returns
    -------
    (ImageOverlay, Legend)
    """
    merc, (w, s, e, n) = _to_mercator(raster)
    positive = merc[np.isfinite(merc) & (merc > 0)]
    if vmax is None:
        vmax = float(np.percentile(positive, 99)) if len(positive) else 1.0
    rgba = raster_rgba(merc, vmax, cmap)
    if datum != "wgs84":
        cx, cy = (w + e) / 2, (s + n) / 2
        sx, sy = transform_lonlat(np.array([cx]), np.array([cy]), source="wgs84", target=datum)
        dx, dy = float(sx[0]) - cx, float(sy[0]) - cy
        w, e, s, n = w + dx, e + dx, s + dy, n + dy
    overlay = folium.raster_layers.ImageOverlay(
        image=rgba, bounds=[[s, w], [n, e]], name=name, opacity=1.0, show=show,
        origin="upper", mercator_project=False, interactive=False, zindex=400,
    )
    colours = mpl.colormaps[cmap]
    stops = np.linspace(0, vmax, 6)[1:]
    items = []
    lo = 0.0
    for hi in stops:
        rgb = colours(0.15 + 0.85 * hi / vmax if vmax > 0 else 0.15)
        items.append((mpl.colors.to_hex(rgb), f"{_nice(lo)}–{_nice(hi)}"))
        lo = hi
    items[-1] = (items[-1][0], f"≥ {_nice(stops[-2])}")
    if np.isnan(merc).any() and min_count > 1:
        items.append(("#c7c7c7", tr("heatlayer.masked", lang, k=min_count)))
    leg = legend(f"{name} ({raster.units})", items, legend_id=legend_id)
    return overlay, leg.follow(overlay)


def hotspot_layer(cells: gpd.GeoDataFrame, *, lang: str = "zh", name: str | None = None,
                  show: bool = True, count: str = "n") -> tuple[folium.GeoJson, Legend]:
    """Cells coloured by Gi* class (``gi_bin``), tooltips with z and p."""
    label = name or tr("heatlayer.hot", lang)
    tips = []
    for _, row in cells.iterrows():
        title = esc(row.get("name") or row.get("grid_id") or row.get("h3") or
                    row.get("cell_id") or "")
        n = row.get(count)
        ntext = "–" if n is None or (isinstance(n, float) and np.isnan(n)) else esc(n)
        klass = esc(tr(f"heatlayer.bin.{int(row['gi_bin'])}", lang))
        tips.append(f"<b>{title}</b><br>{klass}"
                    f"<br>z = {row['gi_z']:.2f}, p = {row['gi_p']:.3g}<br>"
                    f"{esc(tr('heatlayer.count', lang))}: {ntext}")
    frame = gpd.GeoDataFrame({"tip": tips, "fill": [BIN_COLOURS[int(b)] for b in cells["gi_bin"]]},
                             geometry=cells.geometry.values, crs=cells.crs).to_crs(4326)
    layer = folium.GeoJson(
        geojson_dict(frame), name=label, show=show,
        style_function=lambda f: {"fillColor": f["properties"]["fill"], "fillOpacity": 0.75,
                                  "color": "#808080", "weight": 0.4},
        tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False, sticky=True),
    )
    items = [(BIN_COLOURS[b], tr(f"heatlayer.bin.{b}", lang)) for b in (3, 2, 1, 0, -1, -2, -3)]
    return layer, legend(label, items, legend_id="hotspots").follow(layer)


def emerging_layer(cells: gpd.GeoDataFrame, *, lang: str = "zh", name: str | None = None,
                   show: bool = True) -> tuple[folium.GeoJson, Legend]:
    """Cells coloured by emerging-hot-spot ``category``."""
    label = name or tr("heatlayer.emerging", lang)
    tips = [f"{esc(c)}<br>trend z = {z:.2f}" for c, z in
            zip(cells["category"], cells["trend_z"], strict=True)]
    frame = gpd.GeoDataFrame({"tip": tips,
                              "fill": [CATEGORY_COLOURS[c] for c in cells["category"]]},
                             geometry=cells.geometry.values, crs=cells.crs).to_crs(4326)
    layer = folium.GeoJson(
        geojson_dict(frame), name=label, show=show,
        style_function=lambda f: {"fillColor": f["properties"]["fill"], "fillOpacity": 0.8,
                                  "color": "#808080", "weight": 0.4},
        tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False, sticky=True),
    )
    present = [c for c in CATEGORY_COLOURS if c in set(cells["category"])]
    items = [(CATEGORY_COLOURS[c], c) for c in present]
    return layer, legend(label, items, legend_id="emerging").follow(layer)
