"""Grid polygons on the map, coloured by street or community, with escaped tooltips.

Grids are simplified for display with :func:`shapely.coverage_simplify`, which
simplifies shared edges once so neighbouring grids stay seamless (simplifying
each polygon on its own opens gaps and overlaps between them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import folium
import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from gridmap.crs import WGS84, to_metric
from gridmap.i18n import tr

from .base import Legend, esc, geojson_dict, legend

__all__ = [
    "PALETTE",
    "boundary_layer",
    "category_colours",
    "grid_layer",
    "simplify_for_display",
    "unit_outlines",
]

PALETTE = (
    "#8dd3c7", "#fdb462", "#bebada", "#fb8072", "#80b1d3", "#b3de69",
    "#fccde5", "#ffffb3", "#bc80bd", "#ccebc5", "#ffed6f", "#d9d9d9",
)
"""Qualitative fill colours (ColorBrewer Set3), light enough to read tiles through."""

_COLOUR_BY = {"street_code": "street", "community_code": "community"}


def simplify_for_display(grids: gpd.GeoDataFrame, *, tolerance_m: float = 5.0) -> gpd.GeoDataFrame:
    """Return a copy of ``grids`` in EPSG:4326 simplified for drawing, still seamless.

    Parameters
    ----------
    grids
        Grid polygons in any CRS.
    tolerance_m
        Simplification tolerance in metres (applied in the metric CRS of
        :func:`gridmap.crs.metric_crs`). ``0`` only reprojects.
    """
    if len(grids) == 0 or tolerance_m <= 0:
        return grids.to_crs(WGS84)
    metric = to_metric(grids)
    geoms = metric.geometry.values
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    simplified = np.array(geoms, dtype=object)
    simplified[ok] = shapely.coverage_simplify(np.asarray(geoms[ok]), tolerance_m)
    metric[metric.geometry.name] = gpd.array.from_shapely(simplified, crs=metric.crs)
    return metric.to_crs(WGS84)


def _neighbour_graph(grids: gpd.GeoDataFrame, codes: pd.Series) -> nx.Graph:
    """Categories as nodes, joined when any of their grids touch or overlap."""
    geoms = np.asarray(grids.geometry.values)
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    values = codes.to_numpy()
    g = nx.Graph()
    g.add_nodes_from(pd.unique(values))
    pairs = {(values[a], values[b]) for a, b in zip(left, right, strict=True) if values[a] != values[b]}
    g.add_edges_from(pairs)
    return g


def category_colours(
    grids: gpd.GeoDataFrame, column: str, *, palette: Sequence[str] = PALETTE
) -> dict[object, str]:
    """A fill colour for every value of ``column``.

    With no more values than colours every value gets its own colour (in sorted
    order, so the legend is stable); otherwise colours are reused, but never by
    two neighbouring categories when the palette allows (greedy graph colouring
    of the categories' adjacency).
    """
    codes = grids[column].astype("string").fillna("")
    values = sorted(pd.unique(codes.to_numpy()))
    if len(values) <= len(palette):
        return {v: palette[i] for i, v in enumerate(values)}
    graph = _neighbour_graph(grids, codes)
    colouring = nx.greedy_color(graph, strategy="largest_first")
    return {v: palette[colouring[v] % len(palette)] for v in values}


def _tooltip(row: Mapping[str, object], lang: str, street_names: Mapping, community_names: Mapping) -> str:
    name = esc(row.get("name"))
    gid = esc(row.get("grid_id"))
    lines = [f"<b>{name or gid}</b>" + (f" <span style='color:#666'>{gid}</span>" if name else "")]
    street = row.get("street_code")
    if street is not None and not pd.isna(street):
        label = street_names.get(street, street)
        lines.append(f"{esc(tr('tip.street', lang))}: {esc(label)}")
    community = row.get("community_code")
    if community is not None and not pd.isna(community):
        label = community_names.get(community, community)
        lines.append(f"{esc(tr('tip.community', lang))}: {esc(label)}")
    return "<br>".join(lines)


def grid_layer(
    grids: gpd.GeoDataFrame,
    *,
    color_by: str = "street_code",
    lang: str = "zh",
    street_names: Mapping[object, str] | None = None,
    community_names: Mapping[object, str] | None = None,
    name: str | None = None,
    show: bool = True,
    max_legend: int = 12,
) -> tuple[folium.GeoJson, Legend]:
    """A GeoJSON layer of grids filled by street or community, and its legend.

    Parameters
    ----------
    grids
        Grid polygons in the display datum (EPSG:4326 lon/lat; see
        :func:`layers.base.to_display`), ideally simplified with
        :func:`simplify_for_display`.
    color_by
        ``street_code`` or ``community_code``.
    lang
        ``zh`` or ``en`` for the legend and tooltips.
    street_names, community_names
        Optional code → name lookups for the legend and tooltips.
    name
        Layer name in the layer control (default: translated "Grids").
    show
        Whether the layer is on when the map opens.
    max_legend
        Legend rows before the rest are summarised as "N more".

    Returns
    -------
    (folium.GeoJson, Legend)
        Add both to the map. Tooltips show grid name, id, street and community, escaped.
    """
    if color_by not in _COLOUR_BY:
        raise ValueError(f"color_by={color_by!r}: use one of {list(_COLOUR_BY)}.")
    street_names = dict(street_names or {})
    community_names = dict(community_names or {})
    frame = grids.copy()
    if color_by not in frame.columns:
        frame[color_by] = pd.NA
    colours = category_colours(frame, color_by)
    codes = frame[color_by].astype("string").fillna("")
    records = frame.drop(columns=frame.geometry.name).to_dict("records")
    out = gpd.GeoDataFrame(
        {
            "tip": [_tooltip(r, lang, street_names, community_names) for r in records],
            "fill": [colours[c] for c in codes],
        },
        geometry=frame.geometry.values,
        crs=frame.crs,
    )
    data = geojson_dict(out)
    for i, feat in enumerate(data["features"]):
        feat["id"] = str(i)
    layer = folium.GeoJson(
        data,
        name=name or tr("layer.grids", lang),
        show=show,
        style_function=lambda f: {
            "fillColor": f["properties"]["fill"],
            "fillOpacity": 0.55,
            "color": "#4a4a4a",
            "weight": 0.8,
        },
        highlight_function=lambda f: {"weight": 2.5, "color": "#1a1a1a", "fillOpacity": 0.75},
        tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False, sticky=True),
        smooth_factor=0.5,
    )
    kind = _COLOUR_BY[color_by]
    names = street_names if kind == "street" else community_names
    if len(colours) <= len(PALETTE):
        entries = [(c, str(names.get(v, v) or "—")) for v, c in colours.items()]
        shown, more = entries[:max_legend], len(entries) - max_legend
        more_text = tr("legend.more", lang, n=more) if more > 0 else None
    else:  # colours are reused between non-neighbouring categories
        shown, more_text = [], tr("legend.reused", lang, n=len(colours))
    leg = legend(tr(f"legend.grids.{kind}", lang), shown, legend_id="grids", more=more_text)
    return layer, leg.follow(layer)


def unit_outlines(grids: gpd.GeoDataFrame, by: str) -> gpd.GeoDataFrame:
    """The streets or communities (``by``) the grids make up, dissolved from ``grids``.

    Dissolving the grids drawn on the map (already simplified for display) puts the
    outlines exactly on the grid edges.
    """
    if by not in grids.columns:
        raise ValueError(f"grids have no {by!r} column; outlines need it.")
    return grids[[by, grids.geometry.name]].dropna(subset=[by]).dissolve(by=by).reset_index()


def boundary_layer(
    units: gpd.GeoDataFrame,
    *,
    colour: str = "#263238",
    weight: float = 2.2,
) -> folium.GeoJson:
    """Outlines of ``units`` (see :func:`unit_outlines`) as thick, non-interactive lines.

    Hovering passes through them to the grids beneath.

    Parameters
    ----------
    units
        Polygons in the display datum.
    colour, weight
        Line colour and width in pixels.
    """
    data = geojson_dict(units[[units.geometry.name]])
    return folium.GeoJson(
        data,
        name="outlines",
        control=False,
        style_function=lambda f: {"fill": False, "color": colour, "weight": weight, "opacity": 0.85},
        interactive=False,
    )
