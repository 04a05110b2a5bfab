"""Ranked feed reads end to end through the read handler, next to the unranked read of the same feed.

``python bench/bench_ranked_read.py [--quick] [--backends sqlite,cassandra]`` (also the ``ranked``
section of ``bench/run.py``). Per backend, one API Gateway event -> response through
``functions/read``, rounds interleaved so machine load hits every row alike:

- unranked: ``GET /feed/ranked/bench/?limit=25`` (the flat page of 25, the reference)
- ranked: ``...&ranking=popular`` over the newest 1,000 entries, blobs stored at write time
- ranked, bodies scanned: the same over 1,000 activities stored without blobs (a method added
  after the data was written: the byte-scanner fallback)
- the ranking alone: ``layout.columns(blobs)`` + ``rank(...)`` over the same window, no handler

Columns as in run.py's read section: wall, wall minus the time inside store calls, and the
handler thread's CPU outside store calls ("own CPU"). "beyond the ranking" = own CPU of the ranked
read minus the ranking alone: what the read path adds around the compiled ranking.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from dataset import BASE_US, payload  # noqa: E402
from timing import median, p99  # noqa: E402

POPULAR = {"score": "fresh(time) * (1 + ln(1 + popularity)) + 0.1 * likes",
           "defaults": {"popularity": 0, "likes": 0},
           "functions": {"fresh": {"base": "decay_gauss", "scale": "1d", "offset": "1h", "decay": "0.5"}}}

HEADER = ["| ranked read (window of 1,000) | median µs | p99 µs | own: wall minus storage calls µs | "
          "own: handler thread CPU outside storage µs | in storage calls µs |",
          "|---|---:|---:|---:|---:|---:|"]


def _acts(n: int, first: int):
    from feedline.activities.model import build

    step = 10 * 86_400_000_000 // n
    out = []
    for i in range(first, first + n):
        p = payload(i)
        p.pop("time")
        out.append(build(p, BASE_US - (i - first) * step))
    return out


def section(backend: str, quick: bool, tmp: Path, replay: bool = False) -> list[str]:
    import jwt
    from run import Meter, metered, open_backend

    from feedline import runtime
    from feedline.activities.service import record
    from feedline.config import FeedGroup
    from feedline.feeds.ranked import Rankings
    from feedline.feeds.store import Entry
    from feedline.local.runner import http_event
    from feedline.ranking import rank

    groups = {"ranked": FeedGroup("ranked", ranking={"popular": POPULAR})}
    settings, store = open_backend(backend, tmp, groups)
    rankings = Rankings(settings.app)
    with_blobs, without = _acts(1000, 0), _acts(1000, 5000)
    store.activities.put_activities([record(a, "user:bench", rankings.extract(a.body)) for a in with_blobs])
    store.activities.put_activities([record(a, "user:bench") for a in without])
    store.timelines.add_entries("ranked:bench", [Entry(a.key, "user:bench") for a in with_blobs])
    store.timelines.add_entries("ranked:scan", [Entry(a.key, "user:bench") for a in without])
    timed = Meter()
    rt = runtime.build(settings, stores=metered(store, timed, replay))
    runtime.install(rt)
    spec = importlib.util.spec_from_file_location("bench_ranked_read_app", ROOT / "functions/read/app.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    token = jwt.encode({"resource": "*", "action": "*", "feed_id": "*"}, settings.app.api_secret, algorithm="HS256")

    def event(feed: str, query: str) -> dict:
        return http_event("GET", f"/api/v1.0/feed/{feed}/", f"api_key=bench-key&limit=25{query}",
                          {"authorization": token, "stream-auth-type": "jwt"}, b"", "GET", "/api/v1.0/{proxy+}",
                          {"proxy": f"feed/{feed}/"})

    rows = {"unranked page of 25": event("ranked/bench", ""),
            "ranked page of 25, blobs": event("ranked/bench", "&ranking=popular"),
            "ranked page of 25, bodies scanned (no blobs)": event("ranked/scan", "&ranking=popular")}
    for label, ev in rows.items():
        resp = mod.lambda_handler(ev, None)
        body = json.loads(resp["body"])
        assert resp["statusCode"] == 200 and len(body["results"]) == 25, resp["body"][:300]
        assert label.startswith("ranked") == ("score" in body["results"][0]), label
    method = rankings.methods("ranked")["popular"]
    _, _, blobs = store.timelines.read_ranked_window("ranked:bench", 1000)
    if replay:
        return _replayed(backend, quick, mod, rows, timed, method, rankings.layout, blobs, store)

    def ranking_alone() -> None:
        rank(method, rankings.layout.columns(blobs), offset=0, limit=26, now=time.time())

    n = 50 if quick else 600
    walls: dict[str, list[float]] = {k: [] for k in [*rows, "ranking alone"]}
    own = {k: [] for k in walls}
    cpu = {k: [] for k in walls}
    for _ in range(n):
        for label, ev in rows.items():
            timed.waited = timed.cpu = 0.0
            t, c = time.perf_counter(), time.thread_time()
            mod.lambda_handler(ev, None)
            wall, thread_cpu = time.perf_counter() - t, time.thread_time() - c
            walls[label].append(wall * 1e6)
            own[label].append((wall - timed.waited) * 1e6)
            cpu[label].append((thread_cpu - timed.cpu) * 1e6)
        t, c = time.perf_counter(), time.thread_time()
        ranking_alone()
        walls["ranking alone"].append((time.perf_counter() - t) * 1e6)
        own["ranking alone"].append(walls["ranking alone"][-1])
        cpu["ranking alone"].append((time.thread_time() - c) * 1e6)
    runtime.install(None)
    store.close()
    lines = []
    for label in walls:
        lines.append(f"| {label} ({backend}) | {median(walls[label]):.0f} | {p99(walls[label]):.0f} | "
                     f"{median(own[label]):.0f} | {median(cpu[label]):.0f} | "
                     f"{median(walls[label]) - median(own[label]):.0f} |")
    ranked_cpu, alone = median(cpu["ranked page of 25, blobs"]), median(walls["ranking alone"])
    lines.append(f"| → ranked read own CPU beyond the ranking alone ({backend}) | | | | "
                 f"{ranked_cpu - alone:.0f} | |")
    lines.append(f"| → ranked minus unranked own CPU ({backend}) | | | | "
                 f"{ranked_cpu - median(cpu['unranked page of 25']):.0f} | |")
    return lines


def _replayed(backend, quick, mod, rows, timed, method, layout, blobs, store) -> list[str]:
    """Each read recorded once, then answered from the tape: Feedline's own CPU for exactly those
    rows with no database competing for the two cores (one read at a time, as run.py's replay)."""
    from feedline import runtime
    from feedline.ranking import rank

    n = 100 if quick else 2000
    lines = []
    alone = []
    for _ in range(n):
        t = time.thread_time()
        rank(method, layout.columns(blobs), offset=0, limit=26, now=time.time())
        alone.append((time.thread_time() - t) * 1e6)
    cpu_of = {}
    for label, ev in rows.items():
        timed.record()
        mod.lambda_handler(ev, None)
        cpu = []
        for _ in range(n):
            timed.begin()
            t = time.thread_time()
            mod.lambda_handler(ev, None)
            cpu.append((time.thread_time() - t) * 1e6)
        cpu_of[label] = median(cpu)
        lines.append(f"| {label} ({backend}, rows replayed) | {median(cpu):.0f} | {p99(cpu):.0f} | "
                     f"{median(cpu):.0f} | {median(cpu):.0f} | 0 |")
    lines.append(f"| ranking alone ({backend}, same window) | {median(alone):.0f} | {p99(alone):.0f} | | | |")
    lines.append(f"| → ranked read beyond the ranking alone ({backend}, rows replayed) | | | | "
                 f"{cpu_of['ranked page of 25, blobs'] - median(alone):.0f} | |")
    runtime.install(None)
    store.close()
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--backends", default="sqlite")
    args = ap.parse_args()
    print("\n".join(HEADER))
    with tempfile.TemporaryDirectory() as tmpdir:
        for b in [b for b in args.backends.split(",") if b]:
            print("\n".join(section(b, args.quick, Path(tmpdir))), flush=True)
        for b in [b for b in args.backends.split(",") if b]:
            print("\n".join(section(b, args.quick, Path(tmpdir), replay=True)), flush=True)
    if "cassandra" in args.backends:
        from run import drop_bench_keyspace

        drop_bench_keyspace()
    return 0


if __name__ == "__main__":
    sys.exit(main())
