"""folium map layers for gridmap: one module per layer kind, plus the map factory.

* :mod:`layers.assets` — Leaflet and plugins served locally (offline maps);
* :mod:`layers.base` — map factory, basemaps (none/OSM/AMap/Tianditu/custom),
  GCJ-02 display shift, in-map legends, HTML escaping;
* :mod:`layers.grids` — grid polygons coloured by street or community;
* :mod:`layers.cameras` — camera points, clustered;
* :mod:`layers.incidents` — incidents as totals per grid (never raw points).

Every builder takes layers already in the display datum (see
:func:`layers.base.to_display`) and returns ``(folium layer, legend)``.
"""

from __future__ import annotations

import importlib

__all__ = [
    "BASEMAPS",
    "basemap_datum",
    "camera_layer",
    "esc",
    "grid_layer",
    "incident_layer",
    "legend",
    "make_map",
    "simplify_for_display",
    "to_display",
    "use_local_assets",
]

# Imported lazily so that `python -m layers.assets` runs without importing itself twice.
_WHERE = {
    "use_local_assets": "assets",
    "BASEMAPS": "base",
    "basemap_datum": "base",
    "esc": "base",
    "legend": "base",
    "make_map": "base",
    "to_display": "base",
    "camera_layer": "cameras",
    "grid_layer": "grids",
    "simplify_for_display": "grids",
    "incident_layer": "incidents",
}


def __getattr__(name: str) -> object:
    if name in _WHERE:
        return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
