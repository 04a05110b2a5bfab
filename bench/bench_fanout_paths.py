"""Grouped fan-out on Cassandra: this code next to its previous write path, interleaved in one process.

``python bench/bench_fanout_paths.py [--rounds 15]`` (needs the local node: ``bash
infra/cassandra/local.sh status``). One activity to 1,000 followers through the fan-out worker,
per round and kind (timeline, aggregated, notification followers) three contenders back to back:

- *before*: the write path as it was before grouped entries were rendered once per activity and
  batch values serialized once per call: each follower's entry rendered on its own (the body
  parsed per follower) and every batch row bound by the driver's ``BatchStatement.add``;
- *now*: the worker as it is;
- *raw*: the bare driver's ``execute_concurrent_with_args`` insert of the same timeline rows with
  their bodies (concurrency 128, as ``bench_cassandra_pages.py``'s fan-out section).

The two paths write the same rows (the ``before`` one is this code with ``Feed.entries`` and the
session's ``Binder`` swapped for their previous behaviour), so the load of the shared machine
hits all three alike within a round. Reported: medians of wall time and of this process's CPU
(every thread: the driver's event loop too) and the node's CPU over the same calls (from
/proc/<pid>/stat when ``--node-pid`` is given), and worker/raw rate ratios.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from dataset import activities  # noqa: E402
from run import drop_bench_keyspace, open_backend  # noqa: E402


def _node_cpu(pid: int | None) -> float:
    if not pid:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class _DriverBinder:
    """The previous batch binding: every row through the driver's ``BatchStatement.add``."""

    def __init__(self, prepared: Any):
        self.prepared = prepared

    def add(self, batch: Any, name: str, params: Any) -> None:
        batch.add(self.prepared(name), params)


def _entries_one_by_one(self: Any, fids: Any, key: bytes, body: bytes | None, origin: str | None) -> list:
    """The previous rendering: each feed's entry on its own, the body parsed for each."""
    import ujson

    from feedline.aggregation.template import compile_format
    from feedline.feeds.store import Entry
    from feedline.models import ids

    out = []
    for fid in fids:
        doc = ujson.loads(body or b"{}")
        slug, _, uid = fid.partition(":")
        rendered = compile_format(self.group.aggregation_format).render(doc, ids.key_time_us(key), slug, uid)
        out.append((fid, Entry(key, origin, rendered, str(doc.get("actor", "")), str(doc.get("verb", "")))))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--node-pid", type=int, default=None, help="the Cassandra node's pid (its CPU per call)")
    args = ap.parse_args()

    from cassandra.concurrent import execute_concurrent_with_args

    from feedline.activities.service import record
    from feedline.fanout.messages import FanoutMessage
    from feedline.fanout.worker import Fanout
    from feedline.feeds.grouped import AggregatedFeed
    from feedline.feeds.service import FeedService
    from feedline.feeds.store import Entry
    from feedline.models import ids
    from feedline.storage.cassandra import session as session_module
    from feedline.storage.cassandra.statements import qualified

    now_entries, now_binder = AggregatedFeed.entries, session_module.Binder

    def use(path: str) -> None:
        before = path == "before"
        AggregatedFeed.entries = _entries_one_by_one if before else now_entries  # type: ignore[method-assign]
        session_module.Binder = _DriverBinder if before else now_binder  # type: ignore[misc,assignment]

    n = 1000
    try:
        with tempfile.TemporaryDirectory() as tmpdir:
            settings, store = open_backend("cassandra", Path(tmpdir))
            feeds = FeedService(settings.app, store)
            fanout = Fanout(store, feeds, None, n)
            cs = store.activities.session
            driver = cs._connect()
            raw_flat = driver.prepare(qualified(
                "INSERT INTO timeline (feed, key, origin, body) VALUES (?, ?, ?, ?)", cs.keyspace))
            raw_grouped = driver.prepare(qualified(
                "INSERT INTO timeline (feed, key, origin, body, grp, actor, verb) VALUES (?, ?, ?, ?, ?, ?, ?)",
                cs.keyspace))
            stamp = int(time.time() * 1000)
            kinds = ("timeline", "aggregated", "notification")
            sources = {}
            for kind in kinds:
                src = sources[kind] = f"user:paths{kind}{stamp}"
                for i in range(n):
                    store.follows.add_follow(f"{kind}:{stamp}-{i:04d}", src, i)
            acts = iter(activities(args.rounds * len(kinds) * 2 + 1))
            # (kind, contender) -> [(wall s, process CPU s, node CPU s)]
            res: dict[tuple[str, str], list[tuple[float, float, float]]] = {}

            def timed(label: tuple[str, str], fn: Any, *fn_args: Any) -> None:
                t, c, nc = time.perf_counter(), time.process_time(), _node_cpu(args.node_pid)
                fn(*fn_args)
                res.setdefault(label, []).append(
                    (time.perf_counter() - t, time.process_time() - c, _node_cpu(args.node_pid) - nc))

            for r in range(args.rounds):
                for kind in kinds:
                    src = sources[kind]
                    order = ("before", "now") if r % 2 == 0 else ("now", "before")
                    for path in order:
                        act = next(acts)
                        store.activities.put_activities([record(act, src)])
                        store.timelines.add_entries(src, [Entry(act.key, None)])
                        use(path)
                        timed((kind, path), fanout.apply, FanoutMessage("add", ids.key_to_uuid(act.key), src))
                    use("now")
                    followers = store.follows.follower_page(src, None, n)
                    if kind == "timeline":
                        stmt, rows = raw_flat, [(f, act.key, src, act.body) for f in followers]
                    else:
                        e = feeds.kind(followers[0]).entry(followers[0], act.key, act.body, src)
                        stmt, rows = raw_grouped, [(f, act.key, src, act.body, e.group, e.actor, e.verb)
                                                   for f in followers]
                    timed((kind, "raw"), execute_concurrent_with_args, driver, stmt, rows, 128)
            store.close()
    finally:
        use("now")
        drop_bench_keyspace()

    def med(kind: str, path: str, i: int) -> float:
        return statistics.median(x[i] for x in res[(kind, path)]) * 1000

    print("| fan-out of 1 activity to 1,000 followers | before: wall / CPU / node CPU ms | now: wall / CPU / node "
          "CPU ms | raw driver: wall / CPU / node CPU ms | before / raw rate | now / raw rate | now / before time |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for kind in kinds:
        cells = [" / ".join(f"{med(kind, p, i):.0f}" for i in range(3)) for p in ("before", "now", "raw")]
        b, w, raw = med(kind, "before", 0), med(kind, "now", 0), med(kind, "raw", 0)
        print(f"| {kind} followers | {cells[0]} | {cells[1]} | {cells[2]} | {raw / b * 100:.0f}% | "
              f"**{raw / w * 100:.0f}%** | {w / b:.2f} |")
    print(f"\n({args.rounds} rounds; per round and kind: before and now in alternating order, then raw; medians)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
