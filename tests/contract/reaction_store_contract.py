"""The ``reactions.store.ReactionStore`` contract, written once; bound to every backend in test_sqlite.py and
test_cassandra.py (a ``store`` fixture yields a fresh backend's ``Stores``; ``sibling()`` opens another
``Stores`` on the same data, as another process or Lambda container would)."""

from __future__ import annotations

import dataclasses
import json
import threading
import uuid

from feedline.models import ids
from feedline.models.cursors import Range
from feedline.reactions import model
from feedline.reactions.store import ACTIVITY, PARENT, USER, ReactionRecord, Scope

T0 = 1_700_000_000_000_000


def reaction(kind: str = "like", activity: str = "act", user: str = "u1", parent: str = "", t: int = 0,
             data: dict | None = None, rid: str | None = None) -> ReactionRecord:
    created = T0 + t
    key = model.key_of(rid, created) if rid else model.new_key(created)
    rid = rid or ids.key_to_uuid(key)
    body = model.encode_body(rid, kind, activity, user, data or {}, parent, created, created)
    return ReactionRecord(rid, key, kind, activity, user, parent, body, created, created)


def soft_deleted(rec: ReactionRecord, at: int) -> ReactionRecord:
    return dataclasses.replace(rec, deleted_us=at, body=model.encode_body(
        rec.id, rec.kind, rec.activity_id, rec.user_id, {}, rec.parent, rec.created_us, rec.updated_us, (), at))


def children_of(store, rid: str) -> dict:
    s = store.reactions.get_reactions([rid])[rid]
    return json.loads(model.reaction_bytes(s.record.body, s.children))


def listed(store, scope: Scope, limit: int = 100, rng: Range = Range(), ascending: bool = False) -> list[str]:
    return [s.record.id for s in store.reactions.list_reactions(scope, rng, limit, ascending)]


def activity() -> str:
    return str(uuid.uuid1())


class ReactionStoreContract:
    def test_add_get_and_add_again(self, store):
        r = reaction(data={"text": "hi"})
        assert store.reactions.add_reaction(r) is True
        assert store.reactions.add_reaction(r) is False  # the same write applied twice
        got = store.reactions.get_reactions([r.id, str(uuid.uuid4())])
        assert list(got) == [r.id]
        s = got[r.id]
        assert s.record == r and s.children == model.EMPTY_CHILDREN
        doc = json.loads(model.reaction_bytes(s.record.body, s.children))
        assert doc["data"] == {"text": "hi"} and doc["latest_children"] == {} and doc["children_counts"] == {}
        assert store.reactions.reaction_counts("act") == {"like": 1}

    def test_listings_by_scope_and_kind_newest_first(self, store):
        a = activity()
        rs = [reaction("like" if i % 2 else "comment", a, f"u{i % 3}", t=i) for i in range(9)]
        for r in rs:
            store.reactions.add_reaction(r)
        child = reaction("like", a, "u0", parent=rs[0].id, t=50)
        store.reactions.add_reaction(child)
        newest = [r.id for r in reversed(rs)]
        assert listed(store, Scope(ACTIVITY, a)) == newest  # top-level only
        assert listed(store, Scope(ACTIVITY, a, "like")) == [r.id for r in reversed(rs) if r.kind == "like"]
        assert listed(store, Scope(USER, "u0")) == [child.id] + [r.id for r in reversed(rs) if r.user_id == "u0"]
        assert listed(store, Scope(USER, "u0", "comment")) == [r.id for r in reversed(rs)
                                                                if r.user_id == "u0" and r.kind == "comment"]
        assert listed(store, Scope(PARENT, rs[0].id)) == [child.id]
        assert listed(store, Scope(ACTIVITY, a), limit=3) == newest[:3]
        assert listed(store, Scope(ACTIVITY, a), rng=Range(lt=rs[5].key)) == newest[4:]
        assert listed(store, Scope(ACTIVITY, a), rng=Range(lte=rs[5].key, gt=rs[2].key)) == newest[3:6]
        assert listed(store, Scope(ACTIVITY, a), rng=Range(gte=rs[6].key), ascending=True) == [r.id for r in rs[6:]]
        assert listed(store, Scope(ACTIVITY, "other")) == []
        assert store.reactions.reaction_counts(a) == {"like": 4, "comment": 5}

    def test_paging_both_ways_never_loses_or_repeats(self, store):
        a = activity()
        rs = [reaction("like", a, t=i // 3) for i in range(61)]  # same-time keys too
        for r in rs:
            store.reactions.add_reaction(r)
        by_key = [r.id for r in sorted(rs, key=lambda r: r.key)]
        for ascending in (False, True):
            seen, rng = [], Range()
            while True:
                page = store.reactions.list_reactions(Scope(ACTIVITY, a), rng, 7, ascending)
                if not page:
                    break
                seen += [s.record.id for s in page]
                rng = Range(gt=page[-1].record.key) if ascending else Range(lt=page[-1].record.key)
            assert seen == (by_key if ascending else by_key[::-1])

    def test_children_are_exact_and_nested(self, store):
        a = activity()
        parent = reaction("comment", a, t=0)
        store.reactions.add_reaction(parent)
        likes = [reaction("like", a, f"u{i}", parent=parent.id, t=10 + i) for i in range(7)]
        replies = [reaction("reply", a, "u9", parent=parent.id, t=30 + i) for i in range(2)]
        for r in likes + replies:
            store.reactions.add_reaction(r)
        doc = children_of(store, parent.id)
        assert doc["children_counts"] == {"like": 7, "reply": 2}
        assert [c["id"] for c in doc["latest_children"]["like"]] == [r.id for r in reversed(likes)][:model.LATEST_CHILDREN]
        assert [c["id"] for c in doc["latest_children"]["reply"]] == [replies[1].id, replies[0].id]
        # a grandchild shows in the child, and in the child as its parent embeds it
        grand = reaction("like", a, "u1", parent=replies[1].id, t=40)
        store.reactions.add_reaction(grand)
        assert children_of(store, replies[1].id)["children_counts"] == {"like": 1}
        embedded = children_of(store, parent.id)["latest_children"]["reply"][0]
        assert embedded["id"] == replies[1].id and embedded["children_counts"] == {"like": 1}
        assert embedded["latest_children"]["like"][0]["id"] == grand.id
        # soft delete leaves the counts, the latest children and the listings; restore returns
        store.reactions.put_reaction(soft_deleted(likes[6], T0 + 99))
        doc = children_of(store, parent.id)
        assert doc["children_counts"]["like"] == 6 and likes[6].id not in [c["id"] for c in doc["latest_children"]["like"]]
        assert likes[6].id not in listed(store, Scope(PARENT, parent.id))
        assert store.reactions.get_reactions([likes[6].id])[likes[6].id].record.deleted_us == T0 + 99
        store.reactions.put_reaction(likes[6])
        assert children_of(store, parent.id)["children_counts"]["like"] == 7
        assert store.reactions.delete_reaction(likes[6].id) is True
        assert store.reactions.delete_reaction(likes[6].id) is False
        assert children_of(store, parent.id)["children_counts"] == {"like": 6, "reply": 2}
        assert store.reactions.reaction_counts(a) == {"comment": 1}  # children are not the activity's

    def test_soft_delete_leaves_counts_and_listings(self, store):
        a = activity()
        r1, r2 = reaction("like", a, t=1), reaction("like", a, t=2)
        for r in (r1, r2):
            store.reactions.add_reaction(r)
        store.reactions.put_reaction(soft_deleted(r2, T0 + 5))
        assert store.reactions.reaction_counts(a) == {"like": 1}
        assert listed(store, Scope(ACTIVITY, a)) == [r1.id] and listed(store, Scope(USER, "u1", "like")) == [r1.id]
        store.reactions.put_reaction(r2)
        assert store.reactions.reaction_counts(a) == {"like": 2}
        store.reactions.delete_reaction(r1.id)
        store.reactions.delete_reaction(r2.id)
        assert store.reactions.reaction_counts(a) == {} and listed(store, Scope(ACTIVITY, a)) == []

    def test_own_children(self, store):
        a = activity()
        p1, p2 = reaction("comment", a, t=1), reaction("comment", a, t=2)
        for r in (p1, p2):
            store.reactions.add_reaction(r)
        mine = [reaction("like", a, "me", parent=p1.id, t=10), reaction("reply", a, "me", parent=p1.id, t=11)]
        theirs = reaction("like", a, "you", parent=p1.id, t=12)
        for r in (*mine, theirs):
            store.reactions.add_reaction(r)
        own = store.reactions.own_children([p1.id, p2.id], "me")
        assert list(own) == [p1.id] and [s.record.id for s in own[p1.id]] == [mine[1].id, mine[0].id]
        assert [s.record.id for s in store.reactions.own_children([p1.id], "me", ["like"])[p1.id]] == [mine[0].id]

    def test_client_ids_of_any_uuid_version(self, store):
        a = activity()
        rid = str(uuid.uuid4())
        r = reaction("like", a, rid=rid, t=3)
        assert store.reactions.add_reaction(r) and store.reactions.get_reactions([rid])[rid].record.key == r.key
        assert listed(store, Scope(ACTIVITY, a)) == [rid]

    def test_concurrent_adds_keep_counts_and_children_exact(self, store, sibling):
        """20 writers (each its own connection/session, as separate containers) react at once."""
        a = activity()
        parent = reaction("comment", a, t=0)
        store.reactions.add_reaction(parent)
        errors = []

        def writer(n: int) -> None:
            other = sibling()
            try:
                for i in range(3):
                    other.reactions.add_reaction(reaction("like" if i % 2 else "heart", a, f"u{n}", t=100 + i))
                    other.reactions.add_reaction(reaction("like", a, f"u{n}", parent=parent.id, t=100 + i))
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                other.close()

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert store.reactions.reaction_counts(a) == {"like": 20, "heart": 40, "comment": 1}
        assert children_of(store, parent.id)["children_counts"] == {"like": 60}
        assert len(listed(store, Scope(ACTIVITY, a, "heart"), limit=100)) == 40

    def test_redelivered_writes_keep_counts_exact(self, store, sibling):
        """The same adds applied again, also two at once from two connections: counted once."""
        a = activity()
        parent = reaction("comment", a)
        store.reactions.add_reaction(parent)
        batch = [reaction("like", a, f"u{i}", t=i) for i in range(10)]
        kids = [reaction("like", a, f"u{i}", parent=parent.id, t=i) for i in range(10)]
        other = sibling()
        try:
            def apply(s) -> None:
                for r in batch + kids:
                    s.reactions.add_reaction(r)
            threads = [threading.Thread(target=apply, args=(s,)) for s in (store, other)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            apply(store)
        finally:
            other.close()
        assert store.reactions.reaction_counts(a) == {"like": 10, "comment": 1}
        assert children_of(store, parent.id)["children_counts"] == {"like": 10}
        assert len(listed(store, Scope(ACTIVITY, a, "like"))) == 10


class ReactionEnrichmentContract:
    """``enrichment_rows``: a page's reaction data in one batched look-up."""

    def test_counts_latest_and_own(self, store):
        a1, a2, a3 = activity(), activity(), activity()
        likes = [reaction("like", a1, u, t=i) for i, u in enumerate(["me", "x", "y", "z"])]
        comment = reaction("comment", a1, "x", t=10)
        other = reaction("like", a2, "me", t=20)
        child = reaction("like", a1, "me", parent=likes[0].id, t=30)  # children are not the activity's
        gone = reaction("like", a2, "x", t=40)
        for r in (*likes, comment, other, child, gone):
            store.reactions.add_reaction(r)
        store.reactions.put_reaction(soft_deleted(gone, T0 + 50))
        counts, rows = store.reactions.enrichment_rows([a1, a2, a3, a1], None, 2, "me")
        assert sorted(counts) == sorted([(a1, "comment", 1), (a1, "like", 4), (a2, "like", 1)])
        latest = [(a, k, i) for a, k, slot, i, *_ in rows if slot == 0]
        assert sorted(latest, key=str) == sorted([(a1, "like", likes[3].id), (a1, "like", likes[2].id),
                                                  (a1, "comment", comment.id), (a2, "like", other.id)], key=str)
        cell = [i for a, k, _, i in ((a, k, s, i) for a, k, s, i, *_ in rows) if (a, k) == (a1, "like")
                and i in (likes[3].id, likes[2].id)]
        assert cell == [likes[3].id, likes[2].id]  # newest first
        own = sorted((a, k, i) for a, k, slot, i, *_ in rows if slot == 1)
        assert own == sorted([(a1, "like", likes[0].id), (a2, "like", other.id)])
        for a, k, _slot, i, u, body, members in rows:
            doc = json.loads(body[:-1] + members + b"}")
            assert doc["id"] == i and doc["user_id"] == u and doc["kind"] == k and doc["activity_id"] == a
            assert "latest_children" in doc and "children_counts" in doc
        liked = [json.loads(b[:-1] + m + b"}") for a, k, s, i, u, b, m in rows if i == likes[0].id][0]
        assert liked["children_counts"] == {"like": 1}

    def test_kinds_filter_and_options(self, store):
        a1 = activity()
        store.reactions.add_reaction(reaction("like", a1, "me", t=1))
        store.reactions.add_reaction(reaction("comment", a1, "me", t=2))
        counts, rows = store.reactions.enrichment_rows([a1], ["comment", "vote"], 5, "me")
        assert counts == [(a1, "comment", 1)] and {(r[1], r[2]) for r in rows} == {("comment", 0), ("comment", 1)}
        counts, rows = store.reactions.enrichment_rows([a1], None, 0, None)  # counts only
        assert sorted(counts) == [(a1, "comment", 1), (a1, "like", 1)] and rows == []
        assert store.reactions.enrichment_rows([], None, 5, "me") == ([], [])
        assert store.reactions.enrichment_rows([a1], [], 5, "me") == ([], [])
