"""Writing results: the format follows the file extension.

``write_result`` writes a GeoDataFrame or a plain DataFrame to ``.csv``,
``.xlsx``, ``.geojson``, ``.gpkg`` or ``.parquet``. Text cells that a
spreadsheet would execute as a formula (starting with ``=``, ``+``, ``-`` or
``@``) are neutralised in CSV and XLSX output by prefixing a single quote.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from ._errors import GridmapError

__all__ = ["FORMATS", "neutralise_formulas", "write_result"]

FORMATS = {
    ".csv": "CSV",
    ".xlsx": "Excel",
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".gpkg": "GeoPackage",
    ".parquet": "GeoParquet",
}

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A signed plain number ("-87.6779", "+1e5") is data, even when stored as text.
_PLAIN_NUMBER = r"^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$"


def neutralise_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """Return a copy where text cells that start like a formula get a leading ``'``.

    Numbers are left alone (a negative number is data, not a formula), also
    when they are stored as text such as ``"-87.6779"``.
    """
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if s.dtype == object or pd.api.types.is_string_dtype(s):
            text = s.astype("string")
            risky = text.str.startswith(_FORMULA_START, na=False) & ~text.str.match(
                _PLAIN_NUMBER, na=False)
            if risky.any():
                out[col] = s.where(~risky.to_numpy(), "'" + text.astype(object))
    return out


def _flat(df: pd.DataFrame) -> pd.DataFrame:
    """Geometry as WKT for tabular formats."""
    if isinstance(df, gpd.GeoDataFrame):
        out = pd.DataFrame(df.drop(columns=df.geometry.name))
        out["geometry"] = df.geometry.to_wkt()
        return out
    return pd.DataFrame(df)


def write_result(
    df: pd.DataFrame, path: str | Path, *, layer: str | None = None, index: bool = False
) -> Path:
    """Write ``df`` to ``path`` in the format its extension names.

    Parameters
    ----------
    df
        A DataFrame or GeoDataFrame. Spatial formats need a GeoDataFrame.
    path
        Output file; ``.csv``, ``.xlsx``, ``.geojson``/``.json``, ``.gpkg`` or ``.parquet``.
    layer
        Layer name inside a GeoPackage (default: the file stem). Writing a second
        layer to an existing GeoPackage adds it beside the first.
    index
        Write the index as a column (tabular formats only).

    Returns
    -------
    pathlib.Path
        The written path.
    """
    path = Path(path)
    ext = path.suffix.lower()
    if ext not in FORMATS:
        raise GridmapError(
            f"{path}: unknown output format {ext!r}; use one of {sorted(FORMATS)}."
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    if ext == ".csv":
        neutralise_formulas(_flat(df)).to_csv(path, index=index, encoding="utf-8-sig")
    elif ext == ".xlsx":
        neutralise_formulas(_flat(df)).to_excel(path, index=index)
    elif not isinstance(df, gpd.GeoDataFrame):
        if ext == ".parquet":
            df.to_parquet(path, index=index)
        else:
            raise GridmapError(
                f"{path}: this result has no geometry; write it as .csv, .xlsx or .parquet."
            )
    elif ext in (".geojson", ".json"):
        df.to_file(path, driver="GeoJSON")
    elif ext == ".gpkg":
        df.to_file(path, driver="GPKG", layer=layer or path.stem)
    else:
        df.to_parquet(path, index=index)
    return path
