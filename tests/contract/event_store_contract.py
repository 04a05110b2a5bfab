"""The ``analytics.store.EventStore`` contract, written once; bound to every backend in test_sqlite.py
and test_cassandra.py (a ``store`` fixture yields a fresh backend's ``Stores``)."""

from __future__ import annotations

import uuid

from feedline.analytics.store import EventRecord
from feedline.models import ids

T0 = 1_700_000_000_000_000
DAY = 86_400_000_000


def event(user: str, t: int, n: int = 0, kind: str = "engagement", feed_id: str = "") -> EventRecord:
    body = b'{"kind":"%s","n":%d}' % (kind.encode(), n)
    return EventRecord(ids.activity_key(t, body), kind, user, feed_id, body)


class EventStoreContract:
    def test_user_events_newest_first_within_the_window(self, store):
        ann, bob = uuid.uuid4().hex, uuid.uuid4().hex
        # three days of ann's events, one of bob's
        evs = [event(ann, T0 + d * DAY + h * 3_600_000_000, d * 10 + h, feed_id="user:x" if h else "")
               for d in range(3) for h in range(4)]
        store.events.add_events(evs + [event(bob, T0, 99, "impression")])
        want = sorted(evs, key=lambda e: e.key, reverse=True)
        assert store.events.user_events(ann, T0, T0 + 3 * DAY, 100) == want
        assert store.events.user_events(ann, T0, T0 + 3 * DAY, 5) == want[:5]
        # half-open window [since, until)
        mid = T0 + DAY + 3_600_000_000
        assert store.events.user_events(ann, mid, T0 + 2 * DAY, 100) == [
            e for e in want if mid <= ids.key_time_us(e.key) < T0 + 2 * DAY]
        assert store.events.user_events(ann, T0 + 3 * DAY, T0 + 4 * DAY, 10) == []
        assert store.events.user_events(ann, T0, T0, 10) == [] and store.events.user_events(ann, T0, T0 + DAY, 0) == []
        [b] = store.events.user_events(bob, T0 - DAY, T0 + DAY, 10)
        assert (b.kind, b.user_id, b.feed_id, b.body) == ("impression", bob, "", b'{"kind":"impression","n":99}')

    def test_same_event_twice_is_one(self, store):
        ann = uuid.uuid4().hex
        e = event(ann, T0, 1)
        store.events.add_events([e])
        store.events.add_events([e, event(ann, T0, 2)])
        assert len(store.events.user_events(ann, T0, T0 + 1, 10)) == 2
        store.events.add_events([])
