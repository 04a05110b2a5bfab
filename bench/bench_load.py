"""Load benchmark of the local stack: ``feedline dev`` on SQLite under N clients for T seconds.

Starts ``feedline dev`` (the real CLI, SQLite in a temporary directory, a free port) and drives it
with raw HTTP over keep-alive connections (``http.client``, one connection per client thread, a
signed HS256 scope JWT and ``api_key`` on every request, as stream-python sends them). Each client
picks, at random with fixed weights:

  read     GET  feed/timeline/<u>/?limit=25             (45%)
  profile  GET  feed/user/<u>/?limit=25                 (15%)
  write    POST feed/user/<u>/  one activity             (30%)
  follow   POST feed/timeline/<a>/follows/  user:<b>, activity_copy_limit=0   (10%)

and records each request's latency and status. Afterwards every feed is read back in full and
checked: every acknowledged write is in the feed it was posted to and in the timeline of every
follower whose follow was acknowledged before the write was sent; it is absent from timelines
whose follow was sent after the write was acknowledged (a copy limit of 0 copies nothing); and no
feed holds an activity twice. Overlapping follow/write pairs may go either way and are not judged.

The client runs on the same machine (and, here, the same two cores) as the server: figures are
the whole system's, client included.

    .venv/bin/python bench/bench_load.py                 # 1, 8, 32 clients, 3 rounds of 10 s each
    .venv/bin/python bench/bench_load.py --quick         # CI's smoke run: 1 and 8 clients, 2 s each
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import jwt

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

API_KEY = "bench-key"
API_SECRET = "bench-secret-0123456789-0123456789"
TOKEN = jwt.encode({"resource": "*", "action": "*", "feed_id": "*"}, API_SECRET, algorithm="HS256")
HEADERS = {"Authorization": TOKEN, "stream-auth-type": "jwt", "Content-Type": "application/json"}
WEIGHTS = {"read": 45, "profile": 15, "write": 30, "follow": 10}
FOLLOWS_AT_START = 3  # each timeline follows this many users before the clock starts


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``feedline dev`` in a subprocess (``root``: the source tree whose CLI and template to run)."""

    def __init__(self, tmp: Path, concurrency: int | None = None, root: Path = ROOT):
        self.port = free_port()
        env = {**os.environ, "FEEDLINE_API_KEY": API_KEY, "FEEDLINE_API_SECRET": API_SECRET,
               "FEEDLINE_STORAGE": "sqlite", "FEEDLINE_SQLITE_PATH": str(tmp / "load.db"),
               "POWERTOOLS_LOG_LEVEL": "ERROR"}
        env.pop("FEEDLINE_CONFIG", None)  # Stream's default groups: user and timeline are flat
        if root != ROOT:
            env["PYTHONPATH"] = str(root / "core")
        args = [sys.executable, "-m", "feedline.cli", "dev", "--port", str(self.port)]
        if concurrency:
            args += ["--concurrency", str(concurrency)]
        self.log = open(tmp / "server.log", "w+")
        self.proc = subprocess.Popen(args, cwd=root, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(f"feedline dev exited: {self.log.read()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("feedline dev did not listen within 60 s")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


class Client:
    """One keep-alive connection; reconnects after a failure (the failure is counted by the caller)."""

    def __init__(self, port: int):
        self.port = port
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, bytes]:
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        sep = "&" if "?" in path else "?"
        try:
            self.conn.request(method, f"/api/v1.0/{path}{sep}api_key={API_KEY}",
                              body=None if body is None else json.dumps(body), headers=HEADERS)
            resp = self.conn.getresponse()
            data = resp.read()
            if resp.getheader("connection", "").lower() == "close":
                self.close()
            return resp.status, data
        except (OSError, http.client.HTTPException):
            self.close()
            raise

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


@dataclass
class Ledger:
    """What the clients were told: acknowledged writes and follows, with their send/ack clocks."""

    writes: list[tuple[str, str, float, float]] = field(default_factory=list)  # (user, id, sent, acked)
    follows: list[tuple[str, str, float, float]] = field(default_factory=list)  # (timeline, user, sent, acked)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    lock: threading.Lock = field(default_factory=threading.Lock)


def client_loop(port: int, users: list[str], until: float, seed: int, ledger: Ledger) -> None:
    rnd = random.Random(seed)
    ops, weights = list(WEIGHTS), list(WEIGHTS.values())
    client = Client(port)
    lat: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    writes, follows = [], []
    n = 0
    while time.perf_counter() < until:
        op = rnd.choices(ops, weights)[0]
        u = rnd.choice(users)
        if op == "read":
            method, path, body = "GET", f"feed/timeline/{u}/?limit=25", None
        elif op == "profile":
            method, path, body = "GET", f"feed/user/{u}/?limit=25", None
        elif op == "write":
            n += 1
            method, path, body = "POST", f"feed/user/{u}/", {"actor": u, "verb": "post", "object": f"o:{seed}:{n}"}
        else:
            b = rnd.choice(users)
            method, path, body = "POST", f"feed/timeline/{u}/follows/", {"target": f"user:{b}",
                                                                          "activity_copy_limit": 0}
        t = time.perf_counter()
        try:
            status, data = client.request(method, path, body)
        except (OSError, http.client.HTTPException):
            errors[f"{op}: connection"] += 1
            continue
        done = time.perf_counter()
        lat[op].append(done - t)
        if status != 200:
            if not errors[f"{op}: {status}"]:
                print(f"{op} {method} {path} {body}: {status} {data[:300]!r}", file=sys.stderr)
            errors[f"{op}: {status}"] += 1
            continue
        if op == "write":
            writes.append((u, json.loads(data)["id"], t, done))
        elif op == "follow":
            follows.append((u, body["target"][5:], t, done))
    client.close()
    with ledger.lock:
        ledger.writes += writes
        ledger.follows += follows
        for k, v in lat.items():
            ledger.latencies[k] += v
        for k, v in errors.items():
            ledger.errors[k] += v


def read_all(client: Client, feed: str) -> list[str]:
    ids: list[str] = []
    path = f"feed/{feed}/?limit=100"
    while True:
        status, data = client.request("GET", path)
        if status != 200:
            raise RuntimeError(f"reading {feed}: {status} {data[:200]!r}")
        page = [r["id"] for r in json.loads(data)["results"]]
        ids += page
        if len(page) < 100:
            return ids
        path = f"feed/{feed}/?limit=100&id_lt={page[-1]}"


def check(port: int, users: list[str], ledger: Ledger) -> dict[str, int]:
    """Every acknowledged write where it must be, nowhere twice (see the module docstring)."""
    client = Client(port)
    feeds = {f"user/{u}": read_all(client, f"user/{u}") for u in users}
    feeds.update({f"timeline/{u}": read_all(client, f"timeline/{u}") for u in users})
    client.close()
    out = {"acknowledged writes": len(ledger.writes), "checked placements": 0, "missing": 0,
           "present though followed after": 0, "duplicates": 0}
    for ids in feeds.values():
        out["duplicates"] += len(ids) - len(set(ids))
    sets = {k: set(v) for k, v in feeds.items()}
    # per (timeline, user): the earliest follow acknowledgement and the earliest follow send
    first_ack: dict[tuple[str, str], float] = {}
    first_sent: dict[tuple[str, str], float] = {}
    for tl, u, sent, acked in ledger.follows:
        first_ack[(tl, u)] = min(acked, first_ack.get((tl, u), acked))
        first_sent[(tl, u)] = min(sent, first_sent.get((tl, u), sent))
    followers: dict[str, list[str]] = defaultdict(list)
    for tl, u in first_ack:
        followers[u].append(tl)
    for u, aid, sent, acked in ledger.writes:
        out["checked placements"] += 1
        if aid not in sets[f"user/{u}"]:
            out["missing"] += 1
            print(f"missing: {aid} (posted to user:{u}) from its own feed", file=sys.stderr)
        for tl in followers[u]:
            present = aid in sets[f"timeline/{tl}"]
            if first_ack[(tl, u)] < sent:
                out["checked placements"] += 1
                out["missing"] += not present
                if not present:
                    print(f"missing: {aid} (user:{u}) from timeline:{tl}, followed "
                          f"{(sent - first_ack[(tl, u)]) * 1000:.1f} ms before the write was sent", file=sys.stderr)
            elif acked < first_sent[(tl, u)]:
                out["checked placements"] += 1
                out["present though followed after"] += present
    return out


def pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(len(s) * q))] * 1000 if s else float("nan")


def run_level(port: int, clients: int, seconds: float, tag: str) -> dict:
    users = [f"{tag}u{i}" for i in range(max(40, clients * 6))]
    ledger = Ledger()
    rnd = random.Random(tag)
    setup = Client(port)
    for u in users:  # a starting graph: each timeline follows a few users (acknowledged before the run)
        for b in rnd.sample(users, FOLLOWS_AT_START):
            status, data = setup.request("POST", f"feed/timeline/{u}/follows/", {"target": f"user:{b}"})
            if status != 200:
                raise RuntimeError(f"setup follow: {status} {data[:200]!r}")
            ledger.follows.append((u, b, float("-inf"), float("-inf")))
    setup.close()
    start = time.perf_counter()
    until = start + seconds
    threads = [threading.Thread(target=client_loop, args=(port, users, until, zlib.crc32(f"{tag}:{i}".encode()), ledger))
               for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    total = sum(len(v) for v in ledger.latencies.values()) + sum(
        v for k, v in ledger.errors.items() if k.endswith("connection"))
    return {"clients": clients, "seconds": elapsed, "requests": total, "rps": total / elapsed,
            "latency": {op: (len(v), pct(v, 0.5), pct(v, 0.99)) for op, v in sorted(ledger.latencies.items())},
            "errors": dict(ledger.errors), "check": check(port, users, ledger)}


def merge(rounds: list[dict]) -> dict:
    """Rounds of one level: the median round's throughput and latencies, every round's checks and errors."""
    mid = sorted(rounds, key=lambda r: r["rps"])[len(rounds) // 2]
    errors: dict[str, int] = defaultdict(int)
    checks: dict[str, int] = defaultdict(int)
    for r in rounds:
        for k, v in r["errors"].items():
            errors[k] += v
        for k, v in r["check"].items():
            checks[k] += v
    return {**mid, "rounds": [r["rps"] for r in rounds], "errors": dict(errors), "check": dict(checks)}


def report(results: list[dict], label: str) -> list[str]:
    ops = list(WEIGHTS)
    lines = [f"| {label}: clients | req/s (median of rounds) | " + " | ".join(f"{op} p50 / p99 ms" for op in ops)
             + " | errors | acked writes | placements checked | missing | wrongly present | duplicates |",
             "|---:|---:|" + "---:|" * len(ops) + "---|---:|---:|---:|---:|---:|"]
    for r in results:
        cells = []
        for op in ops:
            n, p50, p99 = r["latency"].get(op, (0, float("nan"), float("nan")))
            cells.append(f"{p50:.1f} / {p99:.1f}")
        c = r["check"]
        errors = ", ".join(f"{k} ×{v}" for k, v in sorted(r["errors"].items())) or "0"
        rounds = "/".join(f"{x:,.0f}" for x in r["rounds"])
        lines.append(f"| {r['clients']} | {r['rps']:,.0f} ({rounds}) | " + " | ".join(cells) + f" | {errors} | "
                     f"{c['acknowledged writes']:,} | {c['checked placements']:,} | {c['missing']} | "
                     f"{c['present though followed after']} | {c['duplicates']} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="CI's smoke run: 1 and 8 clients, 2 s, one round")
    ap.add_argument("--clients", default=None, help="comma list (default 1,8,32)")
    ap.add_argument("--seconds", type=float, default=None, help="per level and round (default 10)")
    ap.add_argument("--rounds", type=int, default=None, help="rounds per level (default 3)")
    ap.add_argument("--concurrency", type=int, default=None, help="feedline dev --concurrency")
    ap.add_argument("--compare", type=Path, action="append", default=[],
                    help="another source tree (e.g. an older commit's export) to run side by side, "
                         "level by level, round by round")
    ap.add_argument("--json", action="store_true", help="print the raw results as JSON too")
    args = ap.parse_args(argv)
    levels = [int(c) for c in (args.clients or ("1,8" if args.quick else "1,8,32")).split(",")]
    seconds = args.seconds or (2.0 if args.quick else 10.0)
    rounds = args.rounds or (1 if args.quick else 3)
    roots = {"this tree": ROOT, **{str(p): p.resolve() for p in args.compare}}
    results: dict[str, dict[int, list[dict]]] = {name: defaultdict(list) for name in roots}
    with tempfile.TemporaryDirectory() as tmpdir:
        servers = {}
        try:
            for i, (name, root) in enumerate(roots.items()):
                (Path(tmpdir) / str(i)).mkdir()
                servers[name] = Server(Path(tmpdir) / str(i), args.concurrency, root)
                run_level(servers[name].port, 4, 1.0 if args.quick else 3.0, f"warm{i}")  # cold starts
            for n in levels:
                for rnd in range(rounds):  # interleaved: load changes on the machine hit every tree alike
                    for i, name in enumerate(roots):
                        results[name][n].append(run_level(servers[name].port, n, seconds, f"t{i}c{n}r{rnd}x"))
        finally:
            for name, server in servers.items():
                server.log.seek(0)
                errors = [line for line in server.log if "ERROR" in line or "Error" in line]
                if errors:  # what the server said went wrong (a failed check is explained here)
                    print(f"{name}: feedline dev logged {len(errors)} error line(s), e.g.:", *errors[:5],
                          sep="\n  ", file=sys.stderr)
                server.stop()
    bad = False
    for name in roots:
        merged = [merge(results[name][n]) for n in levels]
        conc = f" --concurrency {args.concurrency}" if args.concurrency else ""
        print("\n".join(report(merged, f"{name}{conc}, {seconds:g} s × {rounds}")), "\n")
        bad = bad or any(r["check"]["missing"] or r["check"]["duplicates"] or r["check"]["present though followed after"]
                         for r in merged)
        if args.json:
            print(json.dumps(merged, indent=1))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
