"""Filtering incident points by category, date range, hour of day and weekday.

One filter specification, :class:`PointFilter`, is shared by the heatmaps
(:mod:`gridmap.kde`), aggregation (:mod:`gridmap.aggregate`) and hot spots
(:mod:`gridmap.hotspots`) so the CLI flags ``--category``, ``--from``/``--to``,
``--hours`` and ``--weekdays`` mean the same thing everywhere.

Rules
-----
* ``categories`` keeps rows whose category is one of the given values
  (exact match after stripping spaces; case-insensitive).
* ``start``/``end`` are inclusive calendar dates (``--to 2024-03-31`` keeps the
  whole of 31 March); a time of day may be given too.
* ``hours`` is a set of hours 0–23; ``"18-23"`` is 18:00–23:59 and a range may
  wrap midnight (``"22-2"`` is 22, 23, 0, 1, 2).
* ``weekdays`` uses ISO numbering, 1 = Monday … 7 = Sunday (``"1-5"`` is Monday
  to Friday).
* Timestamps are read as stored (local time); a row without a timestamp is
  excluded by any time filter and counted in the report, never dropped silently.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from ._errors import DataError, SchemaError

__all__ = [
    "FilterResult",
    "PointFilter",
    "apply_filter",
    "parse_hours",
    "parse_weekdays",
]


def _parse_int_ranges(text: str | Iterable[int], *, low: int, high: int, name: str,
                      wrap: bool) -> frozenset[int]:
    if not isinstance(text, str):
        values = [int(v) for v in text]
        bad = [v for v in values if not low <= v <= high]
        if bad:
            raise ValueError(f"{name} must be between {low} and {high}; got {bad}.")
        return frozenset(values)
    out: set[int] = set()
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        try:
            if "-" in part:
                a_text, b_text = part.split("-", 1)
                a, b = int(a_text), int(b_text)
            else:
                a = b = int(part)
        except ValueError:
            raise ValueError(
                f"cannot read {name} {text!r}; write ranges like "
                f"'{low}-{high}' or lists like '{low},{low + 1}'."
            ) from None
        for v in (a, b):
            if not low <= v <= high:
                raise ValueError(f"{name} must be between {low} and {high}; got {v} in {text!r}.")
        if a <= b:
            out.update(range(a, b + 1))
        elif wrap:
            out.update(range(a, high + 1))
            out.update(range(low, b + 1))
        else:
            raise ValueError(f"{name} range {part!r} runs backwards; write it as {b}-{a}.")
    if not out:
        raise ValueError(f"{name} {text!r} selects nothing.")
    return frozenset(out)


def parse_hours(text: str | Iterable[int]) -> frozenset[int]:
    """Parse hours of day such as ``"18-23"``, ``"22-2"`` (wraps midnight) or ``"7,8,17-19"``.

    Returns
    -------
    frozenset of int
        Hours 0–23.
    """
    return _parse_int_ranges(text, low=0, high=23, name="hours", wrap=True)


def parse_weekdays(text: str | Iterable[int]) -> frozenset[int]:
    """Parse ISO weekdays (1 = Monday … 7 = Sunday) such as ``"1-5"`` or ``"6,7"``."""
    return _parse_int_ranges(text, low=1, high=7, name="weekdays", wrap=True)


def _timestamp(value: object, *, end: bool) -> pd.Timestamp | None:
    if value is None or value == "":
        return None
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise ValueError(f"cannot read date {value!r}; write it as YYYY-MM-DD.") from None
    if end and isinstance(value, str) and len(value.strip()) <= 10:
        # a bare date as the end of a range means "to the end of that day"
        ts = ts + pd.Timedelta(days=1) - pd.Timedelta(1, "ns")
    return ts


@dataclass(frozen=True)
class PointFilter:
    """Which points to keep. Empty fields filter nothing.

    Attributes
    ----------
    categories
        Category values to keep (case-insensitive).
    start, end
        Inclusive date range; a bare ``end`` date includes that whole day.
    hours
        Hours of day (0–23) to keep.
    weekdays
        ISO weekdays (1 = Monday … 7 = Sunday) to keep.
    category_column, time_column
        Columns read by the filter.
    """

    categories: tuple[str, ...] = ()
    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None
    hours: frozenset[int] = field(default_factory=frozenset)
    weekdays: frozenset[int] = field(default_factory=frozenset)
    category_column: str = "category"
    time_column: str = "reported_at"

    @classmethod
    def build(
        cls,
        *,
        categories: Sequence[str] | str | None = None,
        start: object = None,
        end: object = None,
        hours: str | Iterable[int] | None = None,
        weekdays: str | Iterable[int] | None = None,
        category_column: str = "category",
        time_column: str = "reported_at",
    ) -> PointFilter:
        """Build a filter from user values (strings as typed on the command line)."""
        if isinstance(categories, str):
            categories = [categories]
        cats = tuple(str(c).strip() for c in (categories or ()) if str(c).strip())
        s = _timestamp(start, end=False)
        e = _timestamp(end, end=True)
        if s is not None and e is not None and e < s:
            raise ValueError(f"--to {end} is before --from {start}; swap them.")
        return cls(
            categories=cats,
            start=s,
            end=e,
            hours=parse_hours(hours) if hours not in (None, "") else frozenset(),
            weekdays=parse_weekdays(weekdays) if weekdays not in (None, "") else frozenset(),
            category_column=category_column,
            time_column=time_column,
        )

    @property
    def uses_time(self) -> bool:
        """True when any of the date, hour or weekday filters is set."""
        return self.start is not None or self.end is not None or bool(self.hours or self.weekdays)

    @property
    def is_empty(self) -> bool:
        """True when the filter keeps every row."""
        return not self.categories and not self.uses_time

    def describe(self) -> str:
        """One line naming the active filters, for captions and reports."""
        parts = []
        if self.categories:
            parts.append("categories " + ", ".join(self.categories))
        if self.start is not None or self.end is not None:
            a = self.start.strftime("%Y-%m-%d") if self.start is not None else "…"
            b = self.end.strftime("%Y-%m-%d") if self.end is not None else "…"
            parts.append(f"dates {a} to {b}")
        if self.hours:
            parts.append("hours " + ",".join(str(h) for h in sorted(self.hours)))
        if self.weekdays:
            parts.append("weekdays " + ",".join(str(d) for d in sorted(self.weekdays)))
        return "; ".join(parts) if parts else "no filter"


@dataclass(frozen=True)
class FilterResult:
    """Filtered points and the row accounting.

    Attributes
    ----------
    data
        The kept rows (a copy).
    report
        Counts: ``input``, ``kept`` and, per filter, the rows it removed
        (``category``, ``no_time``, ``dates``, ``hours``, ``weekdays``). Each
        removed row is counted once, under the first filter that removed it.
    """

    data: gpd.GeoDataFrame
    report: dict[str, int]


def apply_filter(points: gpd.GeoDataFrame, spec: PointFilter | None = None) -> FilterResult:
    """Keep the points that pass ``spec``; count the rest by reason.

    Parameters
    ----------
    points
        Incident (or place) points; the filter's columns must exist when used.
    spec
        The filter; ``None`` keeps everything.

    Returns
    -------
    FilterResult
    """
    spec = spec or PointFilter()
    n = len(points)
    keep = np.ones(n, dtype=bool)
    report = {"input": n}
    if spec.categories:
        if spec.category_column not in points.columns:
            raise SchemaError(
                f"cannot filter by category: no column {spec.category_column!r}; "
                f"columns are {list(points.columns)}."
            )
        wanted = {c.casefold() for c in spec.categories}
        cats = points[spec.category_column].astype("string").str.strip().str.casefold()
        ok = cats.isin(wanted).fillna(False).to_numpy(dtype=bool)
        report["category"] = int((keep & ~ok).sum())
        keep &= ok
    if spec.uses_time:
        if spec.time_column not in points.columns:
            raise SchemaError(
                f"cannot filter by date, hour or weekday: no column {spec.time_column!r}; "
                f"columns are {list(points.columns)}."
            )
        t = pd.to_datetime(points[spec.time_column], errors="coerce")
        if t.dt.tz is not None:
            for attr in ("start", "end"):
                v = getattr(spec, attr)
                if v is not None and v.tzinfo is None:
                    raise DataError(
                        f"{spec.time_column} has time zone {t.dt.tz} but --{attr} has none; "
                        "give the date with the same time zone."
                    )
        has_t = t.notna().to_numpy()
        report["no_time"] = int((keep & ~has_t).sum())
        keep &= has_t
        if spec.start is not None or spec.end is not None:
            ok = np.ones(n, dtype=bool)
            if spec.start is not None:
                ok &= (t >= spec.start).fillna(False).to_numpy(dtype=bool)
            if spec.end is not None:
                ok &= (t <= spec.end).fillna(False).to_numpy(dtype=bool)
            report["dates"] = int((keep & ~ok).sum())
            keep &= ok
        if spec.hours:
            ok = t.dt.hour.isin(list(spec.hours)).fillna(False).to_numpy(dtype=bool)
            report["hours"] = int((keep & ~ok).sum())
            keep &= ok
        if spec.weekdays:
            ok = (t.dt.day_of_week + 1).isin(list(spec.weekdays)).fillna(False).to_numpy(dtype=bool)
            report["weekdays"] = int((keep & ~ok).sum())
            keep &= ok
    report["kept"] = int(keep.sum())
    return FilterResult(data=points.loc[keep].copy(), report=report)
