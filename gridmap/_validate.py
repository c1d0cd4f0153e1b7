"""Small argument checks shared by the analysis modules."""

from __future__ import annotations

from collections.abc import Iterable

import geopandas as gpd

from ._errors import CRSError, DataError, SchemaError


def require_columns(gdf: gpd.GeoDataFrame, columns: Iterable[str], *, layer: str) -> None:
    """Raise :class:`SchemaError` naming the missing columns and the ones present."""
    missing = [c for c in columns if c not in gdf.columns]
    if missing:
        raise SchemaError(
            f"{layer} layer lacks column(s) {missing}; columns are {list(gdf.columns)}. "
            f"Rename the column(s), or read the file with gridmap.read_layer(kind={layer!r})."
        )


def require_crs(gdf: gpd.GeoDataFrame, *, layer: str) -> None:
    """Raise :class:`CRSError` when a layer has no CRS."""
    if gdf.crs is None:
        raise CRSError(
            f"{layer} layer has no CRS; set one with gdf.set_crs('EPSG:4326') "
            "(or the CRS the coordinates are really in)."
        )


def require_geom_types(gdf: gpd.GeoDataFrame, allowed: Iterable[str], *, layer: str) -> None:
    """Raise :class:`SchemaError` when geometries are not of the allowed types."""
    allowed = set(allowed)
    types = set(gdf.geom_type.dropna().unique())
    bad = types - allowed
    if bad:
        raise SchemaError(
            f"{layer} layer has {sorted(bad)} geometries where {sorted(allowed)} are expected; "
            "explode or convert them first (e.g. gdf.explode() or gdf.centroid)."
        )


def require_nonempty(gdf: gpd.GeoDataFrame, *, layer: str) -> None:
    """Raise :class:`DataError` for an empty layer."""
    if len(gdf) == 0:
        raise DataError(f"{layer} layer is empty; check the file and any filters applied.")


def require_positive(value: float, *, name: str) -> None:
    """Raise ``ValueError`` unless ``value > 0``."""
    if not value > 0:
        raise ValueError(f"{name} must be positive, got {value!r}.")


def same_crs(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame, *, left: str, right: str) -> None:
    """Raise :class:`CRSError` when two layers are in different CRSs."""
    if a.crs is None or b.crs is None or not a.crs.equals(b.crs):
        raise CRSError(
            f"{left} layer is in {a.crs and a.crs.to_string()} but {right} layer is in "
            f"{b.crs and b.crs.to_string()}; use to_crs() to bring them together."
        )
