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


# ---- grouped reads between changes: Cassandra's group summaries (0011) follow every change ----
# A read stores page-ready summaries of its groups; each later change must reach the next read
# (a member added newer or older than the group's newest, removed in each of the three ways, its
# body rewritten, the entry moved to another group). Reads and changes interleave at random; the
# Cassandra side dates its mark removals without a margin, so summaries are reused at once.

change = st.one_of(
    st.tuples(st.just("add"), grouped_entry),
    st.tuples(st.just("move"), st.integers(0, 40), st.sampled_from("abcd")),
    st.tuples(st.just("remove"), st.integers(0, 40)),
    st.tuples(st.just("everywhere"), st.integers(0, 40)),
    st.tuples(st.just("unfollow"), st.sampled_from(["user:a", "topic:b"])),
    st.tuples(st.just("update"), st.integers(0, 40)),
)
#: after each change: a read (limit, offset, cap), or none
read_after = st.one_of(st.none(), st.tuples(st.integers(1, 4), st.integers(0, 2), st.sampled_from([2, 15])))


class _Changes:
    """Applies one change to both backends' copy of one notification feed, remembering what it holds."""

    def __init__(self, stores, feed: str):
        self.stores, self.feed = stores, feed
        self.placed: dict[bytes, tuple] = {}  # key -> (group, actor, origin) as last placed
        self.version = 0

    def body(self, k: bytes) -> bytes:
        return b'{"id":"%s","verb":"post","v":%d}' % (ids.key_to_uuid(k).encode(), self.version)

    def add(self, k: bytes, g: str, a: str, o: str | None) -> None:
        for store in self.stores:
            store.activities.put_activities([ActivityRecord(k, self.body(k))])
            store.timelines.place_entries(k, [(self.feed, Entry(k, o, g, a, "post"))])
        self.placed[k] = (g, a, o)

    def apply(self, c: tuple) -> None:
        keys = sorted(self.placed)
        if c[0] == "add":
            _, (t, node, g, a, o) = c
            self.add(_gkey(t + 3, node), g, a, o)  # newer or older than the group's newest
        elif not keys:
            return
        elif c[0] == "move":
            k = keys[c[1] % len(keys)]
            self.add(k, c[2], *self.placed[k][1:])
        elif c[0] == "update":
            k = keys[c[1] % len(keys)]
            self.version += 1
            for store in self.stores:
                store.activities.put_activities([ActivityRecord(k, self.body(k))])
                store.timelines.refresh_copies(k)
        elif c[0] in ("remove", "everywhere"):
            k = keys[c[1] % len(keys)]
            for store in self.stores:
                if c[0] == "remove":
                    store.timelines.remove_entries(self.feed, [k])
                else:
                    store.timelines.remove_from_feeds(k, [self.feed])
            del self.placed[k]
        else:
            for store in self.stores:
                store.timelines.remove_by_origin(self.feed, c[1])
            self.placed = {k: v for k, v in self.placed.items() if v[2] != c[1]}


def _gkey(t: int, node: bytes) -> bytes:
    return ids.key_from_time(1_700_000_000_000_000 + t, b"\x80\x80" + node)


def _statements_of(session, fn) -> list[str]:
    """The names of the statements ``fn()`` sends through ``session``."""
    names: list[str] = []
    real_concurrent, real_rows = session.concurrent, session.rows

    def concurrent(items, *a, **kw):
        items = list(items)
        names.extend(i[0] for i in items if isinstance(i, tuple))
        return real_concurrent(items, *a, **kw)

    def rows(name, *a, **kw):
        names.append(name)
        return real_rows(name, *a, **kw)

    session.concurrent, session.rows = concurrent, rows
    try:
        fn()
    finally:
        session.concurrent, session.rows = real_concurrent, real_rows
    return names


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=st.lists(grouped_entry, min_size=1, max_size=12, unique_by=lambda e: (e[0], e[1])),
       changes=st.lists(st.tuples(change, read_after), min_size=1, max_size=12))
def test_grouped_reads_agree_between_changes(stores, start, changes):
    from feedline.config import NOTIFICATION, FeedGroup
    from feedline.feeds.base import ReadQuery
    from feedline.feeds.factory import feed_kind
    from feedline.storage.cassandra.groups import MARGIN_US

    feed = f"notification:{uuid.uuid4().hex[:12]}"
    cass = stores[1]
    cass.timelines.groups.margin_us = 0
    todo = _Changes(stores, feed)

    def read(limit: int, offset: int, cap: int) -> None:
        kind = feed_kind(FeedGroup("notification", type=NOTIFICATION, max_group_activities=cap))
        got = [_shape(kind.read(store, feed, ReadQuery(limit, offset))) for store in stores]
        assert got[0] == got[1]

    try:
        for t, node, g, a, o in start:
            todo.add(_gkey(t, node), g, a, o)
        read(4, 0, 2)  # counts the feed: the next reads take the summaries' path
        for c, then in changes:
            todo.apply(c)
            if then is not None:
                read(*then)
        kind = feed_kind(FeedGroup("notification", type=NOTIFICATION))
        final = [_shape(kind.read(store, feed, ReadQuery(25))) for store in stores]
        assert final[0] == final[1]
        # a read on the summaries' path leaves them for the next, which reads no group's members
        # (the first may have grouped the window: it counts the feed, then summaries are built)
        kind.read(cass, feed, ReadQuery(25))
        again: list = []
        names = _statements_of(cass.timelines.session, lambda: again.append(_shape(kind.read(cass, feed, ReadQuery(25)))))
        assert again[0] == final[1]
        if cass.timelines.read_groups(feed, 1000, 15, Range(), 0, 25) is not None:
            assert not [n for n in names if n.startswith(("group_members", "group_bodies", "timeline"))], names
    finally:
        cass.timelines.groups.margin_us = MARGIN_US
