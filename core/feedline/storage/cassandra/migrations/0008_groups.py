"""0008 data step: materialize the groups of the grouped feeds written before 0008.

Scans ``timeline`` (every partition, paged; a partition's rows come together) and, for each feed
whose entries carry group keys (aggregated and notification feeds), reconciles its groups with
its entries exactly as a read does (``groups.MaterializedGroups.reconcile``: member maps, newest
rows, the feed's size), and gives its reverse-index rows their group (removals from many feeds
need it). Idempotent: a re-run finds the groups in line and rewrites the same cells. Online: until
a feed is reconciled, its reads group the window as before (no size recorded, no fast path). Feeds
with an entry without a group stay on the window path. On Amazon Keyspaces nothing is kept
materialized (the repairs need ``USING TIMESTAMP``): nothing to do.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from typing import Any

log = logging.getLogger("feedline.db")

SCAN_FETCH = 1000


class _Session:
    """What ``MaterializedGroups`` needs of a session, over the migration's raw driver session."""

    body_copies = True

    def __init__(self, session: Any, keyspace: str):
        self._session, self._keyspace = session, keyspace
        self._prepared: dict[str, Any] = {}

    def _stmt(self, name: str) -> Any:
        from feedline.storage.cassandra.statements import CQL, qualified

        stmt = self._prepared.get(name)
        if stmt is None:
            stmt = self._prepared[name] = self._session.prepare(qualified(CQL[name], self._keyspace))
        return stmt

    def rows(self, name: str, params: Sequence[Any]) -> list[tuple]:
        return list(self._session.execute(self._stmt(name), params))

    def concurrent(self, items: Any) -> list[Any]:
        from cassandra.concurrent import execute_concurrent

        todo = [(self._stmt(name), params) for name, params in items]
        return [r.result_or_exc for r in execute_concurrent(self._session, todo, concurrency=64,
                                                              raise_on_first_error=True)]

    def timestamp(self) -> int:
        return int(time.time() * 1_000_000)


def _feeds(session: Any, keyspace: str) -> Iterator[tuple[str, list[tuple]]]:
    """``(feed, live rows (key, origin, grp, actor, verb) newest first)`` of every feed."""
    from cassandra.query import SimpleStatement

    scan = SimpleStatement(f"SELECT feed, key, origin, grp, actor, verb FROM {keyspace}.timeline",
                           fetch_size=SCAN_FETCH)
    feed: str | None = None
    rows: list[tuple] = []
    for f, key, origin, grp, actor, verb in session.execute(scan):
        if f != feed:
            if feed is not None:
                yield feed, rows
            feed, rows = f, []
        if origin is not None:  # no origin: a ghost (a body refreshed after its entry left)
            rows.append((key, origin, grp, actor, verb))
    if feed is not None:
        yield feed, rows


def migrate(session: Any, keyspace: str) -> int:
    """Materialize every grouped feed; returns how many feeds were reconciled."""
    from feedline.storage.cassandra.base import key_uuid
    from feedline.storage.cassandra.groups import MaterializedGroups

    if "system_schema_mcs" in session.cluster.metadata.keyspaces:
        log.info("0008_groups: Amazon Keyspaces, no materialized groups")
        return 0
    cs = _Session(session, keyspace)
    groups = MaterializedGroups(cs)
    done = 0
    # every feed is dated from before the scan began (its rows may come from any later page)
    started = cs.timestamp()
    for feed, rows in _feeds(session, keyspace):
        if not any(r[2] is not None for r in rows):
            continue  # a flat feed
        # the scan read this feed before any log read: count no log row as seen (a running
        # writer's inserts are then counted twice at worst, never missed)
        if groups.reconcile(feed, rows, started, seen_log=[]):
            # repaired (materialized): a second pass finds them in line and records the size
            groups.reconcile(feed, rows, started, seen_log=[])
        cs.concurrent(("activity_feeds_put_grouped", (key_uuid(k), feed, o, g)) for k, o, _g, _a, _v in rows
                      for g in (_g,) if g is not None)
        done += 1
    log.info("0008_groups: %d grouped feeds materialized", done)
    return done
