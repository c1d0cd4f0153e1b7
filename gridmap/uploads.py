"""Safe handling of uploaded files: size limits, format allow-list, zip checks.

Uploads arrive as bytes from a browser. Before any reader sees them they are
checked here and written into a private directory that the caller owns (and
deletes). Zip archives are checked for path traversal (``../``, absolute
names, symlinks) and decompression bombs (total uncompressed size and
compression ratio) *before* anything is extracted.
"""

from __future__ import annotations

import stat
import zipfile
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path, PurePosixPath

from ._errors import GridmapError

__all__ = [
    "ALLOWED_EXTENSIONS",
    "UploadError",
    "UploadLimits",
    "check_zip",
    "save_upload",
]

#: Extensions the readers understand (a zip may hold a shapefile or any of these).
ALLOWED_EXTENSIONS = (
    ".csv", ".txt", ".xlsx", ".xls", ".geojson", ".json", ".gpkg", ".parquet",
    ".zip", ".shp", ".tif", ".tiff", ".gz",
)
_SIDECARS = (".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx", ".xml", ".qmd")


class UploadError(GridmapError, ValueError):
    """An upload was refused; the message says why and what to do."""


@dataclass(frozen=True)
class UploadLimits:
    """Limits applied to one upload.

    Attributes
    ----------
    max_bytes
        Largest accepted upload (compressed size for zips).
    max_unzipped_bytes
        Largest total uncompressed size of a zip's members.
    max_ratio
        Largest compression ratio of any zip member (bombs compress > 1000:1).
    max_members
        Most members a zip may hold.
    """

    max_bytes: int = 200 * 1024 * 1024
    max_unzipped_bytes: int = 1024 * 1024 * 1024
    max_ratio: float = 200.0
    max_members: int = 1000


def _check_name(name: str) -> str:
    clean = PurePosixPath(name.replace("\\", "/"))
    if clean.is_absolute() or ".." in clean.parts or (clean.parts and ":" in clean.parts[0]):
        raise UploadError(
            f"zip member {name!r} points outside the archive (path traversal); "
            "re-create the zip with relative paths only."
        )
    return str(clean)


def check_zip(data: bytes, *, filename: str = "upload.zip",
              limits: UploadLimits | None = None) -> list[str]:
    """Check a zip archive without extracting it; return its member names.

    Raises
    ------
    UploadError
        On path traversal, symlinks, too many members, a total uncompressed size
        above ``limits.max_unzipped_bytes`` or a member compressed more than
        ``limits.max_ratio`` times.
    """
    limits = limits or UploadLimits()
    try:
        zf = zipfile.ZipFile(BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise UploadError(f"{filename}: not a valid zip archive ({exc}); upload the file again.") from exc
    with zf:
        infos = zf.infolist()
        if len(infos) > limits.max_members:
            raise UploadError(
                f"{filename}: {len(infos)} members, more than the limit of {limits.max_members}; "
                "zip only the layer you need."
            )
        total = 0
        names = []
        for info in infos:
            names.append(_check_name(info.filename))
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise UploadError(f"{filename}: member {info.filename!r} is a symbolic link; "
                                  "zip the real file instead.")
            total += info.file_size
            if info.compress_size and info.file_size / info.compress_size > limits.max_ratio:
                raise UploadError(
                    f"{filename}: member {info.filename!r} expands {info.file_size / info.compress_size:.0f}× "
                    f"(limit {limits.max_ratio:.0f}×), which looks like a decompression bomb; "
                    "upload the data uncompressed or split it."
                )
        if total > limits.max_unzipped_bytes:
            raise UploadError(
                f"{filename}: expands to {total / 2**20:.0f} MiB, more than the limit of "
                f"{limits.max_unzipped_bytes / 2**20:.0f} MiB; upload a smaller extract."
            )
    return names


def save_upload(data: bytes, filename: str, directory: str | Path, *,
                limits: UploadLimits | None = None) -> Path:
    """Check an upload and write it into ``directory``; return the path to read.

    Zip archives are checked with :func:`check_zip` and extracted; the returned
    path is then the single readable layer inside (e.g. the ``.shp``). The
    caller owns ``directory`` and removes it when the session ends.
    """
    limits = limits or UploadLimits()
    name = PurePosixPath(filename.replace("\\", "/")).name
    suffix = Path(name).suffix.lower()
    if suffix not in ALLOWED_EXTENSIONS:
        raise UploadError(
            f"{name}: unknown format {suffix or '(no extension)'!r}; upload one of "
            f"{', '.join(ALLOWED_EXTENSIONS)}."
        )
    if len(data) > limits.max_bytes:
        raise UploadError(
            f"{name}: {len(data) / 2**20:.0f} MiB is more than the upload limit of "
            f"{limits.max_bytes / 2**20:.0f} MiB; upload a smaller extract."
        )
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / name
    target.write_bytes(data)
    if suffix != ".zip":
        return target
    members = check_zip(data, filename=name, limits=limits)
    out = directory / (Path(name).stem + "_unzipped")
    with zipfile.ZipFile(BytesIO(data)) as zf:
        for member in members:
            if member.endswith("/"):
                continue
            dest = (out / member).resolve()
            if not dest.is_relative_to(out.resolve()):  # belt and braces after _check_name
                raise UploadError(f"{name}: member {member!r} escapes the archive.")
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(zf.read(member))
    layers = sorted(
        p for p in out.rglob("*")
        if p.is_file() and p.suffix.lower() in ALLOWED_EXTENSIONS and p.suffix.lower() != ".zip"
        and not p.name.startswith(".")
    )
    layers = [p for p in layers if p.suffix.lower() not in _SIDECARS]
    if len(layers) != 1:
        found = [str(p.relative_to(out)) for p in layers]
        raise UploadError(
            f"{name}: expected one layer inside the zip, found {len(layers)} {found}; "
            "zip one layer (a shapefile with its .shx/.dbf/.prj, or one file) per upload."
        )
    return layers[0]
