"""Run every benchmark module (or those named on the command line) and print the table.

Each `bench/bench_<name>.py` defines `async def run() -> list[Row]`; one that raises is
reported as broken and the others still run.
"""

from __future__ import annotations

import asyncio
import importlib
import pkgutil
import sys
import traceback
from pathlib import Path

from bench.table import Row, render


def _modules(selected: list[str]) -> list[str]:
    names = sorted(
        info.name
        for info in pkgutil.iter_modules([str(Path(__file__).parent)])
        if info.name.startswith("bench_")
    )
    if selected:
        names = [n for n in names if n.removeprefix("bench_") in selected or n in selected]
    return names


def main() -> int:
    """Exit 1 only when a benchmark broke; a missed target is a figure in the table, since
    on a machine shared with other work it says as much about the neighbours as about Howl."""
    rows: list[Row] = []
    broken: list[str] = []
    for name in _modules(sys.argv[1:]):
        module = importlib.import_module(f"bench.{name}")
        print(f"running {name} ...", file=sys.stderr, flush=True)
        try:
            rows.extend(asyncio.run(module.run()))
        except Exception:
            traceback.print_exc()
            broken.append(name)
    print(render(rows))
    missed = sum(row.met is False for row in rows)
    print(f"\n{len(rows) - missed} figures on target or without one, {missed} missed", end="")
    print(f"; broken: {', '.join(broken)}" if broken else "")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
