"""Reactions through the handlers, next to a flat feed read in the same run.

    .venv/bin/python bench/bench_reactions.py [--quick] [--backends sqlite,cassandra]

Per backend, rounds interleave three requests (API Gateway event -> Lambda handler -> response):
  - a flat feed read of 25 activities (the read path's reference, as in ``run.py``'s read section);
  - a reaction filter page of 25 (``GET /reaction/activity_id/<id>/``, 200 reactions on it);
  - a reaction add (``POST /reaction/``, one like, spread over 50 activities so each recount
    sees a few hundred reactions at most).
Medians and p99 of wall time in µs. ``run.py --sections reactions`` prints the same table.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from timing import median, p99  # noqa: E402

HEADER = ["| reactions (through the handlers) | median µs | p99 µs | vs flat read |", "|---|---:|---:|---:|"]


def _function(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}_app", ROOT / f"functions/{name}/app.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.lambda_handler


def section(backend: str, quick: bool, tmp: Path, open_backend) -> list[str]:
    import jwt
    from dataset import activities

    from feedline import runtime
    from feedline.activities.service import record
    from feedline.feeds.store import Entry
    from feedline.local.runner import http_event

    settings, store = open_backend(backend, tmp)
    acts = activities(200)
    store.activities.put_activities([record(a, "user:bench") for a in acts])
    store.timelines.add_entries("timeline:bench", [Entry(a.key, "user:bench") for a in acts])
    rt = runtime.build(settings, stores=store)
    runtime.install(rt)
    read, write = _function("read"), _function("write")
    token = jwt.encode({"resource": "*", "action": "*", "feed_id": "*"}, settings.app.api_secret, algorithm="HS256")
    headers = {"authorization": token, "stream-auth-type": "jwt", "host": "localhost"}

    def event(method: str, path: str, qs: str = "", body: bytes = b"") -> dict:
        return http_event(method, path, f"api_key=bench-key{qs}", headers, body, method, "/api/v1.0/{proxy+}",
                          {"proxy": path[len("/api/v1.0/"):]})

    target = acts[0].id
    for i in range(200):
        body = {"kind": "like", "activity_id": target, "user_id": f"u{i}", "data": {"text": f"nice {i} ☕"}}
        resp = write(event("POST", "/api/v1.0/reaction/", body=json.dumps(body).encode()), None)
        assert resp["statusCode"] == 200, resp["body"][:300]
    flat = event("GET", "/api/v1.0/feed/timeline/bench/", "&limit=25")
    page = event("GET", f"/api/v1.0/reaction/activity_id/{target}/", "&limit=25")
    assert len(json.loads(read(page, None)["body"])["results"]) == 25
    assert len(json.loads(read(flat, None)["body"])["results"]) == 25
    counter = [0]

    def add() -> dict:
        counter[0] += 1
        n = counter[0]
        body = {"kind": "like", "activity_id": acts[1 + n % 50].id, "user_id": f"b{n}", "data": {"n": n}}
        return write(event("POST", "/api/v1.0/reaction/", body=json.dumps(body).encode()), None)

    calls = {"flat feed read, 25 activities": lambda: read(flat, None),
             "reaction filter page of 25": lambda: read(page, None),
             "reaction add (POST /reaction/)": add}
    n = 30 if quick else 400
    times: dict[str, list[float]] = {k: [] for k in calls}
    for _ in range(n):
        for name, fn in calls.items():
            t = time.perf_counter()
            resp = fn()
            times[name].append((time.perf_counter() - t) * 1e6)
            assert resp["statusCode"] == 200, resp["body"][:300]
    runtime.install(None)
    store.close()
    base = median(times["flat feed read, 25 activities"])
    return [f"| {name} ({backend}) | {median(ts):.0f} | {p99(ts):.0f} | {median(ts) / base:.2f}x |"
            for name, ts in times.items()]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="few rounds: CI's smoke run")
    ap.add_argument("--backends", default="sqlite", help="comma list: sqlite,cassandra")
    args = ap.parse_args()
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")  # the handlers' cold-start and driver logs
    logging.getLogger("cassandra").setLevel(logging.ERROR)
    from run import drop_bench_keyspace, open_backend

    backends = [b for b in args.backends.split(",") if b]
    print("\n".join(HEADER))
    try:
        with tempfile.TemporaryDirectory() as tmpdir:
            for b in backends:
                print("\n".join(section(b, args.quick, Path(tmpdir), open_backend)), flush=True)
    finally:
        if "cassandra" in backends:
            drop_bench_keyspace()
    return 0


if __name__ == "__main__":
    sys.exit(main())
