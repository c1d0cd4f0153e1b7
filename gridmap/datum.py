"""Mixed datums: do a point layer and a polygon layer in China disagree by a GCJ-02/BD-09 shift?

:func:`detect_datum_offset` tests whether shifting the points (or the
polygons) between WGS84 and GCJ-02/BD-09 moves clearly more points into the
polygons than out of them, and says which layer to re-read with which
``coords=`` (see :func:`gridmap.ingest.read_layer`).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from .coords import out_of_china, transform_lonlat
from .crs import WGS84

__all__ = ["DatumCheck", "detect_datum_offset"]


@dataclass(frozen=True)
class DatumCheck:
    """Outcome of :func:`detect_datum_offset`.

    Attributes
    ----------
    suspected
        True when the points fit the polygons clearly better after a datum shift.
    datum
        ``"gcj02"`` or ``"bd09"`` when suspected, else None.
    layer
        Which layer seems to be in ``datum``: ``"points"`` or ``"polygons"``.
    n_points
        Points tested (those in China).
    inside_as_given, inside_shifted
        Share of the points inside the polygons as given / after the best shift.
    moved_in, moved_out
        Points the shift moves into / out of the polygons (the test's evidence).
    p_value
        One-sided exact sign test of ``moved_in`` against ``moved_out``.
    offset_m
        Median distance between the given and the shifted points, in metres.
    message
        One sentence saying what was found and what to do.
    """

    suspected: bool
    datum: str | None
    layer: str | None
    n_points: int
    inside_as_given: float
    inside_shifted: float
    moved_in: int
    moved_out: int
    p_value: float
    offset_m: float
    message: str


_DATUM_NAMES = {"gcj02": "GCJ-02", "bd09": "BD-09"}
_SHIFTS = (  # (datum, layer in that datum, the shift applied to the points)
    ("gcj02", "points", "gcj02", "wgs84"),
    ("bd09", "points", "bd09", "wgs84"),
    ("gcj02", "polygons", "wgs84", "gcj02"),
    ("bd09", "polygons", "wgs84", "bd09"),
)


def detect_datum_offset(
    points: gpd.GeoDataFrame | gpd.GeoSeries,
    polygons: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    alpha: float = 0.01,
    min_moved: int = 5,
) -> DatumCheck:
    """Tell whether points and polygons in China are in different datums (WGS84 vs GCJ-02/BD-09).

    GCJ-02 and BD-09 shift coordinates by 300–700 m (BD-09 more), so points
    in one datum analysed with polygons in the other land in the wrong
    polygon near every boundary and fall outside the outer edge. The test
    shifts the points each way (points GCJ-02 → WGS84, BD-09 → WGS84, or
    WGS84 → GCJ-02/BD-09 when the polygons are the shifted layer) and
    counts the points the shift moves into the polygons' union against
    those it moves out. The best shift is flagged when the exact sign test
    on these counts has ``p < alpha`` and at least ``min_moved`` points move
    in. Points well inside large polygons carry no evidence either way; with
    too few points near the edges the result says so instead of guessing.

    Parameters
    ----------
    points
        Point layer (any CRS; used in longitude/latitude).
    polygons
        Polygon layer the points are analysed with.
    alpha
        Significance level of the sign test.
    min_moved
        Fewest points that must move inside for a finding.

    Returns
    -------
    DatumCheck
    """
    from scipy.stats import binomtest

    from .crs import metric_crs

    pts = points.to_crs(WGS84) if points.crs is not None else points
    pol = polygons.to_crs(WGS84) if polygons.crs is not None else polygons
    geoms = pts.geometry.values
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    x, y = shapely.get_x(geoms), shapely.get_y(geoms)
    china = ~out_of_china(x, y)
    x, y = x[china], y[china]
    n = len(x)
    if n == 0:
        return DatumCheck(False, None, None, 0, np.nan, np.nan, 0, 0, 1.0, 0.0,
                          "no points in China: GCJ-02/BD-09 offsets do not apply.")
    union = shapely.union_all(shapely.make_valid(pol.geometry.values))
    shapely.prepare(union)
    given = shapely.intersects_xy(union, x, y)
    best: tuple[float, int, int, tuple[str, str, str, str], np.ndarray, np.ndarray] | None = None
    evidence = 0
    for shift in _SHIFTS:
        sx, sy = transform_lonlat(x, y, source=shift[2], target=shift[3])
        moved = shapely.intersects_xy(union, sx, sy)
        m_in, m_out = int((moved & ~given).sum()), int((~moved & given).sum())
        evidence = max(evidence, m_in + m_out)
        p = binomtest(m_in, m_in + m_out, 0.5, alternative="greater").pvalue if m_in else 1.0
        if best is None or (p, -m_in) < (best[0], -best[1]):
            best = (p, m_in, m_out, shift, sx, sy)
    assert best is not None
    p, m_in, m_out, shift, sx, sy = best
    metric = metric_crs((float(np.median(x)), float(np.median(y))))
    a = gpd.GeoSeries(shapely.points(x, y), crs=WGS84).to_crs(metric).values
    b = gpd.GeoSeries(shapely.points(sx, sy), crs=WGS84).to_crs(metric).values
    offset = float(np.median(shapely.distance(a, b)))
    share_given = float(given.mean())
    share_shifted = float((given.sum() + m_in - m_out) / n)
    suspected = bool(p < alpha and m_in >= min_moved)
    datum, layer = shift[0], shift[1]
    if suspected:
        target = "points" if layer == "points" else "polygons"
        message = (f"the {layer} look {_DATUM_NAMES[datum]} against the other layer: "
                   f"{share_given:.1%} of {n} points fall inside the polygons as given, "
                   f"{share_shifted:.1%} after undoing a {offset:.0f} m {_DATUM_NAMES[datum]} "
                   f"offset (p = {p:.1g}); read the {target} with coords='{datum}'.")
    elif evidence < min_moved:
        message = (f"cannot tell: at most {evidence} of {n} points change polygon membership "
                   "under a GCJ-02/BD-09 shift (too few near the polygon edges).")
    else:
        message = (f"no datum offset found: {share_given:.1%} of {n} points fall inside the "
                   "polygons as given and no GCJ-02/BD-09 shift fits better.")
    return DatumCheck(suspected, datum if suspected else None, layer if suspected else None, n,
                      share_given, share_shifted, m_in, m_out, float(p), offset, message)
