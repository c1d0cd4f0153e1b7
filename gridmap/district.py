"""District key figures, the 定量化考核 ranking of streets and communities, and the district report.

A :class:`District` holds the layers of one district (grids, cameras,
incidents, optionally streets, communities and residents per grid) and
computes, once each, what the overview page and the report show.

Key figures (:meth:`District.figures`)
--------------------------------------
* **grids** and **grid workers**: one worker per grid unless a ``workers``
  column says otherwise (a missing value counts as one worker);
* **streets** and **communities**: rows of their layers when given, else the
  distinct ``street_code`` / ``community_code`` values of the grids;
* **camera points** (点位, :func:`gridmap.density.point_groups`) and **cameras**
  (every row of the camera layer, planned ones included);
* **grids meeting the density target**: grids whose built camera points per
  km² reach their zone's target (:func:`gridmap.density.camera_density` with
  its default targets, 70 urban and 8 rural points per km²), and their share;
* **incidents this month against last**: the latest *full* month in the data
  (a month is full when the data reach its last day; see
  :func:`latest_full_month`) or a chosen month, against the month before,
  with the change in %;
* **closure rate** (closed / all incidents) and **overdue** incidents (closed
  after their deadline or still open past it, :func:`gridmap.events.closed_loop`,
  default deadline same-day 日清日结, or each incident's own ``time_limit_h`` hours
  when the incidents have that column), over the whole period in the data;
* incidents and cameras **outside every grid**: counted in the district totals
  and listed, never dropped.

Ranking (定量化考核, :meth:`District.ranking`)
----------------------------------------------
Each street (or community) gets four parts, each from 0 (worst) to 1 (best):

* ``density`` = min(completion %, 100) / 100: built camera points per km²
  against the area-weighted target of its grids;
* ``closure`` = closed / incidents;
* ``overdue`` = 1 − overdue / incidents;
* ``rate`` (only with residents): incidents per 1,000 residents, min–max
  scaled and inverted over the units ranked: 1 for the lowest rate, 0 for the
  highest (all equal: 1). A unit with incidents but no residents gets 0.

A unit without incidents gets full marks for ``closure`` and ``overdue``.
``score`` = 100 × Σ wₖ·partₖ / Σ wₖ with the weights of
:data:`DEFAULT_RANK_WEIGHTS` (density 0.3, closure 0.3, overdue 0.2, rate
0.2); without residents the ``rate`` weight is left out and the other three
are rescaled (0.375, 0.375, 0.25). ``rank`` 1 is best; equal scores share the
better rank.

Report (:func:`district_report`)
--------------------------------
A :class:`gridmap.report.Report` in Chinese or English with the key figures,
two static maps (grids coloured by density status; incidents per grid with
counts of 1 to k − 1 suppressed), density compliance by zone, street and
community, the rankings, monthly incidents and closure rate by street, and the
data sources with their dates (and, for the demo, its synthetic label).
Published incident counts per unit (ranking tables, the map) are suppressed
below ``k`` (default 5) together with the rates derived from them; in the
ranking tables so are the counts with which the district's total (for
communities, their street's) would give a small one away (shown as ``*``, see
:func:`gridmap.privacy.suppress_complementary`). District totals are not.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ._errors import DataError, SchemaError
from ._validate import require_crs, require_nonempty
from .assign import pick_grid_id
from .crs import to_metric
from .density import DensityResult, camera_density, point_groups
from .events import OUTSIDE, ClosedLoop, closed_loop
from .i18n import register, tr
from .privacy import DEFAULT_MIN_COUNT, suppress_complementary
from .report import Report, cjk_font

__all__ = [
    "DEFAULT_RANK_WEIGHTS",
    "District",
    "KeyFigures",
    "MonthChange",
    "data_sources",
    "deadline_text",
    "district_report",
    "grid_workers",
    "latest_full_month",
    "month_change",
    "monthly_counts",
    "parent_units",
    "ranking_table",
    "read_meta",
]

#: Weights of the ranking parts (see the module docstring).
DEFAULT_RANK_WEIGHTS: dict[str, float] = {
    "density": 0.3, "closure": 0.3, "overdue": 0.2, "rate": 0.2,
}
_UNIT_COLUMN = {"street": "street_code", "community": "community_code"}
_NAME_COLUMN = {"street": "street_name", "community": "community_name"}

register({
    "page.report": {"zh": "区县报告", "en": "District report"},
    # key figures
    "district.fig.grid_workers": {"zh": "网格员", "en": "Grid workers"},
    "district.fig.density_met": {"zh": "密度达标网格", "en": "Grids meeting density target"},
    "district.fig.density_met_value": {"zh": "{share}（{n}/{total}）",
                                       "en": "{share} ({n} of {total})"},
    "district.fig.incidents_month": {"zh": "本月事件（{month}）", "en": "Incidents in {month}"},
    "district.fig.incidents_previous": {"zh": "上月事件（{month}）", "en": "Incidents in {month}"},
    "district.fig.change": {"zh": "环比变化", "en": "Change on the month before"},
    "district.fig.incidents_all": {"zh": "事件总数（{start} 至 {end}）",
                                   "en": "Incidents, {start} to {end}"},
    "district.fig.closure_rate": {"zh": "结案率", "en": "Closure rate"},
    "district.fig.overdue": {"zh": "超期事件", "en": "Overdue incidents"},
    "district.fig.open_overdue": {"zh": "其中未结超期", "en": "of which still open"},
    "district.fig.incidents_outside": {"zh": "网格外事件", "en": "Incidents outside every grid"},
    "district.fig.cameras_outside": {"zh": "网格外摄像机", "en": "Cameras outside every grid"},
    "district.fig.partial": {"zh": "（数据未覆盖整月）", "en": " (the data do not cover the whole month)"},
    # report
    "district.report.title": {"zh": "{name}网格化管理与视频监控报告",
                              "en": "{name} grid management and video network report"},
    "district.report.district": {"zh": "本区县", "en": "District"},
    "district.report.subtitle": {
        "zh": "报告月份 {month}（对比 {previous}）· 事件数据 {start} 至 {end} · 办结时限：{deadline}",
        "en": "Month {month} (against {previous}) · incidents {start} to {end} · "
              "deadline: {deadline}",
    },
    "district.deadline.same-day": {"zh": "日清日结", "en": "same day (日清日结)"},
    "district.deadline.own": {
        "zh": "各事件自身时限（{column} 列，小时；缺失时为{deadline}）",
        "en": "each incident's own time limit (column {column}, hours; {deadline} where missing)",
    },
    "district.sec.summary": {"zh": "概要", "en": "Summary"},
    "district.continued": {"zh": "（续）", "en": " (continued)"},
    "district.sec.figures": {"zh": "关键指标", "en": "Key figures"},
    "district.sec.map_density": {"zh": "地图：网格监控点位密度达标情况",
                                 "en": "Map: camera density target by grid"},
    "district.sec.map_incidents": {"zh": "地图：各网格事件数", "en": "Map: incidents per grid"},
    "district.sec.density_zone": {"zh": "密度达标：按城乡分区", "en": "Density compliance by zone"},
    "district.sec.density_street": {"zh": "密度达标：按街道", "en": "Density compliance by street"},
    "district.sec.density_community": {"zh": "密度达标：按社区",
                                       "en": "Density compliance by community"},
    "district.sec.rank_street": {"zh": "定量化考核排名：街道", "en": "Ranking of streets (定量化考核)"},
    "district.sec.rank_community": {"zh": "定量化考核排名：社区",
                                    "en": "Ranking of communities (定量化考核)"},
    "district.sec.chart_monthly": {"zh": "图表：每月事件数", "en": "Chart: incidents per month"},
    "district.sec.chart_closure": {"zh": "图表：各街道结案率", "en": "Chart: closure rate by street"},
    "district.sec.sources": {"zh": "数据来源及日期", "en": "Data sources and their dates"},
    "district.sec.method": {"zh": "方法说明", "en": "Method"},
    "district.summary": {
        "zh": "本区县共有网格 {grids} 个、网格员 {workers} 名；监控点位 {points} 个、摄像机 {cameras} 台。"
              "{met_share} 的网格达到点位密度目标。{month} 共有事件 {n_month} 件，上月 {n_prev} 件"
              "（{change}）。全期结案率 {closure}，超期事件 {overdue} 件。",
        "en": "The district has {grids} grids and {workers} grid workers, {points} camera points "
              "and {cameras} cameras. {met_share} of the grids meet the camera density target. "
              "{month} had {n_month} incidents against {n_prev} the month before ({change}). "
              "Closure rate over the whole period: {closure}; overdue incidents: {overdue}.",
    },
    "district.change.none": {"zh": "上月无事件，无法计算环比", "en": "no incidents the month before"},
    "district.method": {
        "zh": "点位密度：已建监控点位数 / 面积（km²），目标默认城区 70、农村 8 个/km²；规划点位不计。"
              "定量化考核得分 = 100 × 加权平均（密度完成率，上限 100% · 权重 {w_density}；结案率 · "
              "{w_closure}；1 − 超期占比 · {w_overdue}{rate_part}）。排名 1 为最好，同分并列。"
              "事件的办结时限为{deadline}，未结事件按数据中的最新时间 {now} 判定。"
              "隐私：各网格、街道、社区的事件数 1 至 {k_minus} 件不公开（显示为“<{k}”），"
              "由其计算的比率一并隐去；只公布汇总数，不含任何事件点位。",
        "en": "Camera density: built camera points per km², against a target of 70 (urban) and "
              "8 (rural) points per km² by default; planned points do not count. Ranking score "
              "(定量化考核) = 100 × the weighted mean of: density completion capped at 100 % "
              "(weight {w_density}), closure rate ({w_closure}), 1 − overdue share "
              "({w_overdue}){rate_part}. Rank 1 is best; equal scores share a rank. Deadline: "
              "{deadline}; open incidents are judged at the latest time in the data, {now}. "
              "Privacy: incident counts of 1 to {k_minus} per grid, street or community are not "
              "published (shown as “<{k}”), nor are the rates derived from them; only totals are "
              "published, never incident locations.",
    },
    "district.method.rate": {"zh": "；每千人事件数（越低越好，最小–最大归一）· {w_rate}",
                             "en": ", incidents per 1,000 residents (lower is better, "
                                   "min–max scaled; {w_rate})"},
    "district.method.no_rate": {"zh": "（无人口数据，不含每千人事件数）",
                                "en": " (no residents data: incidents per 1,000 residents "
                                      "left out)"},
    "district.note.outside": {"zh": "{n} 件事件不在任何网格内，计入全区合计，不计入任何网格。",
                              "en": "{n} incidents lie outside every grid: they count in the "
                                    "district totals but in no grid."},
    "district.note.cameras_outside": {"zh": "{n} 台摄像机不在任何网格内，未计入密度。",
                                      "en": "{n} cameras lie outside every grid and are not "
                                            "counted in any density."},
    "district.note.suppressed": {"zh": "少于 {k} 的计数不公开。",
                                 "en": "Counts below {k} are not published."},
    "district.note.complement": {"zh": "标 * 者：为免由合计推算出少于 {k} 的计数而不公开。",
                                 "en": "* withheld so that a total cannot reveal a count below "
                                       "{k}."},
    # table headers
    "district.col.unit": {"zh": "编码", "en": "Code"},
    "district.col.name": {"zh": "名称", "en": "Name"},
    "district.col.zone": {"zh": "分区", "en": "Zone"},
    "district.col.grids": {"zh": "网格数", "en": "Grids"},
    "district.col.area_km2": {"zh": "面积（km²）", "en": "Area (km²)"},
    "district.col.points": {"zh": "已建点位", "en": "Built points"},
    "district.col.density": {"zh": "密度（个/km²）", "en": "Points per km²"},
    "district.col.target": {"zh": "目标（个/km²）", "en": "Target per km²"},
    "district.col.completion": {"zh": "完成率 %", "en": "Completion %"},
    "district.col.shortfall": {"zh": "缺口点位", "en": "Points short"},
    "district.col.status": {"zh": "达标", "en": "Status"},
    "district.col.units_met": {"zh": "达标单元", "en": "Units meeting target"},
    "district.col.incidents": {"zh": "事件数", "en": "Incidents"},
    "district.col.closure": {"zh": "结案率 %", "en": "Closure %"},
    "district.col.overdue": {"zh": "超期数", "en": "Overdue"},
    "district.col.overdue_share": {"zh": "超期占比 %", "en": "Overdue %"},
    "district.col.per_1000": {"zh": "每千人事件", "en": "Per 1,000 residents"},
    "district.col.score": {"zh": "得分", "en": "Score"},
    "district.col.rank": {"zh": "排名", "en": "Rank"},
    "district.col.figure": {"zh": "指标", "en": "Figure"},
    "district.col.value": {"zh": "数值", "en": "Value"},
    "district.col.file": {"zh": "文件", "en": "File"},
    "district.col.description": {"zh": "说明", "en": "Description"},
    "district.col.modified": {"zh": "修改时间", "en": "Modified"},
    "district.col.month": {"zh": "月份", "en": "Month"},
    "district.status.met": {"zh": "达标", "en": "met"},
    "district.status.short": {"zh": "未达标", "en": "short"},
    "district.zone.urban": {"zh": "城区", "en": "urban"},
    "district.zone.rural": {"zh": "农村", "en": "rural"},
    "district.zone.all": {"zh": "全区", "en": "all"},
    "district.zone.unknown": {"zh": "未知", "en": "unknown"},
    # maps and charts
    "district.legend.met": {"zh": "达到密度目标", "en": "meets the density target"},
    "district.legend.short": {"zh": "未达到密度目标", "en": "below the density target"},
    "district.legend.streets": {"zh": "街道界线", "en": "street boundaries"},
    "district.legend.zero": {"zh": "0 件", "en": "none"},
    "district.legend.suppressed": {"zh": "少于 {k} 件（不公开）", "en": "fewer than {k} (suppressed)"},
    "district.legend.withheld": {"zh": "少于 {k} 件，或可据此推算出小数（不公开）",
                                 "en": "fewer than {k}, or would let one be worked out (withheld)"},
    "district.legend.incidents": {"zh": "事件数（每网格）", "en": "Incidents per grid"},
    "district.chart.incidents": {"zh": "事件数", "en": "Incidents"},
    "district.chart.closure": {"zh": "结案率（%）", "en": "Closure rate (%)"},
    "district.chart.month": {"zh": "报告月份及上月", "en": "report month and the month before"},
    "district.scale": {"zh": "{km} 千米", "en": "{km} km"},
    # data sources
    "district.src.grids.gpkg": {"zh": "网格、社区、街道图层（GeoPackage）",
                                "en": "grids, communities and streets (GeoPackage)"},
    "district.src.cameras.csv": {"zh": "摄像机点位表", "en": "camera table"},
    "district.src.incidents.parquet": {"zh": "事件（GeoParquet）", "en": "incidents (GeoParquet)"},
    "district.src.places.csv": {"zh": "重点场所", "en": "places"},
    "district.src.population.tif": {"zh": "人口栅格（人/格）", "en": "population raster (persons per cell)"},
    "district.src.roads.gpkg": {"zh": "道路", "en": "roads"},
    "district.src.buildings.gpkg": {"zh": "建筑轮廓", "en": "building footprints"},
    "district.src.boundary.geojson": {"zh": "区县边界", "en": "district boundary"},
    "district.src.meta.json": {"zh": "演示数据说明：{label}；生成器 {generator} 第 {version} 版，"
                                     "规模 {scale}，随机种子 {seed}",
                               "en": "demo description: {label}; generator {generator} version "
                                     "{version}, scale {scale}, seed {seed}"},
    "district.src.other": {"zh": "{kind} 文件", "en": "{kind} file"},
    "district.src.synthetic": {"zh": "合成演示数据（非真实数据）",
                               "en": "Synthetic demo district — not real data"},
})


# ------------------------------------------------------------------ small helpers


def _times(incidents: pd.DataFrame, column: str = "reported_at") -> pd.Series:
    if column not in incidents.columns:
        raise SchemaError(
            f"incidents have no {column!r} column; monthly figures need the report time."
        )
    t = pd.to_datetime(incidents[column], errors="coerce")
    if getattr(t.dt, "tz", None) is not None:
        t = t.dt.tz_localize(None)
    return t


def grid_workers(grids: pd.DataFrame, *, column: str = "workers") -> int:
    """Grid workers (网格员): one per grid unless ``column`` says otherwise.

    Missing or unreadable values count as one worker; negative values are an error.

    Raises
    ------
    DataError
        When ``column`` holds a negative number.
    """
    if column not in grids.columns:
        return len(grids)
    n = pd.to_numeric(grids[column], errors="coerce")
    if (n < 0).any():
        raise DataError(f"grids column {column!r} has negative worker counts; fix the file.")
    return int(n.fillna(1).round().sum())


def monthly_counts(incidents: pd.DataFrame, *, column: str = "reported_at") -> pd.Series:
    """Incidents reported per calendar month, every month from the first to the last (zeros kept).

    Returns
    -------
    pandas.Series
        ``int64`` counts indexed by a monthly :class:`pandas.PeriodIndex`
        (empty when no time is readable).
    """
    t = _times(incidents, column).dropna()
    if t.empty:
        return pd.Series([], index=pd.PeriodIndex([], freq="M"), dtype="int64", name="incidents")
    months = t.dt.to_period("M")
    full = pd.period_range(months.min(), months.max(), freq="M")
    return months.value_counts().reindex(full, fill_value=0).astype("int64").rename("incidents")


def latest_full_month(incidents: pd.DataFrame, *, column: str = "reported_at") -> pd.Period:
    """The latest month the data cover to its last day.

    The month of the latest report time counts when that time falls on the
    month's last day; otherwise the month before. When the data span less than
    one full month, the latest month is returned even though it is partial.

    Raises
    ------
    DataError
        When no report time is readable.
    """
    t = _times(incidents, column).dropna()
    if t.empty:
        raise DataError(f"no incident has a readable {column}; check the incident file.")
    last = t.max()
    month = last.to_period("M")
    if last.normalize() < month.end_time.normalize():
        month -= 1
    return max(month, t.min().to_period("M"))


@dataclass(frozen=True)
class MonthChange:
    """Incidents of one month against the month before.

    Attributes
    ----------
    month, previous
        The month and the month before.
    n, n_previous
        Incidents reported in each.
    change_pct
        ``100 × (n − n_previous) / n_previous``; NaN when ``n_previous`` is 0.
    full
        False when the data do not reach the month's last day.
    """

    month: pd.Period
    previous: pd.Period
    n: int
    n_previous: int
    change_pct: float
    full: bool


def _parse_month(month: object) -> pd.Period:
    if isinstance(month, pd.Period):
        return month.asfreq("M")
    text = str(month).strip()
    # strict: pandas would read "March" as the year 1
    if re.fullmatch(r"\d{4}-(0?[1-9]|1[0-2])", text) is None:
        raise DataError(f"cannot read month {month!r}; write it as YYYY-MM, e.g. 2025-06.")
    return pd.Period(text, freq="M")


def month_change(incidents: pd.DataFrame, *, month: object = None,
                 column: str = "reported_at") -> MonthChange:
    """Incidents of ``month`` (default :func:`latest_full_month`) against the month before.

    Raises
    ------
    DataError
        When ``month`` is not ``YYYY-MM`` or lies outside the months of the data.
    """
    counts = monthly_counts(incidents, column=column)
    if counts.empty:
        raise DataError(f"no incident has a readable {column}; check the incident file.")
    m = latest_full_month(incidents, column=column) if month is None else _parse_month(month)
    if m not in counts.index:
        raise DataError(
            f"month {m} is outside the incident data ({counts.index[0]} to {counts.index[-1]}); "
            "pick a month inside it."
        )
    prev = m - 1
    n = int(counts.get(m, 0))
    n_prev = int(counts.get(prev, 0))
    change = 100.0 * (n - n_prev) / n_prev if n_prev else float("nan")
    t = _times(incidents, column).dropna()
    full = bool(t.max().normalize() >= m.end_time.normalize()
                and t.min().normalize() <= m.start_time)
    return MonthChange(month=m, previous=prev, n=n, n_previous=n_prev, change_pct=change,
                       full=full)


def _pct(x: float, digits: int = 1) -> str:
    return "–" if x is None or not np.isfinite(x) else f"{100 * x:.{digits}f}%"


def _signed_pct(x: float) -> str:
    return "–" if not np.isfinite(x) else f"{x:+.1f}%"


@dataclass(frozen=True)
class KeyFigures:
    """The district's key figures (see the module docstring); :meth:`table` lists them."""

    grids: int
    grid_workers: int
    streets: int
    communities: int
    camera_points: int
    cameras: int
    grids_met: int
    incidents: int
    incidents_outside: int
    cameras_outside: int
    closure_rate: float
    overdue: int
    open_overdue: int
    month: MonthChange | None
    start: pd.Timestamp | None
    end: pd.Timestamp | None
    deadline: str
    now: pd.Timestamp | None
    notes: list[str] = field(default_factory=list)
    time_limit: str | None = None  # column of per-incident limits used, if any

    @property
    def grids_met_share(self) -> float:
        """Share (0–1) of grids meeting the density target."""
        return self.grids_met / self.grids if self.grids else float("nan")

    def table(self, lang: str) -> pd.DataFrame:
        """The figures as a two-column table (figure, value) in ``lang``."""
        rows = [
            (tr("fig.grids", lang), f"{self.grids:,}"),
            (tr("district.fig.grid_workers", lang), f"{self.grid_workers:,}"),
            (tr("fig.streets", lang), f"{self.streets:,}"),
            (tr("fig.communities", lang), f"{self.communities:,}"),
            (tr("fig.camera_points", lang), f"{self.camera_points:,}"),
            (tr("fig.cameras", lang), f"{self.cameras:,}"),
            (tr("district.fig.density_met", lang),
             tr("district.fig.density_met_value", lang, share=_pct(self.grids_met_share),
                n=f"{self.grids_met:,}", total=f"{self.grids:,}")),
        ]
        if self.month is not None:
            m = self.month
            partial = "" if m.full else tr("district.fig.partial", lang)
            rows += [
                (tr("district.fig.incidents_month", lang, month=str(m.month)) + partial,
                 f"{m.n:,}"),
                (tr("district.fig.incidents_previous", lang, month=str(m.previous)),
                 f"{m.n_previous:,}"),
                (tr("district.fig.change", lang), _signed_pct(m.change_pct)),
            ]
        if self.start is not None:
            rows.append((tr("district.fig.incidents_all", lang, start=f"{self.start:%Y-%m-%d}",
                            end=f"{self.end:%Y-%m-%d}"), f"{self.incidents:,}"))
        rows += [
            (tr("district.fig.closure_rate", lang), _pct(self.closure_rate)),
            (tr("district.fig.overdue", lang), f"{self.overdue:,}"),
            (tr("district.fig.open_overdue", lang), f"{self.open_overdue:,}"),
            (tr("district.fig.incidents_outside", lang), f"{self.incidents_outside:,}"),
            (tr("district.fig.cameras_outside", lang), f"{self.cameras_outside:,}"),
        ]
        return pd.DataFrame(rows, columns=[tr("district.col.figure", lang),
                                           tr("district.col.value", lang)])


# --------------------------------------------------------------------- the district


@dataclass(frozen=True, eq=False)
class District:
    """The layers of one district and the figures computed from them (each once).

    Parameters
    ----------
    grids
        Grid polygons (any CRS) with ``grid_id``, ``zone``, ``street_code`` and
        ``community_code`` (a ``workers`` column is read when present).
    cameras
        Camera points with ``camera_id`` (``point_id``, ``status`` used when present).
    incidents
        Incident points with ``reported_at`` and ``status`` and/or ``closed_at``
        (may be empty).
    streets, communities
        Their layers with ``street_code``/``community_code`` and ``name``
        (optional: names then come from the grids' ``street_name`` /
        ``community_name`` columns, else the codes).
    population
        Residents: a population GeoTIFF path or :class:`gridmap.kde.Raster`
        (summed per grid with :func:`gridmap.population.zonal_population`), or
        one value per grid aligned with ``grids``; ``None`` leaves
        incidents per 1,000 residents out of the ranking.
    deadline
        Deadline rule of :func:`gridmap.events.closed_loop` (default same-day).
    time_limit
        Per-incident time limits of :func:`gridmap.events.closed_loop`:
        ``"auto"`` (default) uses the ``time_limit_h`` column (hours) when the
        incidents have it, ``deadline`` where a limit is missing; a column
        name; or ``None`` to judge every case by ``deadline``.
    targets
        Density targets per zone (default :data:`gridmap.density.DEFAULT_TARGETS`).
    workers
        Column holding the grid workers per grid.

    The layers are shared, never modified.
    """

    grids: gpd.GeoDataFrame
    cameras: gpd.GeoDataFrame
    incidents: gpd.GeoDataFrame
    streets: gpd.GeoDataFrame | None = None
    communities: gpd.GeoDataFrame | None = None
    population: Any = None
    deadline: str = "same-day"
    time_limit: str | None = "auto"
    targets: Mapping[str, float] | None = None
    workers: str = "workers"

    def __post_init__(self) -> None:
        require_crs(self.grids, layer="grids")
        require_nonempty(self.grids, layer="grids")
        require_crs(self.cameras, layer="cameras")
        require_crs(self.incidents, layer="incidents")

    # -- computed once -------------------------------------------------------
    @cached_property
    def grid_ids(self) -> np.ndarray:
        """Grid id of every grid as text (``grid_id``, else the first unique column, else the index)."""
        col = pick_grid_id(self.grids)
        values = self.grids[col] if col is not None else self.grids.index.to_series()
        return values.astype(str).to_numpy()

    @cached_property
    def density(self) -> DensityResult:
        """Camera density per grid (:func:`gridmap.density.camera_density`)."""
        return camera_density(self.cameras, self.grids, targets=self.targets)

    @cached_property
    def loop(self) -> ClosedLoop | None:
        """The closed-loop state of every incident, :attr:`ClosedLoop.cases` (``None`` without incidents).

        Only the cases (with their grid) are used; the per-unit table is made
        for streets when the grids have them, as few units are quickest.
        """
        if len(self.incidents) == 0:
            return None
        by = "street" if "street_code" in self.grids.columns else "grid"
        return closed_loop(self.incidents, self.grids, by=by, deadline=self.deadline,
                           time_limit=self.time_limit)

    @cached_property
    def grid_population(self) -> np.ndarray | None:
        """Residents per grid, aligned with the grids (``None`` when not given)."""
        pop = self.population
        if pop is None:
            return None
        if isinstance(pop, str | Path) or hasattr(pop, "transform"):
            from .population import zonal_population

            return zonal_population(pop, self.grids, column="_pop")["_pop"].to_numpy(dtype=float)
        values = np.asarray(pop, dtype=float)
        if values.shape != (len(self.grids),):
            raise DataError(
                f"population has {values.size} values for {len(self.grids)} grids; give one "
                "value per grid, or a raster."
            )
        return values

    @cached_property
    def incidents_per_grid(self) -> np.ndarray:
        """Incidents per grid, aligned with the grids."""
        if self.loop is None:
            return np.zeros(len(self.grids), dtype=np.int64)
        counts = self.loop.cases["grid"].astype(str).value_counts()
        return counts.reindex(self.grid_ids, fill_value=0).to_numpy(dtype=np.int64)

    # -- names ---------------------------------------------------------------
    def names(self, by: str) -> dict[str, str]:
        """Unit code → name for ``by`` = ``street`` or ``community`` (codes as text)."""
        code = _UNIT_COLUMN[by]
        layer = self.streets if by == "street" else self.communities
        out: dict[str, str] = {}
        name_col = _NAME_COLUMN[by]
        if name_col in self.grids.columns and code in self.grids.columns:
            pairs = self.grids[[code, name_col]].dropna().drop_duplicates(subset=code)
            out.update(zip(pairs[code].astype(str), pairs[name_col].astype(str), strict=True))
        if layer is not None and code in layer.columns and "name" in layer.columns:
            pairs = layer[[code, "name"]].dropna()
            out.update(zip(pairs[code].astype(str), pairs["name"].astype(str), strict=True))
        return out

    def _count_units(self, by: str, layer: gpd.GeoDataFrame | None) -> int:
        if layer is not None:
            return len(layer)
        col = _UNIT_COLUMN[by]
        return int(self.grids[col].nunique()) if col in self.grids.columns else 0

    # -- key figures ---------------------------------------------------------
    def figures(self, *, month: object = None) -> KeyFigures:
        """The key figures; ``month`` (``YYYY-MM``) picks the month compared with the one before."""
        dens = self.density
        grids_met = int((dens.table["status"] == "met").sum())
        points = point_groups(self.cameras)
        loop = self.loop
        notes = list(dens.notes)
        if loop is None:
            closure, overdue, open_overdue, outside = float("nan"), 0, 0, 0
            mc, start, end, now = None, None, None, None
        else:
            cases = loop.cases
            closure = float((cases["status"] == "closed").mean())
            overdue = int(cases["overdue"].sum())
            open_overdue = int(cases["open_overdue"].sum())
            outside = int((cases["grid"] == OUTSIDE).sum())
            t = _times(self.incidents).dropna()
            start, end, now = (t.min(), t.max(), loop.now) if len(t) else (None, None, loop.now)
            mc = month_change(self.incidents, month=month) if len(t) else None
            if outside:
                notes.append(f"{outside} incident(s) lie outside every grid")
        return KeyFigures(
            grids=len(self.grids),
            grid_workers=grid_workers(self.grids, column=self.workers),
            streets=self._count_units("street", self.streets),
            communities=self._count_units("community", self.communities),
            camera_points=int(points.nunique()),
            cameras=len(self.cameras),
            grids_met=grids_met,
            incidents=len(self.incidents),
            incidents_outside=outside,
            cameras_outside=len(dens.outside),
            closure_rate=closure,
            overdue=overdue,
            open_overdue=open_overdue,
            month=mc,
            start=start,
            end=end,
            deadline=str(self.deadline),
            now=now,
            notes=notes,
            time_limit=loop.time_limit if loop is not None else None,
        )

    # -- tables --------------------------------------------------------------
    def compliance(self, by: str) -> pd.DataFrame:
        """Density against targets per ``grid``, ``community``, ``street`` or ``zone`` (no geometry)."""
        if by == "grid":
            res = self.density
        else:
            res = camera_density(self.cameras, self.grids, by=by, targets=self.targets)
        table = pd.DataFrame(res.table.drop(columns=res.table.geometry.name))
        table["unit"] = table["unit"].astype(str)
        if by in _UNIT_COLUMN:
            table.insert(1, "name", table["unit"].map(self.names(by)))
        return table

    def compliance_summary(self) -> pd.DataFrame:
        """Density per zone and for the whole district (``zone`` = ``all``)."""
        return self.density.summary.copy()

    def ranking(self, by: str, *, weights: Mapping[str, float] | None = None) -> pd.DataFrame:
        """The 定量化考核 ranking of streets or communities (see the module docstring).

        Returns
        -------
        pandas.DataFrame
            One row per unit, best first: ``unit``, ``name``, ``grids``,
            ``area_km2``, ``points``, ``target``, ``completion_pct``,
            ``incidents``, ``closed``, ``closure_rate``, ``overdue``,
            ``overdue_share``, ``population``, ``per_1000``, the parts
            ``part_density``, ``part_closure``, ``part_overdue``, ``part_rate``,
            ``score`` (0–100) and ``rank``.
        """
        if by not in _UNIT_COLUMN:
            raise ValueError(f"rank by 'street' or 'community', got {by!r}.")
        col = _UNIT_COLUMN[by]
        if col not in self.grids.columns:
            raise SchemaError(f"grids have no {col!r} column, so {by}s cannot be ranked; add it.")
        w = dict(DEFAULT_RANK_WEIGHTS if weights is None else weights)
        unknown = set(w) - set(DEFAULT_RANK_WEIGHTS)
        if unknown:
            raise ValueError(f"unknown ranking parts {sorted(unknown)}; use "
                             f"{sorted(DEFAULT_RANK_WEIGHTS)}.")
        if any(v < 0 for v in w.values()):
            raise ValueError("ranking weights must not be negative.")
        pop = self.grid_population
        if pop is None:
            w.pop("rate", None)
        total_w = sum(w.values())
        if not total_w > 0:
            raise ValueError("ranking weights must add up to more than 0.")

        dens = self.compliance(by).set_index("unit")
        units = pd.Series(self.grids[col].astype(str).to_numpy())
        per_grid = pd.DataFrame({
            "unit": units,
            "incidents": self.incidents_per_grid,
            "population": pop if pop is not None else np.nan,
        })
        if self.loop is not None:
            cases = self.loop.cases
            gid_unit = dict(zip(self.grid_ids, units, strict=True))
            inside = cases[cases["grid"] != OUTSIDE]
            case_unit = inside["grid"].astype(str).map(gid_unit)
            g = pd.DataFrame({"_unit": case_unit.to_numpy(),
                              "closed": (inside["status"] == "closed").to_numpy(),
                              "overdue": inside["overdue"].to_numpy(dtype=bool)}).groupby("_unit")
            closed = g["closed"].sum().astype(int)
            overdue = g["overdue"].sum().astype(int)
        else:
            closed = overdue = pd.Series(dtype="int64")
        agg = per_grid.groupby("unit").agg(grids=("unit", "size"), incidents=("incidents", "sum"),
                                           population=("population", "sum"))
        if pop is None:
            agg["population"] = np.nan
        out = pd.DataFrame({
            "unit": agg.index.astype(str),
            "name": agg.index.map(self.names(by)),
            "grids": agg["grids"].to_numpy(dtype=int),
            "area_km2": dens["area_km2"].reindex(agg.index).to_numpy(dtype=float),
            "points": dens["points"].reindex(agg.index).to_numpy(dtype=int),
            "target": dens["target"].reindex(agg.index).to_numpy(dtype=float),
            "completion_pct": dens["completion_pct"].reindex(agg.index).to_numpy(dtype=float),
            "incidents": agg["incidents"].to_numpy(dtype=int),
            "closed": closed.reindex(agg.index, fill_value=0).to_numpy(dtype=int),
            "overdue": overdue.reindex(agg.index, fill_value=0).to_numpy(dtype=int),
            "population": agg["population"].to_numpy(dtype=float),
        })
        n = out["incidents"].to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            out["closure_rate"] = np.where(n > 0, out["closed"] / n, np.nan)
            out["overdue_share"] = np.where(n > 0, out["overdue"] / n, np.nan)
            popv = out["population"].to_numpy(dtype=float)
            rate = np.where(popv > 0, 1000.0 * n / popv, np.where(n == 0, 0.0, np.nan))
        out["per_1000"] = rate if pop is not None else np.nan
        out["part_density"] = np.clip(np.nan_to_num(out["completion_pct"] / 100.0, nan=0.0), 0, 1)
        out["part_closure"] = np.where(n > 0, out["closure_rate"], 1.0)
        out["part_overdue"] = np.where(n > 0, 1.0 - out["overdue_share"], 1.0)
        if pop is not None:
            finite = np.isfinite(rate)
            lo, hi = (rate[finite].min(), rate[finite].max()) if finite.any() else (0.0, 0.0)
            with np.errstate(divide="ignore", invalid="ignore"):
                part = np.where(hi > lo, (hi - rate) / (hi - lo), 1.0)
            out["part_rate"] = np.where(finite, part, 0.0)
        else:
            out["part_rate"] = np.nan
        score = sum(wk * out[f"part_{k}"].to_numpy(dtype=float) for k, wk in w.items())
        out["score"] = np.round(100.0 * score / total_w, 2)
        out["rank"] = out["score"].rank(ascending=False, method="min").astype("int64")
        cols = ["unit", "name", "grids", "area_km2", "points", "target", "completion_pct",
                "incidents", "closed", "closure_rate", "overdue", "overdue_share", "population",
                "per_1000", "part_density", "part_closure", "part_overdue", "part_rate", "score",
                "rank"]
        return out[cols].sort_values(["rank", "unit"]).reset_index(drop=True)

    def monthly(self) -> pd.Series:
        """Incidents per month (:func:`monthly_counts`)."""
        if len(self.incidents) == 0:
            return pd.Series([], index=pd.PeriodIndex([], freq="M"), dtype="int64")
        return monthly_counts(self.incidents)


# ------------------------------------------------------------------ data sources


def data_sources(folder: str | Path, *, lang: str = "zh") -> pd.DataFrame:
    """The files of a data folder with what they hold and when they were last modified.

    ``meta.json`` (written by :func:`gridmap.demo.generate`) is described from
    its content: the synthetic label, generator, scale and seed.

    Returns
    -------
    pandas.DataFrame
        ``file``, ``description``, ``modified`` (local time, ``YYYY-MM-DD HH:MM``).

    Raises
    ------
    DataError
        When ``folder`` is not a folder.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder} is not a folder; give the data folder.")
    rows = []
    for path in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")):
        key = f"district.src.{path.name}"
        if path.name == "meta.json":
            desc = _meta_description(path, lang)
        else:
            from .i18n import has

            desc = (tr(key, lang) if has(key)
                    else tr("district.src.other", lang, kind=path.suffix.lstrip(".") or "?"))
        modified = datetime.fromtimestamp(path.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
        rows.append((path.name, desc, modified))
    return pd.DataFrame(rows, columns=["file", "description", "modified"])


def read_meta(folder: str | Path) -> dict:
    """The ``meta.json`` of a demo folder (``{}`` when the folder has none).

    Raises
    ------
    DataError
        When the file exists but cannot be read as JSON.
    """
    path = Path(folder) / "meta.json"
    if not path.is_file():
        return {}
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: cannot read the demo description ({exc}); regenerate the "
                        "folder with `gridmap demo --out DIR`.") from exc
    if not isinstance(meta, dict):
        raise DataError(f"{path}: expected a JSON object; regenerate the folder with "
                        "`gridmap demo --out DIR`.")
    return meta


def _meta_description(path: Path, lang: str) -> str:
    meta = read_meta(path.parent)
    label = (tr("district.src.synthetic", lang) if meta.get("synthetic")
             else str(meta.get("label", "")))
    return tr("district.src.meta.json", lang, label=label,
              generator=meta.get("generator", "?"), version=meta.get("generator_version", "?"),
              scale=meta.get("scale", "?"), seed=meta.get("seed", "?"))


# ------------------------------------------------------------------ the report

_MET, _SHORT = "#1a9850", "#fdae61"
_ZERO, _SUPPRESSED = "#f7f7f7", "#bdbdbd"
_RAMP = ("#fee8c8", "#fdbb84", "#fc8d59", "#e34a33", "#b30000")


def _rc() -> dict:
    font = cjk_font()
    return {"font.family": [font, "DejaVu Sans"] if font else ["DejaVu Sans"],
            "axes.unicode_minus": False}


def _scale_bar(ax, metric: gpd.GeoDataFrame, lang: str) -> None:
    x0, y0, x1, y1 = metric.total_bounds
    width = x1 - x0
    nice = [0.5, 1, 2, 5, 10, 20, 50, 100]
    km = next((n for n in nice if n * 1000 >= width / 6), nice[-1])
    bx, by = x0 + 0.03 * width, y0 + 0.03 * (y1 - y0)
    ax.plot([bx, bx + km * 1000], [by, by], color="#222", linewidth=3, solid_capstyle="butt")
    ax.text(bx, by + 0.015 * (y1 - y0), tr("district.scale", lang, km=f"{km:g}"), fontsize=8)


def _map_density(d: District, lang: str):
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    metric = to_metric(d.grids[[d.grids.geometry.name]])
    status = d.density.table["status"].to_numpy()
    colours = np.where(status == "met", _MET, _SHORT)
    fig, ax = plt.subplots(figsize=(7.5, 7.5))
    metric.plot(ax=ax, color=colours, edgecolor="#ffffff", linewidth=0.2)
    handles = [Patch(facecolor=_MET, label=tr("district.legend.met", lang) +
                     f" ({int((status == 'met').sum()):,})"),
               Patch(facecolor=_SHORT, label=tr("district.legend.short", lang) +
                     f" ({int((status != 'met').sum()):,})")]
    if "street_code" in d.grids.columns:
        streets = metric.assign(_s=d.grids["street_code"].astype(str).to_numpy()).dissolve("_s")
        streets.boundary.plot(ax=ax, color="#333333", linewidth=0.9)
        handles.append(Line2D([], [], color="#333333", linewidth=0.9,
                              label=tr("district.legend.streets", lang)))
    _scale_bar(ax, metric, lang)
    ax.legend(handles=handles, loc="upper right", fontsize=8, framealpha=0.9)
    ax.set_axis_off()
    ax.set_aspect("equal")
    fig.tight_layout()
    return fig


def _breaks(values: np.ndarray, n: int = 5) -> list[float]:
    if len(values) == 0:
        return []
    distinct = np.unique(values)
    if len(distinct) <= n:
        return [float(v) for v in distinct]
    return sorted({float(np.ceil(q)) for q in np.quantile(values, np.linspace(0, 1, n + 1)[1:])})


def _map_incidents(d: District, lang: str, k: int):
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    metric = to_metric(d.grids[[d.grids.geometry.name]])
    v = d.incidents_per_grid.astype(float)
    # small counts, and the counts that would give one away against the published
    # community (else street) totals of the rankings
    suppressed = suppress_complementary(pd.DataFrame({"n": v}), ["n"], by=grid_parents(d.grids),
                                        k=k, flag=None)["n"].isna().to_numpy()
    withheld = bool((suppressed & (v >= k)).any())
    shown = (v > 0) & ~suppressed
    breaks = _breaks(v[shown])
    ramp = [_RAMP[int(i)] for i in np.linspace(0, len(_RAMP) - 1, len(breaks)).round()] \
        if breaks else []
    colours = np.full(len(v), _ZERO, dtype=object)
    colours[suppressed] = _SUPPRESSED
    if breaks:
        colours[shown] = np.asarray(ramp, dtype=object)[np.searchsorted(breaks, v[shown])]
    fig, ax = plt.subplots(figsize=(7.5, 7.5))
    metric.plot(ax=ax, color=list(colours), edgecolor="#999999", linewidth=0.15)
    handles = []
    if (v == 0).any():
        handles.append(Patch(facecolor=_ZERO, edgecolor="#999999",
                             label=tr("district.legend.zero", lang)))
    if suppressed.any():
        key = "district.legend.withheld" if withheld else "district.legend.suppressed"
        handles.append(Patch(facecolor=_SUPPRESSED, label=tr(key, lang, k=k)))
    lo = float(v[shown].min()) if shown.any() else 0.0
    for colour, hi in zip(ramp, breaks, strict=True):
        label = f"{hi:,.0f}" if lo >= hi else f"{lo:,.0f}–{hi:,.0f}"
        handles.append(Patch(facecolor=colour, label=label))
        lo = hi + 1
    if "street_code" in d.grids.columns:
        streets = metric.assign(_s=d.grids["street_code"].astype(str).to_numpy()).dissolve("_s")
        streets.boundary.plot(ax=ax, color="#333333", linewidth=0.8)
        handles.append(Line2D([], [], color="#333333", linewidth=0.8,
                              label=tr("district.legend.streets", lang)))
    _scale_bar(ax, metric, lang)
    ax.legend(handles=handles, title=tr("district.legend.incidents", lang), loc="upper right",
              fontsize=8, title_fontsize=8, framealpha=0.9)
    ax.set_axis_off()
    ax.set_aspect("equal")
    fig.tight_layout()
    return fig


def _chart_monthly(d: District, mc: MonthChange | None, lang: str):
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    counts = d.monthly()
    fig, ax = plt.subplots(figsize=(8, 4))
    labels = [str(p) for p in counts.index]
    colours = ["#3182bd" if mc is not None and p in (mc.month, mc.previous) else "#9ecae1"
               for p in counts.index]
    ax.bar(labels, counts.to_numpy(), color=colours)
    ax.set_ylabel(tr("district.chart.incidents", lang))
    ax.tick_params(axis="x", rotation=60, labelsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    if mc is not None:
        ax.legend(handles=[Patch(facecolor="#3182bd", label=tr("district.chart.month", lang))],
                  fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def _chart_closure(rank: pd.DataFrame, lang: str):
    """Closure rate by street as a dot plot (a truncated axis is honest for dots, not bars)."""
    import matplotlib.pyplot as plt

    t = rank[rank["incidents"] > 0].sort_values("closure_rate")
    labels = [str(n) if isinstance(n, str) and n else str(u) for n, u in
              zip(t["name"], t["unit"], strict=True)]
    values = 100 * t["closure_rate"].to_numpy(dtype=float)
    fig, ax = plt.subplots(figsize=(8, max(2.5, 0.32 * len(t) + 1)))
    y = np.arange(len(t))
    ax.hlines(y, 0, values, color="#d9d9d9", linewidth=1)
    ax.plot(values, y, "o", color="#238b45")
    for yi, v in zip(y, values, strict=True):
        ax.annotate(f"{v:.1f}", (v, yi), xytext=(4, 0), textcoords="offset points",
                    va="center", fontsize=7)
    lo = float(np.floor((values.min() - 2) / 5) * 5) if len(values) else 0.0
    ax.set_xlim(max(0.0, lo), 100.0)
    for line in ax.lines:
        line.set_clip_on(False)  # dots at 100 % stay whole
    ax.set_yticks(y, labels)
    ax.set_xlabel(tr("district.chart.closure", lang))
    ax.tick_params(axis="y", labelsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def _num(x: float, digits: int = 1) -> str:
    return "" if x is None or pd.isna(x) else f"{x:,.{digits}f}"


def _publish_counts(frame: pd.DataFrame, counts: Sequence[str],
                    dependent: Mapping[str, str | Sequence[str]], k: int, *,
                    by: np.ndarray | None = None) -> tuple[pd.DataFrame, np.ndarray]:
    """Suppress counts 1..k-1, the complements their group totals would reveal (groups
    ``by``, default one total) and dependent rates; returns the table and the row flags."""
    out = suppress_complementary(frame, counts, by=by, k=k, dependent=dependent,
                                 flag="_suppressed")
    return out, out.pop("_suppressed").to_numpy(dtype=bool)


def grid_parents(grids: pd.DataFrame) -> np.ndarray | None:
    """Each grid's community code (else street code), as text: the finest unit whose totals
    the rankings publish, to protect with complementary suppression when per-grid counts
    are shown (pass as ``by``/``within``); ``None`` when the grids have neither column."""
    col = next((c for c in ("community_code", "street_code") if c in grids.columns), None)
    return None if col is None else grids[col].astype(str).to_numpy(dtype=object)


def parent_units(grids: pd.DataFrame, by: str) -> dict[str, str] | None:
    """The street of each community, whose totals are published beside a community ranking.

    Parameters
    ----------
    grids
        Grids with ``community_code`` and ``street_code``.
    by
        ``"community"``, or ``"street"`` (a street's parent is the district).

    Returns
    -------
    dict or None
        ``{community_code: street_code}`` as text (a community whose grids lie
        in several streets goes with the first); ``None`` for streets or when
        the grids lack either code. Pass it as ``within`` to :func:`ranking_table`.
    """
    if by not in _UNIT_COLUMN:
        raise ValueError(f"parent units of 'street' or 'community', got {by!r}.")
    if by == "street" or not {"community_code", "street_code"} <= set(grids.columns):
        return None
    pairs = grids[["community_code", "street_code"]].dropna().astype(str)
    pairs = pairs.drop_duplicates("community_code")
    return dict(zip(pairs["community_code"], pairs["street_code"], strict=True))


def ranking_table(rank: pd.DataFrame, *, lang: str = "zh", k: int = DEFAULT_MIN_COUNT,
                  with_rate: bool | None = None,
                  within: Mapping[str, str] | None = None) -> pd.DataFrame:
    """A ranking (:meth:`District.ranking`) as published: localised headers, counts of 1 to
    ``k - 1`` and the rates derived from them shown as ``<k``, numbers as text.

    Counts withheld so that a published total cannot give a small count away are shown as
    ``*`` (:func:`gridmap.privacy.suppress_complementary`): the total is the district's, or
    with ``within`` (:func:`parent_units`, unit → parent unit) each parent's. ``with_rate`` (default: when the ranking has residents) adds incidents per
    1,000 residents.
    """
    if with_rate is None:
        with_rate = bool(rank["part_rate"].notna().any())
    by = None if within is None else rank["unit"].astype(str).map(within).to_numpy()
    pub, _ = _publish_counts(
        rank, ["incidents", "overdue"], {"closure_rate": "incidents", "per_1000": "incidents",
                                         "overdue_share": ("incidents", "overdue")}, k, by=by)
    less = f"<{k}"
    # why a cell is blank: a small count of its own (<k) or withheld as a complement (*)
    small_n = rank["incidents"].between(1, k - 1).to_numpy()
    small_share = small_n | rank["overdue"].between(1, k - 1).to_numpy()

    def withheld(small: bool) -> str:
        return less if small else "*"

    def count(v: object, small: bool) -> str:
        return withheld(small) if pd.isna(v) else f"{int(v):,}"

    def rate(v: object, c: object, small: bool) -> str:  # c: the rate before suppression
        if pd.isna(v) and pd.notna(c):
            return withheld(small)
        return _num(100 * float(v)) if pd.notna(v) else "–"

    rows = {
        tr("district.col.rank", lang): pub["rank"].astype(int).to_numpy(),
        tr("district.col.name", lang): [str(n) if isinstance(n, str) else str(u)
                                        for n, u in zip(pub["name"], pub["unit"], strict=True)],
        tr("district.col.score", lang): [_num(s, 2) for s in pub["score"]],
        tr("district.col.completion", lang): [_num(c) for c in pub["completion_pct"]],
        tr("district.col.incidents", lang): [count(v, s) for v, s in
                                             zip(pub["incidents"], small_n, strict=True)],
        tr("district.col.closure", lang): [rate(v, c, s) for v, c, s in zip(
            pub["closure_rate"], rank["closure_rate"], small_n, strict=True)],
        tr("district.col.overdue_share", lang): [rate(v, c, s) for v, c, s in zip(
            pub["overdue_share"], rank["overdue_share"], small_share, strict=True)],
    }
    if with_rate:
        rows[tr("district.col.per_1000", lang)] = [
            withheld(s) if pd.isna(c) else _num(v, 2) for v, c, s in
            zip(pub["per_1000"], pub["incidents"], small_n, strict=True)]
    rows[tr("district.col.unit", lang)] = pub["unit"].to_numpy()
    return pd.DataFrame(rows)


def _compliance_table(table: pd.DataFrame, lang: str, *, by: str) -> pd.DataFrame:
    def status(s: object) -> str:
        return tr(f"district.status.{s}", lang) if s in ("met", "short") else str(s)

    def zone(z: object) -> str:
        key = f"district.zone.{z}"
        from .i18n import has

        return tr(key, lang) if has(key) else str(z)

    out: dict[str, object] = {}
    if by == "zone":
        out[tr("district.col.zone", lang)] = [zone(z) for z in table["zone"]]
        out[tr("district.col.units_met", lang)] = [f"{m:,}/{u:,}" for m, u in
                                                   zip(table["units_met"], table["units"],
                                                       strict=True)]
    else:
        out[tr("district.col.name", lang)] = [str(n) if isinstance(n, str) else str(u) for n, u in
                                              zip(table["name"], table["unit"], strict=True)]
        out[tr("district.col.zone", lang)] = [zone(z) for z in table["zone"]]
    out[tr("district.col.area_km2", lang)] = [_num(a, 2) for a in table["area_km2"]]
    out[tr("district.col.points", lang)] = [f"{int(p):,}" for p in table["points"]]
    out[tr("district.col.density", lang)] = [_num(x) for x in table["density_per_km2"]]
    out[tr("district.col.target", lang)] = [_num(x) for x in table["target"]]
    out[tr("district.col.completion", lang)] = [_num(x) for x in table["completion_pct"]]
    out[tr("district.col.shortfall", lang)] = [f"{int(x):,}" for x in table["shortfall"]]
    out[tr("district.col.status", lang)] = [status(s) for s in table["status"]]
    if by != "zone":
        out[tr("district.col.unit", lang)] = table["unit"].to_numpy()
    return pd.DataFrame(out)


def _district_name(d: District, name: str | None, lang: str) -> str:
    if name:
        return name
    if "district_code" in d.grids.columns:
        codes = sorted(d.grids["district_code"].dropna().astype(str).unique())
        if len(codes) == 1:
            return codes[0]
    return tr("district.report.district", lang)


def deadline_text(figures: KeyFigures, lang: str) -> str:
    """How overdue was judged, in ``lang``: the deadline, or the per-incident limits used."""
    base = (tr("district.deadline.same-day", lang) if figures.deadline == "same-day"
            else figures.deadline)
    if figures.time_limit:
        return tr("district.deadline.own", lang, column=figures.time_limit, deadline=base)
    return base


def district_report(
    district: District,
    *,
    lang: str = "zh",
    month: object = None,
    k: int = DEFAULT_MIN_COUNT,
    sources: pd.DataFrame | None = None,
    synthetic: bool = False,
    name: str | None = None,
    weights: Mapping[str, float] | None = None,
) -> Report:
    """Assemble the district report (see the module docstring).

    Parameters
    ----------
    district
        The district's layers.
    lang
        ``zh`` or ``en``: every label, header and note.
    month
        Report month (``YYYY-MM``); default the latest full month in the data.
    k
        Incident counts of 1 to ``k - 1`` per grid, street or community are
        not published (``0`` or ``1`` publishes all).
    sources
        :func:`data_sources` of the data folder (listed with their dates).
    synthetic
        Mark the report as made from the synthetic demo district.
    name
        District name in the title (default the grids' ``district_code``).
    weights
        Ranking weights (default :data:`DEFAULT_RANK_WEIGHTS`).

    Returns
    -------
    gridmap.report.Report
    """
    import matplotlib
    import matplotlib.pyplot as plt

    matplotlib.use("Agg", force=False)
    tr("district.sec.summary", lang)  # fails early on an unknown language
    figs = district.figures(month=month)
    mc = figs.month
    dash = "–"
    deadline = deadline_text(figs, lang)
    title = tr("district.report.title", lang, name=_district_name(district, name, lang))
    subtitle = tr("district.report.subtitle", lang,
                  month=str(mc.month) if mc else dash, previous=str(mc.previous) if mc else dash,
                  start=f"{figs.start:%Y-%m-%d}" if figs.start is not None else dash,
                  end=f"{figs.end:%Y-%m-%d}" if figs.end is not None else dash,
                  deadline=deadline)
    if synthetic:
        subtitle = f"{tr('demo.label', lang)}\n{subtitle}"
    report = Report(title, subtitle=subtitle, continued=tr("district.continued", lang))

    change = (_signed_pct(mc.change_pct) if mc and np.isfinite(mc.change_pct)
              else tr("district.change.none", lang))
    summary = tr("district.summary", lang, grids=f"{figs.grids:,}",
                 workers=f"{figs.grid_workers:,}", points=f"{figs.camera_points:,}",
                 cameras=f"{figs.cameras:,}", met_share=_pct(figs.grids_met_share),
                 month=str(mc.month) if mc else dash, n_month=f"{mc.n:,}" if mc else dash,
                 n_prev=f"{mc.n_previous:,}" if mc else dash, change=change,
                 closure=_pct(figs.closure_rate), overdue=f"{figs.overdue:,}")
    notes = []
    if figs.incidents_outside:
        notes.append(tr("district.note.outside", lang, n=f"{figs.incidents_outside:,}"))
    if figs.cameras_outside:
        notes.append(tr("district.note.cameras_outside", lang, n=f"{figs.cameras_outside:,}"))
    if synthetic:
        notes.insert(0, tr("demo.label", lang))
    report.add_text(tr("district.sec.summary", lang), "\n\n".join([summary, *notes]))
    report.add_table(tr("district.sec.figures", lang), figs.table(lang))

    has_streets = "street_code" in district.grids.columns
    has_comms = "community_code" in district.grids.columns
    rank_s = district.ranking("street", weights=weights) if has_streets else None
    rank_c = district.ranking("community", weights=weights) if has_comms else None
    with plt.rc_context(_rc()):
        fig = _map_density(district, lang)
        report.add_figure(tr("district.sec.map_density", lang), fig)
        plt.close(fig)
        fig = _map_incidents(district, lang, k)
        report.add_figure(tr("district.sec.map_incidents", lang), fig,
                          note=tr("district.note.suppressed", lang, k=k))
        plt.close(fig)

        report.add_table(tr("district.sec.density_zone", lang),
                         _compliance_table(district.compliance_summary(), lang, by="zone"))
        if has_streets:
            report.add_table(tr("district.sec.density_street", lang),
                             _compliance_table(district.compliance("street"), lang, by="street"))
        if has_comms:
            report.add_table(tr("district.sec.density_community", lang),
                             _compliance_table(district.compliance("community"), lang,
                                               by="community"))
        with_rate = district.grid_population is not None
        for rank, by in ((rank_s, "street"), (rank_c, "community")):
            if rank is not None:
                report.add_table(tr(f"district.sec.rank_{by}", lang),
                                 ranking_table(rank, lang=lang, k=k, with_rate=with_rate,
                                               within=parent_units(district.grids, by)),
                                 note=" ".join(tr(f"district.note.{n}", lang, k=k)
                                               for n in ("suppressed", "complement")))
        if len(district.incidents):
            fig = _chart_monthly(district, mc, lang)
            report.add_figure(tr("district.sec.chart_monthly", lang), fig)
            plt.close(fig)
        if rank_s is not None and (rank_s["incidents"] > 0).any():
            fig = _chart_closure(rank_s, lang)
            report.add_figure(tr("district.sec.chart_closure", lang), fig)
            plt.close(fig)

    w = dict(DEFAULT_RANK_WEIGHTS if weights is None else weights)
    if not with_rate:
        w.pop("rate", None)
    total = sum(w.values()) or 1.0
    share = {key: f"{v / total:.3g}" for key, v in w.items()}
    rate_part = (tr("district.method.rate", lang, w_rate=share["rate"]) if "rate" in share
                 else tr("district.method.no_rate", lang))
    report.add_text(tr("district.sec.method", lang), tr(
        "district.method", lang, w_density=share.get("density", "0"),
        w_closure=share.get("closure", "0"), w_overdue=share.get("overdue", "0"),
        rate_part=rate_part, deadline=deadline,
        now=f"{figs.now:%Y-%m-%d %H:%M}" if figs.now is not None else dash,
        k=k, k_minus=max(k - 1, 0)))
    if sources is not None:
        src = sources.rename(columns={c: tr(f"district.col.{c}", lang)
                                      for c in ("file", "description", "modified")})
        report.add_table(tr("district.sec.sources", lang), src,
                         note=tr("demo.label", lang) if synthetic else None)
    return report
