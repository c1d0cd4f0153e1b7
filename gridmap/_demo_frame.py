"""The demo district's local frame: ``(u, v)`` metres ↔ EPSG:4549 ↔ WGS84."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import shapely
from pyproj import CRS, Transformer

from .crs import WGS84, metric_crs

__all__ = ["Frame"]


@dataclass(frozen=True)
class Frame:
    """Local lattice frame centred on ``(lon, lat)`` and turned by ``theta`` radians."""

    lon: float
    lat: float
    theta: float

    @cached_property
    def crs(self) -> CRS:
        return metric_crs((self.lon, self.lat))

    @cached_property
    def _to_wgs84(self) -> Transformer:
        return Transformer.from_crs(self.crs, WGS84, always_xy=True)

    @cached_property
    def _centre(self) -> tuple[float, float]:
        x, y = Transformer.from_crs(WGS84, self.crs, always_xy=True).transform(self.lon, self.lat)
        return float(x), float(y)

    def to_metric(self, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Local ``(u, v)`` to metric ``(x, y)``."""
        cx, cy = self._centre
        c, s = math.cos(self.theta), math.sin(self.theta)
        u = np.asarray(u, dtype=float)
        v = np.asarray(v, dtype=float)
        return cx + c * u - s * v, cy + s * u + c * v

    def to_local(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Metric ``(x, y)`` to local ``(u, v)``."""
        cx, cy = self._centre
        c, s = math.cos(self.theta), math.sin(self.theta)
        dx = np.asarray(x, dtype=float) - cx
        dy = np.asarray(y, dtype=float) - cy
        return c * dx + s * dy, -s * dx + c * dy

    def to_lonlat(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Metric ``(x, y)`` to WGS84 longitude/latitude."""
        lon, lat = self._to_wgs84.transform(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
        return np.asarray(lon), np.asarray(lat)

    def geoms_to_metric(self, geoms: np.ndarray) -> np.ndarray:
        """Local-frame geometries to the metric CRS (vertex by vertex)."""

        def _f(xy: np.ndarray) -> np.ndarray:
            x, y = self.to_metric(xy[:, 0], xy[:, 1])
            return np.column_stack([x, y])

        return shapely.transform(geoms, _f)

    def geoms_to_wgs84(self, geoms: np.ndarray) -> np.ndarray:
        """Metric geometries to WGS84 (vertex by vertex)."""

        def _f(xy: np.ndarray) -> np.ndarray:
            lon, lat = self.to_lonlat(xy[:, 0], xy[:, 1])
            return np.column_stack([lon, lat])

        return shapely.transform(geoms, _f)

    def bearing(self, du: np.ndarray, dv: np.ndarray) -> np.ndarray:
        """Compass bearing (degrees clockwise from grid north) of local directions."""
        c, s = math.cos(self.theta), math.sin(self.theta)
        dx = c * np.asarray(du) - s * np.asarray(dv)
        dy = s * np.asarray(du) + c * np.asarray(dv)
        return np.mod(np.degrees(np.arctan2(dx, dy)), 360.0)
