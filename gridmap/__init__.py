"""gridmap: grid management (网格化管理) and video-network (雪亮工程) analysis.

The library never imports streamlit or folium; map layers live in ``layers``
and the app in ``app.py``.
"""

from __future__ import annotations

from ._errors import (
    CRSError,
    DataError,
    GridmapError,
    InfeasibleError,
    ReadError,
    SchemaError,
)
from .crs import metric_crs, to_metric, to_wgs84
from .datum import detect_datum_offset
from .export import write_result
from .ingest import IngestReport, IngestResult, read_layer

__version__ = "0.1.0"

__all__ = [
    "CRSError",
    "DataError",
    "GridmapError",
    "InfeasibleError",
    "IngestReport",
    "IngestResult",
    "ReadError",
    "SchemaError",
    "__version__",
    "detect_datum_offset",
    "metric_crs",
    "read_layer",
    "to_metric",
    "to_wgs84",
    "write_result",
]
