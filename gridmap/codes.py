"""Grid codes: templates, serial numbering, renumbering with a register of retired codes.

Templates
---------
A template is a sequence of fixed-width digit fields:

``gbt30428`` (default; also ``db11``)
    15 digits: 6-digit administrative code (GB/T 2260, district level) +
    3-digit street (街道/乡镇) + 3-digit community (社区/村) + 3-digit serial.
    The layout of GB/T 30428.1 and DB11/T 2157-2023.
``cjt349``
    20 digits (CJ/T 349-2010, 数字社区管理与服务 网格划分与编码规则): 6-digit
    management/service object code (CJ/T 348) + 6-digit administrative code
    + 3-digit street + 3-digit community + 2-digit serial; the serial is
    ``00`` when a community is not subdivided.
custom
    ``"admin:6,street:3,community:3,serial:4"`` — fields ``object``,
    ``admin``, ``street``, ``community`` and ``serial`` (required, last).

Serials run west→east, then north→south, inside each community
(:func:`gridmap.partition.reading_order`, bands one typical grid high).

Renumbering
-----------
:func:`renumber_codes` codes a new plan against the previous one: a new grid
that covers most of an old grid (and lies in the same community) keeps its
code; other grids get the lowest serials never used before in their
community; codes that disappear are written to the register of retired
codes with the date and their successors. A code is never reused silently: a
retired code is never handed out again.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._errors import InfeasibleError, SchemaError
from ._validate import require_columns, require_crs, require_nonempty
from .crs import to_metric
from .partition import reading_order

__all__ = [
    "REGISTER_COLUMNS",
    "TEMPLATES",
    "CodeTemplate",
    "RenumberResult",
    "assign_codes",
    "parse_template",
    "renumber_codes",
    "split_code",
]

_FIELDS = ("object", "admin", "street", "community", "serial")
REGISTER_COLUMNS = ("code", "retired_on", "reason", "successors")


@dataclass(frozen=True)
class CodeTemplate:
    """A code layout: ``(field, width)`` pairs; ``serial`` is last.

    Attributes
    ----------
    name
        Template name.
    parts
        The fields and their widths, in order.
    unsplit_serial
        Serial used when a community holds a single grid (CJ/T 349: 0, giving
        ``00``); None numbers it like any other (from 1).
    """

    name: str
    parts: tuple[tuple[str, int], ...]
    unsplit_serial: int | None = None

    @property
    def width(self) -> int:
        """Total number of digits."""
        return sum(w for _, w in self.parts)

    def widths(self) -> dict[str, int]:
        """Width of each field."""
        return dict(self.parts)

    def prefix_fields(self) -> list[str]:
        """The fields before the serial."""
        return [f for f, _ in self.parts if f != "serial"]


TEMPLATES: dict[str, CodeTemplate] = {
    "gbt30428": CodeTemplate(
        "gbt30428", (("admin", 6), ("street", 3), ("community", 3), ("serial", 3))
    ),
    "cjt349": CodeTemplate(
        "cjt349",
        (("object", 6), ("admin", 6), ("street", 3), ("community", 3), ("serial", 2)),
        unsplit_serial=0,
    ),
}
TEMPLATES["db11"] = TEMPLATES["gbt30428"]


def parse_template(spec: str | CodeTemplate) -> CodeTemplate:
    """A template by name (``gbt30428``, ``db11``, ``cjt349``) or ``"field:width,..."``."""
    if isinstance(spec, CodeTemplate):
        return spec
    text = str(spec).strip()
    if text.lower() in TEMPLATES:
        return TEMPLATES[text.lower()]
    parts = []
    for item in text.split(","):
        name, _, width = item.strip().partition(":")
        name = name.strip().lower()
        if name not in _FIELDS or not width.strip().isdigit() or int(width) < 1:
            raise SchemaError(
                f"template {spec!r}: {item.strip()!r} is not FIELD:WIDTH with FIELD one of "
                f"{list(_FIELDS)}; or use one of {sorted(TEMPLATES)}."
            )
        parts.append((name, int(width)))
    names = [p for p, _ in parts]
    if len(set(names)) != len(names) or names[-1:] != ["serial"]:
        raise SchemaError(
            f"template {spec!r}: fields must be distinct and end with serial, e.g. "
            "'admin:6,street:3,community:3,serial:3'."
        )
    return CodeTemplate("custom", tuple(parts))


def split_code(code: str, template: str | CodeTemplate = "gbt30428") -> dict[str, str]:
    """Split a code into its fields (raises :class:`SchemaError` on a wrong length)."""
    tpl = parse_template(template)
    code = str(code)
    if len(code) != tpl.width or not code.isdigit():
        raise SchemaError(f"code {code!r} is not {tpl.width} digits as template {tpl.name!r} needs.")
    out, pos = {}, 0
    for name, width in tpl.parts:
        out[name] = code[pos : pos + width]
        pos += width
    return out


def _digits(value: object, width: int, *, what: str, row: object, parent: str | None) -> str:
    """Normalise a code field: keep the last ``width`` digits of a longer full code."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        raise SchemaError(f"grid {row!r} has no {what}; fill it in or pass it as an option.")
    text = str(value).strip()
    if re.fullmatch(r"\d+\.0", text):  # numbers read from spreadsheets
        text = text[:-2]
    if not text.isdigit():
        raise SchemaError(f"grid {row!r}: {what} {value!r} is not a number code.")
    if len(text) > width:
        if parent is not None and not text.startswith(parent) and len(text) == len(parent) + width:
            raise SchemaError(
                f"grid {row!r}: {what} {text} does not start with its parent code {parent}; "
                "check the codes."
            )
        text = text[-width:]
    return text.zfill(width)


def _prefixes(
    grids: gpd.GeoDataFrame,
    tpl: CodeTemplate,
    *,
    admin_code: str | None,
    object_code: str | None,
    street_col: str,
    community_col: str,
    admin_col: str,
) -> pd.Series:
    widths = tpl.widths()
    need = [c for f, c in (("street", street_col), ("community", community_col)) if f in widths]
    if "admin" in widths and admin_code is None:
        need.append(admin_col)
    require_columns(grids, need, layer="grids")
    if "object" in widths:
        if object_code is None:
            raise SchemaError(
                f"template {tpl.name!r} starts with a {widths['object']}-digit management/service "
                "object code (CJ/T 348); pass --object-code."
            )
        if not str(object_code).isdigit() or len(str(object_code)) != widths["object"]:
            raise SchemaError(f"object code {object_code!r} must be {widths['object']} digits.")
    if admin_code is not None and "admin" in widths and (
        not str(admin_code).isdigit() or len(str(admin_code)) != widths["admin"]
    ):
        raise SchemaError(
            f"admin code {admin_code!r} must be {widths['admin']} digits (GB/T 2260, e.g. 330402)."
        )
    out = []
    for idx, row in grids.iterrows():
        fields = {}
        if "object" in widths:
            fields["object"] = str(object_code)
        if "admin" in widths:
            fields["admin"] = (
                str(admin_code)
                if admin_code is not None
                else _digits(row[admin_col], widths["admin"], what=admin_col, row=idx, parent=None)
            )
        if "street" in widths:
            fields["street"] = _digits(
                row[street_col], widths["street"], what=street_col, row=idx, parent=fields.get("admin")
            )
        if "community" in widths:
            fields["community"] = _digits(
                row[community_col],
                widths["community"],
                what=community_col,
                row=idx,
                parent=(fields.get("admin", "") + fields.get("street", "")) or None,
            )
        out.append("".join(fields[f] for f in tpl.prefix_fields()))
    return pd.Series(out, index=grids.index, dtype=object)


def _read_order(metric: gpd.GeoDataFrame, members: np.ndarray) -> np.ndarray:
    geoms = metric.geometry.values[members]
    xy = shapely.get_coordinates(shapely.point_on_surface(geoms))
    band = float(np.median(np.sqrt(shapely.area(geoms)))) if len(members) else 1.0
    return members[reading_order(xy, band=band or None)]


def _serials(n: int, tpl: CodeTemplate, used: set[int], prefix: str) -> list[int]:
    width = tpl.widths()["serial"]
    top = 10**width - 1
    if n == 1 and tpl.unsplit_serial is not None and tpl.unsplit_serial not in used:
        return [tpl.unsplit_serial]
    out, s = [], 1
    while len(out) < n:
        if s > top:
            raise InfeasibleError(
                f"community {prefix}: {n} grids need serials but only {top} fit in "
                f"{width} digits after the retired and used codes; widen the serial field."
            )
        if s not in used:
            out.append(s)
        s += 1
    return out


def assign_codes(
    grids: gpd.GeoDataFrame,
    *,
    template: str | CodeTemplate = "gbt30428",
    admin_code: str | None = None,
    object_code: str | None = None,
    street_col: str = "street_code",
    community_col: str = "community_code",
    admin_col: str = "district_code",
    register: pd.DataFrame | None = None,
    code_col: str = "code",
) -> gpd.GeoDataFrame:
    """Code every grid: prefix from its admin/street/community codes, serial in reading order.

    Parameters
    ----------
    grids
        Grid polygons with street and community codes (3 digits, or the full
        9/12-digit statistical codes, whose last digits are used).
    template
        Template name or ``"field:width,..."`` (see the module docstring).
    admin_code
        6-digit GB/T 2260 code for every grid (default: the ``admin_col`` column).
    object_code
        Management/service object code, for ``cjt349``.
    street_col, community_col, admin_col
        Columns holding the codes.
    register
        Retired codes (:data:`REGISTER_COLUMNS`); their serials are skipped.
    code_col
        Name of the code column written.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``grids`` with ``code_col``.
    """
    require_nonempty(grids, layer="grids")
    require_crs(grids, layer="grids")
    tpl = parse_template(template)
    prefix = _prefixes(
        grids, tpl, admin_code=admin_code, object_code=object_code,
        street_col=street_col, community_col=community_col, admin_col=admin_col,
    )
    retired = _retired_serials(register, tpl)
    metric = to_metric(grids)
    codes = np.empty(len(grids), dtype=object)
    width = tpl.widths()["serial"]
    for pre, members in prefix.groupby(prefix.to_numpy()).indices.items():
        members = np.asarray(members)
        ordered = _read_order(metric, members)
        serials = _serials(len(ordered), tpl, retired.get(pre, set()), pre)
        for pos, s in zip(ordered, serials, strict=True):
            codes[pos] = f"{pre}{s:0{width}d}"
    out = grids.copy()
    out[code_col] = codes
    return out


def _retired_serials(register: pd.DataFrame | None, tpl: CodeTemplate) -> dict[str, set[int]]:
    if register is None or len(register) == 0:
        return {}
    require_columns(register, ["code"], layer="register")
    width = tpl.widths()["serial"]
    out: dict[str, set[int]] = {}
    for code in register["code"].astype(str):
        if len(code) != tpl.width or not code.isdigit():
            continue  # codes of another template never collide with this one
        out.setdefault(code[:-width], set()).add(int(code[-width:]))
    return out


@dataclass
class RenumberResult:
    """Codes of a new plan against the previous one.

    Attributes
    ----------
    grids
        The new grids with codes and ``code_status`` (``kept`` or ``new``).
    mapping
        Old→new: ``old_code``, ``new_code``, ``share_of_old`` (area share of
        the old grid now in the new one), ``share_of_new`` and ``kept``.
    register
        The register of retired codes, old entries plus those retired now.
    retired
        Codes retired by this renumbering.
    """

    grids: gpd.GeoDataFrame
    mapping: pd.DataFrame
    register: pd.DataFrame
    retired: list[str]


def renumber_codes(
    grids: gpd.GeoDataFrame,
    previous: gpd.GeoDataFrame,
    *,
    template: str | CodeTemplate = "gbt30428",
    previous_code_col: str = "code",
    register: pd.DataFrame | None = None,
    keep_share: float = 0.5,
    date: str | None = None,
    **options: object,
) -> RenumberResult:
    """Code a new plan, keeping the codes of grids that continue and retiring the rest.

    Parameters
    ----------
    grids
        The new grids (with street/community codes, see :func:`assign_codes`).
    previous
        The previous grids with their codes.
    template
        Code template.
    previous_code_col
        Code column of ``previous``.
    register
        The existing register of retired codes (:data:`REGISTER_COLUMNS`).
    keep_share
        A new grid keeps an old code when it holds more than this share of the
        old grid's area and the old grid more than this share of the new one's,
        and both have the same code prefix (community).
    date
        ISO date written to the register (default: today).
    **options
        ``admin_code``, ``object_code``, ``street_col``, ``community_col``,
        ``admin_col``, ``code_col`` as in :func:`assign_codes`.

    Returns
    -------
    RenumberResult
    """
    require_nonempty(grids, layer="grids")
    require_crs(grids, layer="grids")
    require_crs(previous, layer="previous grids")
    require_columns(previous, [previous_code_col], layer="previous grids")
    tpl = parse_template(template)
    code_col = str(options.pop("code_col", "code"))
    prefix = _prefixes(grids, tpl, **{k: options.get(k) for k in ("admin_code", "object_code")},
                       street_col=str(options.get("street_col", "street_code")),
                       community_col=str(options.get("community_col", "community_code")),
                       admin_col=str(options.get("admin_col", "district_code")))
    metric = to_metric(grids)
    old = previous.to_crs(metric.crs)
    old_codes = old[previous_code_col].astype(str).to_numpy()
    ng, og = metric.geometry.values, old.geometry.values
    tree = shapely.STRtree(og)
    n_idx, o_idx = tree.query(ng, predicate="intersects")
    inter = shapely.area(shapely.intersection(ng[n_idx], og[o_idx]))
    pairs = pd.DataFrame({"n": n_idx, "o": o_idx, "area": inter})
    pairs = pairs[pairs["area"] > 0]
    pairs["share_of_old"] = pairs["area"] / shapely.area(og[pairs["o"].to_numpy()])
    pairs["share_of_new"] = pairs["area"] / shapely.area(ng[pairs["n"].to_numpy()])
    width = tpl.widths()["serial"]
    same_prefix = np.array(
        [old_codes[o][:-width] == prefix.iloc[n] and len(old_codes[o]) == tpl.width
         for n, o in zip(pairs["n"], pairs["o"], strict=True)],
        dtype=bool,
    )
    cont = pairs[same_prefix & (pairs["share_of_old"] > keep_share) & (pairs["share_of_new"] > keep_share)]
    # one-to-one: the best overlap wins
    cont = cont.sort_values("area", ascending=False).drop_duplicates("n").drop_duplicates("o")
    codes = np.empty(len(grids), dtype=object)
    codes[cont["n"].to_numpy()] = old_codes[cont["o"].to_numpy()]
    status = np.where(pd.isna(codes), "new", "kept")
    used = _retired_serials(register, tpl)
    for code in old_codes:
        if len(code) == tpl.width and code.isdigit():
            used.setdefault(code[:-width], set()).add(int(code[-width:]))
    for pre, members in prefix.groupby(prefix.to_numpy()).indices.items():
        members = np.asarray(members)
        todo = members[pd.isna(codes[members])]
        if len(todo) == 0:
            continue
        ordered = _read_order(metric, todo)
        tpl_multi = CodeTemplate(tpl.name, tpl.parts, None) if len(members) > 1 else tpl
        serials = _serials(len(ordered), tpl_multi, used.get(pre, set()), pre)
        for pos, s in zip(ordered, serials, strict=True):
            codes[pos] = f"{pre}{s:0{width}d}"
    out = grids.copy()
    out[code_col] = codes
    out["code_status"] = status
    pairs["old_code"] = old_codes[pairs["o"].to_numpy()]
    pairs["new_code"] = codes[pairs["n"].to_numpy()]
    kept_pairs = set(zip(cont["n"], cont["o"], strict=True))
    pairs["kept"] = [(n, o) in kept_pairs for n, o in zip(pairs["n"], pairs["o"], strict=True)]
    mapping = (
        pairs[pairs["share_of_old"] >= 0.01][["old_code", "new_code", "share_of_old", "share_of_new", "kept"]]
        .sort_values(["old_code", "share_of_old"], ascending=[True, False])
        .reset_index(drop=True)
    )
    kept_codes = set(old_codes[cont["o"].to_numpy()])
    retired = sorted(set(old_codes) - kept_codes)
    today = date or _dt.date.today().isoformat()
    rows = []
    predecessors = mapping.groupby("new_code")["old_code"].nunique()
    for code in retired:
        succ = mapping.loc[mapping["old_code"] == code, "new_code"].tolist()
        if len(succ) > 1:
            reason = "split"
        elif succ and predecessors.get(succ[0], 0) > 1:
            reason = "merged"
        else:
            reason = "redrawn" if succ else "removed"
        rows.append({"code": code, "retired_on": today, "reason": reason, "successors": " ".join(succ)})
    base = (
        pd.DataFrame(columns=list(REGISTER_COLUMNS))
        if register is None
        else register.reindex(columns=list(REGISTER_COLUMNS))
    )
    new_reg = pd.concat([base, pd.DataFrame(rows, columns=list(REGISTER_COLUMNS))], ignore_index=True)
    new_reg = new_reg.drop_duplicates("code", keep="first").reset_index(drop=True)
    return RenumberResult(grids=out, mapping=mapping, register=new_reg, retired=retired)
