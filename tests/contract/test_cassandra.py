"""The storage contract bound to the Cassandra backend (a real node: see tests/cassandra_support.py).

Each test gets an empty store: one keyspace per session, emptied before every test (the contract
reuses fixed activity keys across tests, so leftovers would leak into ``feeds_of_activity``).
"""

from __future__ import annotations

import pytest

from feedline.activities.store import ActivityRecord
from feedline.feeds.store import Entry
from feedline.models import ids
from feedline.models.cursors import Range
from feedline.storage.cassandra import from_settings
from feedline.storage.cassandra.base import key_uuid, uuid_key

from .activity_store_contract import ActivityStoreContract
from .collection_store_contract import CollectionStoreContract
from .event_store_contract import EventStoreContract
from .file_store_contract import FileStoreContract
from .follow_store_contract import FollowStoreContract
from .mark_store_contract import MarkStoreContract
from .reaction_store_contract import ReactionEnrichmentContract, ReactionStoreContract
from .realtime_store_contract import RealtimeStoreContract
from .support import feed, key, rec
from .timeline_store_contract import TimelineRefsContract, TimelineStoreContract
from .user_store_contract import UserStoreContract

pytestmark = pytest.mark.cassandra


@pytest.fixture(scope="module")
def shared_store(cassandra_settings):
    # one session for the module (as one warm Lambda reuses it); each test empties the tables
    s = from_settings(cassandra_settings)
    yield s
    s.close()


@pytest.fixture
def store(shared_store, cassandra_truncate):
    cassandra_truncate(shared_store)
    return shared_store


@pytest.fixture(scope="module")
def sibling(cassandra_settings):
    """Stores with a session of their own on the same keyspace (other Lambda containers): four,
    handed out in turn (a cluster connection per writer thread would only test the driver)."""
    import itertools
    from types import SimpleNamespace

    pool = [from_settings(cassandra_settings) for _ in range(4)]
    turn = itertools.cycle(pool)
    yield lambda: SimpleNamespace(reactions=next(turn).reactions, close=lambda: None)
    for s in pool:
        s.close()


@pytest.fixture
def reopen(cassandra_settings):
    opened = []

    def _reopen(store):
        # new stores with a new session on the same keyspace; the closed one reconnects
        # lazily when the next test uses it
        store.close()
        again = from_settings(cassandra_settings)
        opened.append(again)
        return again
    yield _reopen
    for s in opened:
        s.close()


class TestCassandraActivities(ActivityStoreContract):
    pass


class TestCassandraTimelines(TimelineStoreContract):
    pass


class TestCassandraMarks(MarkStoreContract):
    pass


class TestCassandraFollows(FollowStoreContract):
    pass


class TestCassandraReactions(ReactionStoreContract):
    pass


class TestCassandraRealtime(RealtimeStoreContract):
    pass


class TestCassandraUsers(UserStoreContract):
    pass


class TestCassandraCollections(CollectionStoreContract):
    pass


class TestCassandraEvents(EventStoreContract):
    pass


class TestCassandraReactionEnrichment(ReactionEnrichmentContract):
    pass


class TestCassandraTimelineRefs(TimelineRefsContract):
    pass


# ---- Cassandra specifics (beyond the contract) ---------------------------------------------------
def test_keys_round_trip_through_timeuuid():
    for k in (key(0), key(5, 3), ids.key_from_time(0, b"\x80\x80\xff\xff\xff\xff\xff\xff")):
        u = key_uuid(k)
        assert u.version == 1 and str(u) == ids.key_to_uuid(k) and uuid_key(u) == k


def test_same_time_ids_keep_byte_order(store):
    """Ids of one time whose node bytes differ in the high bit: Cassandra's timeuuid order
    compares those bytes signed, which would disagree with the byte order; our blob keys do not."""
    f = feed()
    same = [ids.key_from_time(1_600_000_000_000_000, b"\x80\x80" + bytes([b]) + b"\x00" * 5)
            for b in (0x01, 0x7F, 0x80, 0xFF)]
    store.timelines.add_entries(f, [Entry(k, None) for k in same])
    assert [e.key for e in store.timelines.read_entries(f, 10)] == sorted(same, reverse=True)
    assert [e.key for e in store.timelines.read_entries(f, 10, rng=Range(lt=same[2]))] == [same[1], same[0]]
    assert [e.key for e in store.timelines.read_entries(f, 10, own_only=True)] == sorted(same, reverse=True)


def test_indexes_are_checked_against_the_tables(store):
    """Index rows left behind by an origin or foreign_id change never show through."""
    f, k = feed("timeline"), key(7, 77)
    store.timelines.add_entries(f, [Entry(k, None)])
    store.timelines.add_entries(f, [Entry(k, "user:a")])  # timeline_by_origin keeps a stale own row
    assert store.timelines.read_entries(f, 10, own_only=True) == []
    assert store.timelines.remove_by_origin(f, "user:b") == 0
    store.timelines.add_entries(f, [Entry(k, "user:b")])
    assert store.timelines.remove_by_origin(f, "user:a") == 0 and store.timelines.read_entries(f, 10) == [Entry(k, "user:b")]
    assert store.timelines.remove_by_origin(f, "user:b") == 1 and store.timelines.read_entries(f, 10) == []
    assert store.timelines.feeds_of_activity(k) == []

    store.activities.put_activities([ActivityRecord(k, b"{}", "fid:old")])
    store.activities.put_activities([ActivityRecord(k, b"{}", "fid:new")])
    assert store.activities.keys_by_foreign_id("fid:old") == [] and store.activities.keys_by_foreign_id("fid:new") == [k]


def test_own_only_paging_over_many_copies(store):
    f = feed("timeline")
    own = [key(t, 1) for t in range(0, 600, 3)]
    copies = [key(t, 2) for t in range(600)]
    store.timelines.add_entries(f, [Entry(k, "user:x") for k in copies] + [Entry(k, None) for k in own])
    desc = sorted(own, reverse=True)
    assert [e.key for e in store.timelines.read_entries(f, 50, offset=120, own_only=True)] == desc[120:170]
    assert len(store.timelines.read_entries(f, 1000)) == 800


def test_grouped_entries_in_own_reads_and_fanout_upserts(store):
    """Own-entry reads carry group/actor/verb; a fan-out copy over an entry keeps them (as SQLite)."""
    f = feed("notification")
    grouped = Entry(key(1, 5), None, "like_2020-01-01", "u1", "like")
    store.timelines.add_entries(f, [grouped, Entry(key(2, 5), "user:x", "post_2020-01-02", "u2", "post")])
    assert store.timelines.read_entries(f, 10, own_only=True) == [grouped]
    store.timelines.add_to_feeds(key(1, 5), [f], "user:y")
    assert store.timelines.read_entries(f, 10, rng=Range(lte=key(1, 5))) == [
        Entry(key(1, 5), "user:y", "like_2020-01-01", "u1", "like")]


def test_racing_follows_do_not_duplicate_listings(store):
    """Two follows of one pair that both passed the existence check: one listing row survives."""
    a, b = feed("timeline"), feed()
    store.follows.add_follow(a, b, 10)
    # replay the second racer's writes, with its own created_us, as add_follow would do them
    s = store.activities.session
    s.concurrent([("following_put", (a, 20, b)), ("followers_put", (b, 20, a))])
    s.concurrent([("by_source_put", (a, b, 20)), ("by_target_put", (b, a, 20))])
    assert [(f.source, f.created_us) for f in store.follows.list_followers(b, 10)] == [(a, 20)]
    assert [(f.target, f.created_us) for f in store.follows.list_following(a, 10)] == [(b, 20)]
    assert store.follows.count_follows(b) == 1
    assert store.follows.remove_follow(a, b) is True
    assert store.follows.list_followers(b, 10) == [] and store.follows.list_following(a, 10) == []


def test_nothing_connects_before_the_first_query(cassandra_settings):
    s = from_settings(cassandra_settings.with_(cassandra_port=1))
    assert s.activities.session._cluster is None
    s.close()


def test_migrations_apply_in_order_once_and_resume(cassandra_settings, tmp_path):
    """The runner on a keyspace of its own: ordered, idempotent, resumable, strict on edits."""
    import shutil

    from cassandra.cluster import Cluster

    from feedline import db

    for m in db.load_migrations():
        shutil.copy(m.path, tmp_path / m.path.name)
    later = tmp_path / "9001_later.cql"
    later.write_text("-- a later migration\nALTER TABLE marks ADD note text;\n"
                     "CREATE TABLE IF NOT EXISTS later (id int PRIMARY KEY);\n")
    names = [f"{m.version}_{m.name}" for m in db.load_migrations(tmp_path)]
    keyspace = f"{cassandra_settings.cassandra_keyspace}_m"
    cluster = Cluster(list(cassandra_settings.cassandra_hosts), port=cassandra_settings.cassandra_port)
    try:
        assert db.migrate(cassandra_settings, directory=tmp_path, keyspace=keyspace) == names
        assert db.migrate(cassandra_settings, directory=tmp_path, keyspace=keyspace) == []
        session = cluster.connect(keyspace)
        # as if 9001 was interrupted after its ALTER: applied again, the ALTER is skipped
        session.execute("DELETE FROM schema_migrations WHERE version = '9001'")
        assert db.migrate(cassandra_settings, directory=tmp_path, keyspace=keyspace) == ["9001_later"]
        later.write_text(later.read_text() + "-- edited\n")
        with pytest.raises(db.MigrationError, match="changed after it was applied"):
            db.migrate(cassandra_settings, directory=tmp_path, keyspace=keyspace)
    finally:
        cluster.connect().execute(f"DROP KEYSPACE IF EXISTS {keyspace}", timeout=60)
        cluster.shutdown()


class _Gate:
    """A session that, having read one statement, waits for a signal before going on: a rewrite
    that read early and writes late, deterministically."""

    def __init__(self, inner, name):
        import threading

        self.inner, self.name = inner, name
        self.reached, self.release = threading.Event(), threading.Event()

    def __getattr__(self, attr):
        return getattr(self.inner, attr)

    def rows(self, name, params=(), **kw):
        out = self.inner.rows(name, params, **kw)
        if name == self.name:
            self.reached.set()
            self.release.wait(20)
        return out


@pytest.mark.parametrize("what", ["children", "counts"])
def test_a_stale_rewrite_landing_late_loses_to_the_newer_one(store, what):
    """The rule that keeps counts and children exact without counters: a rewrite is timestamped
    when it started reading, so one that read before a change and lands after it is shadowed."""
    import threading
    import uuid

    from feedline.storage.cassandra.reactions import CassandraReactions

    from .reaction_store_contract import children_of, reaction

    a = str(uuid.uuid1())
    parent = reaction("comment", a)
    store.reactions.add_reaction(parent)
    first = reaction("like", a, parent=parent.id if what == "children" else "", t=1)
    store.reactions.add_reaction(first)
    gate = _Gate(store.activities.session, "rx_parent_all" if what == "children" else "rx_count")
    stale = CassandraReactions(gate)
    job = (lambda: stale._refresh(parent.id)) if what == "children" else (lambda: stale._recount(a, "like"))
    t = threading.Thread(target=job)
    t.start()
    assert gate.reached.wait(20)  # it has read one like and waits to write
    store.reactions.add_reaction(reaction("like", a, parent=first.parent, t=2))  # its rewrite says two
    gate.release.set()
    t.join()
    if what == "children":
        assert children_of(store, parent.id)["children_counts"] == {"like": 2}
    else:
        assert store.reactions.reaction_counts(a) == {"comment": 1, "like": 2}


# ---- body copies in timeline rows (issue 14) -------------------------------------------------------
class _Spy:
    """Records the statement names a store runs (to count requests per read)."""

    def __init__(self, session, monkeypatch):
        self.names: list[str] = []
        for method in ("rows", "pages", "write", "concurrent"):
            real = getattr(session, method)

            def spy(*args, _real=real, _method=method, **kwargs):
                first = args[0]
                self.names.append(first if isinstance(first, str) else _method)
                return _real(*args, **kwargs)
            monkeypatch.setattr(session, method, spy)


def _raw_body(store, f, k):
    rows = store.activities.session.rows("timeline_bodies", (f, [k]))
    return rows[0][2] if rows else "no row"


def test_a_flat_page_is_one_single_partition_read(store, monkeypatch):
    f = feed()
    recs = [rec(key(t)) for t in range(30)]
    store.activities.put_activities(recs)
    store.timelines.add_entries(f, [Entry(r.key, None) for r in recs])
    spy = _Spy(store.activities.session, monkeypatch)
    page = store.timelines.read_page(f, 25, rng=Range(lt=key(29)))
    assert [k for k, _, _ in page] == [key(t) for t in range(28, 3, -1)] and page[0][1] == rec(key(28)).body
    assert spy.names == ["page_read:lt:"]


def test_an_older_body_never_overwrites_a_newer_one(store):
    """Copies are written at the activity's version: a late or redelivered write of an older body
    (a fan-out chunk, a refresh) loses, whatever order the writes arrive in."""
    k, src, f = key(1), feed(), feed("timeline")
    store.activities.put_activities([ActivityRecord(k, b'{"v":1}')])
    old = store.activities.versions([k])[k]
    store.timelines.add_to_feeds(k, [f], src)
    store.activities.put_activities([ActivityRecord(k, b'{"v":2}')])
    new = store.activities.versions([k])[k]
    assert new.version > old.version and store.timelines.refresh_copies(k) == (1, None)
    store.activities.session.write("copy_body_put", (old.version, old.body, old.refs, old.rank, f, k))  # a late writer of v1
    store.timelines.add_to_feeds(k, [f], src)  # a redelivered fan-out chunk
    assert store.timelines.read_page(f, 5) == [(k, b'{"v":2}', src)]


def test_a_copy_written_while_the_activity_changes_is_rewritten(store, monkeypatch):
    """The fan-out read v1, then an update stored v2 and refreshed the copies it found in the
    reverse index (not this one yet), then the fan-out wrote v1: its re-read of the version fixes it."""
    k, src, f = key(2), feed(), feed("timeline")
    store.activities.put_activities([ActivityRecord(k, b'{"v":1}')])
    real = store.activities.versions
    calls = []

    def versions(keys):
        got = real(keys)
        calls.append(keys)
        if len(calls) == 1:  # right after the fan-out read v1: the update lands
            store.activities.put_activities([ActivityRecord(k, b'{"v":2}')])
            assert store.timelines.refresh_copies(k) == (0, None)  # (its own version read is call 2)
        return got
    monkeypatch.setattr(store.timelines, "versions", versions)
    store.timelines.add_to_feeds(k, [f], src)
    assert len(calls) == 3 and store.timelines.read_page(f, 5) == [(k, b'{"v":2}', src)]


def test_ghost_rows_are_skipped_and_pages_fill_up(store):
    """A refresh that wrote a body after its entry was deleted leaves a row without origin
    (the reverse index still listed the feed, as after a crash between the two deletes)."""
    f = feed("timeline")
    recs = [rec(key(t)) for t in range(6)]
    store.activities.put_activities(recs)
    store.timelines.add_entries(f, [Entry(r.key, "user:o") for r in recs])
    s = store.activities.session
    s.concurrent([("timeline_delete", (f, key(t))) for t in (5, 3)])  # the index rows stay
    store.activities.put_activities([ActivityRecord(key(t), b'{"v":2}') for t in (5, 3)])
    for t in (5, 3):
        store.timelines.refresh_copies(key(t))
        assert _raw_body(store, f, key(t)) == b'{"v":2}'  # the ghost
    want = [key(4), key(2), key(1)]
    assert [k for k, _, _ in store.timelines.read_page(f, 3)] == want
    assert [e.key for e in store.timelines.read_entries(f, 3)] == want
    assert list(store.timelines.read_window(f, 3)[0]) == want
    assert not store.timelines.has_entry(f, key(5)) and store.timelines.has_entry(f, key(4))
    assert store.timelines.page_bodies(f, [key(4)]) == {key(4): recs[4].body}


def test_a_copy_readded_after_a_delete_is_served(store):
    """Unfollow then follow again: the row comes back at the current time, its body cell (at the
    older version) stays under the delete's tombstone, and the page reads that body from activities."""
    k, src, f = key(3), feed(), feed("timeline")
    store.activities.put_activities([rec(k)])
    store.timelines.add_to_feeds(k, [f], src)
    assert store.timelines.remove_by_origin(f, src) == 1
    store.timelines.add_to_feeds(k, [f], src)
    assert _raw_body(store, f, k) is None
    assert store.timelines.read_page(f, 5) == [(k, rec(k).body, src)]
    store.activities.put_activities([ActivityRecord(k, b'{"v":2}')])  # the next update heals it
    store.timelines.refresh_copies(k)
    assert _raw_body(store, f, k) == b'{"v":2}'


def test_statements_name_their_keyspace():
    import re

    from feedline.storage.cassandra.statements import CQL, TABLES, qualified

    for text in CQL.values():
        q = qualified(text, "ks_1")
        tables = re.findall(r"\b(?:FROM|INTO|UPDATE)\s+(\S+)", q)
        assert tables and all(t.startswith("ks_1.") and t[5:] in TABLES for t in tables), q
    with pytest.raises(ValueError):
        qualified(CQL["marks_get"], "ks; DROP")


def test_batches_keep_under_the_byte_budget():
    from feedline.storage.cassandra.session import BATCH_BYTES, Batch

    big = b"x" * 3000
    batch = Batch([[("copy_body_put", (1, big, "f", b"k" * 16))] for _ in range(5)]
                  + [[("timeline_put", ("f", b"k" * 16, "-"))] for _ in range(30)])
    # plain CQL text stands in for the prepared statements (BatchStatement.add takes both)
    stmts = batch.statements(lambda name: "UPDATE t SET b = %s WHERE a = %s AND c = %s AND d = %s"
                             if name == "copy_body_put" else "INSERT INTO t (a, b, c) VALUES (%s, %s, %s)")
    # 3,000-byte bodies one per batch; the small rows fill up to BATCH_ROWS
    assert [len(b._statements_and_parameters) for b in stmts] == [1, 1, 1, 1, 24, 7]
    assert BATCH_BYTES < 5 * 1024


def _batch_state(b) -> tuple:
    return (b.batch_type, b.is_idempotent, b.routing_key, b.keyspace, b.custom_payload, b._statements_and_parameters)


def test_binder_builds_the_batches_the_driver_builds(store):
    """Session.concurrent binds batch rows through ``Binder`` (each repeated value serialized once):
    every batch must be what ``BatchStatement.add(prepared, params)`` builds, value for value, with
    the same routing key (the partition's token) and keyspace."""
    import uuid

    from feedline.storage.cassandra import timelines
    from feedline.storage.cassandra.activities import Copy
    from feedline.storage.cassandra.session import Batch, Binder

    cs = store.activities.session
    k, body = key(1), b'{"verb":"like"}' * 40
    copy = Copy(body, 1_700_000_000_000_123, b"refs", None)
    feeds = [f"aggregated:{i}" for i in range(30)]
    fan_out = [Batch([timelines._entry_put(f, k, "user:1", ("like_2024-05-01", "user:9", "like"), 5)
                      + timelines._body_put(f, k, copy)]) for f in feeds]
    fan_out += [Batch([timelines._entry_put(f, k, "-", None) + timelines._body_put(f, k, copy)]) for f in feeds]
    reverse = Batch([[timelines._feeds_put(key_uuid(k), f, "user:1", ("g", "a", "v") if i % 2 else None)]
                     for i, f in enumerate(feeds)])
    odd = Batch([[("timeline_put", ("f", k, None))],                # a null
                  [("group_log_put", ("f", 7, uuid.uuid4(), 60))],  # a uuid and ints
                  [("timeline_put", ("f", k))],                     # too short: the driver pads it (unset)
                  [("group_member_remove", ({k}, {"g"}, "f", "g"))]])      # sets
    for batch in [*fan_out, reverse, odd]:
        binder = Binder(cs.prepared)
        mine = [_batch_state(b) for b in batch.statements(cs.prepared, binder)]
        theirs = [_batch_state(b) for b in batch.statements(cs.prepared)]
        assert mine == theirs
        assert all(s[2] is not None and s[3] == cs.keyspace for s in mine)  # routed to the partition's replicas
    # a value its column refuses fails as the driver's own bind fails
    bad = Batch([[("timeline_put", ("f", "not bytes", "-"))]])
    with pytest.raises(TypeError, match="invalid type for column"):
        list(bad.statements(cs.prepared, Binder(cs.prepared)))
    # ... and through Session.concurrent, before anything is sent; the session goes on serving
    good = [Batch([timelines._entry_put(f, k, "user:1", None) + timelines._body_put(f, k, copy)]) for f in feeds]
    with pytest.raises(TypeError, match="invalid type for column"):
        cs.concurrent([*good, bad, *good])
    assert not any(store.timelines.has_entry(f, k) for f in feeds)
    store.timelines.add_to_feeds(k, feeds[:3], "user:1")
    assert all(store.timelines.has_entry(f, k) for f in feeds[:3])


def test_page_bodies_dense_and_sparse(store, monkeypatch):
    """Members dense in the feed come in one slice; a sparse page falls back to IN for the rest."""
    f = feed("aggregated")
    recs = [rec(key(t)) for t in range(60)]
    store.activities.put_activities(recs)
    store.timelines.add_entries(f, [Entry(r.key, None, f"g{t % 2}", "a", "v") for t, r in enumerate(recs)])
    spy = _Spy(store.activities.session, monkeypatch)
    dense = [key(t) for t in range(40, 50)]
    assert store.timelines.page_bodies(f, dense) == {k: rec(k).body for k in dense}
    assert spy.names == ["timeline_bodies_range"]
    spy.names.clear()
    sparse = [key(t) for t in (59, 30, 29, 5, 0)]
    assert store.timelines.page_bodies(f, sparse + [key(99)]) == {k: rec(k).body for k in sparse}
    assert spy.names[:2] == ["timeline_bodies_range", "concurrent"]


def test_without_body_copies_pages_join_bodies_as_before(cassandra_settings):
    """Amazon Keyspaces mode: no USING TIMESTAMP anywhere, no copies; pages read bodies by IN."""
    from tests.cassandra_support import truncate_all

    s = from_settings(cassandra_settings)
    s.activities.session.body_copies = False
    try:
        truncate_all(s)
        k, src, f, agg = key(1), feed(), feed("timeline"), feed("aggregated")
        s.activities.put_activities([rec(k)])
        s.timelines.add_entries(src, [Entry(k, None)])
        s.timelines.add_to_feeds(k, [f], src)
        s.timelines.place_entries(k, [(agg, Entry(k, src, "g", "a", "v"))])
        assert _raw_body(s, f, k) is None and _raw_body(s, src, k) is None
        assert s.timelines.read_page(f, 5) == [(k, rec(k).body, src)]
        assert s.timelines.page_bodies(agg, [k]) == {k: rec(k).body}
        s.activities.put_activities([ActivityRecord(k, b'{"v":2}')])
        assert s.timelines.refresh_copies(k) == (0, None)
        assert s.timelines.read_page(f, 5) == [(k, b'{"v":2}', src)] and s.activities.versions([k]) == {}
    finally:
        truncate_all(s)
        s.close()


class TestCassandraFiles(FileStoreContract):
    pass
