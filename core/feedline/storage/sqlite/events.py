"""SQLite: analytics events (``analytics.store.EventStore``)."""

from __future__ import annotations

from collections.abc import Sequence

from feedline.analytics.store import EventRecord, EventStore
from feedline.models import ids
from feedline.storage.sqlite.db import SQLiteDB

#: the lowest trailing bytes: a key bound that sorts before every key of its microsecond
LOW = b"\x00" * 8


class SQLiteEvents(EventStore):
    def __init__(self, db: SQLiteDB):
        self.db = db

    def add_events(self, events: Sequence[EventRecord]) -> None:
        if events:
            self.db.write("INSERT OR REPLACE INTO events (key, kind, user_id, feed_id, body) VALUES (?, ?, ?, ?, ?)",
                          [(e.key, e.kind, e.user_id, e.feed_id, e.body) for e in events])

    def user_events(self, user_id: str, since_us: int, until_us: int, limit: int) -> list[EventRecord]:
        if limit <= 0 or until_us <= since_us:
            return []
        rows = self.db.query(
            "SELECT key, kind, user_id, feed_id, body FROM events WHERE user_id = ? AND key >= ? AND key < ? "
            "ORDER BY key DESC LIMIT ?",
            (user_id, ids.key_from_time(since_us, LOW), ids.key_from_time(until_us, LOW), limit))
        return [EventRecord(bytes(r[0]), r[1], r[2], r[3], bytes(r[4])) for r in rows]
