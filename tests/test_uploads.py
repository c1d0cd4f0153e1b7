"""Upload checks: formats, size, zip traversal and bombs."""

from __future__ import annotations

import io
import zipfile

import pytest

from gridmap.uploads import UploadError, UploadLimits, check_zip, save_upload


def _zip(members: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_plain_csv_is_saved_under_its_base_name(tmp_path):
    path = save_upload(b"lon,lat\n120,30\n", "../../etc/cameras.csv", tmp_path)
    assert path == tmp_path / "cameras.csv"
    assert path.read_bytes() == b"lon,lat\n120,30\n"


def test_unknown_format_is_refused_with_the_allowed_list(tmp_path):
    with pytest.raises(UploadError, match=r"unknown format '\.exe'.*\.csv"):
        save_upload(b"MZ", "setup.exe", tmp_path)
    assert not any(tmp_path.iterdir())


def test_size_limit(tmp_path):
    with pytest.raises(UploadError, match="upload limit"):
        save_upload(b"x" * 101, "a.csv", tmp_path, limits=UploadLimits(max_bytes=100))


@pytest.mark.parametrize("name", ["../evil.csv", "/abs/evil.csv", "a/../../evil.csv", "C:/x.csv"])
def test_zip_path_traversal_is_refused(name):
    with pytest.raises(UploadError, match="path traversal"):
        check_zip(_zip({name: b"lon,lat\n"}))


def test_zip_bomb_ratio_is_refused():
    data = _zip({"big.csv": b"0" * 5_000_000})  # deflates ~1000:1
    with pytest.raises(UploadError, match="decompression bomb"):
        check_zip(data)


def test_zip_total_size_is_refused():
    data = _zip({"a.csv": b"1" * 3000, "b.csv": b"2" * 3000}, compression=zipfile.ZIP_STORED)
    with pytest.raises(UploadError, match="expands to"):
        check_zip(data, limits=UploadLimits(max_unzipped_bytes=5000))


def test_zipped_shapefile_extracts_to_the_shp(tmp_path):
    data = _zip({"grids/g.shp": b"s", "grids/g.shx": b"x", "grids/g.dbf": b"d", "grids/g.prj": b"p"})
    path = save_upload(data, "grids.zip", tmp_path)
    assert path.name == "g.shp"
    assert path.is_relative_to(tmp_path)
    assert (path.parent / "g.dbf").read_bytes() == b"d"


def test_zip_with_two_layers_is_refused(tmp_path):
    data = _zip({"a.csv": b"1", "b.geojson": b"{}"})
    with pytest.raises(UploadError, match="expected one layer"):
        save_upload(data, "two.zip", tmp_path)


def test_bad_zip(tmp_path):
    with pytest.raises(UploadError, match="not a valid zip"):
        save_upload(b"not a zip", "x.zip", tmp_path)
