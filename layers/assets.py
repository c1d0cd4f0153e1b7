"""Leaflet and its plugins served by the app itself, so maps draw with no internet.

folium loads Leaflet, jQuery, Bootstrap, Font Awesome and its plugins from public
CDNs by default; on an isolated government network the map would then be blank.
The files come instead from the npm registry (versions pinned in ``package.json``)
and are copied into ``static/vendor/`` by::

    python -m layers.assets --vendor node_modules --out static/vendor

(``./run`` does this after ``npm ci``). Streamlit serves ``static/`` at
``/app/static/`` when ``server.enableStaticServing`` is on, and
:func:`use_local_assets` points folium's class-level ``default_js`` /
``default_css`` lists at those URLs. The map factory
:func:`layers.base.make_map` calls it, so every map built there is offline-ready.

Only the classes in :data:`PATCHED` are served locally. Do not add other folium
plugins, nor a ``branca`` colormap (streamlit-folium then fetches d3 from a CDN),
to an app map without vendoring them here first; use
:func:`layers.base.legend` for legends.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import folium
import folium.plugins

__all__ = [
    "DEFAULT_BASE_URL",
    "FILES",
    "PATCHED",
    "AssetError",
    "external_urls",
    "local_urls",
    "main",
    "missing_files",
    "use_local_assets",
    "vendor",
]

DEFAULT_BASE_URL = "/app/static/vendor"
"""Where Streamlit serves ``static/vendor`` (``server.enableStaticServing = true``).

The map lives in streamlit-folium's iframe (``/component/streamlit_folium.st_folium/``),
which has the same origin as the app, so this absolute path resolves there too.
"""


class AssetError(RuntimeError):
    """The npm packages to vendor are missing or incomplete."""


@dataclass(frozen=True)
class _File:
    source: str  # path under node_modules (or "folium:" + path under the folium package)
    target: str  # path under static/vendor
    tree: bool = False  # copy a whole folder


FILES: tuple[_File, ...] = (
    _File("leaflet/dist/leaflet.js", "leaflet/leaflet.js"),
    _File("leaflet/dist/leaflet.css", "leaflet/leaflet.css"),
    _File("leaflet/dist/images", "leaflet/images", tree=True),
    _File("jquery/dist/jquery.min.js", "jquery/jquery.min.js"),
    _File("bootstrap/dist/js/bootstrap.bundle.min.js", "bootstrap/bootstrap.bundle.min.js"),
    _File("bootstrap/dist/css/bootstrap.min.css", "bootstrap/bootstrap.min.css"),
    _File("@fortawesome/fontawesome-free/css/all.min.css", "fontawesome/css/all.min.css"),
    _File("@fortawesome/fontawesome-free/webfonts", "fontawesome/webfonts", tree=True),
    _File(
        "drmonty-leaflet-awesome-markers/js/leaflet.awesome-markers.min.js",
        "awesome-markers/leaflet.awesome-markers.js",
    ),
    _File(
        "drmonty-leaflet-awesome-markers/css/leaflet.awesome-markers.css",
        "awesome-markers/leaflet.awesome-markers.css",
    ),
    _File("drmonty-leaflet-awesome-markers/css/images", "awesome-markers/images", tree=True),
    _File("leaflet.markercluster/dist/leaflet.markercluster.js", "markercluster/leaflet.markercluster.js"),
    _File("leaflet.markercluster/dist/MarkerCluster.css", "markercluster/MarkerCluster.css"),
    _File(
        "leaflet.markercluster/dist/MarkerCluster.Default.css",
        "markercluster/MarkerCluster.Default.css",
    ),
    _File("leaflet-draw/dist/leaflet.draw.js", "draw/leaflet.draw.js"),
    _File("leaflet-draw/dist/leaflet.draw.css", "draw/leaflet.draw.css"),
    _File("leaflet-draw/dist/images", "draw/images", tree=True),
    # folium's own build of leaflet-heat ships inside the folium wheel.
    _File("folium:templates/leaflet_heat.min.js", "heat/leaflet_heat.min.js"),
)
"""Every vendored file: npm source path → path under ``static/vendor``."""


def _assets(js: Sequence[tuple[str, str]], css: Sequence[tuple[str, str]]) -> dict[str, list]:
    return {"js": list(js), "css": list(css)}


# (class, local js [(name, target)], local css [(name, target)])
_MAP_JS = (
    ("leaflet", "leaflet/leaflet.js"),
    ("jquery", "jquery/jquery.min.js"),
    ("bootstrap", "bootstrap/bootstrap.bundle.min.js"),
    ("awesome_markers", "awesome-markers/leaflet.awesome-markers.js"),
)
_MAP_CSS = (
    ("leaflet_css", "leaflet/leaflet.css"),
    ("bootstrap_css", "bootstrap/bootstrap.min.css"),
    ("awesome_markers_font_css", "fontawesome/css/all.min.css"),
    ("awesome_markers_css", "awesome-markers/leaflet.awesome-markers.css"),
)
_CLUSTER_JS = (("markerclusterjs", "markercluster/leaflet.markercluster.js"),)
_CLUSTER_CSS = (
    ("markerclustercss", "markercluster/MarkerCluster.css"),
    ("markerclusterdefaultcss", "markercluster/MarkerCluster.Default.css"),
)

PATCHED: dict[type, dict[str, list]] = {
    folium.Map: _assets(_MAP_JS, _MAP_CSS),
    folium.plugins.MarkerCluster: _assets(_CLUSTER_JS, _CLUSTER_CSS),
    folium.plugins.FastMarkerCluster: _assets(_CLUSTER_JS, _CLUSTER_CSS),
    folium.plugins.Draw: _assets(
        (("leaflet_draw_js", "draw/leaflet.draw.js"),),
        (("leaflet_draw_css", "draw/leaflet.draw.css"),),
    ),
    folium.plugins.HeatMap: _assets((("leaflet-heat.js", "heat/leaflet_heat.min.js"),), ()),
}
"""folium classes whose CDN assets :func:`use_local_assets` replaces (Bootstrap 3
glyphicons and folium's icon-rotation CSS are dropped: gridmap maps use neither)."""


def local_urls(base_url: str = DEFAULT_BASE_URL) -> dict[type, dict[str, list[tuple[str, str]]]]:
    """The ``(name, url)`` lists :func:`use_local_assets` installs, per folium class."""
    base = base_url.rstrip("/")
    return {
        cls: {kind: [(name, f"{base}/{target}") for name, target in pairs]
              for kind, pairs in lists.items()}
        for cls, lists in PATCHED.items()
    }


def use_local_assets(base_url: str = DEFAULT_BASE_URL) -> None:
    """Point folium's Map and the plugins in :data:`PATCHED` at ``base_url``.

    Sets the class attributes ``default_js`` / ``default_css`` (folium reads them
    when a map is rendered). Idempotent; call it before rendering a map.

    Parameters
    ----------
    base_url
        URL prefix of the vendored files, ``/app/static/vendor`` for the app
        (prefix it with Streamlit's ``server.baseUrlPath`` when one is set).
    """
    for cls, lists in local_urls(base_url).items():
        cls.default_js = lists["js"]
        cls.default_css = lists["css"]


_URL_ATTR = re.compile(r"""<(?:script|link)\b[^>]*?\b(?:src|href)\s*=\s*["']([^"']+)["']""", re.I)


def external_urls(html: str) -> list[str]:
    """URLs of ``<script src>`` / ``<link href>`` tags in ``html`` that leave the app's host."""
    return [url for url in _URL_ATTR.findall(html) if re.match(r"^(?:[a-z]+:)?//", url, re.I)]


def _source_path(node_modules: Path, source: str) -> Path:
    if source.startswith("folium:"):
        return Path(folium.__file__).parent / source.removeprefix("folium:")
    return node_modules / source


def missing_files(out_dir: str | Path) -> list[str]:
    """Vendored files (paths under ``out_dir``) that are absent; empty when complete."""
    out = Path(out_dir)
    return [f.target for f in FILES if not (out / f.target).exists()]


def vendor(node_modules: str | Path, out_dir: str | Path) -> list[Path]:
    """Copy the files in :data:`FILES` from ``node_modules`` into ``out_dir``.

    Returns the written paths. ``out_dir`` is replaced file by file, never
    deleted as a whole.

    Raises
    ------
    AssetError
        When a source file is missing (run ``npm ci`` in the project root first).
    """
    src_root, out = Path(node_modules), Path(out_dir)
    absent = [f.source for f in FILES if not _source_path(src_root, f.source).exists()]
    if absent:
        raise AssetError(
            f"{src_root}: missing {', '.join(absent)}; run `npm ci` in the project root "
            "(package.json pins the versions) and try again."
        )
    written: list[Path] = []
    for f in FILES:
        src, dst = _source_path(src_root, f.source), out / f.target
        dst.parent.mkdir(parents=True, exist_ok=True)
        if f.tree:
            shutil.copytree(src, dst, dirs_exist_ok=True)
            written.extend(p for p in dst.rglob("*") if p.is_file())
        else:
            shutil.copyfile(src, dst)
            written.append(dst)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m layers.assets --vendor node_modules --out static/vendor``."""
    parser = argparse.ArgumentParser(
        prog="python -m layers.assets",
        description="Copy Leaflet and plugins from node_modules into the app's static folder.",
    )
    parser.add_argument("--vendor", default="node_modules", help="npm's node_modules folder")
    parser.add_argument("--out", default="static/vendor", help="output folder (served by the app)")
    args = parser.parse_args(argv)
    try:
        written = vendor(args.vendor, args.out)
    except AssetError as exc:
        print(f"layers.assets: {exc}", file=sys.stderr)
        return 2
    print(f"layers.assets: {len(written)} files in {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
