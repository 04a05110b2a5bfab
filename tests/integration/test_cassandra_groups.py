"""Materialized groups on Cassandra (storage/cassandra/groups.py): exact under racing writers and
redeliveries, the max_length fallback both ways, read-repair of the index, and migration 0008 on
data written by the previous schema."""

from __future__ import annotations

import threading
import uuid

import pytest

from feedline import db
from feedline.activities.store import ActivityRecord
from feedline.config import NOTIFICATION, FeedGroup
from feedline.feeds.base import ReadQuery
from feedline.feeds.factory import feed_kind
from feedline.feeds.store import Entry
from feedline.models import ids
from feedline.models.cursors import Range
from feedline.storage.cassandra import from_settings
from feedline.storage.cassandra.base import key_uuid
from feedline.storage.cassandra.groups import LOG_LIMIT
from tests.integration.previous_schema import previous_schema

pytestmark = pytest.mark.cassandra


@pytest.fixture
def two(cassandra_settings):
    """Two stores on two driver sessions (two processes' worth of writers) on one keyspace."""
    a, b = from_settings(cassandra_settings), from_settings(cassandra_settings)
    yield a, b
    a.close()
    b.close()


def _key(t: int, n: int = 1) -> bytes:
    return ids.key_from_time(1_700_000_000_000_000 + t * 1000, b"\x80\x80" + n.to_bytes(6, "big"))


def _body(k: bytes) -> bytes:
    return b'{"id":"%s","verb":"like"}' % ids.key_to_uuid(k).encode()


def _put(store, keys) -> None:
    store.activities.put_activities([ActivityRecord(k, _body(k)) for k in keys])


def _maps(store, feed: str) -> dict[str, dict[bytes, str]]:
    return {g: dict(m) for g, m in store.timelines.session.rows("group_members_all", (feed,)) if m}


def _expected(store, feed: str) -> dict[str, dict[bytes, str]]:
    out: dict[str, dict[bytes, str]] = {}
    keys, _o, groups, actors, _v = store.timelines._window(feed, 10_000, count=False)
    for k, g, a in zip(keys, groups, actors):
        out.setdefault(g, {})[k] = a
    return out


def _pages(kind, store, feed: str, q: ReadQuery) -> tuple:
    """(the page from the materialized groups, the page from the window): both via the Feed."""
    fast = kind.materialized(store, feed, q)
    slow = kind.window(store, feed, q)[0]
    return fast, slow


def _same(a, b) -> None:
    def shape(p):
        k = p.keys
        return ([(g[0], [k[i] for i in g[1]], g[2], g[3], k[g[4]], k[g[5]]) for g in p.groups],
                {k[i]: p.bodies[k[i]] for g in p.groups for i in g[1]}, p.cursor)
    assert shape(a) == shape(b)


def test_racing_writers_leave_exact_groups(two, cassandra_settings):
    """Two fan-out chunks (place_entries of many activities into the feed among others), a direct
    post (add_entries) and a redelivery of the first chunk, at once, into ONE feed and group, plus
    removals of entries written before: the maps hold exactly the feed's entries, the reconcile a
    read runs finds nothing to repair, and the materialized page equals the window's."""
    a, b = two
    feed = f"notification:{uuid.uuid4().hex[:10]}"
    others = [f"notification:{uuid.uuid4().hex[:10]}" for _ in range(3)]
    kind = feed_kind(FeedGroup("notification", type=NOTIFICATION, max_group_activities=5))
    old = [_key(i, 7) for i in range(20)]
    chunk1 = [_key(100 + i, 1) for i in range(40)]
    chunk2 = [_key(100 + i, 2) for i in range(40)]  # same times as chunk1: interleaved keys
    direct = [_key(100 + i, 3) for i in range(40)]
    _put(a, old + chunk1 + chunk2 + direct)
    a.timelines.add_entries(feed, [Entry(k, None, "likes", f"u{i % 3}", "like") for i, k in enumerate(old)])
    gone = old[::2]

    def fan(store, keys, actor):
        for k in keys:
            store.timelines.place_entries(k, [(f, Entry(k, "user:x", "likes", actor, "like")) for f in [feed, *others]])

    threads = [threading.Thread(target=fan, args=(a, chunk1, "u1")),
               threading.Thread(target=fan, args=(b, chunk2, "u2")),
               threading.Thread(target=lambda: [b.timelines.add_entries(feed, [Entry(k, None, "likes", "u3", "like")])
                                                 for k in direct]),
               threading.Thread(target=fan, args=(b, chunk1, "u1")),  # redelivered chunk 1
               threading.Thread(target=lambda: [a.timelines.remove_entries(feed, [k]) for k in gone[:5]]),
               threading.Thread(target=lambda: [b.timelines.remove_from_feeds(k, [feed]) for k in gone[5:]])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    want = {"likes": {k: "u1" for k in chunk1} | {k: "u2" for k in chunk2} | {k: "u3" for k in direct}
            | {k: f"u{i % 3}" for i, k in enumerate(old) if k not in gone}}
    assert _expected(a, feed) == want  # the truth
    assert _maps(a, feed) == want  # the materialized group: exactly it, before any repair
    heads = a.timelines.session.rows("group_index_all", (feed,))
    assert (max(want["likes"]), "likes") in heads  # the newest member's row is there
    # the writers are done: count the feed with no margin (else the 180 inserts of the last
    # seconds are a burst the count must not vouch for, and the window would keep answering)
    groups = a.timelines.groups
    groups.margin_us = 0
    started = a.timelines.session.timestamp()
    seen = groups.recent_log(feed, started)
    rows = a.timelines._live("timeline_window", "", "", feed, [], 10_000)
    assert groups.reconcile(feed, rows, started, seen) == 0  # nothing to repair
    fast, slow = _pages(kind, a, feed, ReadQuery(limit=3))
    assert fast is not None
    page = fast[0]
    assert page.groups[0][2] == len(want["likes"]) == 130  # every member counted, none twice
    assert page.groups[0][3] == 4  # u0..u3
    assert [page.keys[i] for i in page.groups[0][1]] == sorted(want["likes"], reverse=True)[:5]
    _same(page, slow)


def test_max_length_fallback_both_ways(cassandra_settings):
    store = from_settings(cassandra_settings)
    try:
        feed = f"notification:{uuid.uuid4().hex[:10]}"
        kind = feed_kind(FeedGroup("notification", type=NOTIFICATION, max_length=4, max_group_activities=2))
        keys = [_key(200 + i) for i in range(7)]
        _put(store, keys)
        groups = ["a", "b", "a", "c", "a", "b", "a"]
        store.timelines.add_entries(feed, [Entry(k, None, g, "u", "like") for k, g in zip(keys[:3], groups)])
        q = ReadQuery(limit=10)
        assert kind.materialized(store, feed, q) is None  # never counted yet: the window answers
        first = kind.read(store, feed, q)  # ... and counts the feed (3 entries)
        fast = kind.materialized(store, feed, q)
        assert fast is not None
        _same(fast[0], first)
        # one more insert: 3 + 1 <= 4, still provable
        store.timelines.add_entries(feed, [Entry(keys[3], None, groups[3], "u", "like")])
        fast = kind.materialized(store, feed, q)
        assert fast is not None
        _same(fast[0], kind.window(store, feed, q)[0])
        # three more: the feed may hold more than max_length (it does): the window answers,
        # and groups only its newest 4 entries (group "a" loses members to max_length)
        store.timelines.add_entries(feed, [Entry(k, None, g, "u", "like") for k, g in zip(keys[4:], groups[4:])])
        assert kind.materialized(store, feed, q) is None
        page = kind.read(store, feed, q)
        assert [(g[0], g[2]) for g in page.groups] == [("a", 2), ("b", 1), ("c", 1)]
        assert kind.materialized(store, feed, q) is None  # 7 entries: the window keeps answering
        # removals bring it back under max_length: the next window read counts it, then fast again
        store.timelines.remove_entries(feed, keys[:3])
        kind.read(store, feed, q)
        fast = kind.materialized(store, feed, q)
        assert fast is not None
        _same(fast[0], kind.window(store, feed, q)[0])
    finally:
        store.close()


def test_log_bounds_and_read_repair(cassandra_settings):
    store = from_settings(cassandra_settings)
    try:
        feed = f"notification:{uuid.uuid4().hex[:10]}"
        kind = feed_kind(FeedGroup("notification", type=NOTIFICATION))
        keys = [_key(300 + i) for i in range(LOG_LIMIT + 10)]
        _put(store, keys)
        # out of order: older members arrive after newer ones, each leaving a stale index row
        store.timelines.add_entries(feed, [Entry(k, None, "g", "u", "like") for k in keys[5:10]])
        store.timelines.add_entries(feed, [Entry(k, None, "g", "u", "like") for k in keys[:5]])
        q = ReadQuery(limit=5)
        store.timelines.groups.margin_us = 0  # count at once (no writer in flight in this test)
        kind.read(store, feed, q)  # counts the feed (and drops the stale rows it meets)
        assert store.timelines.session.rows("group_index_all", (feed,)) == [(keys[9], "g")]
        store.timelines.add_entries(feed, [Entry(k, None, "g", "u", "like") for k in keys[:5]])  # redelivered
        assert len(store.timelines.session.rows("group_index_all", (feed,))) == 6
        got = store.timelines.read_groups(feed, 1000, 15, Range(), 0, 5)
        assert got is not None and [g[0] for g in got.groups] == ["g"]
        assert store.timelines.session.rows("group_index_all", (feed,)) == [(keys[9], "g")]  # repaired
        # removing the newest member: its row goes, the next newest gets one (rewrite after removal)
        store.timelines.remove_entries(feed, [keys[9]])
        assert store.timelines.session.rows("group_index_all", (feed,)) == [(keys[8], "g")]
        got = store.timelines.read_groups(feed, 1000, 15, Range(), 0, 5)
        assert got is not None and got.keys[got.groups[0][4]] == keys[8] and got.groups[0][2] == 9
        # more than LOG_LIMIT inserts since the count: not provable from the log, the window answers
        for k in keys[10:]:
            store.timelines.add_entries(feed, [Entry(k, None, "g", "u", "like")])
        assert store.timelines.read_groups(feed, 1000, 15, Range(), 0, 5) is None
        page = kind.read(store, feed, q)
        assert page.groups[0][2] == len(keys) - 1
    finally:
        store.close()


def test_0008_materializes_groups_written_by_the_previous_schema(cassandra_settings, tmp_path):
    with previous_schema(cassandra_settings, tmp_path, "0008", "m8") as old:
        assert old.applied[-1] == "0007_ranking"
        session, keyspace = old.session, old.keyspace
        keys = [_key(400 + i) for i in range(30)]
        agg, flat = "notification:m8", "timeline:m8"
        for i, k in enumerate(keys):  # what the previous code wrote for a grouped and a flat feed
            session.execute("INSERT INTO activities (id, body, feed, actor, verb) VALUES (%s, %s, %s, %s, %s)",
                            (key_uuid(k), _body(k), "user:u", "u", "like"))
            session.execute("INSERT INTO timeline (feed, key, origin, grp, actor, verb, body) "
                            "VALUES (%s, %s, %s, %s, %s, %s, %s)", (agg, k, "user:u", f"g{i % 4}", f"u{i % 3}", "like",
                                                                     _body(k)))
            session.execute("INSERT INTO activity_feeds (id, feed, origin) VALUES (%s, %s, %s)", (key_uuid(k), agg, "user:u"))
            session.execute("INSERT INTO timeline (feed, key, origin, body) VALUES (%s, %s, %s, %s)",
                            (flat, k, "-", _body(k)))
        before = list(session.execute("SELECT feed, key, origin, grp, actor, verb FROM timeline"))

        assert db.migrate(cassandra_settings, keyspace=keyspace)[0] == "0008_groups"  # and any later ones
        assert list(session.execute("SELECT feed, key, origin, grp, actor, verb FROM timeline")) == before
        groups = {g: dict(m) for g, m in session.execute("SELECT grp, members FROM feed_groups WHERE feed = %s", (agg,))}
        assert groups == {f"g{j}": {k: f"u{i % 3}" for i, k in enumerate(keys) if i % 4 == j} for j in range(4)}
        assert list(session.execute("SELECT grp FROM feed_groups WHERE feed = %s", (flat,))) == []
        assert {r[0] for r in session.execute("SELECT grp FROM activity_feeds")} == {"g0", "g1", "g2", "g3"}

        stores = old.stores()
        kind = feed_kind(FeedGroup("notification", type=NOTIFICATION, max_group_activities=3))
        q = ReadQuery(limit=2)
        # 0011 moved the count: the first read groups the window and counts the feed (nothing to
        # repair: the data step materialized it), the next reads the groups
        assert kind.materialized(stores, agg, q) is None
        slow = kind.read(stores, agg, q)
        fast = kind.materialized(stores, agg, q)
        assert fast is not None
        _same(fast[0], slow)
        _same(kind.materialized(stores, agg, q)[0], slow)  # from the summaries the last read built
        # removals reach the groups through the backfilled reverse index
        stores.timelines.remove_from_feeds(keys[-1], [agg])
        assert keys[-1] not in {k for m in stores.timelines.session.rows("group_members_all", (agg,)) for k in m[1]}
        # the data step is idempotent
        step = {m.name: m for m in db.load_migrations()}["groups"]
        assert step.run_data_step(session, keyspace) == 1
        assert db.migrate(cassandra_settings, keyspace=keyspace) == []


def test_an_entry_placed_again_under_another_group(cassandra_settings):
    """A redelivered placement that renders another group key (the format reads a field an update
    changed) moves the entry: its old group loses it in the placement's own batch (the reverse
    index, or the feed's row for direct adds, says where it was), so no read shows it twice."""
    store = from_settings(cassandra_settings)
    try:
        feed = f"notification:{uuid.uuid4().hex[:10]}"
        kind = feed_kind(FeedGroup("notification", type=NOTIFICATION))
        keys = [_key(500 + i) for i in range(4)]
        _put(store, keys)
        store.timelines.groups.margin_us = 0
        store.timelines.add_entries(feed, [Entry(k, None, "a", "u", "like") for k in keys])
        q = ReadQuery(limit=5)
        kind.read(store, feed, q)  # counts the feed
        assert kind.materialized(store, feed, q) is not None
        store.timelines.place_entries(keys[1], [(feed, Entry(keys[1], None, "b", "u", "like"))])
        fast = kind.materialized(store, feed, q)
        assert fast is not None
        page = kind.window(store, feed, q)[0]
        assert [(g[0], g[2]) for g in page.groups] == [("a", 3), ("b", 1)]
        _same(fast[0], page)
        assert _maps(store, feed) == {"a": {k: "u" for k in keys if k != keys[1]}, "b": {keys[1]: "u"}}
        # the same through a direct add (follow copies): the feed's own row says where it was
        store.timelines.add_entries(feed, [Entry(keys[3], None, "b", "u", "like")])
        fast = kind.materialized(store, feed, q)
        assert fast is not None
        page = kind.window(store, feed, q)[0]
        assert [(g[0], g[2]) for g in page.groups] == [("b", 2), ("a", 2)]
        _same(fast[0], page)
    finally:
        store.close()


def _statics(store, feed: str) -> tuple:
    rows = store.timelines.session.rows("group_size_get", (feed,))
    return rows[0] if rows else (None,) * 5


def test_summaries_stay_exact_while_readers_rebuild_them(two):
    """Writers (fan-out chunks, direct adds, removals, body updates) race readers that rebuild the
    group summaries and remove marks. Once the writers are done and the margin has passed, a read
    cleans the last marks and the next is served from the summaries alone: equal to the window."""
    a, b = two
    feed = f"notification:{uuid.uuid4().hex[:10]}"
    kind = feed_kind(FeedGroup("notification", type=NOTIFICATION, max_group_activities=4))
    base = [_key(i, 5) for i in range(30)]
    fresh = [_key(200 + i, 6) for i in range(30)]
    older = [_key(50 + i, 4) for i in range(10)]  # older than most: each goes below a group's newest
    _put(a, base + fresh + older)
    for store in (a, b):
        store.timelines.groups.margin_us = 1_500_000  # local writes finish well within it
    a.timelines.add_entries(feed, [Entry(k, None, f"g{i % 6}", f"u{i % 3}", "like") for i, k in enumerate(base)])
    kind.read(a, feed, ReadQuery(limit=4))  # counts the feed
    stop = threading.Event()

    def read(store):
        while not stop.is_set():
            kind.read(store, feed, ReadQuery(limit=4))

    def update(store, keys):
        for n, k in enumerate(keys):
            store.activities.put_activities([ActivityRecord(k, b'{"id":"%s","verb":"like","n":%d}'
                                                            % (ids.key_to_uuid(k).encode(), n))])
            store.timelines.refresh_copies(k)

    writers = [threading.Thread(target=lambda: [a.timelines.place_entries(k, [(feed, Entry(k, "user:x", f"g{i % 6}", "u1", "like"))])
                                                for i, k in enumerate(fresh)]),
               threading.Thread(target=lambda: [b.timelines.add_entries(feed, [Entry(k, None, f"g{i % 6}", "u2", "like")])
                                                for i, k in enumerate(older)]),
               threading.Thread(target=lambda: [b.timelines.remove_entries(feed, [k]) for k in base[::3]]),
               threading.Thread(target=update, args=(a, base[1::3]))]
    readers = [threading.Thread(target=read, args=(s,)) for s in (a, b)]
    for t in readers + writers:
        t.start()
    for t in writers:
        t.join()
    stop.set()
    for t in readers:
        t.join()
    import time

    time.sleep(1.6)  # past the margin: the next read may remove every mark
    q = ReadQuery(limit=4)
    kind.read(a, feed, q)  # more inserts than LOG_LIMIT since the count: the window counts again
    first = kind.materialized(a, feed, q)
    assert first is not None
    window = kind.window(a, feed, q)[0]
    assert not {g[0] for g in first[0].groups} & set(_statics(a, feed)[3] or ())  # page groups clean
    again = kind.materialized(a, feed, q)
    _same(first[0], window)
    _same(again[0], window)


def test_too_many_marks_start_a_new_epoch(cassandra_settings):
    """Changes to more groups than a read asks for leave marks; past DIRTY_MAX of them a read voids
    every summary with a new epoch and removes all marks: pages stay exact and the set stays small."""
    from feedline.storage.cassandra.groups import DIRTY_MAX

    store = from_settings(cassandra_settings)
    try:
        feed = f"notification:{uuid.uuid4().hex[:10]}"
        kind = feed_kind(FeedGroup("notification", type=NOTIFICATION, max_group_activities=3))
        n = DIRTY_MAX + 20
        keys = [_key(300 + i, 8) for i in range(2 * n)]
        _put(store, keys)
        store.timelines.groups.margin_us = 0
        store.timelines.add_entries(feed, [Entry(k, None, f"g{i % n:03d}", "u", "like") for i, k in enumerate(keys[:n])])
        q = ReadQuery(limit=5)
        kind.read(store, feed, q)  # counts the feed (the window)
        assert len(_statics(store, feed)[3]) == n  # every group marked by its insert
        kind.read(store, feed, q)  # more than DIRTY_MAX marks: a new epoch, every mark removed
        _size, _c, _n, dirty, epoch = _statics(store, feed)
        assert not dirty and epoch
        # a few marks: the page's groups are rebuilt, the epoch stays
        store.timelines.add_entries(feed, [Entry(keys[n + i], None, f"g{i:03d}", "u", "like") for i in range(3)])
        _same(kind.materialized(store, feed, q)[0], kind.window(store, feed, q)[0])
        assert _statics(store, feed)[4] == epoch and not _statics(store, feed)[3]  # g000-g002 now lead the page
        store.timelines.add_entries(feed, [Entry(k, None, f"g{i % n:03d}", "u", "like")
                                           for i, k in enumerate(keys[n + 3:], start=3)])
        assert kind.materialized(store, feed, q) is None  # more inserts than LOG_LIMIT since the count
        kind.read(store, feed, q)  # the window counts again
        page = kind.materialized(store, feed, q)
        assert page is not None
        _same(page[0], kind.window(store, feed, q)[0])
        size, _c, _n, dirty, new_epoch = _statics(store, feed)
        assert not dirty and new_epoch != epoch
        again = kind.materialized(store, feed, q)
        _same(again[0], kind.window(store, feed, q)[0])
    finally:
        store.close()
