"""Exception classes shared by every gridmap module.

Each subclasses a built-in so callers can catch either. Messages say what went
wrong *and* how to fix it.
"""

from __future__ import annotations

__all__ = [
    "CRSError",
    "DataError",
    "GridmapError",
    "InfeasibleError",
    "ReadError",
    "SchemaError",
]


class GridmapError(Exception):
    """Base class of every error gridmap raises on purpose."""


class ReadError(GridmapError, OSError):
    """A file could not be read at all.

    The message names the file, the problem and the fix, e.g.
    ``"incidents.csv: no longitude column found; columns are [...]; pass --lon COLUMN"``.
    """

    def __init__(self, path: object, problem: str, fix: str | None = None) -> None:
        self.path = str(path)
        self.problem = problem
        self.fix = fix
        msg = f"{self.path}: {problem}"
        if fix:
            msg += f"; {fix}"
        super().__init__(msg)

    def __str__(self) -> str:  # OSError would otherwise format errno/strerror
        return self.args[0]


class SchemaError(GridmapError, ValueError):
    """A layer lacks a column or has values outside the documented vocabulary."""


class CRSError(GridmapError, ValueError):
    """A coordinate reference system is missing, unknown or inconsistent."""


class DataError(GridmapError, ValueError):
    """Input data cannot support the requested analysis (empty, degenerate...)."""


class InfeasibleError(GridmapError, ValueError):
    """An optimisation has no solution; the message says where and why."""
