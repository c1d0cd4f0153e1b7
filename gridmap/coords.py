"""Chinese web-map coordinate systems: GCJ-02 (火星坐标) and BD-09 (百度坐标).

GCJ-02 is the obfuscated datum that Chinese web maps (AMap/Gaode, Tencent, the
AMap DataV boundaries) publish; BD-09 is Baidu's further offset of GCJ-02. Both
are plain functions of longitude and latitude, implemented here vectorised with
numpy after the published reference algorithm (the one eviltransform ports).

* ``wgs84_to_gcj02`` is the forward formula; points outside China are returned
  unchanged, exactly as the reference algorithm specifies.
* ``gcj02_to_wgs84`` inverts it exactly by fixed-point iteration (error well
  below a millimetre after a few steps).
* ``gcj02_to_bd09`` / ``bd09_to_gcj02`` are Baidu's published pair.

All functions take and return arrays (or scalars) of **longitude, latitude** in
that order, never mutate their inputs and accept any broadcastable shapes.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "COORD_SYSTEMS",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "out_of_china",
    "transform_lonlat",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

COORD_SYSTEMS = ("wgs84", "gcj02", "bd09")

# Krasovsky 1940 ellipsoid, as used by the GCJ-02 algorithm.
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0

Array = NDArray[np.float64]


def _as_arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    return np.asarray(lon, dtype="float64"), np.asarray(lat, dtype="float64")


def out_of_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """Return True where a point lies outside the rectangle the algorithm applies to.

    The rectangle (72.004–137.8347°E, 0.8293–55.8271°N) is the one the reference
    algorithm uses; GCJ-02 leaves points outside it unchanged.
    """
    lon, lat = _as_arrays(lon, lat)
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _delta(lon: Array, lat: Array) -> tuple[Array, Array]:
    x = lon - 105.0
    y = lat - 35.0
    sx = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sx + common
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sx + common
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    rad = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad) * np.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """Convert WGS84 longitude/latitude to GCJ-02 (unchanged outside China)."""
    lon, lat = _as_arrays(lon, lat)
    dlon, dlat = _delta(lon, lat)
    outside = out_of_china(lon, lat)
    return np.where(outside, lon, lon + dlon), np.where(outside, lat, lat + dlat)


def gcj02_to_wgs84(
    lon: ArrayLike, lat: ArrayLike, *, tolerance: float = 1e-10, max_iter: int = 30
) -> tuple[Array, Array]:
    """Convert GCJ-02 to WGS84 exactly, by fixed-point iteration of the forward formula.

    Parameters
    ----------
    lon, lat
        GCJ-02 coordinates in degrees.
    tolerance
        Stop when every point moves less than this many degrees (1e-10° ≈ 0.01 mm).
    max_iter
        Iteration cap; the map is a strong contraction, 5–10 steps suffice.
    """
    glon, glat = _as_arrays(lon, lat)
    wlon, wlat = glon.copy(), glat.copy()
    for _ in range(max_iter):
        flon, flat = wgs84_to_gcj02(wlon, wlat)
        elon, elat = flon - glon, flat - glat
        wlon = wlon - elon
        wlat = wlat - elat
        if np.all(np.abs(elon) < tolerance) and np.all(np.abs(elat) < tolerance):
            break
    outside = out_of_china(glon, glat)
    return np.where(outside, glon, wlon), np.where(outside, glat, wlat)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """Convert GCJ-02 to BD-09 (Baidu's published formula)."""
    x, y = _as_arrays(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """Convert BD-09 to GCJ-02 (Baidu's published inverse)."""
    blon, blat = _as_arrays(lon, lat)
    x = blon - 0.0065
    y = blat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """Convert WGS84 to BD-09 through GCJ-02."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """Convert BD-09 to WGS84 through GCJ-02."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


_PAIRS = {
    ("wgs84", "gcj02"): wgs84_to_gcj02,
    ("gcj02", "wgs84"): gcj02_to_wgs84,
    ("gcj02", "bd09"): gcj02_to_bd09,
    ("bd09", "gcj02"): bd09_to_gcj02,
    ("wgs84", "bd09"): wgs84_to_bd09,
    ("bd09", "wgs84"): bd09_to_wgs84,
}


def transform_lonlat(
    lon: ArrayLike, lat: ArrayLike, *, source: str, target: str
) -> tuple[Array, Array]:
    """Convert between ``"wgs84"``, ``"gcj02"`` and ``"bd09"``.

    CGCS2000 geographic coordinates are treated as WGS84 (they differ by
    centimetres, far below the accuracy of any web map).
    """
    source, target = source.lower(), target.lower()
    for name in (source, target):
        if name not in COORD_SYSTEMS:
            raise ValueError(f"unknown coordinate system {name!r}; use one of {COORD_SYSTEMS}.")
    if source == target:
        lon, lat = _as_arrays(lon, lat)
        return lon.copy(), lat.copy()
    return _PAIRS[(source, target)](lon, lat)
