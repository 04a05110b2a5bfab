"""Cassandra: realtime connections and subscriptions (``realtime.store.SubscriptionStore``).

``realtime_subscribers`` (by channel) is what a publish reads; ``realtime_channels`` (by connection)
indexes it for a disconnect. Index first, truth second on writes; truth first on deletes (``base``):
a row left behind expires with its TTL.
"""

from __future__ import annotations

from collections.abc import Sequence

from feedline.realtime.store import SubscriptionStore
from feedline.storage.cassandra.base import IN_CHUNK, CassandraRole, chunks


class CassandraSubscriptions(CassandraRole, SubscriptionStore):
    def open_connection(self, connection_id: str, client_id: str, ttl_s: int) -> None:
        self.session.write("rt_connection_put", (connection_id, client_id, ttl_s))

    def client_of(self, connection_id: str) -> str | None:
        rows = self.session.rows("rt_connection_get", (connection_id,))
        return (rows[0][0] or "") if rows else None

    def subscribe(self, connection_id: str, channel: str, ttl_s: int) -> None:
        self.session.write("rt_channel_put", (connection_id, channel, ttl_s))
        self.session.write("rt_subscriber_put", (channel, connection_id, ttl_s))

    def unsubscribe(self, connection_id: str, channel: str) -> None:
        self.session.write("rt_subscriber_delete", (channel, connection_id))
        self.session.write("rt_channel_delete", (connection_id, channel))

    def subscribers(self, channels: Sequence[str]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        wanted = list(dict.fromkeys(channels))
        results = self.session.concurrent([("rt_subscribers_in", (chunk,)) for chunk in chunks(wanted, IN_CHUNK)])
        for result in results:
            for channel, connection in result:  # iterating fetches every page
                out.setdefault(channel, []).append(connection)
        return out

    def drop(self, connection_id: str) -> None:
        channels = [r[0] for r in self.session.rows("rt_channels_get", (connection_id,))]
        self.session.write("rt_connection_delete", (connection_id,))
        self.session.concurrent([("rt_subscriber_delete", (c, connection_id)) for c in channels])
        self.session.write("rt_channels_drop", (connection_id,))
