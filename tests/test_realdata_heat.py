"""Real data: SF incidents × census block groups, Chicago carjackings by hour of day.

SF (``../shared/realdata/sf``): the shapefile's ``Robbery``/``Drugs``/
``CarTheft``/``Vandalism`` columns were produced by SFPD from the same
incidents. Our per-polygon counts are checked twice:

1. exactly against ``geopandas.sjoin(predicate="intersects")`` (no incident
   lies in two block groups, so the boundary rule cannot matter there);
2. against the shapefile's columns, where the differences are explained:

   * 18 incidents lie outside every block group: 16 at "200 Block of
     INTERSTATE80 HY" (Yerba Buena Island, which the shapefile's polygons do
     not cover; SFPD counted them in tract 179.02, block group 1 — Treasure
     Island) and 2 at John Muir Dr / Lake Merced Bl, 9 m south of the city
     line. They are counted as outside, never dropped silently;
   * the CSV has 3,384 car thefts, the shapefile 3,386: two rows are absent
     from the CSV;
   * about 2,500 incidents are geocoded onto street centrelines, which are the
     block-group boundaries; a handful (≤ 2 per category here) land in the
     neighbouring block group in SFPD's aggregation — a boundary rule, not a
     location error.

   So per category the totals differ by exactly (outside + absent rows), and
   at most a few polygons differ at all.

Chicago (``../shared/realdata/chicago``): 1,412 carjackings with date-times;
the heat by hour of day must integrate, hour by hour, to the incidents of that
hour, and the 24 hourly rasters (one grid) must add up to the all-day raster.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from gridmap import aggregate, filters, kde
from gridmap.ingest import read_layer

pytestmark = pytest.mark.realdata

CATS = {"robbery": "Robbery", "drugs": "Drugs", "cartheft": "CarTheft",
        "vandalism": "Vandalism"}
SQ_MI_KM2 = 2.589988110336


@pytest.fixture(scope="module")
def sf(realdata):
    blocks = gpd.read_file(realdata / "sf" / "SFCrime_blocks.shp")
    inc = pd.read_csv(realdata / "sf" / "incidents_2012h2.csv")
    pts = gpd.GeoDataFrame(inc, geometry=gpd.points_from_xy(inc.lon, inc.lat), crs="EPSG:4326")
    return blocks, pts, aggregate.count_per_grid(pts, blocks, split_by="layer")


def test_sf_counts_equal_sjoin(sf):
    blocks, pts, counted = sf
    joined = gpd.sjoin(pts.to_crs(blocks.crs), blocks[["geometry"]], predicate="intersects")
    assert joined.index.is_unique  # no incident in two block groups
    for layer in CATS:
        want = (joined[joined.layer == layer].groupby("index_right").size()
                .reindex(range(len(blocks)), fill_value=0))
        np.testing.assert_array_equal(counted[f"n_{layer}"].to_numpy(), want.to_numpy())
    assert counted.attrs["outside"] == len(pts) - len(joined)


def test_sf_counts_reproduce_the_shapefile_columns(sf):
    blocks, pts, counted = sf
    outside = aggregate.outside_points(pts, counted)
    assert len(outside) == 18
    assert set(outside["Location"]) == {"200 Block of INTERSTATE80 HY",
                                        "JOHNMUIR DR / LAKE MERCED BL"}
    absent = {"cartheft": 2}
    for layer, column in CATS.items():
        ours = counted[f"n_{layer}"].to_numpy()
        theirs = blocks[column].to_numpy()
        n_out = int((outside["layer"] == layer).sum())
        assert theirs.sum() - ours.sum() == n_out + absent.get(layer, 0)
        assert (ours == theirs).mean() > 0.99
        assert (ours != theirs).sum() <= 6
    # the Yerba Buena Island incidents are the ones SFPD put in tract 179.02 block group 1
    ti = blocks.index[(blocks.TRACT == "017902") & (blocks.BLKGRP == "1")][0]
    ybi = outside[outside["Location"].str.contains("INTERSTATE80")]
    for layer, column in (("vandalism", "Vandalism"), ("cartheft", "CarTheft")):
        extra = blocks.loc[ti, column] - counted.loc[ti, f"n_{layer}"]
        assert extra == int((ybi["layer"] == layer).sum())


def test_sf_rates_per_capita_and_area_in_km2(sf):
    blocks, _, counted = sf
    rated = aggregate.add_rates(counted, population="Population")
    i = int(np.argmax(blocks["Population"].to_numpy()))
    assert rated.loc[i, "n_per_1000"] == pytest.approx(
        counted.loc[i, "n"] / blocks.loc[i, "Population"] * 1000)
    # CENSUSAREA is land area in square miles: our polygon areas agree for most block groups
    ratio = rated["area_km2"] / (blocks["CENSUSAREA"] * SQ_MI_KM2)
    assert ratio.median() == pytest.approx(1.0, abs=0.01)
    assert rated["Population"].sum() == 805_235


def test_chicago_carjacking_heat_by_hour(realdata):
    res = read_layer(realdata / "chicago" / "carjackings_2020.geojson", kind="incidents")
    pts = res.data
    t = pd.to_datetime(pts["reported_at"], errors="coerce")
    assert t.notna().mean() > 0.99
    everything = kde.kernel_density(pts, bandwidth=1500.0, cell=300.0, min_count=0)
    assert everything.total() == pytest.approx(len(pts), rel=0.005)
    total = np.zeros(everything.shape)
    for hour in range(24):
        spec = filters.PointFilter.build(hours=str(hour))
        part = filters.apply_filter(pts, spec).data
        assert len(part) == int((t.dt.hour == hour).sum())
        r = kde.kernel_density(part, bandwidth=1500.0, like=everything, min_count=0)
        assert r.total() == pytest.approx(len(part), rel=0.005, abs=1e-6)
        total += r.array
    # the hourly rasters add up to the all-day one (up to the clipping of the tiny
    # negative rims that the binning correction leaves, at most 0.5 % of the peak)
    assert np.abs(total - everything.array).max() < 0.005 * everything.array.max()
    # night hours (20–23) hold more carjackings than early morning (4–7)
    by_hour = t.dt.hour.value_counts().sort_index()
    assert by_hour.loc[20:23].sum() > by_hour.loc[4:7].sum()
