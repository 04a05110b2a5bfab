"""The storage contract, written once against ``feedline.storage.base.Storage``.

Bind it to a backend by subclassing ``StorageContract`` and providing a ``store`` fixture that
yields a fresh, empty store (see test_sqlite.py and test_cassandra.py).
"""

from __future__ import annotations

import uuid


from feedline.models import ids
from feedline.storage.base import ActivityRecord, Entry, Match, Range


def key(t: int, n: int = 0) -> bytes:
    return ids.key_from_time(1_600_000_000_000_000 + t, b"\x80\x80" + n.to_bytes(6, "big"))


def feed(name: str = "user") -> str:
    return f"{name}:{uuid.uuid4().hex[:10]}"


def rec(k: bytes, fid: str = "", feed_: str | None = None, actor: str = "a", verb: str = "v") -> ActivityRecord:
    return ActivityRecord(k, b'{"id":"%s"}' % ids.key_to_uuid(k).encode(), fid, feed_, actor, verb)


class StorageContract:
    # ---- activities -------------------------------------------------------------------------
    def test_put_get_upsert_delete(self, store):
        k1, k2 = key(1), key(2)
        store.put_activities([rec(k1, "f:1", "user:1"), rec(k2)])
        got = store.get_activities([k1, k2, key(3)])
        assert set(got) == {k1, k2}
        assert got[k1].foreign_id == "f:1" and got[k1].feed == "user:1" and got[k2].feed is None
        store.put_activities([ActivityRecord(k1, b'{"v":2}', "f:1", "user:1")])
        assert store.get_activities([k1])[k1].body == b'{"v":2}'
        store.delete_activities([k1])
        assert set(store.get_activities([k1, k2])) == {k2}
        assert store.get_activities([]) == {}

    def test_upsert_without_feed_keeps_feed(self, store):
        k = key(1)
        store.put_activities([rec(k, "", "user:1")])
        store.put_activities([rec(k, "", None)])
        assert store.get_activities([k])[k].feed == "user:1"

    def test_keys_by_foreign_id(self, store):
        fid = f"post:{uuid.uuid4().hex}"
        store.put_activities([rec(key(1), fid), rec(key(2), fid), rec(key(3), "other"), rec(key(4), "")])
        assert store.keys_by_foreign_id(fid) == [key(2), key(1)]
        assert store.keys_by_foreign_id("") == []
        assert store.keys_by_foreign_id("missing") == []

    # ---- timelines --------------------------------------------------------------------------
    def test_read_entries_order_limit_offset(self, store):
        f = feed()
        keys = [key(t) for t in range(10)]
        store.add_entries(f, [Entry(k, None) for k in keys])
        assert [e.key for e in store.read_entries(f, 3)] == keys[::-1][:3]
        assert [e.key for e in store.read_entries(f, 3, offset=8)] == keys[::-1][8:]
        assert store.read_entries(f, 0) == []
        assert store.read_entries(feed(), 10) == []

    def test_ties_in_time_are_distinct_and_ordered(self, store):
        f = feed()
        same = [key(5, n) for n in (3, 1, 2)]
        store.add_entries(f, [Entry(k, None) for k in same])
        assert [e.key for e in store.read_entries(f, 10)] == sorted(same, reverse=True)

    def test_ranges(self, store):
        f = feed()
        keys = [key(t) for t in range(10)]
        store.add_entries(f, [Entry(k, None) for k in keys])

        def got(**kw):
            return [e.key for e in store.read_entries(f, 100, rng=Range(**kw))]

        desc = keys[::-1]
        assert got(lt=keys[5]) == desc[5:]
        assert got(lte=keys[5]) == desc[4:]
        assert got(gt=keys[5]) == desc[:4]
        assert got(gte=keys[5]) == desc[:5]
        assert got(gte=keys[5], lte=keys[5]) == [keys[5]]
        assert got(gt=keys[2], lt=keys[6]) == [keys[5], keys[4], keys[3]]
        assert got(lt=keys[3], lte=keys[8]) == desc[7:]  # the tighter bound wins
        assert got(gt=keys[8], gte=keys[1]) == [keys[9]]

    def test_upsert_entries_and_origin(self, store):
        f = feed("timeline")
        k = key(1)
        store.add_entries(f, [Entry(k, "user:a")])
        store.add_entries(f, [Entry(k, "user:b")])
        assert store.read_entries(f, 10) == [Entry(k, "user:b")]

    def test_own_only(self, store):
        f = feed()
        store.add_entries(f, [Entry(key(1), None), Entry(key(2), "user:x"), Entry(key(3), None)])
        assert [e.key for e in store.read_entries(f, 10, own_only=True)] == [key(3), key(1)]
        assert [e.key for e in store.read_entries(f, 1, own_only=True)] == [key(3)]

    def test_fanout_writes_and_reverse_index(self, store):
        k = key(1)
        followers = [feed("timeline") for _ in range(5)]
        src = feed()
        store.add_entries(src, [Entry(k, None)])
        store.add_to_feeds(k, followers, src)
        assert store.has_entry(followers[0], k) and not store.has_entry(feed(), k)
        assert sorted(store.feeds_of_activity(k)) == sorted([(src, None)] + [(f, src) for f in followers])
        store.remove_from_feeds(k, followers[:2])
        assert len(store.feeds_of_activity(k)) == 4
        store.add_to_feeds(k, followers[2:], src)  # redelivery is idempotent
        assert len(store.feeds_of_activity(k)) == 4

    def test_remove_entries_and_by_origin(self, store):
        f = feed("timeline")
        store.add_entries(f, [Entry(key(1), "user:a"), Entry(key(2), "user:b"), Entry(key(3), "user:a"),
                              Entry(key(4), None)])
        store.remove_entries(f, [key(4), key(99)])
        assert store.remove_by_origin(f, "user:a") == 2
        assert store.read_entries(f, 10) == [Entry(key(2), "user:b")]
        assert store.remove_by_origin(f, "user:zzz") == 0

    def test_read_page_joins_bodies_and_skips_missing(self, store):
        f = feed()
        store.put_activities([rec(key(1)), rec(key(3))])
        store.add_entries(f, [Entry(key(1), None), Entry(key(2), None), Entry(key(3), "user:o")])
        page = store.read_page(f, 10)
        assert [(k, o) for k, _, o in page] == [(key(3), "user:o"), (key(1), None)]
        assert page[0][1] == rec(key(3)).body
        assert [k for k, _, _ in store.read_page(f, 10, rng=Range(lt=key(3)))] == [key(1)]

    def test_group_entries(self, store):
        f = feed("notification")
        store.add_entries(f, [Entry(key(1), None, "like_2020-01-01", "u1", "like"),
                              Entry(key(2), "user:x", "post_2020-01-02", "u2", "post"), Entry(key(3), None)])
        assert store.read_entries(f, 10) == [Entry(key(3), None), Entry(key(2), "user:x", "post_2020-01-02", "u2", "post"),
                                             Entry(key(1), None, "like_2020-01-01", "u1", "like")]
        store.add_entries(f, [Entry(key(1), None, "like_2020-01-01", "u9", "like")])  # upsert
        assert store.read_entries(f, 1, rng=Range(lt=key(2)))[0].actor == "u9"

    def test_read_window_and_bodies(self, store):
        f = feed("aggregated")
        store.add_entries(f, [Entry(key(t), "user:o" if t % 2 else None, f"g{t % 3}", f"u{t}", "like")
                              for t in range(6)])
        keys, origins, groups, actors, verbs = store.read_window(f, 4)
        assert list(keys) == [key(5), key(4), key(3), key(2)]
        assert list(origins) == ["user:o", None, "user:o", None]
        assert list(groups) == ["g2", "g1", "g0", "g2"] and list(actors) == ["u5", "u4", "u3", "u2"]
        assert list(verbs) == ["like"] * 4
        assert [list(c) for c in store.read_window(feed(), 4)] == [[]] * 5
        store.put_activities([rec(key(1)), rec(key(2))])
        assert store.get_bodies([key(1), key(2), key(9)]) == {key(1): rec(key(1)).body, key(2): rec(key(2)).body}

    def test_marks(self, store):
        f = feed("notification")
        assert store.get_marks(f) is None
        store.put_marks(f, b"\x00state-1")
        store.put_marks(f, b"\x00state-2")
        assert store.get_marks(f) == b"\x00state-2"
        assert store.get_marks(feed("notification")) is None

    def test_actor_and_verb_are_stored(self, store):
        k = key(1)
        store.put_activities([rec(k, actor="julie", verb="like")])
        got = store.get_activities([k])[k]
        assert (got.actor, got.verb) == ("julie", "like")

    def test_read_page_with_match(self, store):
        f = feed()
        recs = [rec(key(t), actor=f"u{t % 3}", verb="like" if t % 2 else "post") for t in range(40)]
        store.put_activities(recs)
        store.add_entries(f, [Entry(r.key, None) for r in recs])
        desc = recs[::-1]

        def got(match, limit=100, offset=0, rng=Range()):
            return [k for k, _, _ in store.read_page(f, limit, offset, rng, match)]

        likes = [r.key for r in desc if r.verb == "like"]
        assert got(Match(verb="like")) == likes
        assert got(Match(verb="like"), limit=3, offset=2) == likes[2:5]
        assert got(Match(verb="like"), limit=4, rng=Range(lt=likes[3])) == likes[4:8]
        assert got(Match(actor="u1")) == [r.key for r in desc if r.actor == "u1"]
        assert got(Match(actor="u1", verb="post")) == [r.key for r in desc if r.actor == "u1" and r.verb == "post"]
        assert got(Match(verb="nothing")) == []

    # ---- follows ----------------------------------------------------------------------------
    def test_follow_unfollow(self, store):
        a, b = feed("timeline"), feed()
        assert store.add_follow(a, b, 10) is True
        assert store.add_follow(a, b, 20) is False
        [f] = store.list_following(a, 10)
        assert (f.source, f.target, f.created_us) == (a, b, 10)
        assert store.remove_follow(a, b) is True
        assert store.remove_follow(a, b) is False
        assert store.list_followers(b, 10) == []

    def test_listings_newest_first_with_filter_and_paging(self, store):
        target = feed()
        sources = [feed("timeline") for _ in range(6)]
        for i, s in enumerate(sources):
            store.add_follow(s, target, 100 + i)
        got = [f.source for f in store.list_followers(target, 10)]
        assert got == sources[::-1]
        assert [f.source for f in store.list_followers(target, 2, offset=1)] == sources[::-1][1:3]
        assert [f.source for f in store.list_followers(target, 10, only=[sources[1], sources[4], "x:y"])] == [
            sources[4], sources[1]]
        assert [f.target for f in store.list_following(sources[0], 10, only=[target])] == [target]
        assert store.list_following(sources[0], 10, only=["user:none"]) == []

    def test_follower_pages_cover_everyone_once(self, store):
        target = feed()
        sources = sorted(feed("timeline") for _ in range(23))
        for s in sources:
            store.add_follow(s, target, 1)
        seen, after = [], None
        while True:
            page = store.follower_page(target, after, 5)
            if not page:
                break
            seen += page
            after = page[-1]
        assert seen == sources

    def test_count_follows(self, store):
        target = feed()
        for s in [feed("timeline"), feed("timeline"), feed("flat")]:
            store.add_follow(s, target, 1)
        assert store.count_follows(target) == 3
        assert store.count_follows(target, ["timeline"]) == 2
        assert store.count_follows(target, ["flat", "timeline"]) == 3
        assert store.count_follows(target, ["user"]) == 0
        assert store.count_follows(target, followers=False) == 0

    def test_count_follows_by_many_slugs(self, store):
        """Issue 15: 1,000 slugs were 1,000 OR-ed LIKEs on SQLite, past its expression depth
        limit (a 500). Slugs match exactly (case and ``_`` included) on every backend."""
        target = feed()
        for s in [feed("timeline"), feed("time_line"), feed("flat")]:
            store.add_follow(s, target, 1)
        many = [f"g{i}" for i in range(997)] + ["timeline", "flat", "timeline"]
        assert store.count_follows(target, many) == 2
        assert store.count_follows(target, ["TIMELINE", "time%", "timexline"]) == 0
        assert store.count_follows(target, ["time_line"]) == 1

    def test_durable_across_reopen(self, store, reopen):
        f = feed()
        store.put_activities([rec(key(1))])
        store.add_entries(f, [Entry(key(1), None)])
        store.add_follow(feed("timeline"), f, 1)
        again = reopen(store)
        assert [e.key for e in again.read_entries(f, 5)] == [key(1)]
        assert again.count_follows(f) == 1
