"""Differential test: SQLite and Cassandra answer every read the same way for random timelines.

Random entries (many at the same time, node bytes across the whole byte range), random removals,
then every read shape the API uses: pages with offsets and all four cursors, own-only reads,
windows. Catches ordering differences such as Cassandra's signed comparison of timeuuid bytes.
"""

from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedline.activities.store import ActivityRecord
from feedline.feeds.store import Entry
from feedline.models import ids
from feedline.models.cursors import Range
from feedline.storage import cassandra, sqlite

pytestmark = pytest.mark.cassandra

entry = st.tuples(st.integers(0, 5), st.binary(min_size=6, max_size=6), st.sampled_from([None, "user:a", "topic:b"]))


@pytest.fixture(scope="module")
def stores(cassandra_settings, tmp_path_factory):
    lite = sqlite.open_stores(tmp_path_factory.mktemp("agree") / "agree.db")
    cass = cassandra.from_settings(cassandra_settings)
    yield lite, cass
    lite.close()
    cass.close()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(entries=st.lists(entry, min_size=1, max_size=30, unique_by=lambda e: (e[0], e[1])),
       removed=st.lists(st.integers(0, 29), max_size=8), data=st.data())
def test_backends_agree(stores, entries, removed, data):
    feed = f"timeline:{uuid.uuid4().hex[:12]}"
    keys = [ids.key_from_time(1_700_000_000_000_000 + t, b"\x80\x80" + node) for t, node, _ in entries]
    gone = {keys[i] for i in removed if i < len(keys)}
    for store in stores:
        store.activities.put_activities([ActivityRecord(k, b'{"id":"%s"}' % ids.key_to_uuid(k).encode()) for k in keys])
        store.timelines.add_entries(feed, [Entry(k, o) for k, (_, _, o) in zip(keys, entries)])
        store.timelines.remove_entries(feed, list(gone))
    pick = st.sampled_from(keys)
    rng = Range(**{name: data.draw(pick) for name in ("lt", "lte", "gt", "gte") if data.draw(st.booleans())})
    limit, offset = data.draw(st.integers(0, 12)), data.draw(st.integers(0, 5))
    answers = []
    for store in stores:
        answers.append((
            store.timelines.read_entries(feed, limit, offset, rng),
            store.timelines.read_entries(feed, limit, offset, own_only=True),
            [(k, o) for k, _, o in store.timelines.read_page(feed, limit, offset, rng)],
            [list(c) for c in store.timelines.read_window(feed, 50)],
        ))
    assert answers[0] == answers[1]
    expected = sorted(set(keys) - gone, reverse=True)
    assert [e.key for e in answers[0][0]] == [k for k in expected if _within(k, rng)][offset:offset + limit]


def _within(k: bytes, rng: Range) -> bool:
    return ((rng.lt is None or k < rng.lt) and (rng.lte is None or k <= rng.lte)
            and (rng.gt is None or k > rng.gt) and (rng.gte is None or k >= rng.gte))


# ---- grouped reads (aggregated / notification) ----------------------------------------------
# Cassandra answers from its materialized groups (storage/cassandra/groups.py) when it can prove
# the feed holds at most max_length entries, else it groups the window like SQLite: both must give
# SQLite's answer, with marks, caps, removals of every kind and max_length cutting groups.

grouped_entry = st.tuples(st.integers(0, 5), st.binary(min_size=6, max_size=6), st.sampled_from("abcd"),
                          st.sampled_from(["u1", "u2", "u3"]), st.sampled_from([None, "user:a", "topic:b"]))


def _shape(page) -> tuple:
    """A grouped page with indices resolved to keys (the backends may index differently)."""
    k, o, v = page.keys, page.origins, page.verbs
    groups = [(g[0], [(k[i], o[i]) for i in g[1]], g[2], g[3], k[g[4]], v[g[4]], k[g[5]]) for g in page.groups]
    bodies = {k[i]: page.bodies[k[i]] for g in page.groups for i in g[1]}
    return (groups, bodies, page.cursor, page.seen, page.read, page.unseen, page.unread)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(entries=st.lists(grouped_entry, min_size=1, max_size=30, unique_by=lambda e: (e[0], e[1])),
       removed=st.lists(st.integers(0, 29), max_size=6), everywhere=st.lists(st.integers(0, 29), max_size=3),
       unfollow=st.booleans(), max_length=st.sampled_from([4, 12, 1000]), cap=st.sampled_from([1, 2, 15]),
       data=st.data())
def test_grouped_reads_agree(stores, entries, removed, everywhere, unfollow, max_length, cap, data):
    from feedline.config import NOTIFICATION, FeedGroup
    from feedline.feeds.base import ReadQuery
    from feedline.feeds.factory import feed_kind

    feed = f"notification:{uuid.uuid4().hex[:12]}"
    keys = [ids.key_from_time(1_700_000_000_000_000 + t, b"\x80\x80" + node) for t, node, *_ in entries]
    kind = feed_kind(FeedGroup("notification", type=NOTIFICATION, max_length=max_length, max_group_activities=cap))
    pick = st.sampled_from(keys)
    rng = Range(**{name: data.draw(pick) for name in ("lt", "lte", "gt", "gte") if data.draw(st.booleans())})
    limit, offset = data.draw(st.integers(0, 6)), data.draw(st.integers(0, 3))
    # group ids are their newest member's id: some of these name groups, the others are ignored
    marked = [ids.key_to_uuid(k) for k in data.draw(st.lists(pick, max_size=3))]
    answers = []
    for store in stores:
        store.activities.put_activities([ActivityRecord(k, b'{"id":"%s","verb":"post"}' % ids.key_to_uuid(k).encode())
                                         for k in keys])
        store.timelines.add_entries(feed, [Entry(k, o, g, a, "post") for k, (_, _, g, a, o) in zip(keys, entries)])
        store.timelines.remove_entries(feed, [keys[i] for i in removed if i < len(keys)])
        for i in everywhere:
            if i < len(keys):
                store.timelines.remove_from_feeds(keys[i], [feed])
        if unfollow:
            store.timelines.remove_by_origin(feed, "topic:b")
        reads = []
        for q in (ReadQuery(limit, offset, rng), ReadQuery(limit, offset, rng),
                  ReadQuery(limit, offset, rng, mark_read=marked or None, mark_seen=True),
                  ReadQuery(limit, offset, rng, mark_seen=marked or None)):
            reads.append(_shape(kind.read(store, feed, q)))
        reads.append(store.marks.get_marks(feed))
        answers.append(reads)
    assert answers[0] == answers[1]
    # the materialized path was taken exactly when the feed provably fits in max_length
    live = len(store.timelines.read_window(feed, 10_000)[0])
    got = store.timelines.read_groups(feed, max_length, cap, Range(), offset, limit)
    assert (got is not None) == (live <= max_length)
