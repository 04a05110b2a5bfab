"""Cassandra read shapes and fan-out next to the bare driver, same node, same run (issue 14).

``python bench/bench_cassandra_pages.py [--quick]`` (or ``bench/run.py --backends cassandra
--sections cassandra_pages``). Needs the local node (``bash infra/cassandra/local.sh status``).

Reads, interleaved in rounds so that load from other processes hits every contender alike:

- *bare*: the driver alone runs the single-partition slice of the rows the page shows (the
  physical limit on this node): ``SELECT key, origin, body FROM timeline WHERE feed = ? LIMIT 26``
  for the flat page (a page reads limit + 1 rows for its ``next`` link), and for grouped feeds the
  slice of the window the page groups;
- *end-to-end*: the read Lambda handler on an API Gateway event (auth, parsing, the store, page
  assembly, the response), as ``bench/run.py``'s read section runs it.

For each: wall time, the process's CPU time (``time.process_time``: every thread, so the driver's
event-loop thread that reads and decodes responses counts as ours) and the rest (wall minus CPU:
waiting on the socket, plus any time this process was not scheduled on a busy machine).

Fan-out: one activity to 1,000 followers through the worker (flat, aggregated, notification
followers), next to the bare driver's ``execute_concurrent_with_args`` insert of the same timeline
rows with their bodies (concurrency 128, as the store uses).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from dataset import activities  # noqa: E402
from run import ROOT, drop_bench_keyspace, open_backend  # noqa: E402

PAGE = 25


def _sample(fn, n: int) -> list[tuple[float, float]]:
    """``n`` calls: (wall µs, process CPU µs) of each."""
    out = []
    for _ in range(n):
        t, c = time.perf_counter(), time.process_time()
        fn()
        out.append(((time.perf_counter() - t) * 1e6, (time.process_time() - c) * 1e6))
    return out


def _sample_after(change, fn, n: int) -> list[tuple[float, float]]:
    """``n`` calls of ``fn``, each right after an untimed ``change(i)``."""
    out = []
    for i in range(n):
        change(i)
        t, c = time.perf_counter(), time.process_time()
        fn()
        out.append(((time.perf_counter() - t) * 1e6, (time.process_time() - c) * 1e6))
    return out


def _edited(a, n: int):
    """Activity ``a`` with a changed custom field (same id and time)."""
    import ujson

    from feedline.activities.model import build
    from feedline.models import ids

    doc = ujson.loads(a.body)
    doc.pop("id", None)
    doc["edits"] = n
    return build(doc, ids.key_time_us(a.key), keep_key=a.key)


def _row(label: str, samples: list[tuple[float, float]], ref: float | None, ref_name: str) -> str:
    wall = statistics.median(w for w, _ in samples)
    cpu = statistics.median(c for _, c in samples)
    waited = statistics.median(w - c for w, c in samples)
    p90 = sorted(w for w, _ in samples)[int(len(samples) * 0.9)]
    ratio = f"{wall / ref:.2f}× {ref_name}" if ref else ""
    return f"| {label} | {wall:.0f} | {p90:.0f} | {cpu:.0f} | {waited:.0f} | {ratio} |"


def _handler(settings, stores):
    from feedline import runtime

    rt = runtime.build(settings, stores=stores)
    runtime.install(rt)
    spec = importlib.util.spec_from_file_location("bench_cass_read_app", ROOT / "functions/read/app.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _event(settings, feed: str, query: str = ""):
    import jwt

    from feedline.local.runner import http_event

    token = jwt.encode({"resource": "*", "action": "*", "feed_id": "*"}, settings.app.api_secret, algorithm="HS256")
    return http_event("GET", f"/api/v1.0/feed/{feed}/", f"api_key=bench-key&limit={PAGE}{query}",
                      {"authorization": token, "stream-auth-type": "jwt"}, b"", "GET", "/api/v1.0/{proxy+}",
                      {"proxy": f"feed/{feed}/"})


def section_reads(quick: bool, tmp: Path) -> list[str]:
    from feedline.activities.service import record
    from feedline.feeds.store import Entry
    from feedline.models.cursors import Range
    from feedline.storage.cassandra.statements import qualified

    settings, store = open_backend("cassandra", tmp)
    acts = activities(1401)  # newest first; the newest 400 only for the written feed's changes
    store.activities.put_activities([record(a, "user:bench") for a in acts])
    store.timelines.add_entries("timeline:pages", [Entry(a.key, "user:bench") for a in acts[:200]])
    # feeds of their own ("...:pages"): bench/run.py's read section fills "...:bench" feeds of the
    # same keyspace when both run in one process (make bench-smoke), and a grouped feed holding both
    # would exceed max_length and never take the materialized path
    # grouped feeds as the write path stores them (and as bench/run.py's read section): groups of 15
    # consecutive activities, 10 actors each; 1,000 entries = max_length, the window a read groups.
    # "aggregated:pageswin" holds one entry more than max_length: always read from the window.
    for fid, n in (("aggregated:pages", 1000), ("notification:pages", 1000), ("aggregated:pageswin", 1001),
                   ("aggregated:pageschg", 990)):
        store.timelines.add_entries(fid, [Entry(a.key, None, f"group-{i // 15:02d}", f"user:{i % 10}", a.verb)
                                          for i, a in enumerate(acts[-n:])])
    # the edited feed's activities are the newest 990 (no other grouped feed holds its first one,
    # whose edits would mark their groups too)
    store.timelines.add_entries("aggregated:pagesedit", [Entry(a.key, None, f"group-{i // 15:02d}", f"user:{i % 10}", a.verb)
                                                         for i, a in enumerate(acts[:990])])
    # groups of one member (e.g. notifications of distinct events): a page carries 25 bodies, as a flat page
    store.timelines.add_entries("aggregated:pages1", [Entry(a.key, None, f"one-{i:04d}", f"user:{i % 10}", a.verb)
                                                      for i, a in enumerate(acts[-1000:])])
    mod = _handler(settings, store)
    cs = store.activities.session
    session = cs._connect()
    bare_page = session.prepare(qualified("SELECT key, origin, body FROM timeline WHERE feed = ? LIMIT ?", cs.keyspace))
    bare_window = session.prepare(qualified("SELECT key, origin, grp, actor, verb FROM timeline WHERE feed = ? LIMIT ?",
                                            cs.keyspace))
    events = {name: _event(settings, feed, q) for name, feed, q in (
        ("flat", "timeline/pages", ""), ("aggregated", "aggregated/pages", ""),
        ("notification", "notification/pages", ""), ("window", "aggregated/pageswin", ""),
        ("ones", "aggregated/pages1", ""), ("changed", "aggregated/pageschg", ""),
        ("edited", "aggregated/pagesedit", ""))}
    for name, ev in events.items():
        resp = mod.lambda_handler(ev, None)
        body = json.loads(resp["body"])
        assert resp["statusCode"] == 200 and len(body["results"]) == PAGE, (name, resp["body"][:300])
    # a burst of inserts is counted once it is older than the count's margin (groups.MARGIN_US):
    # until then reads take the window path; wait for the materialized path to be provable
    deadline = time.monotonic() + 30
    while any(store.timelines.read_groups(f, 1000, 15, Range(), 0, PAGE) is None
              for f in ("aggregated:pages", "notification:pages", "aggregated:pages1")):
        assert time.monotonic() < deadline, "the grouped feeds were never counted"
        time.sleep(1)
        for name in ("aggregated", "notification", "ones"):
            mod.lambda_handler(events[name], None)  # a window read counts the feed
    assert store.timelines.read_groups("aggregated:pageswin", 1000, 15, Range(), 0, PAGE) is None
    # the grouped page's physical limit: its 375 member rows with their bodies, one slice of the
    # feed's partition (the members of the newest 25 groups are the newest 375 entries here)
    bare_members = session.prepare(qualified("SELECT key, origin, verb, body FROM timeline WHERE feed = ? LIMIT ?",
                                             cs.keyspace))
    # ... and what a page reads since 0011: the head rows of its 26 groups with their summaries
    bare_summaries = session.prepare(qualified("SELECT newest, grp, packed FROM groups_by_time WHERE feed = ? LIMIT ?",
                                               cs.keyspace))
    for fid in ("aggregated:pages", "notification:pages"):  # the page built them (checked, not assumed)
        got_rows = list(session.execute(bare_summaries, (fid, PAGE + 1)))
        assert all(r[2] is not None for r in got_rows[:PAGE]) and len(got_rows) == PAGE + 1, fid
    shapes = {
        "bare: one slice of 26 rows with bodies": lambda: list(session.execute(bare_page, ("timeline:pages", PAGE + 1))),
        "flat page of 25, end to end": lambda: mod.lambda_handler(events["flat"], None),
        "bare: the 1,000-row window slice (no bodies)": lambda: list(session.execute(bare_window,
                                                                                     ("aggregated:pages", 1000))),
        "bare: one slice of the page's 375 member rows with bodies":
            lambda: list(session.execute(bare_members, ("aggregated:pages", PAGE * 15))),
        "bare: one slice of the page's 26 group summaries (0011)":
            lambda: list(session.execute(bare_summaries, ("aggregated:pages", PAGE + 1))),
        "aggregated page of 25 groups, end to end": lambda: mod.lambda_handler(events["aggregated"], None),
        "notification page of 25 groups, end to end": lambda: mod.lambda_handler(events["notification"], None),
        "aggregated page of 25 groups, window path (1,001 entries), end to end":
            lambda: mod.lambda_handler(events["window"], None),
        "aggregated page of 25 one-member groups (25 bodies), end to end":
            lambda: mod.lambda_handler(events["ones"], None),
    }
    rounds, number = (4, 10) if quick else (40, 10)
    got: dict[str, list[tuple[float, float]]] = {k: [] for k in shapes}
    # a feed being written while it is read (990 entries, below max_length): before each read a new
    # activity lands in its first group and its oldest entry leaves, so the page's first group
    # changed (its summary is rebuilt from its map and member rows) and after 32 inserts since the
    # last count a read groups the window (and counts the feed again), as a feed under writes does
    fresh = acts[1:401][::-1]  # newer than the feed's, oldest first
    oldest = [a.key for a in acts[-990:][::-1]]

    def toggle(i: int) -> None:
        a = fresh.pop(0)
        store.timelines.add_entries("aggregated:pageschg", [Entry(a.key, None, "group-00", "user:0", a.verb)])
        store.timelines.remove_entries("aggregated:pageschg", [oldest.pop(0)])

    edited = acts[0]  # the edited feed's first group's newest member (activities are newest first)
    n_edit = [0]

    def edit(i: int) -> None:
        # the activity is edited (its copies refreshed): one group of the page to rebuild, no insert
        n_edit[0] += 1
        store.activities.put_activities([record(_edited(edited, n_edit[0]), "user:bench")])
        store.timelines.refresh_copies(edited.key)

    changed = "aggregated page of 25 groups, a new activity in its first group before each read, end to end"
    after_edit = "aggregated page of 25 groups, a member of its first group edited before each read, end to end"
    got[after_edit] = []
    got[changed] = []
    for _ in range(rounds):
        for name, fn in shapes.items():
            got[name] += _sample(fn, number)
        got[after_edit] += _sample_after(edit, lambda: mod.lambda_handler(events["edited"], None), number)
        got[changed] += _sample_after(toggle, lambda: mod.lambda_handler(events["changed"], None), number)
    from feedline import runtime

    runtime.install(None)
    store.close()
    bare = statistics.median(w for w, _ in got["bare: one slice of 26 rows with bodies"])
    flat = statistics.median(w for w, _ in got["flat page of 25, end to end"])
    members = statistics.median(w for w, _ in got["bare: one slice of the page's 26 group summaries (0011)"])
    lines = ["| Cassandra read shape | median µs | p90 µs | CPU µs (process, incl. driver) | "
             "wall − CPU µs (socket wait, scheduling) | ratio | ratio to the bare read of its rows |",
             "|---|---:|---:|---:|---:|---|---|"]
    for name, samples in got.items():
        if name.startswith("flat"):
            lines.append(_row(name, samples, bare, "bare slice") + "  |")
        elif "one-member" in name:  # 25 bodies: its rows are the bare 26-row slice's
            lines.append(_row(name, samples, flat, "flat page") + f" {statistics.median(w for w, _ in samples) / bare:.2f}×"
                         " bare 26-row slice |")
        elif name.startswith(("aggregated", "notification")):
            lines.append(_row(name, samples, flat, "flat page") + f" {statistics.median(w for w, _ in samples) / members:.2f}×"
                         " bare summary slice |")
        else:
            lines.append(_row(name, samples, None, "") + "  |")
    lines.append(f"\n({rounds} interleaved rounds of {number} calls per shape, medians over all calls)")
    return lines


def section_fanout(quick: bool, tmp: Path) -> list[str]:
    from cassandra.concurrent import execute_concurrent_with_args

    from feedline.activities.service import record
    from feedline.fanout.messages import FanoutMessage
    from feedline.fanout.worker import Fanout
    from feedline.feeds.service import FeedService
    from feedline.feeds.store import Entry
    from feedline.models import ids
    from feedline.storage.cassandra.statements import qualified

    settings, store = open_backend("cassandra", tmp)
    feeds = FeedService(settings.app, store)
    fanout = Fanout(store, feeds, None, 1000)
    cs = store.activities.session
    session = cs._connect()
    raw_flat = session.prepare(qualified("INSERT INTO timeline (feed, key, origin, body) VALUES (?, ?, ?, ?)",
                                         cs.keyspace))
    raw_grouped = session.prepare(qualified(
        "INSERT INTO timeline (feed, key, origin, body, grp, actor, verb) VALUES (?, ?, ?, ?, ?, ?, ?)", cs.keyspace))
    stamp = int(time.time() * 1000)
    n = 1000
    lines = ["| fan-out of 1 activity to 1,000 followers | worker (everything it writes) | worker feeds/s | "
             "raw driver, same timeline rows with bodies | raw rows/s | worker / raw rate |",
             "|---|---:|---:|---:|---:|---:|"]
    plan = {}
    for kind in ("timeline", "aggregated", "notification"):
        src = f"user:fan{kind}{stamp}"
        for i in range(n):
            store.follows.add_follow(f"{kind}:{stamp}-{i:04d}", src, i)
        plan[kind] = src
    rounds = 3 if quick else 15
    res: dict[str, tuple[list[float], list[float]]] = {k: ([], []) for k in plan}
    base = activities(rounds * 3 + 1)
    r = 0
    for _ in range(rounds):
        for kind, src in plan.items():
            act = base[r]
            r += 1
            store.activities.put_activities([record(act, src)])
            store.timelines.add_entries(src, [Entry(act.key, None)])
            t = time.perf_counter()
            fanout.apply(FanoutMessage("add", ids.key_to_uuid(act.key), src))
            res[kind][0].append(time.perf_counter() - t)
            followers = store.follows.follower_page(src, None, n)
            if kind == "timeline":
                stmt, rows = raw_flat, [(f, act.key, src, act.body) for f in followers]
            else:
                e = feeds.kind(followers[0]).entry(followers[0], act.key, act.body, src)
                stmt, rows = raw_grouped, [(f, act.key, src, act.body, e.group, e.actor, e.verb) for f in followers]
            t = time.perf_counter()
            execute_concurrent_with_args(session, stmt, rows, concurrency=128)
            res[kind][1].append(time.perf_counter() - t)
    store.close()
    for kind, (fan, raw) in res.items():
        f, rw = statistics.median(fan), statistics.median(raw)
        lines.append(f"| {kind} followers | {f * 1000:.0f} ms | {n / f:,.0f} | {rw * 1000:.0f} ms | "
                     f"{n / rw:,.0f} | {rw / f * 100:.0f}% |")
    lines.append(f"\n({rounds} rounds, kinds and worker/raw interleaved; medians)")
    return lines


def run(quick: bool, tmp: Path) -> list[str]:
    return section_reads(quick, tmp) + [""] + section_fanout(quick, tmp)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--sections", default="reads,fanout")
    args = ap.parse_args()
    try:
        with tempfile.TemporaryDirectory() as tmpdir:
            tmp = Path(tmpdir)
            if "reads" in args.sections:
                print("\n".join(section_reads(args.quick, tmp)), "\n")
            if "fanout" in args.sections:
                print("\n".join(section_fanout(args.quick, tmp)), "\n")
    finally:
        drop_bench_keyspace()
    return 0


if __name__ == "__main__":
    sys.exit(main())
