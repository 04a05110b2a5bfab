"""SQLite: realtime connections and subscriptions (``realtime.store.SubscriptionStore``)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from feedline.realtime.store import SubscriptionStore
from feedline.storage.sqlite.db import SQLiteDB


class SQLiteSubscriptions(SubscriptionStore):
    def __init__(self, db: SQLiteDB, clock: Callable[[], float] = time.time):
        self.db = db
        self.clock = clock

    def _now(self) -> int:
        return int(self.clock())

    def open_connection(self, connection_id: str, client_id: str, ttl_s: int) -> None:
        now = self._now()
        # expired rows go with the next connection (no sweeper process on a Lambda)
        self.db.execute("DELETE FROM realtime_connections WHERE expires <= ?", (now,))
        self.db.execute("DELETE FROM realtime_subscriptions WHERE expires <= ?", (now,))
        self.db.execute("INSERT INTO realtime_connections (connection_id, client_id, expires) VALUES (?, ?, ?) "
                        "ON CONFLICT (connection_id) DO UPDATE SET client_id = excluded.client_id, "
                        "expires = excluded.expires", (connection_id, client_id, now + ttl_s))

    def client_of(self, connection_id: str) -> str | None:
        rows = self.db.query("SELECT client_id FROM realtime_connections WHERE connection_id = ? AND expires > ?",
                             (connection_id, self._now()))
        return rows[0][0] if rows else None

    def subscribe(self, connection_id: str, channel: str, ttl_s: int) -> None:
        self.db.execute("INSERT INTO realtime_subscriptions (channel, connection_id, expires) VALUES (?, ?, ?) "
                        "ON CONFLICT (channel, connection_id) DO UPDATE SET expires = excluded.expires",
                        (channel, connection_id, self._now() + ttl_s))

    def unsubscribe(self, connection_id: str, channel: str) -> None:
        self.db.execute("DELETE FROM realtime_subscriptions WHERE channel = ? AND connection_id = ?",
                        (channel, connection_id))

    def subscribers(self, channels: Sequence[str]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        rows = self.db.query_in("SELECT channel, connection_id FROM realtime_subscriptions "
                                "WHERE expires > ? AND channel IN ({marks}) ORDER BY channel, connection_id",
                                channels, (self._now(),))
        for channel, connection in rows:
            out.setdefault(channel, []).append(connection)
        return out

    def drop(self, connection_id: str) -> None:
        self.db.execute("DELETE FROM realtime_subscriptions WHERE connection_id = ?", (connection_id,))
        self.db.execute("DELETE FROM realtime_connections WHERE connection_id = ?", (connection_id,))
