"""The ``realtime.store.SubscriptionStore`` contract, written once; bound to every backend in
test_sqlite.py and test_cassandra.py (a ``store`` fixture yields a fresh backend's ``Stores``)."""

from __future__ import annotations

import time
import uuid


def conn() -> str:
    return uuid.uuid4().hex[:16] + "="  # API Gateway connection ids are base64-ish


def chan() -> str:
    return f"/site-1-feed-user{uuid.uuid4().hex[:10]}"


class RealtimeStoreContract:
    def test_connections_and_their_client(self, store):
        rt, a = store.realtime, conn()
        assert rt.client_of(a) is None
        rt.open_connection(a, "", 60)
        assert rt.client_of(a) == ""
        rt.open_connection(a, "client-1", 60)
        assert rt.client_of(a) == "client-1"
        rt.drop(a)
        assert rt.client_of(a) is None

    def test_subscribers_by_channel(self, store):
        rt = store.realtime
        a, b, c = conn(), conn(), conn()
        x, y, z = chan(), chan(), chan()
        for co in (a, b, c):
            rt.open_connection(co, "c", 60)
        rt.subscribe(a, x, 60)
        rt.subscribe(a, y, 60)
        rt.subscribe(b, x, 60)
        rt.subscribe(b, x, 60)  # idempotent
        got = rt.subscribers([x, y, z])
        assert {k: sorted(v) for k, v in got.items()} == {x: sorted([a, b]), y: [a]}
        rt.unsubscribe(a, x)
        assert rt.subscribers([x]) == {x: [b]}
        rt.drop(a)
        assert rt.subscribers([x, y]) == {x: [b]}
        assert rt.subscribers([]) == {}

    def test_many_channels_in_one_look_up(self, store):
        rt = store.realtime
        a = conn()
        channels = [chan() for _ in range(250)]
        for ch in channels[::2]:
            rt.subscribe(a, ch, 60)
        assert set(rt.subscribers(channels)) == set(channels[::2])

    def test_rows_expire(self, store):
        rt = store.realtime
        a, ch = conn(), chan()
        rt.open_connection(a, "c", 1)
        rt.subscribe(a, ch, 1)
        assert rt.subscribers([ch]) == {ch: [a]}
        time.sleep(2.1)
        assert rt.client_of(a) is None
        assert rt.subscribers([ch]) == {}
