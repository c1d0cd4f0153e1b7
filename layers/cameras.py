"""Camera points (点位) on the map: one marker per point, clustered at low zoom.

A camera point holds several cameras. :func:`camera_points` folds the camera
table into one row per point with a status summary; :func:`camera_layer` draws
them as small coloured markers in a Leaflet.markercluster group (served locally,
see :mod:`layers.assets`), or without clustering for moderate counts. Tooltips
list camera id, kind and status, HTML-escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from folium import Element
from folium.map import Layer
from folium.plugins import MarkerCluster
from folium.template import Template

from gridmap.crs import WGS84
from gridmap.i18n import has, tr

from .base import Legend, esc, legend

__all__ = [
    "POINT_STATUSES",
    "STATUS_COLOURS",
    "CameraCluster",
    "CameraPointsLayer",
    "TipLabels",
    "camera_layer",
    "camera_points",
    "point_status",
]

POINT_STATUSES = ("online", "mixed", "offline", "planned", "unknown")
"""Status of a camera point, summarising its cameras (see :func:`point_status`)."""

STATUS_COLOURS = {
    "online": "#2e7d32",
    "mixed": "#ef6c00",
    "offline": "#c62828",
    "planned": "#3f51b5",
    "unknown": "#757575",
}

_MARKER_CSS = (
    "<style>.gridmap-camera{border-radius:50%;border:1.5px solid #fff;"
    "box-shadow:0 0 0 1px rgba(0,0,0,.45);box-sizing:border-box;}"
    + "".join(f".gridmap-cam-{s}{{background:{c};}}" for s, c in STATUS_COLOURS.items())
    + ".gridmap-cluster{background:rgba(38,50,56,.25);}"
    ".gridmap-cluster div{background:rgba(38,50,56,.85);color:#fff;font-weight:600;}"
    "</style>"
)

_CLUSTER_ICON = """
    function(cluster) {
        return L.divIcon({
            html: '<div><span>' + cluster.getChildCount() + '</span></div>',
            className: 'marker-cluster gridmap-cluster',
            iconSize: L.point(40, 40)
        });
    }
"""


def point_status(statuses: Sequence[object]) -> str:
    """Summarise the statuses of the cameras at one point.

    ``planned`` when every camera is planned; else, ignoring planned cameras,
    ``online`` when all are online, ``offline`` when none is online and some are
    offline, ``mixed`` when some are online and some are not, ``unknown`` otherwise.
    """
    values = [str(s) if s is not None and not pd.isna(s) else "unknown" for s in statuses]
    if not values or all(v == "planned" for v in values):
        return "planned" if values else "unknown"
    built = [v for v in values if v != "planned"]
    online = sum(v == "online" for v in built)
    if online == len(built):
        return "online"
    if online == 0:
        return "offline" if any(v == "offline" for v in built) else "unknown"
    return "mixed"


def _label(prefix: str, value: object, lang: str) -> str:
    key = f"{prefix}.{value}"
    return tr(key, lang) if isinstance(value, str) and has(key) else str(value)


@dataclass(frozen=True)
class TipLabels:
    """Escaped tooltip fragments shared by every camera point (sent once per map).

    ``head`` holds ``{p}`` (point id) and ``{n}`` (cameras at the point); ``more``
    holds ``{n}``; ``kinds`` and ``states`` are the labels camera rows index into.
    """

    head: str
    more: str
    kinds: list[str]
    states: list[str]

    def tip(self, point: str, n: int, cams: Sequence[Sequence]) -> str:
        """The tooltip HTML of one point, exactly as the map's JavaScript builds it."""
        out = self.head.replace("{p}", point).replace("{n}", str(n))
        for cam_id, kind, state in cams:
            out += f"<br>{cam_id}{_SEP}{self.kinds[kind]}{_SEP}{self.states[state]}"
        if n > len(cams):
            out += "<br>" + self.more.replace("{n}", str(n - len(cams)))
        return out


_SEP = " · "


def _compact_points(
    cameras: gpd.GeoDataFrame, *, lang: str, max_listed: int
) -> tuple[pd.DataFrame, list[list], TipLabels]:
    """Points table, per point the listed cameras ``[id_html, kind_index, state_index]``,
    and the shared labels."""
    frame = cameras if cameras.crs is None or cameras.crs.is_geographic else cameras.to_crs(WGS84)
    geoms = frame.geometry.values
    ok = ~(geoms.isna() | geoms.is_empty)
    frame = frame[ok]
    df = pd.DataFrame(
        {
            "camera_id": frame["camera_id"].to_numpy() if "camera_id" in frame else frame.index,
            "point_id": frame["point_id"].to_numpy() if "point_id" in frame else pd.NA,
            "kind": frame["kind"].to_numpy() if "kind" in frame else pd.NA,
            "status": frame["status"].to_numpy() if "status" in frame else pd.NA,
            "lon": frame.geometry.x.to_numpy(),
            "lat": frame.geometry.y.to_numpy(),
        }
    )
    # cameras without a point id stand alone
    missing = df["point_id"].isna()
    df["point_id"] = df["point_id"].astype(object)
    df.loc[missing, "point_id"] = df.loc[missing, "camera_id"].astype(str)
    df["point_id"] = df["point_id"].astype(str)
    # one group per point, in order of first appearance; cameras keep file order
    codes, uniques = pd.factorize(df["point_id"], sort=False)
    order = np.argsort(codes, kind="stable")
    codes_sorted = codes[order]
    n_points = len(uniques)
    n = np.bincount(codes, minlength=n_points)
    status = df["status"].astype(object).where(df["status"].notna(), "unknown").astype(str).to_numpy()
    online = np.bincount(codes, weights=status == "online", minlength=n_points)
    offline = np.bincount(codes, weights=status == "offline", minlength=n_points)
    planned = np.bincount(codes, weights=status == "planned", minlength=n_points)
    built = n - planned
    summary = np.select(
        [built == 0, online == built, (online == 0) & (offline > 0), online == 0],
        ["planned", "online", "offline", "unknown"],
        default="mixed",
    )
    # the first ``max_listed`` cameras of each point, with label indices
    rank = np.arange(len(order)) - np.searchsorted(codes_sorted, codes_sorted, side="left")
    listed = order[rank < max_listed]
    kind_values = df["kind"].astype(object).where(df["kind"].notna(), "").astype(str).to_numpy()
    kind_names, kind_idx = np.unique(kind_values, return_inverse=True)
    state_names, state_idx = np.unique(status, return_inverse=True)
    ids = df["camera_id"].to_numpy()
    rows = [[esc(ids[i]), int(kind_idx[i]), int(state_idx[i])] for i in listed]
    bounds = np.searchsorted(codes[listed], np.arange(n_points + 1), side="left")
    cams = [rows[bounds[k]:bounds[k + 1]] for k in range(n_points)]
    labels = TipLabels(
        head=f"<b>{esc(tr('tip.point', lang))} {{p}}</b>{_SEP}"
        + esc(tr("tip.cameras", lang, n="{n}")),
        more=esc(tr("tip.more", lang, n="{n}")),
        kinds=[esc(_label("kind", k, lang)) for k in kind_names],
        states=[esc(_label("camstatus", k, lang)) for k in state_names],
    )
    table = pd.DataFrame(
        {
            "point_id": np.asarray(uniques, dtype=object),
            "lon": np.bincount(codes, weights=df["lon"].to_numpy(), minlength=n_points) / n,
            "lat": np.bincount(codes, weights=df["lat"].to_numpy(), minlength=n_points) / n,
            "n_cameras": n.astype(np.int64),
            "status": summary,
        }
    )
    return table, cams, labels


def camera_points(
    cameras: gpd.GeoDataFrame, *, lang: str = "zh", max_listed: int = 6
) -> pd.DataFrame:
    """One row per camera point: ``point_id, lon, lat, n_cameras, status, tip``.

    Parameters
    ----------
    cameras
        Cameras (Points, any CRS; lon/lat are taken in EPSG:4326 or as given when
        already geographic, e.g. shifted to GCJ-02 for display). Without a
        ``point_id`` column every camera is its own point.
    lang
        Language of the tooltip labels.
    max_listed
        Cameras listed in a tooltip before "… N more".

    Returns
    -------
    pandas.DataFrame
        ``tip`` is escaped HTML (the text the map shows on hover). A point's
        location is the mean of its cameras'.
    """
    table, cams, labels = _compact_points(cameras, lang=lang, max_listed=max_listed)
    table["tip"] = [
        labels.tip(esc(pid), int(n), c)
        for pid, n, c in zip(table["point_id"], table["n_cameras"], cams, strict=True)
    ]
    return table


_CALLBACK = """
    var gridmapTip = {{ this.labels|tojson }};
    function gridmapCameraTip(row) {
        var cams = row[5], n = row[4];
        var s = gridmapTip.head.split('{p}').join(row[3]).split('{n}').join(String(n));
        for (var i = 0; i < cams.length; i++) {
            s += '<br>' + cams[i][0] + ' · ' + gridmapTip.kinds[cams[i][1]]
                + ' · ' + gridmapTip.states[cams[i][2]];
        }
        if (n > cams.length) {
            s += '<br>' + gridmapTip.more.split('{n}').join(String(n - cams.length));
        }
        return s;
    }
    function gridmapCameraMarker(row) {
        var icon = L.divIcon({className: 'gridmap-camera gridmap-cam-' + row[2],
                              iconSize: [12, 12]});
        var m = L.marker([row[0], row[1]], {icon: icon, keyboard: false});
        m.bindTooltip(function() { return gridmapCameraTip(row); },
                      {direction: 'top', offset: [0, -6]});
        return m;
    }
"""


class _MarkerStyle:
    """Adds the camera-marker CSS to the page header when rendered."""

    def render(self, **kwargs: object) -> None:
        super().render(**kwargs)  # type: ignore[misc]
        root = self.get_root()  # type: ignore[attr-defined]
        root.header.add_child(Element(_MARKER_CSS), name="gridmap_camera_css")


class CameraCluster(_MarkerStyle, MarkerCluster):
    """Camera points as small status-coloured markers in a Leaflet.markercluster group.

    Rows are ``[lat, lon, status, point_id_html, n_cameras, [[camera_id_html,
    kind_index, status_index], ...]]``; ``labels`` (:class:`TipLabels`) is sent
    once. Markers are created in the browser and added in bulk (``addLayers``,
    chunked), and tooltips are assembled on hover, which keeps the page small
    and thousands of points fast.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function(){
            """ + _CALLBACK + """
            var data = {{ this.data|tojson }};
            var cluster = L.markerClusterGroup({{ this.options|tojavascript }});
            {%- if this.icon_create_function is not none %}
            cluster.options.iconCreateFunction = {{ this.icon_create_function.strip() }};
            {%- endif %}
            var markers = new Array(data.length);
            for (var i = 0; i < data.length; i++) { markers[i] = gridmapCameraMarker(data[i]); }
            cluster.addLayers(markers);
            {%- if this.show %}
            cluster.addTo({{ this._parent.get_name() }});
            {%- endif %}
            return cluster;
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self,
        data: list[list],
        labels: TipLabels,
        *,
        name: str,
        show: bool = True,
        icon_create_function: str | None = None,
        **options: object,
    ) -> None:
        super().__init__(name=name, show=show, icon_create_function=icon_create_function, **options)
        self._name = "CameraCluster"
        self.data = data
        self.labels = asdict(labels)


class CameraPointsLayer(_MarkerStyle, Layer):
    """Camera points as markers without clustering (for a few thousand points at most).

    Same rows and labels as :class:`CameraCluster`.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function(){
            """ + _CALLBACK + """
            var data = {{ this.data|tojson }};
            var group = L.featureGroup();
            for (var i = 0; i < data.length; i++) { gridmapCameraMarker(data[i]).addTo(group); }
            {%- if this.show %}
            group.addTo({{ this._parent.get_name() }});
            {%- endif %}
            return group;
        })();
        {% endmacro %}
        """
    )

    def __init__(self, data: list[list], labels: TipLabels, *, name: str, show: bool = True) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "CameraPoints"
        self.data = data
        self.labels = asdict(labels)


def camera_layer(
    cameras: gpd.GeoDataFrame,
    *,
    lang: str = "zh",
    cluster: bool = True,
    name: str | None = None,
    show: bool = True,
    max_listed: int = 6,
) -> tuple[CameraCluster | CameraPointsLayer, Legend]:
    """The camera-point layer (clustered by default) and its status legend.

    Parameters
    ----------
    cameras
        Cameras in the display datum (see :func:`layers.base.to_display`).
    lang
        ``zh`` or ``en``.
    cluster
        Cluster markers at low zoom (default). ``False`` draws every point.
    name
        Layer name in the layer control.
    show
        Whether the layer is on when the map opens.
    max_listed
        Cameras listed in a tooltip before "… N more".

    Returns
    -------
    (layer, Legend)
        Add both to the map; the layer adds its marker CSS to the page header.
    """
    points, cams, labels = _compact_points(cameras, lang=lang, max_listed=max_listed)
    data = [
        [round(float(lat), 6), round(float(lon), 6), status, esc(pid), int(n), c]
        for lat, lon, status, pid, n, c in zip(
            points["lat"], points["lon"], points["status"], points["point_id"],
            points["n_cameras"], cams, strict=True,
        )
    ]
    label = name or tr("layer.cameras", lang)
    if cluster:
        layer: CameraCluster | CameraPointsLayer = CameraCluster(
            data, labels, name=label, show=show, icon_create_function=_CLUSTER_ICON,
            chunkedLoading=True, maxClusterRadius=60,
            disableClusteringAtZoom=17, spiderfyOnMaxZoom=False, showCoverageOnHover=False,
        )
    else:
        layer = CameraPointsLayer(data, labels, name=label, show=show)
    present = [s for s in POINT_STATUSES if np.any(points["status"].to_numpy() == s)]
    leg = legend(
        tr("legend.cameras", lang),
        [(STATUS_COLOURS[s], tr(f"status.{s}", lang)) for s in present],
        legend_id="cameras",
        shape="dot",
    )
    return layer, leg.follow(layer)
