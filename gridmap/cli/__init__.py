"""The ``gridmap`` command-line tool.

Each subcommand lives in its own module in this package and exposes
``register(subparsers)``, which adds its parser and sets ``func``; ``func``
takes the parsed namespace and returns the process exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from .._errors import GridmapError, ReadError

__all__ = ["main"]

# One module per subcommand group, in the order ``gridmap --help`` lists them.
_MODULES = (
    "check",
    "demo",
    "units",
    "code",
    "validate",
    "partition",
    "compare",
    "density",
    "coverage",
    "place",
    "heat",
    "aggregate",
    "hotspots",
    "events",
    "report",
)


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="gridmap",
        description="Grid management and video-network analysis for district planners.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in _MODULES:
        importlib.import_module(f"{__name__}.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code (0 ok, 1 findings/rejections, 2 unusable input)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ReadError as exc:
        print(f"gridmap {args.command}: {exc}", file=sys.stderr)
        return 2
    except GridmapError as exc:
        print(f"gridmap {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
