"""Users, collections and analytics events through the handlers, next to a flat feed read.

``python bench/bench_social.py [--quick] [--backends sqlite,cassandra]``: per backend, medians of
interleaved rounds (each route timed in every round, so machine load hits them alike) of one
API Gateway event -> response through ``functions/read`` or ``functions/write``:

- the flat feed read (page of 25): the reference, measured in the same run
- ``GET /user/{id}/`` and with ``with_follow_counts`` (two count queries)
- ``GET /collections/?foreign_ids=`` selecting 25 items (the enrichment-sized look-up)
- ``POST /collections/`` upserting 25 items, ``POST /user/`` creating a new user
- ``POST /analytics/v1.0/engagement/`` with 10 events
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from dataset import activities  # noqa: E402
from run import BENCH_KEYSPACE, drop_bench_keyspace, open_backend  # noqa: E402
from timing import interleaved, median, p99  # noqa: E402


def _load(fn: str):
    spec = importlib.util.spec_from_file_location(f"bench_social_{fn}", ROOT / "functions" / fn / "app.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.lambda_handler


def section(backend: str, quick: bool, tmp: Path) -> list[str]:
    import jwt

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
    read, write = _load("read"), _load("write")
    token = jwt.encode({"resource": "*", "action": "*", "feed_id": "*"}, settings.app.api_secret, algorithm="HS256")
    headers = {"authorization": token, "stream-auth-type": "jwt"}

    def event(method: str, path: str, qs: str = "", body: object = None, prefix: str = "/api/v1.0/") -> dict:
        raw = b"" if body is None else json.dumps(body).encode()
        return http_event(method, path, f"api_key=bench-key{qs}", headers, raw, method, prefix + "{proxy+}",
                          {"proxy": path[len(prefix):]})

    def call(handler, ev: dict, status: int) -> None:
        resp = handler(ev, None)
        assert resp["statusCode"] == status, resp["body"][:300]

    items = [{"id": f"item-{i}", "name": f"thing {i}", "tags": ["a", "b"], "price": i * 1.5} for i in range(25)]
    call(write, event("POST", "/api/v1.0/collections/", body={"data": {"things": items}}), 200)
    call(write, event("POST", "/api/v1.0/user/", body={"id": "bench", "data": {"name": "Bench", "bio": "x" * 200}}), 200)
    for i in range(20):
        store.follows.add_follow(f"timeline:f{i}", "user:bench", i)
    fids = ",".join(f"things:item-{i}" for i in range(25))
    engagements = {"content_list": [{"content": f"tweet:{i}", "label": "click", "user_data": "bench",
                                     "feed_id": "timeline:bench", "position": i} for i in range(10)]}
    fresh = itertools.count()
    cases = {
        "flat feed read, page of 25 (reference)": lambda: call(read, event("GET", "/api/v1.0/feed/timeline/bench/",
                                                                           "&limit=25"), 200),
        "GET /user/{id}/": lambda: call(read, event("GET", "/api/v1.0/user/bench/"), 200),
        "GET /user/{id}/?with_follow_counts=true": lambda: call(
            read, event("GET", "/api/v1.0/user/bench/", "&with_follow_counts=true"), 200),
        "GET /collections/ select 25 items": lambda: call(read, event("GET", "/api/v1.0/collections/",
                                                                      f"&foreign_ids={fids}"), 200),
        "POST /user/ (new id)": lambda: call(write, event("POST", "/api/v1.0/user/",
                                                          body={"id": f"u{next(fresh)}", "data": {"n": 1}}), 200),
        "POST /collections/ upsert 25 items": lambda: call(write, event("POST", "/api/v1.0/collections/",
                                                                        body={"data": {"things": items}}), 200),
        "POST /analytics/v1.0/engagement/ (10 events)": lambda: call(
            write, event("POST", "/analytics/v1.0/engagement/", body=engagements, prefix="/analytics/v1.0/"), 200),
    }
    rounds, number = (3, 5) if quick else (31, 40)
    res = interleaved(cases, rounds, number)
    runtime.install(None)
    store.close()
    base = median(res["flat feed read, page of 25 (reference)"])
    return [f"| {name} ({backend}) | {median(v):.0f} | {p99(v):.0f} | {median(v) / base:.2f} |"
            for name, v in res.items()]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="few rounds: CI's smoke run")
    ap.add_argument("--backends", default="sqlite", help="comma list: sqlite,cassandra")
    args = ap.parse_args()
    backends = [b for b in args.backends.split(",") if b]
    print("| through the handler | median µs | p99 of round means µs | / flat read |")
    print("|---|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmpdir:
        for b in backends:
            print("\n".join(section(b, args.quick, Path(tmpdir))))
    if "cassandra" in backends:
        drop_bench_keyspace()
    print(f"\n(keyspace {BENCH_KEYSPACE} dropped)" if "cassandra" in backends else "")
    return 0


if __name__ == "__main__":
    sys.exit(main())
