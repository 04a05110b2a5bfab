"""Cassandra: analytics events (``analytics.store.EventStore``) in ``events_by_user``, one
partition per user and UTC day."""

from __future__ import annotations

from collections.abc import Sequence

from feedline.analytics.store import EventRecord, EventStore
from feedline.models import ids
from feedline.storage.cassandra.base import INT32_MAX, CassandraRole

DAY_US = 86_400_000_000
LOW = b"\x00" * 8


def day_of(time_us: int) -> int:
    return time_us // DAY_US


class CassandraEvents(CassandraRole, EventStore):
    def add_events(self, events: Sequence[EventRecord]) -> None:
        # concurrent single-row writes, not batches: an event may be 10 KB, and a batch of them
        # would pass Cassandra's batch size thresholds (warn 5 KiB, fail 50 KiB)
        self.session.concurrent([("event_put", (e.user_id, day_of(ids.key_time_us(e.key)), e.key, e.kind,
                                                e.feed_id, e.body)) for e in events])

    def user_events(self, user_id: str, since_us: int, until_us: int, limit: int) -> list[EventRecord]:
        if limit <= 0 or until_us <= since_us:
            return []
        low, high = ids.key_from_time(since_us, LOW), ids.key_from_time(until_us, LOW)
        out: list[EventRecord] = []
        # newest day first; the caller bounds the window (each day is one small query)
        for day in range(day_of(until_us - 1), day_of(since_us) - 1, -1):
            rows = self.session.rows("user_events", (user_id, day, low, high, min(limit - len(out), INT32_MAX)))
            out += [EventRecord(r[0], r[1], r[2], r[3] or "", r[4]) for r in rows]
            if len(out) >= limit:
                break
        return out
