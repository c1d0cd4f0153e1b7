"""GB/T 28181 device ids: parse, validate, count cameras apart from recorders and servers.

A GB/T 28181-2016 id (编码) has 20 digits::

    33049900 01 132 0 000001
    |        |  |   | serial (6)
    |        |  |   network (1): 0–4 video/alarm private network, 5 public-security
    |        |  |   information network, 6 government network, 7 Internet,
    |        |  |   8 social-resource access network, 9 reserved
    |        |  type (3): 111 DVR, 118 NVR, 130 HVR, 131 camera, 132 IPC, 200 SIP
    |        |  server, 215 business group, 216 virtual organisation...
    |        industry (2): 00 public-order road access, 01 community access...
    centre code (8): province (2) city (2) district (2) per GB/T 2260, grassroots unit (2)

Only camera channels (type 131 camera and 132 IPC) count as cameras; recorders
(DVR/NVR/HVR...), servers and directory nodes are reported apart.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ._validate import require_columns

__all__ = [
    "CAMERA_TYPES",
    "DEVICE_TYPES",
    "INDUSTRIES",
    "NETWORKS",
    "PROVINCES",
    "check_cameras",
    "device_class",
    "parse_ids",
]

#: Type codes (digits 11–13) of GB/T 28181-2016 Appendix D.
DEVICE_TYPES: dict[str, str] = {
    "111": "DVR", "112": "video server", "113": "encoder", "114": "decoder",
    "115": "video switching matrix", "116": "audio switching matrix", "117": "alarm controller",
    "118": "NVR", "130": "HVR",
    "131": "camera", "132": "IPC", "133": "display", "134": "alarm input device",
    "135": "alarm output device", "136": "voice input device", "137": "voice output device",
    "138": "mobile transmission device", "139": "other peripheral",
    "200": "central SIP server", "201": "web application server", "202": "media distribution server",
    "203": "proxy server", "204": "security server", "205": "alarm server",
    "206": "database server", "207": "GIS server", "208": "management server",
    "209": "access gateway", "210": "media storage server", "211": "signalling security gateway",
    "215": "business group", "216": "virtual organisation",
    "300": "central user", "400": "terminal user",
}
#: The type codes that are camera channels.
CAMERA_TYPES = ("131", "132")
_RECORDERS = frozenset({"111", "118", "130"})

#: Industry codes (digits 9–10), the ones GB/T 28181-2016 names.
INDUSTRIES: dict[str, str] = {
    "00": "public order: road", "01": "public order: community", "02": "public order: indoor",
    "03": "public order: other", "04": "traffic: road", "05": "traffic: checkpoint",
    "06": "traffic: indoor", "07": "traffic: other", "08": "city management",
    "09": "health and environment", "10": "inspection and customs", "11": "education",
}

#: Network digit (digit 14).
NETWORKS: dict[str, str] = {
    **{str(d): "video/alarm private network" for d in range(5)},
    "5": "public-security information network", "6": "government network",
    "7": "Internet", "8": "social-resource access network",
}

#: GB/T 2260 province-level codes.
PROVINCES: dict[str, str] = {
    "11": "北京", "12": "天津", "13": "河北", "14": "山西", "15": "内蒙古",
    "21": "辽宁", "22": "吉林", "23": "黑龙江",
    "31": "上海", "32": "江苏", "33": "浙江", "34": "安徽", "35": "福建", "36": "江西", "37": "山东",
    "41": "河南", "42": "湖北", "43": "湖南", "44": "广东", "45": "广西", "46": "海南",
    "50": "重庆", "51": "四川", "52": "贵州", "53": "云南", "54": "西藏",
    "61": "陕西", "62": "甘肃", "63": "青海", "64": "宁夏", "65": "新疆",
    "71": "台湾", "81": "香港", "82": "澳门",
}

_COLUMNS = ["gb28181_id", "valid", "problem", "centre_code", "province", "city", "district",
            "grassroots", "industry", "type_code", "type_name", "network", "serial",
            "device_class"]


def device_class(type_code: str | None) -> str:
    """``camera``, ``recorder``, ``server``, ``directory``, ``peripheral``, ``user`` or ``unknown``."""
    if type_code is None or not isinstance(type_code, str):
        return "unknown"
    if type_code in CAMERA_TYPES:
        return "camera"
    if type_code in _RECORDERS:
        return "recorder"
    if type_code in ("215", "216"):
        return "directory"
    if type_code in DEVICE_TYPES:
        n = int(type_code)
        if 111 <= n <= 130:
            return "front-end device"
        if 133 <= n <= 199:
            return "peripheral"
        if 200 <= n <= 299:
            return "server"
        return "user"
    return "unknown"


def _problem(code: str) -> str | None:
    """What is wrong with one stripped id, or None."""
    if code == "":
        return "missing"
    if len(code) != 20:
        bad = re.sub(r"\d", "", code)
        extra = f" and non-digits {bad[:5]!r}" if bad else ""
        return f"{len(code)} characters{extra}, expected 20 digits"
    if not code.isdigit():
        bad = re.sub(r"\d", "", code)
        return f"non-digit characters {bad[:5]!r}, expected 20 digits"
    if code[:2] not in PROVINCES:
        return f"province code {code[:2]} is not a GB/T 2260 province"
    if code[10:13] not in DEVICE_TYPES:
        return f"type code {code[10:13]} is not a GB/T 28181 device type"
    if code[13] == "9":
        return "network digit 9 is reserved"
    return None


def parse_ids(ids: pd.Series | list[str] | np.ndarray) -> pd.DataFrame:
    """Parse and validate GB/T 28181 ids.

    Parameters
    ----------
    ids
        The ids as text (surrounding spaces are ignored; numbers are read as
        their decimal digits, but a 20-digit id should be kept as text).

    Returns
    -------
    pandas.DataFrame
        One row per id, aligned with ``ids``: ``gb28181_id`` (as given),
        ``valid``, ``problem`` (why an id is malformed, else missing),
        ``centre_code`` (8 digits), ``province``, ``city``, ``district``
        (6-digit GB/T 2260 code, e.g. ``330402``), ``grassroots``,
        ``industry``, ``type_code``, ``type_name``, ``network``, ``serial``
        and ``device_class`` (see :func:`device_class`; ``malformed`` or
        ``missing`` for invalid ids). Parts of malformed ids are left missing.
    """
    series = pd.Series(ids) if not isinstance(ids, pd.Series) else ids
    text = series.astype("string").str.strip().fillna("")
    problems = [_problem(c) for c in text.tolist()]
    valid = np.array([p is None for p in problems], dtype=bool)
    out = pd.DataFrame(index=series.index, columns=_COLUMNS, dtype=object)
    out["gb28181_id"] = series.to_numpy(dtype=object)
    out["valid"] = valid
    out["problem"] = problems
    good = text.where(valid)
    out["centre_code"] = good.str[:8]
    out["province"] = good.str[:2]
    out["city"] = good.str[:4]
    out["district"] = good.str[:6]
    out["grassroots"] = good.str[6:8]
    out["industry"] = good.str[8:10]
    out["type_code"] = good.str[10:13]
    out["network"] = good.str[13]
    out["serial"] = good.str[14:20]
    out["type_name"] = out["type_code"].map(DEVICE_TYPES)
    out["device_class"] = [device_class(t) if isinstance(t, str) else
                           ("missing" if p == "missing" else "malformed")
                           for t, p in zip(out["type_code"], problems, strict=True)]
    out["valid"] = out["valid"].astype(bool)
    return out


def check_cameras(
    cameras: pd.DataFrame,
    *,
    district_codes: pd.Series | np.ndarray | list | None = None,
    id_column: str = "gb28181_id",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Validate the GB/T 28181 ids of a camera layer.

    Parameters
    ----------
    cameras
        Camera layer with ``camera_id`` and ``gb28181_id``.
    district_codes
        The district code (6 digits, GB/T 2260) of the grid each camera is in,
        aligned with ``cameras`` (missing outside every grid); ids whose
        district disagrees are reported. See :func:`gridmap.assign.assign_points`.
    id_column
        Column holding the ids.

    Returns
    -------
    findings : pandas.DataFrame
        One row per camera with a finding: ``camera_id``, ``gb28181_id``,
        ``finding`` (``missing`` | ``malformed`` | ``not a camera`` |
        ``district mismatch`` | ``duplicate``), ``detail``. A camera may have
        several findings. Cameras whose status is ``planned`` and have no id
        are not reported (planned cameras get their id when built).
    devices : pandas.DataFrame
        Count per device class and type (``camera`` rows only for 131/132),
        so recorders and servers are reported apart from cameras.
    """
    require_columns(cameras, ["camera_id", id_column], layer="cameras")
    parsed = parse_ids(cameras[id_column])
    ids = cameras["camera_id"].to_numpy(dtype=object)
    rows: list[dict] = []

    def add(mask: np.ndarray, finding: str, detail: np.ndarray | list | str) -> None:
        details = np.broadcast_to(np.asarray(detail, dtype=object), (len(mask),))
        for i in np.flatnonzero(mask):
            rows.append({"camera_id": ids[i], "gb28181_id": parsed["gb28181_id"].iat[i],
                         "finding": finding, "detail": details[i]})

    problem = parsed["problem"].to_numpy(dtype=object)
    planned = (cameras["status"].astype("string").fillna("") == "planned").to_numpy() \
        if "status" in cameras else np.zeros(len(cameras), bool)
    missing = problem == "missing"
    add(missing & ~planned, "missing", "no GB/T 28181 id")
    add(~parsed["valid"].to_numpy() & ~missing, "malformed", problem)
    cls = parsed["device_class"].to_numpy(dtype=object)
    notcam = parsed["valid"].to_numpy() & (cls != "camera")
    add(notcam, "not a camera",
        [f"type {t} ({n}) is a {c}, not a camera channel (131/132)"
         for t, n, c in zip(parsed["type_code"], parsed["type_name"], cls, strict=True)])
    if district_codes is not None:
        want = (pd.Series(np.asarray(district_codes, dtype=object)).astype("string")
                .str.strip().str[:6].fillna("").to_numpy(dtype=str))
        got = parsed["district"].astype("string").fillna("").to_numpy(dtype=str)
        known = parsed["valid"].to_numpy() & (np.char.str_len(want) == 6)
        differ = known & (got != want)
        add(differ, "district mismatch",
            [f"id says district {g}, the camera's grid is in district {w}"
             for g, w in zip(got, want, strict=True)])
    text = parsed["gb28181_id"].astype("string").str.strip()
    dup = text.duplicated(keep=False).to_numpy() & ~missing
    first = {}
    for i in np.flatnonzero(dup):
        first.setdefault(text.iat[i], []).append(ids[i])
    add(dup, "duplicate",
        [f"also used by {', '.join(str(c) for c in first[t] if c != ids[i])}"
         if isinstance(t, str) and t in first else ""
         for i, t in enumerate(text.tolist())])
    findings = pd.DataFrame(rows, columns=["camera_id", "gb28181_id", "finding", "detail"])
    order = {"missing": 0, "malformed": 1, "not a camera": 2, "district mismatch": 3,
             "duplicate": 4}
    findings = findings.sort_values(["finding", "camera_id"],
                                    key=lambda s: s.map(order) if s.name == "finding" else s,
                                    kind="stable").reset_index(drop=True)
    devices = (
        parsed.assign(type_name=parsed["type_name"].fillna("—"),
                      type_code=parsed["type_code"].fillna("—"))
        .groupby(["device_class", "type_code", "type_name"], dropna=False)
        .size().rename("count").reset_index()
        .sort_values(["device_class", "type_code"]).reset_index(drop=True)
    )
    return findings, devices

