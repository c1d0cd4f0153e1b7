"""The shared sidebar, cached loaders and map helpers every app page uses.

Page conventions
----------------
* A page is one script ``app_pages/<name>.py``; register it with one line in the
  ``PAGES`` list of ``app.py``: ``Page("app_pages/<name>.py", "page.<name>", ":material/x:")``
  (path, i18n title key, icon). Register the page's strings at its top with
  :func:`gridmap.i18n.register`, keys prefixed with the page name (``"cameras.title"``).
* ``app.py`` draws the one shared sidebar (:func:`sidebar`) before the page runs;
  a page never draws its own workspace widgets. It starts with
  ``ws = current()`` (language, basemap, data folder) and ``data = load(ws)``
  (grids, streets, communities, cameras, incidents); ``load_extra(ws, name)``
  gives boundary, places, roads or buildings, ``population_path(ws)`` the raster.
* Each page goes: read its widgets (keys prefixed with the page name) → cached
  loader → pure ``gridmap`` call → ``layers`` builders → render.
* Caching: the layers from :func:`load` are shared, read-only
  (``st.cache_resource``): never modify them, copy first. Cache an analysis with
  ``@st.cache_data`` (small results only) or ``@st.cache_resource`` (large,
  read-only results), passing GeoDataFrames as ``_``-prefixed (unhashed)
  arguments plus ``ws.data_key`` and the parameters that change the result.
* Maps: ``m = new_map(ws, bounds)`` (offline assets, chosen basemap), shift
  layers with ``to_display(gdf, ws.datum)`` (GCJ-02 under AMap), add layers and
  their legends, then ``render_map(m, key="<page>")`` (returns nothing on pan or
  zoom; pass ``returned_objects`` for clicks or drawings, and shift those back
  with :func:`layers.base.from_display`).
* Data sources: the sidebar offers the demo district and "my uploads" (the
  layers uploaded on the Data page, kept in a private folder per browser
  session, see ``app_pages/_uploads.py``). :func:`load` reads either; for
  uploads, a layer not uploaded yet is an empty layer listed in
  ``data.missing`` — call ``require(data, "incidents", lang=ws.lang)`` to stop
  with a message saying which layer to upload (no grids: :func:`load` itself
  raises that message). ``ws.synthetic`` is False for uploads.
* Downloads: ``download_table(df, "name.csv", lang, key)`` (or ``.xlsx``) writes
  through :func:`gridmap.export.write_result`, which neutralises spreadsheet
  formulas; never build CSV bytes in a page. Downloads keep the library's
  column names (scripts read them).
* Tables: ``show_table(df, lang)`` shows a table with its headers in the
  chosen language (:func:`gridmap.i18n.label_columns`); never pass a library
  table to ``st.dataframe`` directly.
* Errors: catch only :class:`gridmap.GridmapError` and show ``str(exc)`` with
  ``st.error``; anything else is a bug and must surface.
* Privacy: incidents only as aggregates; every user text in HTML through
  :func:`layers.base.esc`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import folium
import geopandas as gpd
import pandas as pd
import pyogrio
import streamlit as st

from app_pages._uploads import (
    LAYER_FILES,
    SESSION_KEY,
    read_layer_file,
    session_uploads,
)
from gridmap import GridmapError, ingest
from gridmap.crs import WGS84
from gridmap.i18n import LANGS, default_lang, label_columns, label_values, register, tr
from gridmap.layercache import read_layer_cached
from layers import assets
from layers.base import BASEMAPS, basemap_datum, make_map

__all__ = [
    "DEFAULT_DATA_DIR",
    "DemoData",
    "Workspace",
    "current",
    "download_table",
    "load",
    "load_extra",
    "new_map",
    "population_path",
    "render_map",
    "require",
    "show_table",
    "sidebar",
]

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA_DIR = ROOT / "data" / "demo"
VENDOR_DIR = ROOT / "static" / "vendor"
DEMO_FILES = ("grids.gpkg", "cameras.csv", "incidents.parquet")
SOURCES = ("demo", "uploads")
_UPLOAD_FILES = tuple(LAYER_FILES.values())
_LANG_NAMES = {"zh": "中文", "en": "English"}

register({
    "page.data": {"zh": "数据", "en": "Data"},
    "ws.source.uploads": {"zh": "我的上传", "en": "My uploads"},
    "ws.uploads.none": {
        "zh": "本会话尚未上传数据：请在“数据”页上传。",
        "en": "Nothing uploaded in this session yet: upload on the Data page.",
    },
    "ws.uploads.have": {"zh": "本会话已上传：{layers}", "en": "Uploaded in this session: {layers}"},
    "ws.uploads.need": {
        "zh": "本会话尚未上传“{layer}”图层：请在“数据”页上传，或在侧栏选择“演示区县”。",
        "en": "No {layer} layer uploaded in this session: upload it on the Data page, or "
              "choose the demo district as the data source.",
    },
    "ws.download": {"zh": "下载（{fmt}）", "en": "Download ({fmt})"},
    "upload.kind.grids": {"zh": "网格", "en": "grids"},
    "upload.kind.cameras": {"zh": "摄像机", "en": "cameras"},
    "upload.kind.incidents": {"zh": "事件", "en": "incidents"},
    "upload.kind.places": {"zh": "场所", "en": "places"},
    "upload.kind.population": {"zh": "人口栅格", "en": "population raster"},
    "upload.kind.roads": {"zh": "道路", "en": "roads"},
    "upload.kind.buildings": {"zh": "建筑物", "en": "buildings"},
    "upload.kind.boundary": {"zh": "边界", "en": "boundary"},
})


@dataclass(frozen=True)
class Workspace:
    """What the shared sidebar chose; every page reads it with :func:`current`.

    Attributes
    ----------
    lang
        ``zh`` or ``en``.
    source
        Data source key: ``demo`` (the demo district, or ``GRIDMAP_DATA_DIR``)
        or ``uploads`` (this browser session's uploads).
    data_dir
        Folder the layers are read from.
    basemap
        Key of :data:`layers.base.BASEMAPS`.
    custom_url, custom_datum
        The custom XYZ URL and its datum when ``basemap == "custom"``.
    tianditu_key
        From the ``TIANDITU_KEY`` environment variable.
    asset_base
        URL prefix of the vendored Leaflet files.
    """

    lang: str
    source: str
    data_dir: Path
    basemap: str
    custom_url: str = ""
    custom_datum: str = "wgs84"
    tianditu_key: str = ""
    asset_base: str = assets.DEFAULT_BASE_URL

    @property
    def datum(self) -> str:
        """``wgs84`` or ``gcj02``: the datum layers are drawn in."""
        return basemap_datum(self.basemap, custom_datum=self.custom_datum)

    @property
    def data_key(self) -> str:
        """Changes whenever the data on disk change: pass it to cached analyses."""
        return _data_signature(self.data_dir, _source_files(self.source))

    @property
    def synthetic(self) -> bool:
        """True for the generated demo district."""
        return self.source == "demo"


@dataclass(frozen=True)
class DemoData:
    """The read-only layers of a data folder, all in EPSG:4326."""

    grids: gpd.GeoDataFrame
    streets: gpd.GeoDataFrame | None
    communities: gpd.GeoDataFrame | None
    cameras: gpd.GeoDataFrame
    incidents: gpd.GeoDataFrame
    path: Path
    missing: tuple[str, ...] = ()  # uploads only: layers not uploaded (empty here)

    @property
    def street_names(self) -> dict:
        return _names(self.streets, "street_code")

    @property
    def community_names(self) -> dict:
        return _names(self.communities, "community_code")


def _names(layer: gpd.GeoDataFrame | None, code: str) -> dict:
    if layer is None or code not in layer.columns or "name" not in layer.columns:
        return {}
    return dict(zip(layer[code], layer["name"], strict=True))


def _data_dir_from_env() -> Path:
    env = os.environ.get("GRIDMAP_DATA_DIR", "").strip()
    return Path(env).expanduser().resolve() if env else DEFAULT_DATA_DIR


def _source_files(source: str) -> tuple[str, ...]:
    return _UPLOAD_FILES if source == "uploads" else DEMO_FILES


def _data_signature(data_dir: Path, files: tuple[str, ...] = DEMO_FILES) -> str:
    parts = [str(data_dir)]
    for name in files:
        p = data_dir / name
        if p.exists():
            st_ = p.stat()
            parts.append(f"{name}:{st_.st_size}:{st_.st_mtime_ns}")
    return "|".join(parts)


def _asset_base() -> str:
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}/app/static/vendor" if base else assets.DEFAULT_BASE_URL


def _initial_lang() -> str:
    locale = getattr(st.context, "locale", None)
    return default_lang(locale if isinstance(locale, str) else None)


def sidebar() -> Workspace:
    """Draw the shared sidebar (called once by ``app.py``) and return the workspace."""
    if "ws.lang" not in st.session_state:
        st.session_state["ws.lang"] = _initial_lang()
    lang = st.session_state["ws.lang"]
    with st.sidebar:
        st.header(tr("ws.heading", lang))
        lang = st.radio(
            tr("ws.language", lang), LANGS, key="ws.lang", horizontal=True,
            format_func=_LANG_NAMES.__getitem__,
        )
        source = st.selectbox(
            tr("ws.data_source", lang), SOURCES, key="ws.source",
            format_func=lambda k: tr(f"ws.source.{k}", lang),
        )
        basemap = st.selectbox(
            tr("ws.basemap", lang), list(BASEMAPS), key="ws.basemap",
            format_func=lambda k: tr(f"basemap.{k}", lang),
        )
        custom_url, custom_datum = "", "wgs84"
        tianditu_key = os.environ.get("TIANDITU_KEY", "").strip()
        if basemap == "custom":
            custom_url = st.text_input(
                tr("ws.custom_url", lang), key="ws.custom_url",
                placeholder="https://tiles.example.org/{z}/{x}/{y}.png",
                help=tr("ws.custom_url.help", lang),
            )
            if st.checkbox(tr("ws.custom_gcj", lang), key="ws.custom_gcj"):
                custom_datum = "gcj02"
            if not custom_url.strip():
                st.info(tr("ws.custom_url.empty", lang))
                basemap = "none"
        if basemap == "tianditu" and not tianditu_key:
            st.warning(tr("ws.tianditu_missing", lang))
        if basemap != "none":
            st.caption(tr("ws.online_note", lang))
        uploads = st.session_state.get(SESSION_KEY)
        if uploads is not None:
            uploads.touch()  # a live session's folder is never purged as stale
        if source == "uploads":
            uploads = session_uploads()
            data_dir = uploads.layers_dir
            have = uploads.present()
            st.caption(tr("ws.uploads.have", lang, layers=", ".join(
                tr(f"upload.kind.{k}", lang) for k in have)) if have
                else tr("ws.uploads.none", lang))
        else:
            data_dir = _data_dir_from_env()
            st.caption(tr("ws.data_dir", lang, path=_display_path(data_dir)))
    ws = Workspace(
        lang=lang, source=source, data_dir=data_dir, basemap=basemap,
        custom_url=custom_url, custom_datum=custom_datum, tianditu_key=tianditu_key,
        asset_base=_asset_base(),
    )
    st.session_state["ws"] = ws
    return ws


def _display_path(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def current() -> Workspace:
    """The workspace chosen in the shared sidebar (drawn by ``app.py``)."""
    ws = st.session_state.get("ws")
    if ws is None:  # a page run on its own, e.g. `streamlit run app_pages/x.py`
        ws = sidebar()
    return ws


# ---------------------------------------------------------------- data loading


def _demo_complete(path: Path) -> bool:
    return all((path / name).exists() for name in DEMO_FILES)


_GENERATE_LOCK = threading.Lock()


def _generate_demo(path: Path, scale: str, lang: str) -> None:
    """Generate the demo district into ``path`` with a progress display.

    One session generates while others wait on the lock; the files are written
    to a temporary sibling folder and renamed into place, so a reader never
    sees half a district.
    """
    from gridmap import demo

    with _GENERATE_LOCK:
        if _demo_complete(path):
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".demo-", dir=path.parent))
        label = tr("ws.generating", lang, scale=scale, path=_display_path(path))
        try:
            with st.status(label, expanded=False) as status:
                demo.generate(tmp, scale=scale, seed=0, progress=status.write)
                if path.exists():
                    shutil.rmtree(path)
                tmp.rename(path)
                status.update(state="complete")
        finally:
            if tmp.exists():
                shutil.rmtree(tmp)


def ensure_data(ws: Workspace) -> Path:
    """Return the data folder, generating the demo district there on first run.

    Raises
    ------
    GridmapError
        When ``GRIDMAP_DATA_DIR`` names a folder with other files but no district.
    """
    path = ws.data_dir
    if ws.source == "uploads":
        path.mkdir(parents=True, exist_ok=True)
        return path
    if _demo_complete(path):
        return path
    if path.exists() and any(p for p in path.iterdir() if not p.name.startswith(".")):
        raise GridmapError(
            f"{path} lacks {[n for n in DEMO_FILES if not (path / n).exists()]}; point "
            "GRIDMAP_DATA_DIR at a folder made by `gridmap demo --out DIR`, or unset it."
        )
    scale = os.environ.get("GRIDMAP_DEMO_SCALE", "default")
    _generate_demo(path, scale, ws.lang)
    return path


def _read_points(path: Path, kind: str) -> gpd.GeoDataFrame:
    """Read a point layer with :func:`gridmap.ingest.read_layer` (EPSG:4326, rows accounted).

    Through :func:`gridmap.layercache.read_layer_cached`: the clean layer is kept
    in the data folder's ``.gridmap-cache/``, so a server restart does not check
    an unchanged file again (a million incidents: ~5 s → ~1 s).
    """
    return read_layer_cached(path, kind=kind)[0]


def _read_vector(path: Path, layer: str) -> gpd.GeoDataFrame:
    return gpd.read_file(path, layer=layer).to_crs(WGS84)


@st.cache_resource(show_spinner=False, max_entries=4)
def _load(path_text: str, signature: str) -> DemoData:
    path = Path(path_text)
    grids_file = path / "grids.gpkg"
    layer_names = {name for name, _ in pyogrio.list_layers(grids_file)}
    return DemoData(
        grids=_read_vector(grids_file, "grids"),
        streets=_read_vector(grids_file, "streets") if "streets" in layer_names else None,
        communities=(
            _read_vector(grids_file, "communities") if "communities" in layer_names else None
        ),
        cameras=_read_points(path / "cameras.csv", "cameras"),
        incidents=_read_points(path / "incidents.parquet", "incidents"),
        path=path,
    )


def _empty_points(kind: str) -> gpd.GeoDataFrame:
    """An empty layer with the columns and types ingest gives ``kind``."""
    none = pd.DataFrame({"lon": pd.Series([], dtype=float), "lat": pd.Series([], dtype=float)})
    return ingest.ingest_frame(none, kind=kind).data


@st.cache_resource(show_spinner=False, max_entries=8)
def _load_uploads(path_text: str, signature: str) -> DemoData:
    path = Path(path_text)

    def read(name: str) -> gpd.GeoDataFrame | None:
        file = path / LAYER_FILES[name]
        return read_layer_file(file) if file.exists() else None

    cameras, incidents = read("cameras"), read("incidents")
    return DemoData(
        grids=read("grids"),
        streets=read("streets"),
        communities=read("communities"),
        cameras=cameras if cameras is not None else _empty_points("cameras"),
        incidents=incidents if incidents is not None else _empty_points("incidents"),
        path=path,
        missing=tuple(n for n, g in (("cameras", cameras), ("incidents", incidents)) if g is None),
    )


def load(ws: Workspace) -> DemoData:
    """The workspace's layers (shared and read-only: copy before changing them).

    For uploads, cameras or incidents not uploaded yet are empty layers named
    in ``missing`` (see :func:`require`).

    Raises
    ------
    GridmapError
        When the folder cannot be read, or no grids were uploaded; the message
        says how to fix it.
    """
    path = ensure_data(ws)
    if ws.source == "uploads":
        if not (path / LAYER_FILES["grids"]).exists():
            raise GridmapError(tr("ws.uploads.need", ws.lang, layer=tr("upload.kind.grids", ws.lang)))
        return _load_uploads(str(path), _data_signature(path, _UPLOAD_FILES))
    return _load(str(path), _data_signature(path))


def require(data: DemoData, *layers: str, lang: str) -> None:
    """Stop a page that needs ``layers`` (e.g. ``"incidents"``) the person has not uploaded.

    Raises
    ------
    GridmapError
        Saying which layer to upload on the Data page.
    """
    for name in layers:
        if name in data.missing:
            raise GridmapError(tr("ws.uploads.need", lang, layer=tr(f"upload.kind.{name}", lang)))


_EXTRA_FILES = {
    "boundary": "boundary.geojson",
    "places": "places.csv",
    "roads": "roads.gpkg",
    "buildings": "buildings.gpkg",
}


@st.cache_resource(show_spinner=False, max_entries=8)
def _load_extra(path_text: str, signature: str, name: str) -> gpd.GeoDataFrame:
    path = Path(path_text) / _EXTRA_FILES[name]
    if not path.exists():
        raise GridmapError(f"{path} is missing; regenerate the folder with `gridmap demo --out DIR`.")
    if name == "places":
        return _read_points(path, "places")
    return gpd.read_file(path).to_crs(WGS84)


@st.cache_resource(show_spinner=False, max_entries=8)
def _load_extra_upload(path_text: str, signature: str, name: str) -> gpd.GeoDataFrame:
    path = Path(path_text)
    if name == "boundary":  # the outline of the uploaded grids
        grids = read_layer_file(path / LAYER_FILES["grids"])
        return gpd.GeoDataFrame(geometry=[grids.geometry.union_all()], crs=grids.crs)
    return read_layer_file(path / LAYER_FILES[name])


def load_extra(ws: Workspace, name: str) -> gpd.GeoDataFrame:
    """Another layer of the data folder: ``boundary``, ``places``, ``roads`` or ``buildings``.

    Shared and read-only like :func:`load`. The population raster is not loaded
    here: open ``population_path(ws)`` with rasterio. For uploads, the boundary
    is the outline of the uploaded grids.

    Raises
    ------
    GridmapError
        When the file is missing (for uploads: which layer to upload).
    """
    if name not in _EXTRA_FILES:
        raise GridmapError(f"unknown layer {name!r}; use one of {list(_EXTRA_FILES)}.")
    path = ensure_data(ws)
    if ws.source == "uploads":
        needed = "grids" if name == "boundary" else name
        if not (path / LAYER_FILES[needed]).exists():
            raise GridmapError(tr("ws.uploads.need", ws.lang,
                                  layer=tr(f"upload.kind.{needed}", ws.lang)))
        return _load_extra_upload(str(path), _data_signature(path, _UPLOAD_FILES), name)
    return _load_extra(str(path), _data_signature(path), name)


def population_path(ws: Workspace) -> Path:
    """Path of the population GeoTIFF (persons per cell) of the data folder.

    It may not exist (e.g. no raster uploaded): check before opening it.
    """
    return ensure_data(ws) / "population.tif"


# ------------------------------------------------------------------ downloads

_MIME = {
    ".csv": "text/csv",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def table_bytes(df: pd.DataFrame, name: str) -> bytes:
    """``df`` as the bytes of file ``name`` (``.csv`` or ``.xlsx``), through
    :func:`gridmap.export.write_result`: formulas neutralised, geometry as WKT."""
    from gridmap.export import write_result

    suffix = Path(name).suffix.lower()
    if suffix not in _MIME:
        raise GridmapError(f"{name}: download tables as .csv or .xlsx.")
    with tempfile.TemporaryDirectory(prefix="gridmap-dl-") as tmp:
        return write_result(df, Path(tmp) / f"table{suffix}").read_bytes()


def download_table(df: pd.DataFrame, name: str, lang: str, key: str, *,
                   label: str | None = None) -> None:
    """A download button for a table (CSV or XLSX by ``name``'s extension).

    The file is written through :func:`gridmap.export.write_result` when the
    button is clicked (cells starting with ``=``, ``+``, ``-`` or ``@`` are
    neutralised); the table is copied now, so later changes do not leak in.
    """
    suffix = Path(name).suffix.lower()
    if suffix not in _MIME:
        raise GridmapError(f"{name}: download tables as .csv or .xlsx.")
    frame = df.copy()
    st.download_button(
        label or tr("ws.download", lang, fmt=suffix.lstrip(".").upper()),
        lambda: table_bytes(frame, name), file_name=name, mime=_MIME[suffix], key=key,
        on_click="ignore",
    )


def show_table(df: pd.DataFrame, lang: str, *, keep: tuple[str, ...] = (), **kwargs) -> None:
    """Show ``df`` with ``st.dataframe``, its headers in ``lang``.

    The headers come from :func:`gridmap.i18n.label_columns` (register a new
    column with :func:`gridmap.i18n.register_columns`), the library's own words
    in cells (``urban``, ``met``, ``hot 95%``...) from
    :func:`gridmap.i18n.label_values`; ``keep`` names columns
    shown as they are (a person's own headers). The geometry of a GeoDataFrame
    is left out. ``kwargs`` go to ``st.dataframe`` (``hide_index`` defaults to True).
    """
    if isinstance(df, gpd.GeoDataFrame):
        df = pd.DataFrame(df.drop(columns=df.geometry.name))
    kwargs.setdefault("hide_index", True)
    st.dataframe(label_columns(label_values(df, lang, keep=keep), lang, keep=keep), **kwargs)


# ---------------------------------------------------------------------- maps


def new_map(ws: Workspace, bounds) -> folium.Map:
    """An empty offline-ready map with the workspace's basemap, fitted to ``bounds``."""
    return make_map(
        bounds, basemap=ws.basemap, custom_url=ws.custom_url or None,
        tianditu_key=ws.tianditu_key or None, asset_base=ws.asset_base,
    )


def render_map(
    m: folium.Map,
    *,
    key: str,
    height: int = 620,
    returned_objects: list[str] | None = None,
) -> dict:
    """Show ``m`` with streamlit-folium; by default no interaction reruns the script."""
    from streamlit_folium import st_folium

    if assets.missing_files(VENDOR_DIR):
        st.warning(
            "Map assets are missing from static/vendor: run `./run app` (or `npm ci && "
            "python -m layers.assets --vendor node_modules --out static/vendor`)."
        )
    return st_folium(
        m, key=key, height=height, use_container_width=True,
        returned_objects=returned_objects or [],
    ) or {}
