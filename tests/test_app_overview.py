"""Overview page: the incidents layer protects the communities' published totals."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd


def _choropleth(html: str) -> tuple[list[str], list[str]]:
    """Fills and tooltips of the incidents choropleth in the rendered overview map."""
    m = re.search(r"var fills = (\[.*?\]), tips = (\[.*?\]),\s*zero", html, re.S)
    assert m, "no incidents choropleth in the map"
    return json.loads(m.group(1)), json.loads(m.group(2))


def _thin_one_grid_per_community(data_dir) -> None:
    """Leave 2 incidents in the first grid of each community (the demo has no small counts)."""
    grids = gpd.read_file(data_dir / "grids.gpkg", layer="grids")
    inc = gpd.read_parquet(data_dir / "incidents.parquet")
    where = gpd.sjoin(inc.to_crs(grids.crs), grids[["grid_id", "geometry"]],
                      predicate="within")["grid_id"]
    first = grids.groupby("community_code")["grid_id"].first()
    in_first = where.isin(first.to_numpy())
    drop = where.index[in_first.to_numpy()].difference(
        where[in_first].groupby(where[in_first]).head(2).index)
    inc.drop(index=drop).to_parquet(data_dir / "incidents.parquet")


def test_no_community_total_gives_a_withheld_grid_away(app_page, app_data_dir):
    _thin_one_grid_per_community(app_data_dir)
    at, state = app_page("overview.py", lang="en")
    at.run()
    assert not at.exception
    fills, tips = _choropleth(state["html"])
    grids = gpd.read_file(app_data_dir / "grids.gpkg", layer="grids")
    assert len(tips) == len(grids)
    # incidents per grid counted independently: geopandas.sjoin
    inc = gpd.read_parquet(app_data_dir / "incidents.parquet").to_crs(grids.crs)
    joined = gpd.sjoin(inc, grids[["grid_id", "geometry"]], predicate="within")
    n = joined.groupby("grid_id").size().reindex(grids["grid_id"]).fillna(0).to_numpy()
    grey = np.array(["fewer than 5" in t for t in tips])
    assert [f == "#c7c7c7" for f in fills] == grey.tolist()  # grey fill, grey label
    assert grey[(n > 0) & (n < 5)].all()  # every small count hidden
    assert not grey[n == 0].any()
    shown = ~grey & (n > 0)
    for t, v in zip(np.array(tips)[shown], n[shown], strict=True):
        assert t.endswith(f"Incidents: {v:,.0f}")
    # in each community, 0 or at least 2 nonzero grids grey (or only one grid with cases)
    frame = pd.DataFrame({"c": grids["community_code"].astype(str), "n": n, "grey": grey})
    for code, part in frame.groupby("c"):
        nonzero = part[part["n"] > 0]
        assert int(nonzero["grey"].sum()) != 1 or len(nonzero) == 1, code
    # complements were needed on this district: grey grids with 5 or more incidents
    assert (grey & (n >= 5)).any()
