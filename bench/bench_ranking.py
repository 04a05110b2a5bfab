"""Benchmark of ranked reads: 1,000 activities -> top 25, Feedline's twins against a Go reference.

    .venv/bin/python bench/bench_ranking.py [--quick]

Setup: 1,000 canonical activities (~530 bytes, 7 days, newest first; ``likes`` on two rows in three),
the issue's method ``fresh(time) * (1 + ln(1 + popularity)) + 0.1 * likes`` with ``fresh`` =
decay_gauss, scale 1d, offset 1h, decay 0.5; request time fixed (one hour after the newest).

From columns (the design path: fields extracted at write time):
  - compiled / pure twin: ``ranking.rank(method, columns)`` on the window's columns (joined blobs),
    everything the read path calls (scalars, column map, evaluation, top-k, the page's lists); the
    join of the 1,000 blobs into columns is measured on its own line;
  - Go + expr-lang/expr on the same columns (one compiled program, reused VM) + one-pass top-k, and
    the same with ``expr.Run`` per row (a VM per call, the library's idiomatic use);
  - Go hand-written score + one-pass top-k (the floor).
From stored JSON bytes (the fallback when the columns are missing):
  - compiled / pure twin: ``layout.scan(bodies)`` + ``rank``;
  - Go: goccy/go-json typed decode + time.Parse + expr; the same with encoding/json.
Go runs with GOMAXPROCS=1 in the same invocation; every Go mode must return the very same top 25
as Feedline (checked). Medians of rounds, µs per ranking of the whole window, in each side's thread
CPU time (``--wall`` for wall time): the 2-core machine is shared, and wall time under load mostly
measures the other processes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from dataset import payload  # noqa: E402
from timing import interleaved, interleaved_cpu, median  # noqa: E402

from feedline import _ext  # noqa: E402
from feedline.activities.model import build  # noqa: E402
from feedline.ranking import FieldLayout, parse_methods, rank  # noqa: E402

SCORE = "fresh(time) * (1 + ln(1 + popularity)) + 0.1 * likes"
CONFIG = {"popular": {"score": SCORE, "defaults": {"popularity": 0, "likes": 0},
                      "functions": {"fresh": {"base": "decay_gauss", "scale": "1d", "offset": "1h", "decay": "0.5"}}}}
NEWEST_US = 1_750_000_000_000_000
N, K = 1000, 25


def window():
    step = 7 * 86_400_000_000 // N
    acts = []
    for i in range(N):
        p = payload(i)
        p.pop("time")
        if i % 3:
            p["likes"] = (i * 13) % 50
        p["caption"] = f"Sunset over the IJ, seen from the ferry — take {i}, no filter, just light"
        acts.append(build(p, NEWEST_US - i * step))
    return acts



def build_go_peer() -> Path | None:
    go = shutil.which("go")
    if go is None:
        return None
    peer_dir = HERE / "peers" / "go"
    exe = peer_dir / "ranking" / "ranking-peer"
    subprocess.run([go, "build", "-o", str(exe), "./ranking"], cwd=peer_dir, check=True)
    return exe


def go_peer(exe: Path, acts, cols, now: float, quick: bool, cpu: bool, rounds: int) -> dict:
    fresh = CONFIG["popular"]["functions"]["fresh"]
    data = {"expr": SCORE, "now": now, "k": K, "bodies": [a.body.decode() for a in acts], "quick": quick,
            "columns": {f: [cols.value(f, i) if cols.value(f, i) == cols.value(f, i) else 0.0 for i in range(N)]
                        for f in ("time", "popularity", "likes")},
            "cpu": cpu, "rounds": rounds, "scale": 86400.0 * float(fresh["scale"][:-1]), "offset": 3600.0 * float(fresh["offset"][:-1]),
            "decay": float(fresh["decay"])}
    out = subprocess.run([str(exe)], input=json.dumps(data), capture_output=True, text=True, check=True,
                         env={**os.environ, "GOMAXPROCS": "1"})
    return json.loads(out.stdout)


def main() -> int:  # noqa: C901 - one block per measured path
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--wall", action="store_true", help="wall time instead of thread CPU time (both sides)")
    args = ap.parse_args()
    timer = interleaved if args.wall else interleaved_cpu
    acts = window()
    bodies = [a.body for a in acts]
    methods = parse_methods("ranked", CONFIG)
    method = methods["popular"]
    layout = FieldLayout.of(methods.values())
    blobs = [layout.extract(b) for b in bodies]
    now = NEWEST_US / 1e6 + 3600.0
    twins = _ext.twins("feedline.ranking._rank")
    scan_twins = _ext.twins("feedline.ranking._scan")
    p = method.program
    progs = {k: m.Program(p.code, p.nregs, p.result) for k, m in twins.items()}

    def ranked(twin: str, cols):
        # rank() with the given twin's program (rank() itself uses the one _ext loaded)
        method.runner = progs[twin]
        return rank(method, cols, limit=K, now=now)

    prepared = layout.columns(blobs)

    def from_columns(twin: str):
        return lambda: ranked(twin, prepared)

    def from_json(twin: str):
        scanner = scan_twins[twin].Scanner(layout.fields)

        def run():
            data = scanner.scan(bodies)
            from feedline.ranking.window import Columns

            return ranked(twin, Columns(layout, memoryview(data), N, 1, N, 0))
        return run

    fns = {}
    for t in ("c", "py"):
        if t in twins:
            fns[f"cols {t}"] = from_columns(t)
            fns[f"json {t}"] = from_json(t)
    results = {name: fn() for name, fn in fns.items()}
    top = results["cols py"].indices
    assert all(r.indices == top for r in results.values()), "twins disagree"
    # Rounds of >= ~10 ms (thread CPU time is accounted in scheduler ticks). Python and Go take
    # turns in blocks, so a change of the machine's load hits both sides alike.
    blocks, rounds, number = (1, 3, 20) if args.quick else (6, 6, 400)
    exe = build_go_peer()
    res: dict[str, list[float]] = {}
    go_samples: dict[str, list[float]] = {}
    go: dict = {}
    for _ in range(blocks):
        part = {}
        if "c" in twins:
            part.update(timer({"cols c": fns["cols c"]}, rounds, number))
            part.update(timer({"json c": fns["json c"]}, rounds, max(2, number // 40)))
        # the pure twin is ~50x slower: fewer calls per round
        part.update(timer({k: v for k, v in fns.items() if k.endswith(" py")}, max(2, rounds // 3), 2))
        # what the read path adds before ranking: the window's columns from its 1,000 stored blobs
        part.update(timer({"columns from blobs": lambda: layout.columns(blobs)}, rounds, number))
        for k, v in part.items():
            res.setdefault(k, []).extend(v)
        if exe is not None:
            go = go_peer(exe, acts, prepared, now, args.quick, not args.wall, rounds)
            for k, v in go.items():
                if k.endswith("_samples"):
                    go_samples.setdefault(k, []).extend(v)
    for k, v in go_samples.items():
        go[k[: -len("_samples")] + "_us"] = median(v)
    med = {k: median(v) for k, v in res.items()}
    best = {k: min(v) for k, v in res.items()} | {k[: -len("_samples")]: min(v) for k, v in go_samples.items()}
    c_cols, c_json = med.get("cols c"), med.get("json c")
    clock = "wall" if args.wall else "thread CPU"
    lines = [f"| rank {N:,} -> top {K} ({len(bodies[0])}-byte bodies) | median µs ({clock}) | compiled is faster by "
             "| best round µs |", "|---|---:|---:|---:|"]
    key_of = {"from columns: compiled twin": "cols c", "from columns: pure twin": "cols py",
              "from columns: Go + expr-lang/expr": "columns_expr",
              "from columns: Go + expr-lang/expr, expr.Run per row": "columns_expr_run", "from columns: Go hand-written score (floor)": "columns_hand",
              "read path: the columns from 1,000 stored blobs (join + layout check)": "columns from blobs",
              "from stored JSON: compiled twin (byte scanner)": "json c", "from stored JSON: pure twin (ujson)": "json py",
              "from stored JSON: Go goccy/go-json + expr": "json_goccy_expr",
              "from stored JSON: Go encoding/json + expr": "json_std_expr"}

    def row(label: str, us: float, base: float | None) -> None:
        b = best.get(key_of[label.strip("*")])
        b_txt = f"{b:,.1f}" if b is not None else ""
        ratio = f"{us / base:.1f}×" if base else ""
        lines.append(f"| {label} | {us:,.1f} | {ratio} | {b_txt} |")

    if c_cols:
        row("**from columns: compiled twin**", c_cols, c_cols)
    row("from columns: pure twin", med["cols py"], c_cols)
    if go:
        for mode in ("columns_expr", "columns_expr_run", "columns_hand", "json_goccy_expr", "json_std_expr"):
            assert go[mode + "_top"] == top, f"Go {mode} returned another top {K}"
        row("from columns: Go + expr-lang/expr", go["columns_expr_us"], c_cols)
        row("from columns: Go + expr-lang/expr, expr.Run per row", go["columns_expr_run_us"], c_cols)
        row("from columns: Go hand-written score (floor)", go["columns_hand_us"], c_cols)
    row("read path: the columns from 1,000 stored blobs (join + layout check)", med["columns from blobs"], None)
    if c_json:
        row("**from stored JSON: compiled twin (byte scanner)**", c_json, c_json)
    row("from stored JSON: pure twin (ujson)", med["json py"], c_json)
    if go:
        row("from stored JSON: Go goccy/go-json + expr", go["json_goccy_expr_us"], c_json)
        row("from stored JSON: Go encoding/json + expr", go["json_std_expr_us"], c_json)
    print("\n".join(lines))
    if c_cols and go:
        print(f"\nTargets: columns {c_cols:.1f} µs (<= 25), {go['columns_expr_us'] / c_cols:.0f}× Go+expr (>= 25), "
              f"{med['cols py'] / c_cols:.0f}× pure (>= 20); JSON {c_json:.0f} µs (<= 600), "
              f"{go['json_goccy_expr_us'] / c_json:.1f}× Go goccy+expr (>= 3). Every Go mode returned the same top {K}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
