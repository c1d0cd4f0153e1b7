"""A disk cache of ingested layers: read a file once, reopen the clean layer fast.

:func:`gridmap.ingest.read_layer` checks every row of a file (encoding,
coordinates, vocabularies, timestamps, ids) and accounts for each of them; on
the ``city`` demo district that takes about 5 s for a million incidents. A
server that restarts, or a batch job that reads the same file every night,
should not pay it again while the file is unchanged. :func:`read_layer_cached`
keeps the clean layer as GeoParquet (about 1 s to read back for a million
points) and the ingest report's summary as JSON next to it.

An entry is keyed by the file's name, size and modification time, the
gridmap version and the read options; anything else that changes makes a new
entry and removes the old one. The cache lives in ``.gridmap-cache/`` beside
the file unless ``cache_dir`` says otherwise. When the folder cannot be
written (a read-only data share), the layer is read as usual and a warning
says why it was not cached.

Examples
--------
>>> from gridmap.layercache import read_layer_cached
>>> incidents, report = read_layer_cached("data/demo/incidents.parquet",
...                                       kind="incidents")  # doctest: +SKIP
>>> report["rejected"]  # doctest: +SKIP
0
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd

from . import __version__
from ._errors import ReadError

__all__ = ["CACHE_DIR_NAME", "cache_key", "read_layer_cached"]

CACHE_DIR_NAME = ".gridmap-cache"


def cache_key(path: str | Path, *, kind: str | None, **options: Any) -> str:
    """The cache entry name of ``path`` read as ``kind`` with ``options``.

    It changes when the file's size or modification time, the gridmap
    version, ``kind`` or any option changes.

    Raises
    ------
    gridmap.ReadError
        When ``path`` does not exist.
    """
    path = Path(path)
    try:
        st = path.stat()
    except OSError as exc:
        raise ReadError(path, f"cannot be opened ({exc.strerror})",
                        "check the path and that the file is readable") from exc
    blob = json.dumps(
        {"name": path.name, "size": st.st_size, "mtime_ns": st.st_mtime_ns,
         "version": __version__, "kind": kind,
         "options": {k: repr(v) for k, v in sorted(options.items())}},
        sort_keys=True,
    )
    return f"{path.stem}.{kind or 'auto'}.{hashlib.sha256(blob.encode()).hexdigest()[:16]}"


def read_layer_cached(
    path: str | Path,
    *,
    kind: str | None = None,
    cache_dir: str | Path | None = None,
    **options: Any,
) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """:func:`gridmap.ingest.read_layer` through a disk cache.

    Parameters
    ----------
    path
        The layer file (any format ``read_layer`` reads).
    kind
        Layer kind (``grids``, ``cameras``, ``incidents``, ``places``), as for
        ``read_layer``.
    cache_dir
        Folder of the cache entries; default ``.gridmap-cache`` beside ``path``.
    **options
        Further keyword options of ``read_layer`` (``coords``, ``crs``, ``lon``,
        ``lat``, ...); they are part of the cache key.

    Returns
    -------
    data : geopandas.GeoDataFrame
        The clean layer in EPSG:4326, equal to ``read_layer(...).data``.
    report : dict
        :meth:`gridmap.ingest.IngestReport.to_dict` of the ingest that made the
        entry (counts of accepted, repaired and rejected rows with reasons).
        The per-row records are not cached: call ``read_layer`` for those.

    Raises
    ------
    gridmap.ReadError
        When the file cannot be read (as ``read_layer``).
    """
    from .ingest import read_layer

    path = Path(path)
    folder = Path(cache_dir) if cache_dir is not None else path.parent / CACHE_DIR_NAME
    key = cache_key(path, kind=kind, **options)
    data_file, report_file = folder / f"{key}.parquet", folder / f"{key}.json"
    if data_file.exists() and report_file.exists():
        return (gpd.read_parquet(data_file),
                json.loads(report_file.read_text(encoding="utf-8")))
    result = read_layer(path, kind=kind, **options)
    report = result.report.to_dict()
    try:
        _write_entry(folder, key, result.data, report)
    except OSError as exc:
        warnings.warn(
            f"{path.name} was read but not cached in {folder} ({exc.strerror or exc}); it will "
            "be checked again next time. Pass cache_dir= a writable folder to cache it.",
            RuntimeWarning, stacklevel=2,
        )
    return result.data, report


def _write_entry(folder: Path, key: str, data: gpd.GeoDataFrame, report: dict) -> None:
    """Write an entry atomically (temporary files renamed into place); drop stale ones."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = key.rsplit(".", 1)[0]
    for old in folder.glob(f"{stem}.*"):
        if not old.name.startswith(key):
            old.unlink(missing_ok=True)
    for suffix, write in ((".parquet", lambda f: data.to_parquet(f)),
                          (".json", lambda f: f.write_text(json.dumps(report, ensure_ascii=False),
                                                           encoding="utf-8"))):
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=suffix, dir=folder)
        os.close(fd)
        try:
            write(Path(tmp))
            os.replace(tmp, folder / f"{key}{suffix}")
        finally:
            Path(tmp).unlink(missing_ok=True)
