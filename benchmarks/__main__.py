"""Run benchmarks: ``python -m benchmarks [NAME ...] [--quick]``.

Each module ``benchmarks/bench_NAME.py`` defines ``run(quick: bool) -> list[dict]``;
every dict is one measured comparison and is printed as a JSON line and appended
to ``benchmarks/out/results.jsonl``. Without names, every benchmark runs.
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import time
from pathlib import Path

HERE = Path(__file__).parent


def main() -> None:
    names = sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default: all of {names})")
    parser.add_argument("--quick", action="store_true", help="smaller inputs, for a smoke run")
    args = parser.parse_args()
    unknown = sorted(set(args.names) - set(names))
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; choose from {names}")
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    for name in args.names or names:
        module = importlib.import_module(f"benchmarks.bench_{name}")
        for row in module.run(quick=args.quick):
            row = {"benchmark": name, "when": time.strftime("%Y-%m-%d %H:%M"),
                   "python": platform.python_version(), **row}
            line = json.dumps(row, ensure_ascii=False, default=str)
            print(line, flush=True)
            with (out / "results.jsonl").open("a", encoding="utf-8") as fh:
                fh.write(line + "\n")


if __name__ == "__main__":
    main()
