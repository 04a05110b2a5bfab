"""The "enriched page" benchmark: an enriched flat page of 25 from replayed stored rows.

    .venv/bin/python bench/bench_enrichment.py [--quick]

The page (issue 12): 25 activities, each with an ``SU:`` actor (10 distinct users) and an ``SO:``
object (25 collection items); 3 reaction kinds per activity with counts (12 likes, 7 comments,
3 shares), the 5 latest of each kind (3 shares) with their users (20 distinct), and one own
reaction each; ``withReactionCounts``, ``withOwnReactions``, ``withRecentReactions``.

What is timed is Feedline's own CPU from the stored rows to the response bytes (the store answers
are replayed from memory, as the read path receives them: activity bodies with their stored
reference offsets, user/item JSON by id, reaction rows): token collection, look-up planning, the
not-found objects, reaction users, the reaction members and the page splice. Side by side in one
run, medians of interleaved rounds:

- compiled twin (``_enrich_c``) vs pure twin (``_enrich_py``) of the same pipeline;
- ujson decode + enrich as dicts + re-encode (what a decode-everything design does in Python);
- the Go reference (``bench/peers/go``, ``enrich`` mode): typed decode of the same stored
  activities, users, items and reactions, enrich, ``encoding/json`` encode.

Targets: compiled <= 300 µs, compiled >= 5x pure, faster than Go.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import ujson

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from dataset import BASE_US, payload  # noqa: E402
from timing import interleaved_cpu, median  # noqa: E402

from feedline import _ext  # noqa: E402
from feedline.activities.model import build  # noqa: E402
from feedline.enrichment.assemble import Fetcher, Options, enrichment  # noqa: E402
from feedline.models import ids  # noqa: E402
from feedline.serialization import encode_origin, json_bytes  # noqa: E402

KINDS = {"like": 12, "comment": 7, "share": 3}
NXT, DUR = "/api/v1.0/enrich/feed/timeline/42/?id_lt=x&limit=25", "1.00ms"
T = "2025-06-15T12:00:00.000000Z"


def user(i: int) -> bytes:
    return json_bytes({"id": f"user{i}", "data": {"name": f"Utilizator {i} ☕", "profileImage": f"https://img.example/{i}.png"},
                       "created_at": T, "updated_at": T})


def reaction(rid: str, kind: str, aid: str, uid: str) -> bytes:
    return (b'{"id":' + json_bytes(rid) + b',"kind":' + json_bytes(kind) + b',"activity_id":' + json_bytes(aid)
            + b',"user_id":' + json_bytes(uid) + b',"data":' + json_bytes({"text": "Frumos! 日本"} if kind == "comment" else {})
            + b',"parent":"","created_at":"' + T.encode() + b'","updated_at":"' + T.encode() + b'"}')


CHILDREN = b',"latest_children":{},"children_counts":{}'


def dataset(n: int = 25):
    acts = []
    for i in range(n):
        p = payload(i)
        p.pop("time")
        p["actor"], p["object"] = f"SU:user{i % 10}", f"SO:food:{i}"
        acts.append(build(p, BASE_US - i * 60_000_000))
    users = {f"user{i}": user(i) for i in range(20)}
    users["me"] = user(99)
    items = {("food", str(i)): json_bytes({"id": str(i), "collection": "food", "foreign_id": f"food:{i}",
                                           "data": {"name": f"Plăcintă {i}", "rating": i % 5}, "created_at": T,
                                           "updated_at": T}) for i in range(n)}
    counts, rows = [], []
    for a in acts:
        for kind, count in KINDS.items():
            counts.append((a.id, kind, count))
            for r in range(min(5, count)):
                uid = f"user{(r * 3 + len(kind)) % 20}"
                rid = f"{a.id[:8]}-{kind[:2]}{r:02d}-0000-0000-000000000000"
                rows.append((a.id, kind, 0, rid, uid, reaction(rid, kind, a.id, uid), CHILDREN))
        rid = f"{a.id[:8]}-me00-0000-0000-000000000000"
        rows.append((a.id, "like", 1, rid, "me", reaction(rid, "like", a.id, "me"), CHILDREN))
    page_rows = [(a.key, a.body, "user:42" if i % 3 else None, a.refs) for i, a in enumerate(acts)]
    return page_rows, users, items, counts, rows


class Replayed(Fetcher):
    def __init__(self, users, items, counts, rows):
        self._users, self._items, self._counts, self._rows = users, items, counts, rows

    def users(self, ids):
        return {u: self._users[u] for u in ids if u in self._users}

    def items(self, keys):
        return {k: self._items[k] for k in keys if k in self._items}

    def activities(self, ids):
        return {}

    def reactions(self, ids):
        return {}

    def page_reactions(self, activity_ids, opts):
        return self._counts, self._rows


OPTS = Options(counts=True, latest=True, own=True, user_id="me")


def pipeline(impl, page_rows, fetch):
    """What the enriched read does after the page read: the service's own work."""
    bodies = [r[1] for r in page_rows]
    refs = [r[3] for r in page_rows]
    cache: dict = {}
    origins = [cache.get(r[2]) or cache.setdefault(r[2], encode_origin(r[2])) for r in page_rows]
    aids = [ids.key_to_uuid(r[0]) for r in page_rows]
    resolved, tails = enrichment(impl, bodies, refs, aids, fetch, OPTS)
    return impl.enrich_page(bodies, refs, origins, resolved, tails, NXT, DUR)


def decode_everything(page_rows, users, items, counts, rows):
    """The decode-everything baseline: every stored piece decoded, enriched as dicts, re-encoded."""
    by_act: dict = {}
    for aid, kind, slot, _rid, uid, body, _m in rows:
        r = ujson.loads(body)
        r["latest_children"], r["children_counts"] = {}, {}
        u = users.get(uid)
        r["user"] = ujson.loads(u) if u else {"error": "ReferenceNotFound"}
        by_act.setdefault(aid, ({}, {}))[slot].setdefault(kind, []).append(r)
    cnt: dict = {}
    for aid, kind, n in counts:
        cnt.setdefault(aid, {})[kind] = n
    out = []
    for _key, body, origin, _refs in page_rows:
        doc = ujson.loads(body)
        for name, value in list(doc.items()):
            if isinstance(value, str) and value[:3] in ("SU:", "SO:"):
                if value[:3] == "SU:":
                    found = users.get(value[3:])
                else:
                    c, _, i = value[3:].partition(":")
                    found = items.get((c, i))
                doc[name] = ujson.loads(found) if found else {"error": "ReferenceNotFound"}
        doc["origin"] = origin
        latest, own = by_act.get(doc["id"], ({}, {}))
        doc["latest_reactions"] = latest
        doc["latest_reactions_extra"] = {k: {"next": ""} for k in latest}
        doc["own_reactions"] = own
        doc["reaction_counts"] = cnt.get(doc["id"], {})
        out.append(doc)
    return ujson.dumps({"results": out, "next": NXT, "duration": DUR}, ensure_ascii=True,
                       escape_forward_slashes=False).encode()


def go_reference(page_rows, users, items, counts, rows, quick: bool) -> dict | None:
    go = shutil.which("go")
    if go is None:
        return None
    peer_dir = HERE / "peers" / "go"
    exe = peer_dir / "peer"
    subprocess.run([go, "build", "-o", str(exe), "."], cwd=peer_dir, check=True)
    data = json.dumps({
        "bodies": [r[1].decode() for r in page_rows],
        "origins": [encode_origin(r[2]).decode() for r in page_rows],
        "users": {k: v.decode() for k, v in users.items()},
        "items": {f"{c}:{i}": v.decode() for (c, i), v in items.items()},
        "counts": [list(c) for c in counts],
        "rows": [[a, k, s, rid, uid, body.decode()] for a, k, s, rid, uid, body, _m in rows],
    })
    out = subprocess.run([str(exe), "enrich"] + (["--quick"] if quick else []), input=data, capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout)



def section(quick: bool) -> list[str]:
    page_rows, users, items, counts, rows = dataset()
    fetch = Replayed(users, items, counts, rows)
    twins = _ext.twins("feedline.enrichment._enrich")
    fns = {}
    if "c" in twins:
        fns["compiled twin (splice)"] = lambda: pipeline(twins["c"], page_rows, fetch)
    fns["pure twin (splice)"] = lambda: pipeline(twins["py"], page_rows, fetch)
    fns["ujson decode + enrich dicts + re-encode"] = lambda: decode_everything(page_rows, users, items, counts, rows)
    ref = json.loads(pipeline(twins["py"], page_rows, fetch))
    for name, fn in fns.items():  # every contender writes the same page (as JSON values)
        got = json.loads(fn())
        assert len(got["results"]) == 25 and got["results"][0]["actor"] == ref["results"][0]["actor"], name
        assert got["results"][3]["latest_reactions"] == ref["results"][3]["latest_reactions"], name
    if "c" in twins:
        assert pipeline(twins["c"], page_rows, fetch) == pipeline(twins["py"], page_rows, fetch)
    rounds, number = (5, 20) if quick else (31, 100)
    res = interleaved_cpu(fns, rounds, number)
    go = go_reference(page_rows, users, items, counts, rows, quick)
    size = len(pipeline(twins["py"], page_rows, fetch))
    lines = [f"| enriched page of 25 ({size} bytes; 25 users/items refs, 400 reactions), own CPU, rows replayed "
             "| median µs | vs compiled |", "|---|---:|---:|"]
    base = median(next(iter(res.values())))
    results = [(k, median(v)) for k, v in res.items()]
    if go:
        results.append(("Go encoding/json: typed decode + enrich + encode (wall, in-process)", go["typed_us"]))
    for name, us in results:
        lines.append(f"| {name} | {us:.1f} | {us / base:.1f}× |")
    return lines


HANDLER_HEADER = [
    "| enriched read through the read handler, 25 activities (rows as above) | store calls | "
    "median µs | own CPU outside storage, rows replayed, median µs |", "|---|---:|---:|---:|"]


def _app(name: str):
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"bench_enrich_{name}", HERE.parent / f"functions/{name}/app.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.lambda_handler


def section_handler(backend: str, quick: bool, tmp: Path) -> list[str]:
    """The same page written by the real path (write handler), read through the read handler:
    wall time, the number of store calls of a plain and an enriched read, and the handler's own
    thread CPU with the store answers replayed (bench/run.py's ``metered`` stores)."""
    import jwt
    from run import Meter, metered, open_backend

    from feedline import runtime
    from feedline.local.runner import http_event

    settings, store = open_backend(backend, tmp)
    meter = Meter()
    rt = runtime.build(settings, stores=metered(store, meter, replay=True))
    runtime.install(rt)
    read, write = _app("read"), _app("write")
    token = jwt.encode({"resource": "*", "action": "*", "feed_id": "*"}, settings.app.api_secret, algorithm="HS256")
    headers = {"authorization": token, "stream-auth-type": "jwt", "host": "localhost"}

    def event(method: str, path: str, qs: str = "", body: object = None) -> dict:
        raw = b"" if body is None else json.dumps(body).encode()
        return http_event(method, path, f"api_key=bench-key{qs}", headers, raw, method, "/api/v1.0/{proxy+}",
                          {"proxy": path[len("/api/v1.0/"):]})

    def ok(resp: dict) -> dict:
        assert resp["statusCode"] in (200, 201), resp["body"][:300]
        return json.loads(resp["body"])

    for i in list(range(20)) + [99]:
        ok(write(event("POST", "/api/v1.0/user/", body={"id": "me" if i == 99 else f"user{i}",
                                                          "data": json.loads(user(i))["data"]}), None))
    acts = []
    for i in range(25):
        ok(write(event("POST", "/api/v1.0/collections/food/", body={"id": str(i), "data": {"name": f"Plăcintă {i}",
                                                                                          "rating": i % 5}}), None))
        p = payload(i)
        p["actor"], p["object"], p["time"] = f"SU:user{i % 10}", f"SO:food:{i}", f"2025-06-{1 + i:02d}T12:00:00"
        acts.append(ok(write(event("POST", "/api/v1.0/feed/timeline/bench/", body=p), None)))
    for a in acts:
        for kind, count in KINDS.items():
            for r in range(count):
                ok(write(event("POST", "/api/v1.0/reaction/", body={
                    "kind": kind, "activity_id": a["id"], "user_id": f"user{(r * 3 + len(kind)) % 20}",
                    "data": {"text": "Frumos! 日本"} if kind == "comment" else {}}), None))
        ok(write(event("POST", "/api/v1.0/reaction/", body={"kind": "like", "activity_id": a["id"], "user_id": "me"}),
                 None))
    plain = event("GET", "/api/v1.0/feed/timeline/bench/", "&limit=25")
    enriched = event("GET", "/api/v1.0/enrich/feed/timeline/bench/", "&limit=25&withReactionCounts=true"
                     "&withOwnReactions=true&withRecentReactions=true&user_id=me")
    lines = []
    for label, ev in (("plain flat page", plain), ("enriched flat page (counts, own, 5 recent)", enriched)):
        meter.record()
        page = ok(read(ev, None))
        assert len(page["results"]) == 25, label
        calls = len(meter.tape)
        if ev is enriched:
            assert page["results"][0]["actor"]["id"].startswith("user") and page["results"][0]["object"]["collection"]
            assert sum(page["results"][0]["reaction_counts"].values()) == 23
        n = 20 if quick else 300
        cpu = []
        for _ in range(n):
            meter.begin()
            c = time.thread_time()
            read(ev, None)
            cpu.append((time.thread_time() - c) * 1e6)
        walls = []
        for _ in range(5 if quick else 50):
            meter.recording = True
            meter.tape = []
            t = time.perf_counter()
            read(ev, None)
            walls.append((time.perf_counter() - t) * 1e6)
        lines.append(f"| {label} ({backend}) | {calls} | {median(walls):.0f} | {median(cpu):.0f} |")
    runtime.install(None)
    store.close()
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--backends", default="", help="also through the handlers: comma list sqlite,cassandra")
    args = ap.parse_args()
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    logging.getLogger("cassandra").setLevel(logging.ERROR)
    print("\n".join(section(args.quick)), "\n")
    backends = [b for b in args.backends.split(",") if b]
    if backends:
        import tempfile

        from run import drop_bench_keyspace

        print("\n".join(HANDLER_HEADER))
        try:
            with tempfile.TemporaryDirectory() as tmpdir:
                for b in backends:
                    print("\n".join(section_handler(b, args.quick, Path(tmpdir))), flush=True)
        finally:
            if "cassandra" in backends:
                drop_bench_keyspace()
    return 0


if __name__ == "__main__":
    sys.exit(main())
