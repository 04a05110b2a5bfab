"""Two checkouts side by side in one run: the same benchmark sections, alternating rounds.

    .venv/bin/python bench/compare.py --baseline ../feedline-old [--rounds 5] [--backends sqlite,cassandra]

``--baseline`` is another checkout of Feedline with its own ``.venv`` (e.g. ``git worktree add
../feedline-old <commit> && make -C ../feedline-old install``). Each round runs ``bench/run.py``
of the baseline, then of this checkout (the order alternates per round, so drift in the machine's
load hits both alike), and keeps every Markdown table row. The report gives, per row and column,
the median over rounds of each side and their ratio (this / baseline): a layout change that costs
something shows as a ratio above 1 on the same machine, same minute.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
NUMBER = re.compile(r"-?[\d,]+(?:\.\d+)?")


HEADERS: dict[str, list[str]] = {}


def run_once(checkout: Path, sections: str, backends: str, quick: bool) -> dict[str, list[str]]:
    """``{row label: [cell, ...]}`` of every table row ``bench/run.py`` printed (``HEADERS`` gets
    each row's column names)."""
    cmd = [str(checkout / ".venv" / "bin" / "python"), str(checkout / "bench" / "run.py"),
           "--sections", sections, "--backends", backends]
    if quick:
        cmd.append("--quick")
    out = subprocess.run(cmd, cwd=checkout, capture_output=True, text=True, check=True).stdout
    rows = {}
    header: list[str] = []
    previous: list[str] = []
    for line in out.splitlines():
        if not line.startswith("|"):
            previous = []
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) > 1 and set(cells[1]) <= set("-:"):
            header = previous[1:]
            rows.pop(previous[0], None)
        elif len(cells) > 1:
            rows[cells[0]] = cells[1:]
            HEADERS[cells[0]] = header
        previous = cells
    return rows


def number(cell: str) -> float | None:
    found = NUMBER.search(cell)
    return float(found.group(0).replace(",", "")) if found else None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--baseline", required=True, type=Path)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--sections", default="read,fanout")
    ap.add_argument("--backends", default="sqlite")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    sides = {"baseline": args.baseline.resolve(), "this": ROOT}
    results: dict[str, dict[str, list[list[str]]]] = {"baseline": {}, "this": {}}
    for r in range(args.rounds):
        order = ["baseline", "this"] if r % 2 == 0 else ["this", "baseline"]
        for side in order:
            for label, cells in run_once(sides[side], args.sections, args.backends, args.quick).items():
                results[side].setdefault(label, []).append(cells)
            print(f"round {r + 1}/{args.rounds}: {side} done", file=sys.stderr, flush=True)
    print(f"| row (medians of {args.rounds} alternating rounds) | figure | baseline | this | this / baseline |")
    print("|---|---:|---:|---:|---:|")
    for label, runs in results["this"].items():
        base = results["baseline"].get(label)
        if not base:
            continue
        for col in range(len(runs[0])):
            a = [number(c[col]) for c in base if col < len(c)]
            b = [number(c[col]) for c in runs if col < len(c)]
            if None in a or None in b or not a or not b:
                continue
            ma, mb = statistics.median(a), statistics.median(b)  # type: ignore[type-var]
            ratio = f"{mb / ma:.2f}" if ma else "-"
            names = HEADERS.get(label, [])
            name = names[col] if col < len(names) else str(col + 1)
            print(f"| {label} | {name} | {ma:,.1f} | {mb:,.1f} | {ratio} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
