"""Coordinate reference systems: parsing user input, picking a metric CRS, reprojecting.

Every area and distance computation in gridmap happens in a metric CRS chosen
here, never in degrees:

* inside China (the GCJ-02 rectangle) the CGCS2000 3-degree Gauss-Krüger zone
  whose central meridian is nearest (EPSG:4534–4554, CM 75°E–135°E);
* elsewhere the WGS84 UTM zone of the data's centre (EPSG:326xx / 327xx).

Degrees are used only at the edges: input files and the web map. The Chinese
web-map datums GCJ-02 and BD-09 are not EPSG CRSs; :func:`to_wgs84` converts
them (see :mod:`gridmap.coords`).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError as _PyprojCRSError

from ._errors import CRSError
from .coords import COORD_SYSTEMS, out_of_china, transform_lonlat

__all__ = [
    "WGS84",
    "convert_datum",
    "is_geographic",
    "metric_crs",
    "parse_crs",
    "to_metric",
    "to_wgs84",
]

WGS84 = CRS.from_epsg(4326)
CGCS2000 = CRS.from_epsg(4490)

# EPSG:4534 is "CGCS2000 / 3-degree Gauss-Kruger CM 75E"; each next code adds 3°.
_GK_FIRST_CODE = 4534
_GK_FIRST_CM = 75
_GK_LAST_CM = 135


def parse_crs(value: str | int | CRS) -> CRS | str:
    """Parse a user CRS: ``wgs84``, ``gcj02``, ``bd09``, ``cgcs2000``, ``EPSG:N``, WKT...

    Returns a :class:`pyproj.CRS`, or the string ``"gcj02"``/``"bd09"`` for the
    Chinese web-map datums, which have no EPSG code.
    """
    if isinstance(value, CRS):
        return value
    text = str(value).strip()
    key = text.lower().replace("-", "").replace("_", "").replace(" ", "")
    if key in ("gcj02", "gcj", "amap", "gaode", "mars"):
        return "gcj02"
    if key in ("bd09", "bd09ll", "baidu"):
        return "bd09"
    if key in ("wgs84", "wgs", "4326", "epsg4326", "crs84"):
        return WGS84
    if key in ("cgcs2000", "4490", "epsg4490"):
        return CGCS2000
    try:
        return CRS.from_user_input(int(text) if text.isdigit() else text)
    except _PyprojCRSError as exc:
        raise CRSError(
            f"unknown CRS {text!r}; use wgs84, cgcs2000, gcj02, bd09 or EPSG:N (e.g. EPSG:4549)."
        ) from exc


def is_geographic(crs: object) -> bool:
    """True when ``crs`` has angular units (degrees)."""
    return crs is not None and CRS.from_user_input(crs).is_geographic


def _lonlat_centre(gdf: gpd.GeoDataFrame) -> tuple[float, float]:
    if gdf.crs is None:
        raise CRSError("layer has no CRS; set one with gdf.set_crs('EPSG:4326') first.")
    geoms = gdf.geometry.values
    geoms = geoms[~(shapely.is_empty(geoms) | shapely.is_missing(geoms))]
    if len(geoms) == 0:
        raise CRSError("cannot pick a metric CRS for an empty layer.")
    xmin, ymin, xmax, ymax = shapely.total_bounds(geoms)
    box = gpd.GeoSeries([shapely.box(xmin, ymin, xmax, ymax)], crs=gdf.crs)
    c = box.to_crs(WGS84).iloc[0].centroid if not gdf.crs.equals(WGS84) else box.iloc[0].centroid
    return float(c.x), float(c.y)


def metric_crs(data: gpd.GeoDataFrame | gpd.GeoSeries | tuple[float, float]) -> CRS:
    """Pick the metric CRS for a layer, or for a ``(lon, lat)`` centre.

    Inside China this is the CGCS2000 3-degree Gauss-Krüger zone nearest the
    centre (e.g. EPSG:4549, CM 120°E, for Jiaxing); elsewhere the UTM zone.
    """
    if isinstance(data, tuple):
        lon, lat = data
    else:
        frame = data if isinstance(data, gpd.GeoDataFrame) else gpd.GeoDataFrame(geometry=data)
        lon, lat = _lonlat_centre(frame)
    if not bool(out_of_china(lon, lat)) and lat > 15:
        cm = int(np.clip(round(lon / 3.0) * 3, _GK_FIRST_CM, _GK_LAST_CM))
        return CRS.from_epsg(_GK_FIRST_CODE + (cm - _GK_FIRST_CM) // 3)
    zone = int(np.clip(np.floor((lon + 180.0) / 6.0) + 1, 1, 60))
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def to_metric(
    gdf: gpd.GeoDataFrame, crs: CRS | None = None
) -> gpd.GeoDataFrame:
    """Return a copy of ``gdf`` in ``crs`` or in the automatically picked metric CRS.

    A layer already in a projected metric CRS is returned as a copy unchanged
    unless ``crs`` asks otherwise.
    """
    if gdf.crs is None:
        raise CRSError("layer has no CRS; set one with gdf.set_crs('EPSG:4326') first.")
    if crs is None:
        if not gdf.crs.is_geographic and gdf.crs.axis_info[0].unit_name in ("metre", "meter"):
            return gdf.copy()
        crs = metric_crs(gdf)
    return gdf.to_crs(crs)


def to_wgs84(gdf: gpd.GeoDataFrame, *, source: str | CRS | None = None) -> gpd.GeoDataFrame:
    """Return a copy of ``gdf`` in WGS84 longitude/latitude.

    ``source`` overrides the layer's CRS; ``"gcj02"`` and ``"bd09"`` apply the
    Chinese datum conversion (the layer's stored CRS is then taken as the
    lon/lat frame the offsets were applied in).
    """
    src = parse_crs(source) if source is not None else gdf.crs
    if isinstance(src, str):
        return convert_datum(gdf.set_crs(WGS84, allow_override=True), source=src, target="wgs84")
    if src is None:
        raise CRSError("layer has no CRS; pass source='wgs84' (or gcj02, bd09, EPSG:N).")
    out = gdf.set_crs(src, allow_override=True) if source is not None else gdf
    return out.to_crs(WGS84)


def convert_datum(gdf: gpd.GeoDataFrame, *, source: str, target: str) -> gpd.GeoDataFrame:
    """Shift every vertex of a lon/lat layer between wgs84, gcj02 and bd09.

    Returns a copy whose CRS is EPSG:4326 (the offsets are not EPSG CRSs, so the
    label stays WGS84 lon/lat; keep track of which datum a file is in).
    """
    for name in (source, target):
        if name not in COORD_SYSTEMS:
            raise CRSError(f"unknown datum {name!r}; use one of {COORD_SYSTEMS}.")
    out = gdf.copy()
    if source == target or len(out) == 0:
        return out

    def _shift(coords: np.ndarray) -> np.ndarray:
        x, y = transform_lonlat(coords[:, 0], coords[:, 1], source=source, target=target)
        return np.column_stack([x, y])

    out[out.geometry.name] = shapely.transform(out.geometry.values, _shift)
    return out
