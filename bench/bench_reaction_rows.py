"""The reaction data of an enriched page of 25 on Cassandra: ``ReactionStore.enrichment_rows``.

``python bench/bench_reaction_rows.py --keyspace K [--seed]``: with ``--seed``, migrates ``K`` on the
local node and stores 25 activities' reactions (12 likes, 7 comments, 3 shares each; one own like);
then times ``enrichment_rows(25 ids, every kind, 5 latest, own user)`` (what
``withReactionCounts&withRecentReactions&withOwnReactions`` asks): median wall and the calling
thread's CPU (the driver's client-side work included) of 40 calls. Run it from two trees on one
keyspace, alternating, to compare implementations (BENCHMARKS.md, "Reaction data on Cassandra").
"""

from __future__ import annotations

import argparse
import statistics
import time

from feedline import db
from feedline.config import AppConfig, Settings
from feedline.models import ids
from feedline.reactions.store import ReactionRecord
from feedline.storage.cassandra import from_settings

AIDS = [f"act{i}" for i in range(25)]
KINDS = (("like", 12), ("comment", 7), ("share", 3))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keyspace", default="feedline_bench_rx")
    ap.add_argument("--seed", action="store_true")
    ap.add_argument("--calls", type=int, default=40)
    args = ap.parse_args()
    settings = Settings(app=AppConfig("bench", "bench-secret"), storage="cassandra", cassandra_hosts=("127.0.0.1",),
                        cassandra_port=9042, cassandra_keyspace=args.keyspace)
    if args.seed:
        db.migrate(settings)
    stores = from_settings(settings)
    reactions = stores.reactions
    if args.seed:
        n, t0 = 0, 1_700_000_000_000_000
        for a in AIDS:
            for kind, count in KINDS:
                for j in range(count):
                    n += 1
                    key = ids.key_from_time(t0 + n, b"\x80\x80" + n.to_bytes(6, "big"))
                    rid = ids.key_to_uuid(key)
                    user = "me" if (kind == "like" and j == 0) else f"u{j}"
                    reactions.add_reaction(ReactionRecord(rid, key, kind, a, user, "", b'{"id":"%s"}' % rid.encode(),
                                                          t0 + n, t0 + n))
    for _ in range(5):  # warm: prepared statements, connections
        reactions.enrichment_rows(AIDS, None, 5, "me")
    walls, cpus = [], []
    for _ in range(args.calls):
        t, c = time.perf_counter(), time.thread_time()
        counts, rows = reactions.enrichment_rows(AIDS, None, 5, "me")
        walls.append((time.perf_counter() - t) * 1e3)
        cpus.append((time.thread_time() - c) * 1e3)
    print(f"enrichment_rows, 25 activities: wall {statistics.median(walls):.1f} ms, client CPU "
          f"{statistics.median(cpus):.1f} ms (medians of {args.calls}); {len(counts)} counts, {len(rows)} rows")
    stores.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
