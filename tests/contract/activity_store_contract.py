"""The ``activities.store.ActivityStore`` contract, written once; bound to every backend in test_sqlite.py and
test_cassandra.py (a ``store`` fixture yields a fresh backend's ``Stores``)."""

from __future__ import annotations

import uuid

from feedline.activities.store import ActivityRecord

from .support import key, rec


class ActivityStoreContract:
    def test_put_get_upsert_delete(self, store):
        k1, k2 = key(1), key(2)
        store.activities.put_activities([rec(k1, "f:1", "user:1"), rec(k2)])
        got = store.activities.get_activities([k1, k2, key(3)])
        assert set(got) == {k1, k2}
        assert got[k1].foreign_id == "f:1" and got[k1].feed == "user:1" and got[k2].feed is None
        store.activities.put_activities([ActivityRecord(k1, b'{"v":2}', "f:1", "user:1")])
        assert store.activities.get_activities([k1])[k1].body == b'{"v":2}'
        store.activities.delete_activities([k1])
        assert set(store.activities.get_activities([k1, k2])) == {k2}
        assert store.activities.get_activities([]) == {}

    def test_upsert_without_feed_keeps_feed(self, store):
        k = key(1)
        store.activities.put_activities([rec(k, "", "user:1")])
        store.activities.put_activities([rec(k, "", None)])
        assert store.activities.get_activities([k])[k].feed == "user:1"

    def test_keys_by_foreign_id(self, store):
        fid = f"post:{uuid.uuid4().hex}"
        store.activities.put_activities([rec(key(1), fid), rec(key(2), fid), rec(key(3), "other"), rec(key(4), "")])
        assert store.activities.keys_by_foreign_id(fid) == [key(2), key(1)]
        assert store.activities.keys_by_foreign_id("") == []
        assert store.activities.keys_by_foreign_id("missing") == []

    def test_actor_and_verb_are_stored(self, store):
        k = key(1)
        store.activities.put_activities([rec(k, actor="julie", verb="like")])
        got = store.activities.get_activities([k])[k]
        assert (got.actor, got.verb) == ("julie", "like")

    def test_refs_are_stored_beside_the_body(self, store):
        k1, k2, k3 = key(1), key(2), key(3)
        blob = b"\x08\x00\x0f\x00"
        store.activities.put_activities([
            ActivityRecord(k1, b'{"a":1}', refs=blob), ActivityRecord(k2, b'{"a":2}', refs=b""),
            ActivityRecord(k3, b'{"a":3}')])  # None: a row written before refs existed
        got = store.activities.get_activities([k1, k2, k3])
        assert (got[k1].refs, got[k2].refs, got[k3].refs) == (blob, b"", None)
        assert store.activities.get_bodies_refs([k1, k2, k3, key(4)]) == {
            k1: (b'{"a":1}', blob), k2: (b'{"a":2}', b""), k3: (b'{"a":3}', None)}
        store.activities.put_activities([ActivityRecord(k1, b'{"a":9}', refs=b"")])  # an update replaces them
        assert store.activities.get_bodies_refs([k1]) == {k1: (b'{"a":9}', b"")}
        assert store.activities.get_bodies_refs([]) == {}

    def test_rank_blob_is_stored_and_replaced_with_the_body(self, store):
        k, other = key(1), key(2)
        blob = b"\x01" * 24
        store.activities.put_activities([ActivityRecord(k, b'{"likes":1}', rank=blob), rec(other)])
        got = store.activities.get_activities([k, other])
        assert got[k].rank == blob and got[other].rank is None
        store.activities.put_activities([ActivityRecord(k, b'{"likes":2}', rank=b"\x02" * 24)])
        assert store.activities.get_activities([k])[k].rank == b"\x02" * 24
        store.activities.put_activities([ActivityRecord(k, b'{"likes":3}')])  # none: none stored
        assert store.activities.get_activities([k])[k].rank is None
