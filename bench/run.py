"""Feedline benchmarks, one command: ``make bench`` (``--quick`` for CI's smoke run).

Sections (each reports medians of many interleaved rounds, measured side by side in one run):
  ranking    1,000 activities -> top 25 by a score expression: twins vs Go + expr-lang (bench_ranking.py)
  assembly   page assembly from 25 stored rows: compiled twin / pure twin / ujson decode+re-encode /
             the Go reference (typed decode+encode and splice, encoding/json)
  read       the read handler on an API Gateway event -> response, flat page of 25, per backend:
             median and p99 wall time and Feedline's own CPU (wall minus time inside storage calls)
             then a ranked read of 25 over a window of 1,000 next to the unranked read of the same
             feed and the ranking alone, per backend (bench_ranked_read.py)
  fanout     one activity to 1,000 followers through the fan-out worker vs the raw store write
  reactions  a reaction add and a reaction filter page of 25 through the handlers, next to a flat
             feed read, per backend (``bench_reactions.py``)
  enrichment an enriched page of 25 (SU: actors, SO: objects, 3 reaction kinds): own CPU from replayed rows,
             compiled vs pure twin vs decode-everything vs the Go reference; then through the read
             handler per backend, with the number of store calls (``bench_enrichment.py``)
  social     users, collections and analytics events through the handlers next to a flat read
             (bench_social.py, per backend)
  coldstart  import time of each function in fresh processes
  load       `feedline dev` on SQLite under 1, 8, 32 clients (bench/bench_load.py): req/s, p50/p99
             per operation, errors, and every acknowledged write checked in every feed it must reach
  realtime   publish fan-out of feedline dev's Faye endpoint, subscribers/s (bench_realtime.py)
  cassandra_pages   (with --backends cassandra) each Cassandra read shape next to the bare driver's
             single-partition read, and fan-out with bodies next to the raw driver's insert:
             bench/bench_cassandra_pages.py
Results are printed as Markdown; BENCHMARKS.md records them with the command that produced them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from dataset import activities, page_rows  # noqa: E402
from timing import interleaved, median, p99  # noqa: E402


def section_assembly(quick: bool) -> list[str]:
    import ujson

    from feedline import _ext

    twins = _ext.twins("feedline.serialization._activity")
    rows = page_rows(25)
    nxt, dur = "/api/v1.0/feed/user/42/?id_lt=x&limit=25", "1.00ms"

    def decode_reencode() -> bytes:
        results = []
        for _key, body, origin in rows:
            doc = ujson.loads(body)
            doc["origin"] = origin
            results.append(doc)
        return ujson.dumps({"results": results, "next": nxt, "duration": dur}, ensure_ascii=False,
                           escape_forward_slashes=False).encode()

    fns = {"pure twin (splice)": lambda: twins["py"].assemble_page(rows, nxt, dur),
           "ujson decode + re-encode": decode_reencode}
    if "c" in twins:
        fns = {"compiled twin (splice)": lambda: twins["c"].assemble_page(rows, nxt, dur), **fns}
    rounds, number = (5, 50) if quick else (41, 500)
    res = interleaved(fns, rounds, number)
    go = go_reference(rows, quick)
    base = median(res["compiled twin (splice)"]) if "c" in twins else median(res["pure twin (splice)"])
    size = len(twins["py"].assemble_page(rows, nxt, dur))
    lines = [f"| page assembly, 25 stored rows ({size} bytes) | median µs | vs compiled |", "|---|---:|---:|"]
    rows = [(k, median(v)) for k, v in res.items()]
    if go:
        rows += [("Go encoding/json typed decode + re-encode", go["typed_us"]), ("Go splice (bytes.Buffer)", go["splice_us"])]
    for name, us in rows:
        lines.append(f"| {name} | {us:.2f} | {us / base:.1f}× |")
    return lines


def go_reference(rows: list, quick: bool) -> dict | None:
    go = shutil.which("go")
    if go is None:
        return None
    peer_dir = HERE / "peers" / "go"
    exe = peer_dir / "peer"
    subprocess.run([go, "build", "-o", str(exe), "."], cwd=peer_dir, check=True)
    from feedline.serialization import encode_origin

    data = json.dumps({"bodies": [b.decode() for _, b, _ in rows], "origins": [encode_origin(o).decode() for *_, o in rows]})
    out = subprocess.run([str(exe)] + (["--quick"] if quick else []), input=data, capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout)


#: one keyspace per run, dropped at the end (bench data never mixes with other runs')
BENCH_KEYSPACE = f"feedline_bench_{os.getpid()}"


def drop_bench_keyspace() -> None:
    from cassandra.cluster import Cluster

    cluster = Cluster(["127.0.0.1"], port=int(os.environ.get("FEEDLINE_CASSANDRA_PORT", "9042")))
    try:
        cluster.connect().execute(f"DROP KEYSPACE IF EXISTS {BENCH_KEYSPACE}", timeout=60)
    finally:
        cluster.shutdown()


class Meter:
    """Adds up the wall and CPU time spent inside store calls (waiting on the database), and holds
    the tape of a recorded request for replay."""

    def __init__(self) -> None:
        self.waited = 0.0
        self.cpu = 0.0
        self.recording = True
        self.tape: list = []
        self.pos = 0

    def record(self) -> None:
        self.recording, self.tape, self.pos = True, [], 0

    def begin(self) -> None:
        self.recording, self.pos = False, 0


class TimedRole:
    """Wraps one role store; its calls' time goes to the shared ``Meter``."""

    def __init__(self, inner, meter: Meter):
        self.inner = inner
        self.meter = meter

    def __getattr__(self, name):
        attr = getattr(self.inner, name)
        if not callable(attr):
            return attr
        meter = self.meter

        def timed(*a, **kw):
            t, c = time.perf_counter(), time.thread_time()
            try:
                return attr(*a, **kw)
            finally:
                meter.waited += time.perf_counter() - t
                meter.cpu += time.thread_time() - c
        return timed


class ReplayRole(TimedRole):
    """Answers every read with what the real store answered during the recorded request: the
    handler's own CPU for exactly those rows, with no database on the machine's two cores in
    between. Calls are replayed by position (a request makes the same calls in the same order)."""

    def __getattr__(self, name):
        attr = getattr(self.inner, name)
        if not callable(attr):
            return attr
        meter = self.meter

        def replay(*a, **kw):
            if meter.recording:
                result = attr(*a, **kw)
                meter.tape.append(result)
                return result
            result = meter.tape[meter.pos]
            meter.pos += 1
            return result
        return replay


def metered(stores, meter: Meter, replay: bool):
    """The same stores, each role wrapped to be timed (or replayed)."""
    import dataclasses

    from feedline.stores import Stores

    wrap = ReplayRole if replay else TimedRole
    roles = {f.name: wrap(getattr(stores, f.name), meter) for f in dataclasses.fields(Stores) if f.name != "closer"}
    return Stores(**roles, closer=stores.close)


def open_backend(name: str, tmp: Path, groups: dict | None = None):
    """Settings and stores of a bench backend; ``groups``: feed groups added to the defaults."""
    from feedline.config import AppConfig, Settings, default_groups

    settings = Settings(app=AppConfig("bench-key", "bench-secret-0123456789-0123456789",
                                      {**default_groups(), **(groups or {})}),
                        sqlite_path=str(tmp / "bench.db"), storage=name,
                        cassandra_keyspace=BENCH_KEYSPACE)
    if name == "cassandra":
        from feedline import db

        db.migrate(settings)
    from feedline.storage import open_stores

    return settings, open_stores(settings)


def section_read(backend: str, quick: bool, tmp: Path, replay: bool = False) -> list[str]:
    import importlib.util

    import jwt

    from feedline import runtime
    from feedline.activities.service import record
    from feedline.feeds.store import Entry
    from feedline.local.runner import http_event

    settings, store = open_backend(backend, tmp)
    acts = activities(600)
    store.activities.put_activities([record(a, "user:bench") for a in acts])
    store.timelines.add_entries("timeline:bench", [Entry(a.key, "user:bench") for a in acts[:200]])
    # aggregated and notification feeds: 40 groups of 15 consecutive activities (10 distinct actors
    # each), as the write path stores them (group key, actor and verb on the entry)
    for fid in ("aggregated:bench", "notification:bench"):
        store.timelines.add_entries(fid, [Entry(a.key, None, f"group-{i // 15:02d}", f"user:{i % 10}", a.verb)
                                          for i, a in enumerate(acts)])
    timed = Meter()
    rt = runtime.build(settings, stores=metered(store, timed, replay))
    runtime.install(rt)
    spec = importlib.util.spec_from_file_location("bench_read_app", ROOT / "functions/read/app.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    token = jwt.encode({"resource": "*", "action": "*", "feed_id": "*"}, settings.app.api_secret, algorithm="HS256")
    lines = []
    for label, feed, query in [("flat page of 25", "timeline/bench", ""),
                               ("aggregated page of 25 groups (15 each)", "aggregated/bench", ""),
                               ("notification page of 25 groups + mark_seen", "notification/bench", "&mark_seen=true")]:
        event = http_event("GET", f"/api/v1.0/feed/{feed}/", f"api_key=bench-key&limit=25{query}",
                           {"authorization": token, "stream-auth-type": "jwt"}, b"", "GET", "/api/v1.0/{proxy+}",
                           {"proxy": f"feed/{feed}/"})
        if replay:
            timed.record()
        resp = mod.lambda_handler(event, None)
        assert resp["statusCode"] == 200 and len(json.loads(resp["body"])["results"]) == 25, resp["body"][:300]
        n = 100 if quick else (3000 if "flat" in label else 1000)
        walls, own, cpu = [], [], []
        for _ in range(n):
            timed.waited = timed.cpu = 0.0
            if replay:
                timed.begin()
            t, c = time.perf_counter(), time.thread_time()
            mod.lambda_handler(event, None)
            wall, thread_cpu = time.perf_counter() - t, time.thread_time() - c
            walls.append(wall * 1e6)
            own.append((wall - timed.waited) * 1e6)
            cpu.append((thread_cpu - timed.cpu) * 1e6)
        lines.append(f"| read handler, {label} ({backend}{', rows replayed' if replay else ''}) | "
                     f"{median(walls):.0f} | {p99(walls):.0f} | "
                     f"{median(own):.0f} | {median(cpu):.0f} | {median(walls) - median(own):.0f} |")
    runtime.install(None)
    store.close()
    return lines


def raw_insert(store, backend: str, key: bytes, feeds: list[str], origin: str) -> None:
    """The limit: the same timeline rows written with the bare client, nothing else.

    Cassandra: one prepared INSERT per row through the driver's ``execute_concurrent_with_args``
    (concurrency 128, as the store uses); SQLite: one ``executemany`` in one transaction.
    """
    rows = [(f, key, origin) for f in feeds]
    if backend == "cassandra":
        from cassandra.concurrent import execute_concurrent_with_args

        session = store.activities.session._connect()
        stmt = store.activities.session.prepared("timeline_put")
        execute_concurrent_with_args(session, stmt, rows, concurrency=128)
    else:
        store.activities.db.write("INSERT INTO timeline (feed, key, origin) VALUES (?, ?, ?) "
                     "ON CONFLICT (feed, key) DO UPDATE SET origin = excluded.origin", rows)


def section_fanout(backend: str, quick: bool, tmp: Path) -> list[str]:
    from feedline.activities.service import record
    from feedline.fanout.messages import FanoutMessage
    from feedline.fanout.worker import Fanout
    from feedline.feeds.service import FeedService
    from feedline.feeds.store import Entry
    from feedline.models import ids

    settings, store = open_backend(backend, tmp)
    fanout = Fanout(store, FeedService(settings.app, store), None, 1000)
    n_followers = 1000
    src = f"user:fan{int(time.time() * 1000)}"
    for i in range(n_followers):
        store.follows.add_follow(f"timeline:{src[5:]}-{i:04d}", src, i)
    rounds = 3 if quick else 15
    fan, raw = [], []
    for r in range(rounds):
        [act] = activities(1)
        act = type(act)(**{**{f: getattr(act, f) for f in act.__dataclass_fields__},
                           "key": act.key[:8] + r.to_bytes(8, "big")})
        store.activities.put_activities([record(act, src)])
        store.timelines.add_entries(src, [Entry(act.key, None)])
        t = time.perf_counter()
        fanout.apply(FanoutMessage("add", ids.key_to_uuid(act.key), src))
        fan.append(time.perf_counter() - t)
        followers = store.follows.follower_page(src, None, n_followers)
        t = time.perf_counter()
        raw_insert(store, backend, act.key, followers, src)
        raw.append(time.perf_counter() - t)
    store.close()
    f, r_ = median(fan), median(raw)
    return [f"| fan-out of 1 activity to 1,000 followers ({backend}) | {f * 1000:.1f} ms | {n_followers / f:,.0f} feeds/s | "
            f"{r_ * 1000:.1f} ms | {n_followers / r_:,.0f} rows/s | {r_ / f * 100:.0f}% |"]


def section_coldstart(quick: bool) -> list[str]:
    code = ("import importlib.util,sys,time;t=time.perf_counter();"
            "s=importlib.util.spec_from_file_location('app',sys.argv[1]);m=importlib.util.module_from_spec(s);"
            "s.loader.exec_module(m);print((time.perf_counter()-t)*1000, 'boto3' in sys.modules)")
    env = dict(os.environ)
    cmd = [sys.executable]
    layer = os.environ.get("FEEDLINE_LAYER_DIR")
    where = "the dev venv"
    if layer:  # what ships: stdlib + the built layer only (-S: no venv site-packages), as in Lambda
        env["PYTHONPATH"] = str(Path(layer) / "python")
        cmd.append("-S")
        where = f"the built layer ({layer})"
    lines = [f"| function ({where}) | import, median of fresh processes (ms) | imports boto3 |", "|---|---:|---|"]
    n = 3 if quick else 21
    times: dict[str, list[float]] = {fn: [] for fn in ("read", "write", "fanout", "realtime")}
    boto: dict[str, bool] = {}
    for _ in range(n):  # interleaved, so machine load hits every function alike
        for fn in times:
            out = subprocess.run([*cmd, "-c", code, str(ROOT / "functions" / fn / "app.py")], env=env,
                                 capture_output=True, text=True, check=True).stdout.split()
            times[fn].append(float(out[0]))
            boto[fn] = out[1] == "True"
    for fn, ts in times.items():
        lines.append(f"| {fn} | {statistics.median(ts):.0f} | {'yes' if boto[fn] else 'no'} |")
    return lines


#: sections that are scripts of their own: name -> (script, passes --backends)
SCRIPTS = {"aggregation": ("bench_aggregation.py", False), "ranking": ("bench_ranking.py", False),
           "social": ("bench_social.py", True), "realtime": ("bench_realtime.py", False),
           "load": ("bench_load.py", False)}  # load: the local stack end to end, SQLite (feedline dev's default)


def run_script(name: str, quick: bool, backends: list[str]) -> None:
    script, with_backends = SCRIPTS[name]
    if not (HERE / script).exists():
        return
    cmd = [sys.executable, str(HERE / script)] + (["--backends", ",".join(backends)] if with_backends else [])
    subprocess.run(cmd + (["--quick"] if quick else []), check=True)
    print()


def section_tables(name: str, quick: bool, backends: list[str], tmp: Path) -> None:
    if name == "read":
        print("| read path | median µs | p99 µs | own: wall minus storage calls µs | own: handler thread CPU "
              "outside storage µs | in storage calls µs |")
        print("|---|---:|---:|---:|---:|---:|")
        for replay in (False, True):
            for b in backends:
                print("\n".join(section_read(b, quick, tmp, replay=replay)))
        print(flush=True)
        # the ranked read of 25 over a window of 1,000, next to the unranked read of its feed
        subprocess.run([sys.executable, str(HERE / "bench_ranked_read.py"), "--backends", ",".join(backends)]
                       + (["--quick"] if quick else []), check=True)
    elif name == "fanout":
        print("| fan-out | worker (all it writes) | worker rate | raw driver, same timeline rows | raw rate | "
              "worker rate / raw rate |")
        print("|---|---:|---:|---:|---:|---:|")
        for b in backends:
            print("\n".join(section_fanout(b, quick, tmp)))
    elif name == "reactions":
        import bench_reactions

        print("\n".join(bench_reactions.HEADER))
        for b in backends:
            print("\n".join(bench_reactions.section(b, quick, tmp, open_backend)))
    elif name == "assembly":
        print("\n".join(section_assembly(quick)))
    elif name == "coldstart":
        print("\n".join(section_coldstart(quick)))
    elif name == "enrichment":
        import bench_enrichment

        print("\n".join(bench_enrichment.section(quick)), "\n")
        print("\n".join(bench_enrichment.HANDLER_HEADER))
        for b in backends:
            print("\n".join(bench_enrichment.section_handler(b, quick, tmp)), flush=True)
    elif name == "cassandra_pages":  # Cassandra only: each read shape next to the bare driver
        if "cassandra" not in backends:
            return
        import bench_cassandra_pages

        print("\n".join(bench_cassandra_pages.run(quick, tmp)))
    print()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="few rounds: CI's smoke run")
    ap.add_argument("--backends", default="sqlite", help="comma list: sqlite,cassandra")
    ap.add_argument("--sections",
                    default="assembly,aggregation,ranking,read,fanout,reactions,social,enrichment,coldstart,load,"
                            "realtime,cassandra_pages")
    args = ap.parse_args()
    backends = [b for b in args.backends.split(",") if b]
    from feedline import _ext

    print(f"# Feedline benchmarks ({'quick' if args.quick else 'full'}) — {platform.node()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}, "
          f"compiled twins: {not _ext.NO_EXTENSIONS}\n")
    with tempfile.TemporaryDirectory() as tmpdir:
        for name in args.sections.split(","):  # in the order asked
            if name in SCRIPTS:
                run_script(name, args.quick, backends)
            else:
                section_tables(name, args.quick, backends, Path(tmpdir))
    if "cassandra" in backends:
        drop_bench_keyspace()
    return 0


if __name__ == "__main__":
    sys.exit(main())
