"""Closed-loop incident metrics (闭环管理) per grid, community or street.

An incident moves reported → dispatched → handled → closed. Per unit,
:func:`closed_loop` reports:

* ``n`` and the count in each status (``reported``, ``dispatched``,
  ``handled``, ``closed``);
* ``closure_rate`` = closed / n;
* ``median_hours`` and ``p90_hours`` — time from report to closure of the
  closed cases (cases whose ``closed_at`` precedes ``reported_at`` are counted
  in ``bad_times`` and left out);
* ``overdue`` — cases past their deadline: closed after it (``closed_late``)
  or still open at ``now`` and past it (``open_overdue``); ``on_time_rate`` =
  cases closed by their deadline / n;
* a ranking (定量化考核): ``score`` = 100 × (0.4 · closure_rate + 0.4 ·
  on_time_rate + 0.2 · speed), where ``speed`` is 1 for the unit with the
  shortest median time to close and 0 for the longest (min–max, inverted;
  units with nothing closed get 0). The weights are configurable; ``rank`` 1
  is best (ties share the better rank).

Deadlines
---------
``"same-day"`` (the default, 日清日结): a case is due by midnight at the end of
the day it was reported. A duration such as ``"24h"``, ``"48h"``, ``"3d"`` or
``"90min"`` counts from the report time. ``now`` (for open cases) defaults to
the latest timestamp in the data, so results do not change with the day the
report is run; pass it explicitly for a live view.

Per-incident time limits (办结时限): when the incidents carry a column of
hours — ``time_limit_h`` by default, as the demo data and many dispatch
systems do, or the column named by ``time_limit=`` — each case is due that
many hours after its report, and the deadline rule above applies only to cases
whose limit is missing. ``time_limit=None`` ignores any such column and judges
every case by the deadline rule. Limits must be positive numbers of hours.

Status
------
``status`` is read when present (values of :data:`gridmap.schema.INCIDENT_STATUSES`);
without it a case with ``closed_at`` is closed and the others are reported.
A ``closed`` case without ``closed_at`` counts as closed but has no duration
(``closed_no_time``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from ._errors import DataError, SchemaError
from .assign import assign_points
from .schema import INCIDENT_STATUSES

__all__ = [
    "DEFAULT_SCORE_WEIGHTS",
    "DEFAULT_TIME_LIMIT",
    "UNITS",
    "ClosedLoop",
    "closed_loop",
    "closed_loop_trend",
    "incident_status",
    "parse_deadline",
    "published_table",
    "published_trend",
    "rank_units",
]

UNITS = {"grid": None, "community": "community_code", "street": "street_code"}
DEFAULT_SCORE_WEIGHTS = {"closure_rate": 0.4, "on_time_rate": 0.4, "speed": 0.2}
OUTSIDE = "(outside every grid)"
DEFAULT_TIME_LIMIT = "time_limit_h"


def parse_deadline(deadline: str | pd.Timedelta) -> pd.Timedelta | None:
    """``"same-day"`` → ``None`` (due at the end of the report day); ``"24h"`` → 24 hours."""
    if isinstance(deadline, pd.Timedelta):
        return deadline
    text = str(deadline).strip().lower().replace(" ", "")
    if text in ("same-day", "sameday", "day", "日清日结", "当日"):
        return None
    try:
        td = pd.Timedelta(text)
    except ValueError:
        td = pd.NaT
    if pd.isna(td) or td <= pd.Timedelta(0):
        raise ValueError(
            f"cannot read deadline {deadline!r}; use same-day, or a duration such as 24h, "
            "48h, 3d or 90min."
        )
    return td


def incident_status(incidents: pd.DataFrame) -> pd.Series:
    """Each incident's status (see the module docstring), as a string Series."""
    if "status" in incidents.columns:
        # clean each distinct value once
        codes, values = pd.factorize(incidents["status"])
        clean = pd.Series(values).astype("string").str.strip().str.lower()
        bad = clean.notna() & ~clean.isin(INCIDENT_STATUSES)
        if bad.any():
            raise SchemaError(
                f"status has values {sorted(clean[bad].unique().tolist())[:5]} outside "
                f"{INCIDENT_STATUSES}; map them with read_layer or fix the file."
            )
        s = pd.Series(clean.array.take(codes, allow_fill=True), index=incidents.index)
        if not s.isna().any():
            return s
        if "closed_at" in incidents.columns:
            closed_at = pd.to_datetime(incidents["closed_at"], errors="coerce")
            s = s.fillna(pd.Series(np.where(closed_at.notna(), "closed", "reported"),
                                   index=incidents.index, dtype="string"))
        return s.fillna("reported")
    if "closed_at" in incidents.columns:
        closed_at = pd.to_datetime(incidents["closed_at"], errors="coerce")
        return pd.Series(np.where(closed_at.notna(), "closed", "reported"),
                         index=incidents.index, dtype="string")
    raise SchemaError("incidents have neither status nor closed_at; closed-loop metrics need one.")


@dataclass(frozen=True)
class ClosedLoop:
    """Result of :func:`closed_loop`.

    Attributes
    ----------
    table
        One row per unit (plus an ``(outside every grid)`` row when any case
        lies outside every grid), ranked.
    cases
        One row per incident: ``unit``, ``grid``, ``status``, ``hours``,
        ``due``, ``overdue`` and ``on_time`` (aligned with the input's index).
    by
        The unit: ``grid``, ``community`` or ``street``.
    now
        The time open cases were judged against.
    deadline
        The deadline rule as given (for cases without their own time limit).
    time_limit
        The column of per-incident time limits (hours) that was used, or
        ``None`` when every case was judged by ``deadline``.
    """

    table: pd.DataFrame
    cases: pd.DataFrame
    by: str
    now: pd.Timestamp
    deadline: str
    time_limit: str | None = None


def _unit_of_cases(incidents: gpd.GeoDataFrame, grids: gpd.GeoDataFrame, by: str,
                   grid_id: str | None) -> tuple[pd.api.extensions.ExtensionArray,
                                                 pd.api.extensions.ExtensionArray]:
    """Each case's unit and grid as ``str`` arrays; :data:`OUTSIDE` outside every grid."""
    if by not in UNITS:
        raise ValueError(f"unknown unit {by!r}; choose one of {sorted(UNITS)}.")
    a = assign_points(incidents, grids, grid_id=grid_id)
    grid_of_grid = pd.Series(a.grid_values).convert_dtypes()
    col = UNITS[by]
    if col is None:
        unit_of_grid = grid_of_grid
    else:
        if col not in grids.columns:
            raise SchemaError(
                f"grids have no {col!r} column, so cases cannot be grouped by {by}; "
                "use --by grid or add the column."
            )
        unit_of_grid = grids[col]
    return _per_case(unit_of_grid, a.index), _per_case(grid_of_grid, a.index)


def _per_case(per_grid: pd.Series, position: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """``per_grid`` as text, taken at each case's grid ``position`` (-1: outside).

    Cases outside every grid, and cases in a grid whose value is missing, get
    :data:`OUTSIDE`. The strings are made once per grid, not once per case.
    """
    labels = pd.Series([*per_grid.astype("string").array, pd.NA], dtype="string")
    labels = labels.fillna(OUTSIDE).astype("str").array
    return labels.take(np.where(position >= 0, position, len(labels) - 1))


def _unit_names(grids: gpd.GeoDataFrame, by: str, grid_id: str | None) -> dict | None:
    """Unit code → display name, when the grids carry names."""
    from .assign import pick_grid_id

    code = UNITS[by] or pick_grid_id(grids, grid_id)
    name = {"grid": "name", "community": "community_name", "street": "street_name"}[by]
    if code is None or name not in grids.columns:
        return None
    pairs = grids[[code, name]].dropna().drop_duplicates(subset=code)
    return dict(zip(pairs[code].astype(str), pairs[name].astype(str), strict=True))


def rank_units(table: pd.DataFrame, weights: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Add ``speed``, ``score`` (0–100) and ``rank`` (1 = best); see the module docstring."""
    weights = dict(DEFAULT_SCORE_WEIGHTS if weights is None else weights)
    unknown = set(weights) - {"closure_rate", "on_time_rate", "speed"}
    if unknown:
        raise ValueError(f"unknown score parts {sorted(unknown)}; use closure_rate, "
                         "on_time_rate and speed.")
    total = sum(weights.values())
    if not total > 0:
        raise ValueError("score weights must add up to more than 0.")
    out = table.copy()
    med = out["median_hours"].astype(float)
    lo, hi = med.min(), med.max()
    if pd.notna(lo) and hi > lo:
        speed = 1.0 - (med - lo) / (hi - lo)
    else:
        speed = pd.Series(np.where(med.notna(), 1.0, 0.0), index=out.index)
    out["speed"] = speed.fillna(0.0)
    score = sum(w * out[k].astype(float).fillna(0.0) for k, w in weights.items())
    out["score"] = (100.0 * score / total).round(2)
    out["rank"] = out["score"].rank(ascending=False, method="min").astype("Int64")
    return out.sort_values(["rank", "unit"]).reset_index(drop=True)


def _unit_table(cases: pd.DataFrame) -> pd.DataFrame:
    """Counts, rates and times per unit of ``cases`` (units sorted), vectorised."""
    codes, units = pd.factorize(cases["unit"], sort=True)
    nu = len(units)
    n = np.bincount(codes, minlength=nu)
    table = pd.DataFrame({"n": n}, index=pd.Index(units, name="unit"))
    # statuses are validated by incident_status, so every case has one of the four
    status_code, statuses = pd.factorize(cases["status"])
    status = np.array([INCIDENT_STATUSES.index(s) for s in statuses], dtype=np.intp)[status_code]
    by_status = np.bincount(codes * len(INCIDENT_STATUSES) + status,
                            minlength=nu * len(INCIDENT_STATUSES))
    by_status = by_status.reshape(nu, len(INCIDENT_STATUSES))
    for j, s in enumerate(INCIDENT_STATUSES):
        table[s] = by_status[:, j]
    table["closure_rate"] = table["closed"] / table["n"]
    hours = pd.Series(cases["hours"].to_numpy(dtype=float)).groupby(codes, sort=True)
    table["median_hours"] = hours.median().to_numpy()
    table["p90_hours"] = hours.quantile(0.9).to_numpy()
    for c in ("overdue", "closed_late", "open_overdue", "bad_time", "closed_no_time"):
        table["bad_times" if c == "bad_time" else c] = _count(codes, cases[c], nu)
    table["on_time_rate"] = _count(codes, cases["on_time"], nu) / table["n"]
    return table.reset_index()


def _count(codes: np.ndarray, flags: pd.Series, n: int) -> np.ndarray:
    """Number of true ``flags`` per code (0 … n − 1)."""
    return np.bincount(codes[flags.to_numpy(dtype=bool)], minlength=n)


def closed_loop(
    incidents: gpd.GeoDataFrame,
    grids: gpd.GeoDataFrame,
    *,
    by: str = "grid",
    grid_id: str | None = None,
    deadline: str | pd.Timedelta = "same-day",
    now: object = None,
    score_weights: Mapping[str, float] | None = None,
    time_limit: str | None = "auto",
) -> ClosedLoop:
    """Closed-loop metrics per grid, community or street (see the module docstring).

    Parameters
    ----------
    incidents
        Incident points with ``reported_at`` and ``status`` and/or ``closed_at``.
    grids
        Grid polygons (with ``community_code``/``street_code`` for those units).
    by
        ``"grid"``, ``"community"`` or ``"street"``.
    grid_id
        Grid id column (default ``grid_id``).
    deadline
        ``"same-day"`` or a duration (``"24h"``, ``"3d"``): the deadline of
        every case without its own time limit.
    now
        Time open cases are judged against; default the latest time in the data.
    score_weights
        Weights of ``closure_rate``, ``on_time_rate`` and ``speed`` in the score.
    time_limit
        Column of per-incident time limits in hours (each case is due that
        long after its report; cases with a missing limit follow
        ``deadline``). ``"auto"`` (the default): ``time_limit_h`` when the
        incidents have it, else ``deadline`` for every case. ``None``:
        ``deadline`` for every case, whatever the columns.

    Returns
    -------
    ClosedLoop

    Raises
    ------
    SchemaError
        When a named ``time_limit`` column is absent or holds values that are
        not numbers.
    DataError
        When a time limit is zero, negative or infinite.
    """
    if "reported_at" not in incidents.columns:
        raise SchemaError("incidents have no reported_at column; closed-loop metrics need it.")
    if len(incidents) == 0:
        raise DataError("no incidents to evaluate; check the file and filters.")
    due_after = parse_deadline(deadline)
    limit_col, limit_h = _time_limits(incidents, time_limit)
    status = incident_status(incidents)
    reported = pd.to_datetime(incidents["reported_at"], errors="coerce")
    closed_at = (pd.to_datetime(incidents["closed_at"], errors="coerce")
                 if "closed_at" in incidents.columns
                 else pd.Series(pd.NaT, index=incidents.index, dtype=reported.dtype))
    if now is None:
        now_ts = max(reported.max(), closed_at.max() if closed_at.notna().any() else reported.max())
    else:
        now_ts = pd.Timestamp(now)
    if pd.isna(now_ts):
        raise DataError("no incident has a readable reported_at time.")
    unit, grid = _unit_of_cases(incidents, grids, by, grid_id)
    due = (reported.dt.normalize() + pd.Timedelta(days=1)) if due_after is None \
        else reported + due_after
    if limit_h is not None:
        # each case's own limit, where it has one
        own = (reported + pd.to_timedelta(limit_h, unit="h")).astype(due.dtype)
        due = own.where(limit_h.notna(), due)
    is_closed = (status == "closed").to_numpy(dtype=bool)
    hours = (closed_at - reported).dt.total_seconds() / 3600.0
    bad = is_closed & (hours < 0).fillna(False).to_numpy(dtype=bool)
    hours = hours.where(is_closed & ~bad)
    closed_late = is_closed & (closed_at > due).fillna(False).to_numpy(dtype=bool)
    open_overdue = ~is_closed & (due < now_ts).fillna(False).to_numpy(dtype=bool)
    on_time = is_closed & (closed_at <= due).fillna(False).to_numpy(dtype=bool) & ~bad
    cases = pd.DataFrame({
        "unit": unit, "grid": grid, "status": status.astype("str").array,
        "reported_at": reported.to_numpy(), "closed_at": closed_at.to_numpy(),
        "hours": hours.to_numpy(), "due": due.to_numpy(),
        "overdue": closed_late | open_overdue, "closed_late": closed_late,
        "open_overdue": open_overdue, "on_time": on_time, "bad_time": bad,
        "closed_no_time": is_closed & closed_at.isna().to_numpy(),
    }, index=incidents.index)
    table = _unit_table(cases)
    names = _unit_names(grids, by, grid_id)
    if names is not None:
        table.insert(1, "name", table["unit"].map(names))
    inside = table[table["unit"] != OUTSIDE]
    outside = table[table["unit"] == OUTSIDE]
    ranked = rank_units(inside, score_weights) if len(inside) else inside
    if len(outside):
        ranked = pd.concat([ranked, outside], ignore_index=True)
    return ClosedLoop(table=ranked, cases=cases, by=by, now=now_ts, deadline=str(deadline),
                      time_limit=limit_col)


def _time_limits(incidents: pd.DataFrame,
                 time_limit: str | None) -> tuple[str | None, pd.Series | None]:
    """The column of per-incident limits to use and its hours (float, NaN = none)."""
    if time_limit is None:
        return None, None
    if time_limit == "auto":
        if DEFAULT_TIME_LIMIT not in incidents.columns:
            return None, None
        time_limit = DEFAULT_TIME_LIMIT
    elif time_limit not in incidents.columns:
        raise SchemaError(
            f"incidents have no {time_limit!r} column of time limits; name the column of "
            f"hours with time_limit=, or pass time_limit=None to judge every case by the "
            f"deadline. Columns: {list(incidents.columns)}."
        )
    raw = incidents[time_limit]
    hours = pd.to_numeric(raw, errors="coerce").astype(float)
    unreadable = raw.notna() & hours.isna()
    if unreadable.any():
        raise SchemaError(
            f"time limit column {time_limit!r} has {int(unreadable.sum())} values that are not "
            f"numbers of hours (e.g. {raw[unreadable].iloc[0]!r}); fix them, or pass "
            "time_limit=None to judge every case by the deadline."
        )
    bad = hours.notna() & ~(np.isfinite(hours) & (hours > 0))
    if bad.any():
        raise DataError(
            f"time limit column {time_limit!r} has {int(bad.sum())} values that are not "
            f"positive hours (e.g. {hours[bad].iloc[0]}); a limit must be more than 0 h. "
            "Fix them or leave them empty (empty limits follow the deadline)."
        )
    return time_limit, hours


_FREQ = {"week": "W-SUN", "month": "M"}
_TREND_COLUMNS = ["period", "unit", "reported", "closed", "median_hours", "closure_rate",
                  "on_time_rate"]


def closed_loop_trend(result: ClosedLoop, *, freq: str = "week",
                      units: list[str] | None = None) -> pd.DataFrame:
    """Weekly or monthly trend per unit from a :class:`ClosedLoop` result.

    Parameters
    ----------
    result
        Output of :func:`closed_loop`.
    freq
        ``"week"`` (Monday–Sunday) or ``"month"``.
    units
        Units to keep, in this order (``None``, the default: every unit, sorted;
        an empty list: only the total). The total over all cases, unit
        ``"(all)"``, always comes first; a unit without cases has no rows.

    Returns
    -------
    pandas.DataFrame
        Long table: ``period`` (start date), ``unit``, ``reported`` (cases
        reported in the period), ``closed`` (of those, closed by now),
        ``median_hours``, ``closure_rate`` and ``on_time_rate``; periods in
        order within each unit.
    """
    if freq not in _FREQ:
        raise ValueError(f"unknown trend frequency {freq!r}; use week or month.")
    c = result.cases[result.cases["reported_at"].notna().to_numpy()]
    if len(c) == 0:
        return pd.DataFrame(columns=_TREND_COLUMNS)
    # the period of each report day (days, not cases, go through to_period)
    reported = pd.to_datetime(c["reported_at"])
    day_code, days = pd.factorize(reported.dt.normalize(), sort=True)
    day_start = pd.Series(days).dt.to_period(_FREQ[freq]).dt.start_time
    period_of_day, periods = pd.factorize(day_start, sort=True)
    period = period_of_day[day_code]
    unit, unit_names = pd.factorize(c["unit"], sort=True)
    if units is None:
        keep = np.arange(len(unit_names))
    else:
        where = {u: i for i, u in enumerate(unit_names)}
        keep = np.array([where[u] for u in units if u in where], dtype=np.intp)
    np_ = len(periods)
    closed = (c["status"] == "closed").to_numpy(dtype=bool)
    on_time = c["on_time"].to_numpy(dtype=bool)
    hours = c["hours"].to_numpy(dtype=float)
    total = _period_counts(period, np_, closed, on_time, hours)
    per_unit = _period_counts(unit * np_ + period, len(unit_names) * np_, closed, on_time, hours)
    per_unit = {k: v.reshape(len(unit_names), np_)[keep] for k, v in per_unit.items()}
    # rows: the total's periods, then each kept unit's periods with cases
    row_t = np.flatnonzero(total["reported"])
    row_u, row_p = np.nonzero(per_unit["reported"])
    out = {k: np.concatenate([total[k][row_t], per_unit[k][row_u, row_p]]) for k in total}
    frame = pd.DataFrame({
        "period": periods.take(np.concatenate([row_t, row_p])),
        "unit": pd.Index(["(all)"]).append(unit_names[keep]).take(
            np.concatenate([np.zeros(len(row_t), dtype=np.intp), row_u + 1])),
        "reported": out["reported"],
        "closed": out["closed"],
        "median_hours": out["median_hours"],
    })
    frame["closure_rate"] = frame["closed"] / frame["reported"]
    frame["on_time_rate"] = out["on_time"] / frame["reported"]
    return frame


def _period_counts(key: np.ndarray, n: int, closed: np.ndarray, on_time: np.ndarray,
                   hours: np.ndarray) -> dict[str, np.ndarray]:
    """Cases, closed cases, cases closed on time and median hours per key (0 … n − 1)."""
    med = pd.Series(hours).groupby(key).median()
    median = np.full(n, np.nan)
    median[med.index.to_numpy()] = med.to_numpy()
    return {
        "reported": np.bincount(key, minlength=n),
        "closed": np.bincount(key[closed], minlength=n),
        "on_time": np.bincount(key[on_time], minlength=n),
        "median_hours": median,
    }


def published_table(table: pd.DataFrame, *, k: int | None = None) -> pd.DataFrame:
    """A closed-loop table (:attr:`ClosedLoop.table`) ready to publish: small counts hidden.

    Counts of 1 to ``k - 1`` are blanked, and with them every rate or time
    they would reveal; then complementary cells, so that no blank can be
    worked out from a published total (:func:`gridmap.privacy.
    suppress_complementary`): the units' totals (the row of incidents outside
    every grid is a group of its own), ``n`` = the four statuses and
    ``overdue`` = closed late + open overdue in each row. The Events page and
    ``gridmap events`` publish this.

    Parameters
    ----------
    table
        The raw table; it is not changed.
    k
        Minimum published count (default :data:`gridmap.privacy.DEFAULT_MIN_COUNT`).
    """
    from .privacy import DEFAULT_MIN_COUNT, suppress_complementary

    counts = ["n", *INCIDENT_STATUSES, "overdue", "closed_late", "open_overdue"]
    # a rate or time of few closed cases reveals them: blank it with its counts
    rates = {"closure_rate": ("closed", "n"), "median_hours": "closed", "p90_hours": "closed",
             "on_time_rate": ("n", "closed", "closed_late"),
             "score": ("n", "closed", "closed_late")}
    return suppress_complementary(
        table, counts, by=(table["unit"] == OUTSIDE).to_numpy(),
        k=DEFAULT_MIN_COUNT if k is None else k, dependent=rates,
        margins={"n": list(INCIDENT_STATUSES), "overdue": ["closed_late", "open_overdue"]})


def published_trend(result: ClosedLoop, *, freq: str = "week", units: list[str] | None = None,
                    k: int | None = None) -> pd.DataFrame:
    """:func:`closed_loop_trend` ready to publish: small counts hidden, with their complements.

    ``reported`` and ``closed`` counts of 1 to ``k - 1`` are blanked, with the
    rates and times they reveal; then complementary cells
    (:func:`gridmap.privacy.suppress_complementary`): the total's periods
    (unit ``"(all)"``) add up to the area's published totals, and the units'
    rows form a unit × period table whose unit totals (the closed-loop table)
    and period totals (the ``"(all)"`` rows) are both published. The Events
    page and ``gridmap events --trend`` publish this.

    Parameters
    ----------
    result
        Output of :func:`closed_loop`.
    freq, units
        As :func:`closed_loop_trend`.
    k
        Minimum published count (default :data:`gridmap.privacy.DEFAULT_MIN_COUNT`).
    """
    from .privacy import DEFAULT_MIN_COUNT, suppress_complementary

    trend = closed_loop_trend(result, freq=freq, units=units)
    k = DEFAULT_MIN_COUNT if k is None else k
    options = {"k": k, "flag": None, "dependent": {
        "closure_rate": ("reported", "closed"), "on_time_rate": ("reported", "closed"),
        "median_hours": "closed"}}
    total = (trend["unit"] == "(all)").to_numpy()
    parts = [suppress_complementary(trend[total], ["reported", "closed"], **options)]
    if not total.all():
        parts.append(suppress_complementary(trend[~total], ["reported", "closed"], by="unit",
                                            also_by="period", **options))
    return pd.concat(parts).loc[trend.index]
