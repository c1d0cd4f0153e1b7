"""``gridmap check`` and ``gridmap convert``: output, flags and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from gridmap.cli import main
from gridmap.coords import gcj02_to_wgs84


@pytest.fixture
def files(tmp_path):
    good = tmp_path / "good.csv"
    good.write_text("设备编号,经度,纬度,在线状态\nC1,120.75,30.75,在线\nC2,120.76,30.76,online\n",
                    encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text("id,lon,lat,note\n1,120.1,30.1,ok\n2,462.289.778,30.2,mangled\n3,,30.3,empty\n",
                   encoding="utf-8")
    return good, bad, tmp_path / "missing.csv"


def run(args, capsys):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_check_all_rows_kept_exits_0(files, capsys):
    good, _, _ = files
    code, out, _ = run(["check", good, "--kind", "cameras"], capsys)
    assert code == 0
    assert "good.csv  [cameras]" in out
    assert "repaired 1" in " ".join(out.split())


def test_check_json_one_object_per_file_and_exit_codes(files, capsys):
    good, bad, missing = files
    code, out, err = run(["check", good, bad, missing, "--json"], capsys)
    assert code == 2  # an unreadable file wins over rejected rows
    lines = [json.loads(line) for line in out.splitlines()]
    assert [d["file"] for d in lines] == [str(good), str(bad), str(missing)]
    for d in lines[:2]:
        assert {"file", "kind", "total", "accepted", "repaired", "rejected", "reasons"} <= set(d)
        assert d["accepted"] + d["repaired"] + d["rejected"] == d["total"]
    assert lines[1]["total"] == 3
    assert lines[1]["rejected"] == 2
    assert lines[1]["reasons"] == {"unparseable coordinate": 1, "missing coordinate": 1}
    assert "no such file" in lines[2]["error"]
    assert "missing.csv: no such file" in err


def test_check_rejected_rows_exit_1_and_rejected_csv(files, capsys, tmp_path):
    _, bad, _ = files
    out_csv = tmp_path / "rejected.csv"
    code, _, _ = run(["check", bad, "--kind", "places", "--rejected", out_csv], capsys)
    assert code == 1
    table = pd.read_csv(out_csv, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert table[["file", "row", "reason", "lon", "note"]].values.tolist() == [
        [str(bad), "2", "unparseable coordinate", "462.289.778", "mangled"],
        [str(bad), "3", "missing coordinate", "", "empty"],
    ]


def test_check_coords_and_lon_lat_flags(tmp_path, capsys):
    path = tmp_path / "p.csv"
    path.write_text("id,east,north\na,120.75,30.75\n", encoding="utf-8")
    code, _, err = run(["check", path, "--kind", "places"], capsys)
    assert code == 2
    assert "no longitude column found" in err
    assert "--lon COLUMN" in err
    code, out, _ = run(["check", path, "--kind", "places", "--lon", "east", "--lat", "north",
                        "--coords", "gcj02", "--json"], capsys)
    assert code == 0
    assert json.loads(out)["accepted"] == 1
    code, out, _ = run(["check", path, "--kind", "places", "--lon", "east", "--lat", "north",
                        "--crs", "EPSG:4490"], capsys)
    assert code == 0


def test_check_crs_and_coords_are_exclusive(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["check", "x.csv", "--crs", "EPSG:4326", "--coords", "gcj02"])


def test_check_study_area(tmp_path, capsys):
    area = tmp_path / "area.geojson"
    gpd.GeoDataFrame(geometry=[shapely.box(120.7, 30.7, 120.8, 30.8)], crs=4326).to_file(area)
    path = tmp_path / "p.csv"
    path.write_text("id,lon,lat\na,120.75,30.75\nb,121.5,31.2\n", encoding="utf-8")
    code, out, _ = run(["check", path, "--study-area", area, "--json"], capsys)
    assert code == 1
    assert json.loads(out)["reasons"] == {"outside study area": 1}


def test_convert_csv_to_csv_keeps_columns(tmp_path, capsys):
    src = tmp_path / "aed.csv"
    src.write_text("id,title,lat,lng\n1,南湖AED,30.75,120.75\n", encoding="utf-8")
    dst = tmp_path / "aed_wgs84.csv"
    code, out, _ = run(["convert", src, dst, "--from", "gcj02", "--to", "wgs84"], capsys)
    assert code == 0
    assert "1 of 1 rows converted" in out
    table = pd.read_csv(dst, encoding="utf-8-sig")
    assert table.columns.tolist() == ["id", "title", "lat", "lng"]
    x, y = gcj02_to_wgs84(120.75, 30.75)
    assert table.lng.iloc[0] == pytest.approx(float(x), abs=1e-8)
    assert table.lat.iloc[0] == pytest.approx(float(y), abs=1e-8)
    assert table.title.iloc[0] == "南湖AED"


def test_convert_vector_to_gpkg_and_epsg(tmp_path, capsys):
    src = tmp_path / "g.geojson"
    gpd.GeoDataFrame({"grid_id": ["a"]}, geometry=[shapely.box(120.7, 30.7, 120.71, 30.71)],
                     crs=4326).to_file(src)
    code, _, _ = run(["convert", src, tmp_path / "g.gpkg", "--to", "EPSG:4549"], capsys)
    assert code == 0
    out = gpd.read_file(tmp_path / "g.gpkg")
    assert out.crs.to_epsg() == 4549
    assert out.area.iloc[0] == pytest.approx(
        gpd.read_file(src).to_crs(4549).area.iloc[0], rel=1e-9)


def test_convert_reports_unconverted_rows_with_exit_1(tmp_path, capsys):
    src = tmp_path / "p.csv"
    src.write_text("id,lon,lat\na,120.1,30.1\nb,x,30.2\n", encoding="utf-8")
    code, out, _ = run(["convert", src, tmp_path / "o.csv", "--from", "wgs84", "--to", "bd09"],
                       capsys)
    assert code == 1
    assert "1 left unchanged (unparseable coordinate: 1)" in out


def test_convert_table_without_from_is_exit_2(tmp_path, capsys):
    src = tmp_path / "p.csv"
    src.write_text("id,lon,lat\na,120.1,30.1\n", encoding="utf-8")
    code, _, err = run(["convert", src, tmp_path / "o.csv", "--to", "bd09"], capsys)
    assert code == 2
    assert "pass --from" in err


def test_entry_point_runs_as_module(files):
    good, _, _ = files
    proc = subprocess.run([sys.executable, "-m", "gridmap.cli", "check", str(good), "--json"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["total"] == 2
