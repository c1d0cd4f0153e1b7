"""A synthetic demo district near Jiaxing, generated deterministically.

Synthetic demo district — not real data / 合成演示数据（非真实数据）.

:func:`generate` writes a complete, self-consistent district around
120.75°E, 30.75°N: streets (街道/镇) → communities (社区/村) → management grids
(网格), roads, buildings, a population raster, video cameras (雪亮工程), key
places and one year of incidents. Everything is drawn from
``numpy.random.default_rng`` streams seeded by ``seed`` (no global state, no
clock), so the same seed gives byte-identical files.

How it is built (details in the private ``gridmap._demo_*`` modules):

* The outline is a smooth random star shape of the scale's area. Geometry is
  made in EPSG:4549 (CGCS2000 3° Gauss-Krüger, CM 120°E, picked by
  :func:`gridmap.crs.metric_crs`) and written in WGS84.
* Streets, communities and grids are a recursive split of rectangles that
  balances a demand surface (high in the urban cores), so core grids are small
  and rural ones big. Every cut is a road, so grid edges follow roads. The cuts
  and the outline are noded together and polygonised: grids, communities and
  streets form an exact coverage (no gaps, no overlaps, shared vertices), each
  grid in one community and each community in one street.
* Codes: ``district_code`` ``330499`` is **synthetic** (no county-level code
  99 exists under Jiaxing, 3304); ``street_code`` = district + 3 digits,
  ``community_code`` = street + 3, ``grid_id`` = community + 3-digit serial.
  Serials follow reading order (rows north → south, west → east in a row).
* Roads carry ``road_class`` (primary between streets, secondary between
  communities, local otherwise) and a made-up ``name``. Buildings are
  rectangles set back from the roads of their block (towers, slabs, shops and
  low-rise in town; villages and a few factories outside), with ``height_m``.
* Population (persons per 100 m cell, float32, nodata −9999) follows
  residential floor area; it sums exactly to ``SCALES[scale].population``.
* Cameras stand 2–6 m beside roads or 2.5–5 m off junction corners, at a
  density set per grid (about 70–90 points/km² in the heart of the core,
  fewer towards its edge, 5–12/km² in most rural grids and less in a fifth of
  them), so some grids meet density targets and some do not. Most points hold
  one camera, some junctions 2–4 (shared ``point_id``); azimuths follow the
  road. About 5 % are ``planned`` (no GB/T 28181 id yet), 7–14 % offline.
* Incidents: see :mod:`gridmap._demo_incidents`; the hotspots, hour profiles,
  seasonal and weekday factors are written to ``meta.json``.
* Big scales: ``city`` keeps everything; ``province`` thins buildings (half
  kept, a sixth of the villages) and spaces candidate camera sites 50 m apart
  to keep files and memory small. Roads are never thinned (grid edges are
  roads). ``city`` takes seconds and ``province`` minutes on 2 cores.

Planted errors, for validation to find (their camera ids are listed in
``meta.json`` under ``planted_errors``):

* 5 malformed ``gb28181_id`` values (19 or 21 characters, a letter O for a 0);
* 4 ids with another district's centre code (``33041100``, ``33048200``);
* 3 NVR ids (type code ``118``) listed as cameras;
* 2 ids duplicated from other cameras.

Files written: ``boundary.geojson``, ``grids.gpkg`` (layers ``grids``,
``communities``, ``streets``), ``roads.gpkg``, ``buildings.gpkg``,
``cameras.csv``, ``places.csv``, ``incidents.parquet`` (GeoParquet),
``population.tif`` and ``meta.json`` (written last; its presence marks a
complete district). Every format that has metadata carries the synthetic
label.
"""

from __future__ import annotations

import json
import os
import time
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pyogrio
import rasterio
import shapely

from . import __version__
from ._demo_content import (
    DISTRICT_CODE,
    build_buildings,
    build_cameras,
    build_grids,
    build_places,
    build_population,
    build_roads,
)
from ._demo_frame import Frame
from ._demo_incidents import build_incidents, incidents_table, write_geoparquet
from ._demo_layout import build_layout
from ._errors import DataError

__all__ = ["FILES", "LABEL", "SCALES", "Scale", "district_complete", "generate", "read_meta"]

LABEL = "Synthetic demo district — not real data / 合成演示数据（非真实数据）"
DISTRICT_NAME = "禾城示范区"
CENTRE = (120.75, 30.75)
GENERATOR_VERSION = 1
# GeoPackage stores "last change" timestamps; a fixed date keeps files byte-identical.
_FIXED_DATE = "2025-01-01T00:00:00Z"

FILES = {
    "boundary": "boundary.geojson",
    "grids": "grids.gpkg",
    "roads": "roads.gpkg",
    "buildings": "buildings.gpkg",
    "cameras": "cameras.csv",
    "places": "places.csv",
    "incidents": "incidents.parquet",
    "population": "population.tif",
    "meta": "meta.json",
}


@dataclass(frozen=True)
class Scale:
    """Size and shape parameters of one demo scale.

    Attributes
    ----------
    name, description
        Key in :data:`SCALES` and a one-line summary.
    area_km2
        District area.
    n_streets, n_communities, n_grids
        Units at each level of the hierarchy (grids may end a few short when a
        cut falls outside the outline).
    n_incidents, population
        Incidents in 2025 and the population the raster sums to.
    n_cores, core_sigma_km, urban_ratio
        Urban cores (the first is the main one), its Gaussian radius, and how
        much more grid demand urban land carries than rural land.
    block_urban_m, block_rural_m
        Longest block side in the core and in the countryside.
    villages_per_km2, building_share
        Rural village clusters, and the share of buildings kept (thinning at
        the big scales).
    rural_cameras_per_km2, camera_spacing_m
        Range of camera point density in ordinary rural grids, and the spacing
        of candidate camera sites along roads.
    n_hotspots
        Gaussian incident hotspots.
    """

    name: str
    description: str
    area_km2: float
    n_streets: int
    n_communities: int
    n_grids: int
    n_incidents: int
    population: int
    n_cores: int = 1
    core_sigma_km: float = 2.0
    urban_ratio: float = 10.0
    block_urban_m: float = 230.0
    block_rural_m: float = 800.0
    villages_per_km2: float = 1.5
    building_share: float = 1.0
    rural_cameras_per_km2: tuple[float, float] = (5.0, 12.0)
    camera_spacing_m: float = 35.0
    n_hotspots: int = 8


SCALES: dict[str, Scale] = {
    "small": Scale(
        "small", "tests: 1 street, 4 communities, 40 grids, 3,000 incidents",
        area_km2=8.0, n_streets=1, n_communities=4, n_grids=40, n_incidents=3_000,
        population=40_000, core_sigma_km=0.8, n_hotspots=3,
    ),
    "default": Scale(
        "default", "the app: 8 streets, 60 communities, ~600 grids, ~3.5k cameras, 80k incidents",
        area_km2=200.0, n_streets=8, n_communities=60, n_grids=600, n_incidents=80_000,
        population=450_000, core_sigma_km=2.0, n_hotspots=8,
    ),
    "city": Scale(
        "city", "benchmarks: 40 streets, 500 communities, 5k grids, ~20k cameras, 1M incidents",
        area_km2=1_500.0, n_streets=40, n_communities=500, n_grids=5_000, n_incidents=1_000_000,
        population=3_500_000, n_cores=3, core_sigma_km=4.0, urban_ratio=12.0, n_hotspots=25,
        rural_cameras_per_km2=(4.0, 9.0),
    ),
    "province": Scale(
        "province", "benchmarks: 400 streets, 8k communities, 100k grids, ~100k cameras, "
        "10M incidents; buildings thinned",
        area_km2=15_000.0, n_streets=400, n_communities=8_000, n_grids=100_000,
        n_incidents=10_000_000, population=20_000_000, n_cores=12, core_sigma_km=4.0,
        urban_ratio=12.0, villages_per_km2=0.25, building_share=0.5, n_hotspots=120,
        rural_cameras_per_km2=(2.5, 6.0), camera_spacing_m=50.0,
    ),
}


def _stream(seed: int, name: str) -> np.random.Generator:
    """An independent random stream per component, so components do not shift each other."""
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def read_meta(out_dir: str | Path) -> dict | None:
    """The district's ``meta.json`` as a dict, or ``None`` when there is none."""
    path = Path(out_dir) / FILES["meta"]
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def district_complete(out_dir: str | Path, *, scale: str, seed: int) -> bool:
    """True when ``out_dir`` holds every file of a district of this scale, seed and version."""
    meta = read_meta(out_dir)
    if not meta:
        return False
    if (meta.get("scale"), meta.get("seed"), meta.get("generator_version")) != (
        scale, seed, GENERATOR_VERSION,
    ):
        return False
    return all((Path(out_dir) / name).is_file() for name in FILES.values())


# --------------------------------------------------------------------------- writers


def _write_gpkg(path: Path, layers: dict, *, title: str) -> None:
    if path.exists():
        path.unlink()
    old = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": _FIXED_DATE})
    try:
        # layer metadata only: GDAL keeps dataset metadata of a GeoPackage opened
        # read-only in a side-car .aux.xml file, which would litter the folder
        for name, gdf in layers.items():
            pyogrio.write_dataframe(
                gdf, path, layer=name, driver="GPKG",
                layer_metadata={"synthetic": "true", "label": LABEL, "title": f"{title}: {name}"},
            )
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": old})


def _write_geojson(path: Path, geom: shapely.Geometry, properties: dict) -> None:
    feature = {
        "type": "Feature",
        "properties": properties,
        "geometry": shapely.geometry.mapping(geom),
    }
    doc = {"type": "FeatureCollection", "name": "boundary", "features": [feature]}
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def _write_tif(path: Path, pop: dict, total: int) -> None:
    arr = pop["array"]
    profile = {
        "driver": "GTiff", "dtype": "float32", "count": 1,
        "height": arr.shape[0], "width": arr.shape[1],
        "crs": pop["crs"], "transform": pop["transform"], "nodata": pop["nodata"],
        "compress": "deflate", "tiled": False,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(arr, 1)
        dst.update_tags(
            synthetic="true", label=LABEL, total_population=str(total),
            units="persons per cell", TIFFTAG_DATETIME="2025:01:01 00:00:00",
        )
        dst.set_band_description(1, "population")


def _write_csv(path: Path, df) -> None:
    df.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")


# --------------------------------------------------------------------------- generate


def generate(
    out_dir: str | Path,
    *,
    scale: str = "default",
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Path]:
    """Write the demo district of ``scale`` into ``out_dir``.

    Parameters
    ----------
    out_dir
        Folder to write into (created when missing). Existing files of the
        district are replaced; other files are left alone.
    scale
        ``"small"`` (tests, under 2 s), ``"default"`` (the app), ``"city"`` or
        ``"province"`` (benchmarks); see :data:`SCALES`.
    seed
        Non-negative integer; the same seed gives byte-identical files.
    progress
        Called with a short message after each step (for long scales).

    Returns
    -------
    dict
        File kind (``boundary``, ``grids``, ``roads``, ``buildings``,
        ``cameras``, ``places``, ``incidents``, ``population``, ``meta``) →
        path written.
    """
    if scale not in SCALES:
        raise DataError(f"unknown demo scale {scale!r}; choose one of {list(SCALES)}.")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise DataError(f"seed must be a non-negative integer, got {seed!r}.")
    seed = int(seed)
    sc = SCALES[scale]
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise DataError(f"{out} exists and is not a folder; pass a folder to write the district into.")
    out.mkdir(parents=True, exist_ok=True)
    paths = {k: out / v for k, v in FILES.items()}
    if paths["meta"].exists():  # the district is incomplete until meta.json is rewritten
        paths["meta"].unlink()
    t0 = time.perf_counter()

    def _say(msg: str) -> None:
        if progress is not None:
            progress(f"[{time.perf_counter() - t0:6.1f}s] {msg}")

    layout = build_layout(sc, _stream(seed, "layout"), progress=_say)
    frame = Frame(CENTRE[0], CENTRE[1], layout.theta)
    grids = build_grids(layout, frame, _stream(seed, "names"))
    roads = build_roads(layout, frame, _stream(seed, "roads"))
    _say(f"grids: {len(grids['grids'])} grids, {len(roads['roads'])} road segments")

    district_m = frame.geoms_to_metric(np.array([layout.district]))[0]
    _write_geojson(
        paths["boundary"],
        frame.geoms_to_wgs84(np.array([district_m]))[0],
        {"district_code": DISTRICT_CODE, "name": DISTRICT_NAME, "synthetic": True, "label": LABEL,
         "area_km2": round(district_m.area / 1e6, 6)},
    )
    _write_gpkg(
        paths["grids"],
        {"grids": grids["grids"], "communities": grids["communities"], "streets": grids["streets"]},
        title="management grids",
    )
    _write_gpkg(paths["roads"], {"roads": roads["roads"]}, title="roads")
    _say("wrote boundary, grids, roads")

    buildings = build_buildings(layout, frame, grids, roads, sc, _stream(seed, "buildings"))
    _write_gpkg(paths["buildings"], {"buildings": buildings["buildings"]}, title="buildings")
    population = build_population(layout, frame, buildings, sc.population)
    _write_tif(paths["population"], population, sc.population)
    _say(f"buildings: {len(buildings['buildings'])}; population raster {population['array'].shape}")

    cams = build_cameras(layout, frame, grids, roads, sc, _stream(seed, "cameras"))
    _write_csv(paths["cameras"], cams["cameras"])
    places, places_uv = build_places(layout, frame, roads, sc.population, _stream(seed, "places"))
    _write_csv(paths["places"], places)
    _say(f"cameras: {len(cams['cameras'])} at {cams['_points']} points; places: {len(places)}")

    cols, patterns = build_incidents(layout, frame, population, places_uv, sc, _stream(seed, "incidents"))
    table = incidents_table(cols, LABEL)
    write_geoparquet(table, paths["incidents"])
    n_status = np.bincount(cols["status"], minlength=4)
    _say(f"incidents: {table.num_rows}")

    g = grids["grids"]
    meta = {
        "synthetic": True,
        "label": LABEL,
        "generator": "gridmap.demo",
        "generator_version": GENERATOR_VERSION,
        "gridmap_version": __version__,
        "scale": scale,
        "seed": seed,
        "scale_parameters": asdict(sc),
        "district": {
            "name": DISTRICT_NAME,
            "district_code": DISTRICT_CODE,
            "code_note": "synthetic code: no county-level unit 99 exists under Jiaxing (3304)",
            "centre_lonlat": list(CENTRE),
            "metric_crs": f"EPSG:{frame.crs.to_epsg()}",
            "output_crs": "EPSG:4326",
            "lattice_angle_deg": round(float(np.degrees(layout.theta)), 6),
            "area_km2": round(district_m.area / 1e6, 6),
        },
        "counts": {
            "streets": len(grids["streets"]),
            "communities": len(grids["communities"]),
            "grids": len(g),
            "grids_urban": int((g["zone"] == "urban").sum()),
            "roads": len(roads["roads"]),
            "buildings": len(buildings["buildings"]),
            "camera_points": int(cams["_points"]),
            "cameras": len(cams["cameras"]),
            "places": len(places),
            "incidents": int(table.num_rows),
            "incidents_by_status": dict(
                zip(["reported", "dispatched", "handled", "closed"], map(int, n_status), strict=True)
            ),
        },
        "totals": {
            "population": sc.population,
            "road_km": round(float(roads["roads"]["length_m"].sum()) / 1000, 3),
        },
        "population_raster": {
            "cell_m": float(population["transform"].a), "crs": f"EPSG:{frame.crs.to_epsg()}",
            "nodata": population["nodata"], "sum": sc.population,
        },
        "cores": [
            {"lon": round(float(lo), 7), "lat": round(float(la), 7), "sigma_m": round(float(s), 1),
             "weight": round(float(w), 4)}
            for lo, la, s, w in zip(
                *frame.to_lonlat(*frame.to_metric(layout.cores.uv[:, 0], layout.cores.uv[:, 1])),
                layout.cores.sigma, layout.cores.weight, strict=True,
            )
        ],
        "incidents": patterns,
        "planted_errors": {"gb28181_" + k: v for k, v in cams["planted"].items()},
        "files": dict(FILES),
        "layout_notes": layout.notes,
    }
    tmp = paths["meta"].with_suffix(".json.tmp")
    tmp.write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, paths["meta"])
    _say("done")
    return paths
