"""gridmap.layercache: a cached read equals a fresh ingest, and goes stale when it should."""

from __future__ import annotations

import os

import pytest
from geopandas.testing import assert_geodataframe_equal

from gridmap import ReadError
from gridmap.ingest import read_layer
from gridmap.layercache import CACHE_DIR_NAME, cache_key, read_layer_cached

CSV = (
    "编号,类型,经度,纬度,状态,上报时间\n"
    "E1,治安,120.75,30.75,已处置,2026-01-02 08:00\n"
    "E2,消防,120.76,30.76,已结案,2026-01-03 09:30\n"
    "E3,治安,abc,30.77,已上报,2026-01-04 10:00\n"
)


@pytest.fixture
def incidents_csv(tmp_path):
    path = tmp_path / "incidents.csv"
    path.write_text(CSV, encoding="utf-8")
    return path


def test_miss_then_hit_equal_a_fresh_ingest(incidents_csv):
    fresh = read_layer(incidents_csv, kind="incidents")
    first, report1 = read_layer_cached(incidents_csv, kind="incidents")
    entries = sorted(p.suffix for p in (incidents_csv.parent / CACHE_DIR_NAME).iterdir())
    assert entries == [".json", ".parquet"]
    second, report2 = read_layer_cached(incidents_csv, kind="incidents")
    for got in (first, second):
        assert_geodataframe_equal(got, fresh.data, check_like=False)
    # the accounting travels with the entry: 3 rows, the one bad longitude rejected
    assert report1 == report2 == fresh.report.to_dict()
    assert (report2["total"], report2["rejected"]) == (3, 1)


def test_the_hit_reads_the_cache_not_the_file(incidents_csv):
    first, _ = read_layer_cached(incidents_csv, kind="incidents")
    entry = next((incidents_csv.parent / CACHE_DIR_NAME).glob("*.parquet"))
    # doctor the entry: a hit must return what is stored there
    doctored = first.assign(category="changed")
    doctored.to_parquet(entry)
    again, _ = read_layer_cached(incidents_csv, kind="incidents")
    assert set(again["category"]) == {"changed"}


def test_a_changed_file_makes_a_new_entry_and_drops_the_old(incidents_csv):
    read_layer_cached(incidents_csv, kind="incidents")
    old_key = cache_key(incidents_csv, kind="incidents")
    incidents_csv.write_text(CSV.replace("E3,治安,abc", "E3,治安,120.77"), encoding="utf-8")
    st = incidents_csv.stat()
    os.utime(incidents_csv, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert cache_key(incidents_csv, kind="incidents") != old_key
    data, report = read_layer_cached(incidents_csv, kind="incidents")
    assert len(data) == 3
    assert report["rejected"] == 0
    names = [p.name for p in (incidents_csv.parent / CACHE_DIR_NAME).iterdir()]
    assert not any(n.startswith(old_key) for n in names)
    assert len(names) == 2


def test_options_are_part_of_the_key(incidents_csv):
    plain = cache_key(incidents_csv, kind="incidents")
    assert cache_key(incidents_csv, kind="incidents", coords="gcj02") != plain
    assert cache_key(incidents_csv, kind=None) != plain
    a, _ = read_layer_cached(incidents_csv, kind="incidents")
    b, _ = read_layer_cached(incidents_csv, kind="incidents", coords="gcj02")
    # GCJ-02 input is moved back to WGS84 by a few hundred metres near Jiaxing
    assert (a.geometry.x - b.geometry.x).abs().min() > 1e-3


def test_unwritable_cache_still_reads_and_warns(incidents_csv, tmp_path):
    # a file where the cache folder should be: writing fails whoever runs the tests
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    with pytest.warns(RuntimeWarning, match="not cached"):
        data, report = read_layer_cached(incidents_csv, kind="incidents", cache_dir=blocker)
    assert len(data) == 2
    assert report["total"] == 3


def test_missing_file_names_it(tmp_path):
    with pytest.raises(ReadError, match=r"nope\.csv"):
        read_layer_cached(tmp_path / "nope.csv", kind="incidents")
