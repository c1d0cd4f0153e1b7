"""The gridmap data model: five layer kinds, their columns and vocabularies.

Layers are GeoDataFrames in EPSG:4326 once ingested. Extra columns are kept
untouched; the columns below are the ones analyses rely on. See README.md,
"Data formats", for the same tables in prose.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "CAMERA_KINDS",
    "CAMERA_STATUSES",
    "INCIDENT_STATUSES",
    "KINDS",
    "LAYERS",
    "ZONES",
    "LayerSpec",
]

ZONES = ("urban", "rural")
CAMERA_KINDS = ("bullet", "dome", "ptz", "hemisphere", "other")
CAMERA_STATUSES = ("online", "offline", "planned", "unknown")
# The closed loop (闭环): reported → dispatched → handled → closed.
INCIDENT_STATUSES = ("reported", "dispatched", "handled", "closed")


@dataclass(frozen=True)
class LayerSpec:
    """Columns of one layer kind.

    Attributes
    ----------
    kind
        ``grids``, ``cameras``, ``incidents`` or ``places`` (``population`` is a raster).
    id_column
        The identifier column; duplicates are rejected on ingest.
    geom_types
        Geometry types accepted after ingest.
    required
        Columns an analysis cannot do without (besides geometry).
    optional
        Columns filled with defaults (or left missing) when absent.
    vocab
        Allowed values of categorical columns.
    aliases
        Other header spellings (lower-cased, spaces removed) mapped to each column.
    """

    kind: str
    id_column: str
    geom_types: tuple[str, ...]
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    vocab: dict[str, tuple[str, ...]] = field(default_factory=dict)
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional


LAYERS: dict[str, LayerSpec] = {
    "grids": LayerSpec(
        kind="grids",
        id_column="grid_id",
        geom_types=("Polygon", "MultiPolygon"),
        required=("grid_id",),
        optional=("name", "district_code", "street_code", "community_code", "zone"),
        vocab={"zone": ZONES},
        aliases={
            "grid_id": ("gridid", "grid_code", "gridcode", "id", "code", "网格编码", "网格编号", "网格id"),
            "name": ("grid_name", "gridname", "名称", "网格名称"),
            "district_code": ("区县编码", "区编码", "district"),
            "street_code": ("街道编码", "street"),
            "community_code": ("社区编码", "community"),
            "zone": ("区域类型", "城乡", "type"),
        },
    ),
    "cameras": LayerSpec(
        kind="cameras",
        id_column="camera_id",
        geom_types=("Point",),
        required=("camera_id",),
        optional=(
            "point_id", "gb28181_id", "kind", "azimuth_deg", "hfov_deg",
            "range_m", "height_m", "status",
        ),
        vocab={"kind": CAMERA_KINDS, "status": CAMERA_STATUSES},
        aliases={
            "camera_id": ("cameraid", "id", "camera", "设备编号", "摄像机编号", "编号"),
            "point_id": ("pointid", "site_id", "点位编号", "点位"),
            "gb28181_id": ("gb28181", "gbid", "国标编码", "国标编号"),
            "kind": ("type", "camera_type", "类型", "摄像机类型"),
            "azimuth_deg": ("azimuth", "direction", "bearing", "方向", "方位角"),
            "hfov_deg": ("hfov", "fov", "视场角"),
            "range_m": ("range", "distance", "可视距离"),
            "height_m": ("height", "高度", "安装高度"),
            "status": ("state", "状态", "在线状态"),
        },
    ),
    "incidents": LayerSpec(
        kind="incidents",
        id_column="incident_id",
        geom_types=("Point",),
        required=("incident_id",),
        optional=(
            "category", "subcategory", "reported_at", "closed_at", "status", "weight",
        ),
        vocab={"status": INCIDENT_STATUSES},
        aliases={
            "incident_id": ("incidentid", "incidntnum", "id", "event_id", "事件编号", "编号"),
            "category": ("type", "事件类型", "类别", "大类"),
            "subcategory": ("descript", "subtype", "小类", "子类"),
            "reported_at": ("date", "datetime", "time", "report_time", "上报时间", "发生时间"),
            "closed_at": ("close_time", "结案时间", "办结时间"),
            "status": ("state", "状态", "处置状态"),
            "weight": ("权重",),
        },
    ),
    "places": LayerSpec(
        kind="places",
        id_column="place_id",
        geom_types=("Point",),
        required=("place_id",),
        optional=("kind", "name"),
        aliases={
            "place_id": ("placeid", "id", "poi_id", "编号"),
            "kind": ("type", "category", "类型", "类别"),
            "name": ("title", "名称"),
        },
    ),
}

KINDS = (*LAYERS, "population")
