"""Row accounting of an ingest: every input row is accepted, repaired or rejected.

:class:`IngestReport` (per-row records, counts, rejection reasons, repairs) and
:class:`IngestResult` (a clean layer with its report) are what
:func:`gridmap.ingest.read_layer` returns; import them from :mod:`gridmap.ingest`.
``_Ledger`` is the per-row bookkeeping the ingest steps write their outcomes to.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

__all__ = ["REASONS", "IngestReport", "IngestResult", "_Ledger", "_per_row"]

#: Rejection reasons (the keys of :attr:`IngestReport.reasons`).
REASONS = (
    "missing coordinate", "unparseable coordinate", "out of range", "outside study area",
    "duplicate id", "missing geometry", "unparseable geometry", "wrong geometry type",
    "malformed line",
)


@dataclass
class IngestReport:
    """Row accounting of one ingest.

    Attributes
    ----------
    file
        The file (or frame name) read.
    kind
        The layer kind produced.
    records
        One row per input record, in input order: ``row`` (1-based record
        number in the source, header excluded; a spreadsheet shows it as row
        ``row + 1``), ``status`` (accepted/repaired/rejected), ``reason``
        (rejection reason, one of :data:`REASONS`), ``detail`` (the rejection
        message) and ``repairs`` (what was repaired, ``"; "``-separated).
    original
        The source values, one row per record in the same order.
    notes
        File-level findings: coordinate columns, CRS, column mapping, guesses.
    kind_guessed
        True when the kind was not given but guessed (see ``notes``).
    repairs
        Repair kind → number of rows.
    """

    file: str
    kind: str
    records: pd.DataFrame
    original: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    kind_guessed: bool = False
    repairs: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Number of input records."""
        return len(self.records)

    def _count(self, status: str) -> int:
        return int((self.records["status"] == status).sum())

    @property
    def accepted(self) -> int:
        """Rows taken as they were."""
        return self._count("accepted")

    @property
    def repaired(self) -> int:
        """Rows kept after a repair."""
        return self._count("repaired")

    @property
    def rejected(self) -> int:
        """Rows left out, each with a reason."""
        return self._count("rejected")

    @property
    def reasons(self) -> dict[str, int]:
        """Rejection reason → number of rows."""
        rejected = self.records.loc[self.records["status"] == "rejected", "reason"]
        return {str(k): int(v) for k, v in rejected.value_counts().items()}

    def rejected_rows(self) -> pd.DataFrame:
        """The rejected records with ``row``, ``reason``, ``detail`` and their original values."""
        mask = (self.records["status"] == "rejected").to_numpy()
        left = self.records.loc[mask, ["row", "reason", "detail"]].reset_index(drop=True)
        orig = self.original.loc[mask].reset_index(drop=True)
        if isinstance(orig, gpd.GeoDataFrame):
            geom = orig.geometry.name
            orig = pd.DataFrame(orig).assign(**{geom: orig.geometry.to_wkt()})
        clash = [c for c in orig.columns if c in left.columns]
        orig = orig.rename(columns={c: f"{c}_original" for c in clash})
        return pd.concat([left, orig], axis=1)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (no per-row records)."""
        return {
            "file": self.file, "kind": self.kind, "total": self.total,
            "accepted": self.accepted, "repaired": self.repaired, "rejected": self.rejected,
            "reasons": self.reasons, "repairs": dict(self.repairs),
            "kind_guessed": self.kind_guessed, "notes": list(self.notes),
        }

    def summary(self, *, examples: int = 5) -> str:
        """A readable table of the counts, reasons, repairs and a few rejected rows."""
        lines = [f"{self.file}  [{self.kind}{' (guessed)' if self.kind_guessed else ''}]"]
        lines += [f"  note: {n}" for n in self.notes]
        width = max(len(str(self.total)), 1)
        lines.append(f"  {'total':<9}{self.total:>{width}}")
        lines.append(f"  {'accepted':<9}{self.accepted:>{width}}")
        lines.append(f"  {'repaired':<9}{self.repaired:>{width}}")
        lines += [f"      {v:>{width}}  {k}" for k, v in sorted(self.repairs.items(), key=lambda t: -t[1])]
        lines.append(f"  {'rejected':<9}{self.rejected:>{width}}")
        lines += [f"      {v:>{width}}  {k}" for k, v in self.reasons.items()]
        bad = self.records[self.records["status"] == "rejected"].head(examples)
        for row, detail in zip(bad["row"], bad["detail"], strict=True):
            lines.append(f"    row {row}: {detail}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


@dataclass(frozen=True)
class IngestResult:
    """A clean layer and its report; unpacks as ``data, report = read_layer(...)``."""

    data: gpd.GeoDataFrame
    report: IngestReport

    def __iter__(self) -> Iterator[Any]:
        yield self.data
        yield self.report


class _Ledger:
    """Per-row outcome bookkeeping; every mask has one entry per input row."""

    def __init__(self, n: int) -> None:
        self.n = n
        self._alive = np.ones(n, dtype=bool)
        self.reason = np.full(n, "", dtype=object)
        self.detail = np.full(n, "", dtype=object)
        self._repairs: list[tuple[np.ndarray, str, np.ndarray]] = []

    @property
    def alive(self) -> np.ndarray:
        return self._alive.copy()

    def reject(self, mask: np.ndarray, reason: str, detail: Any) -> None:
        mask = np.asarray(mask, dtype=bool) & self._alive
        if mask.any():
            self.reason[mask] = reason
            self.detail[mask] = detail[mask] if isinstance(detail, np.ndarray) else detail
            self._alive &= ~mask

    def repair(self, mask: np.ndarray, code: str, detail: Any) -> None:
        mask = np.asarray(mask, dtype=bool) & self._alive
        if mask.any():
            idx = np.flatnonzero(mask)
            text = detail[idx] if isinstance(detail, np.ndarray) else np.full(len(idx), detail, object)
            self._repairs.append((idx, code, text))

    def finish(self) -> tuple[pd.DataFrame, dict[str, int]]:
        """Per-row records and the number of rows per repair kind."""
        alive = self._alive
        texts = np.full(self.n, "", dtype=object)
        counts: dict[str, int] = {}
        chunks = [(i[alive[i]], c, t[alive[i]]) for i, c, t in self._repairs]
        chunks = [c for c in chunks if len(c[0])]
        for code in dict.fromkeys(c for _, c, _ in chunks):
            parts = [i for i, c, _ in chunks if c == code]  # each sorted and unique
            counts[code] = len(parts[0]) if len(parts) == 1 else len(np.unique(np.concatenate(parts)))
        if len(chunks) == 1:
            texts[chunks[0][0]] = chunks[0][2]
        elif chunks:
            idx = np.concatenate([c[0] for c in chunks])
            text = np.concatenate([c[2] for c in chunks]).astype(object)
            order = np.argsort(idx, kind="stable")
            idx, text = idx[order], text[order]
            rows, start, size = np.unique(idx, return_index=True, return_counts=True)
            joined = text[start].copy()
            for k in range(1, int(size.max())):
                more = size > k
                joined[more] = joined[more] + "; " + text[start[more] + k]
            texts[rows] = joined
        status = np.where(~alive, "rejected", np.where(texts != "", "repaired", "accepted"))
        records = pd.DataFrame({
            "row": np.arange(1, self.n + 1), "status": status,
            "reason": self.reason, "detail": self.detail, "repairs": texts,
        }).astype({"status": "str", "reason": "str", "detail": "str", "repairs": "str"})
        return records, counts


def _per_row(mask: np.ndarray, values: Any, fmt: Any) -> np.ndarray:
    """``fmt(value)`` at the rows in ``mask`` ("" elsewhere), formatted once per distinct value."""
    out = np.full(len(mask), "", dtype=object)
    idx = np.flatnonzero(mask)
    if len(idx):
        vals = np.asarray(values, dtype=object)[idx]
        codes, uniq = pd.factorize(vals, use_na_sentinel=False)
        out[idx] = np.array([fmt(u) for u in uniq], dtype=object)[codes]
    return out
