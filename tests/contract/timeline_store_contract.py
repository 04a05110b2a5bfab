"""The ``feeds.store.TimelineStore`` contract, written once; bound to every backend in test_sqlite.py and
test_cassandra.py (a ``store`` fixture yields a fresh backend's ``Stores``)."""

from __future__ import annotations

from feedline.activities.store import ActivityRecord
from feedline.feeds.store import Entry
from feedline.models.cursors import Match, Range

from .support import feed, key, rec


class TimelineStoreContract:
    def test_read_entries_order_limit_offset(self, store):
        f = feed()
        keys = [key(t) for t in range(10)]
        store.timelines.add_entries(f, [Entry(k, None) for k in keys])
        assert [e.key for e in store.timelines.read_entries(f, 3)] == keys[::-1][:3]
        assert [e.key for e in store.timelines.read_entries(f, 3, offset=8)] == keys[::-1][8:]
        assert store.timelines.read_entries(f, 0) == []
        assert store.timelines.read_entries(feed(), 10) == []

    def test_ties_in_time_are_distinct_and_ordered(self, store):
        f = feed()
        same = [key(5, n) for n in (3, 1, 2)]
        store.timelines.add_entries(f, [Entry(k, None) for k in same])
        assert [e.key for e in store.timelines.read_entries(f, 10)] == sorted(same, reverse=True)

    def test_ranges(self, store):
        f = feed()
        keys = [key(t) for t in range(10)]
        store.timelines.add_entries(f, [Entry(k, None) for k in keys])

        def got(**kw):
            return [e.key for e in store.timelines.read_entries(f, 100, rng=Range(**kw))]

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
        store.timelines.add_entries(f, [Entry(k, "user:a")])
        store.timelines.add_entries(f, [Entry(k, "user:b")])
        assert store.timelines.read_entries(f, 10) == [Entry(k, "user:b")]

    def test_own_only(self, store):
        f = feed()
        store.timelines.add_entries(f, [Entry(key(1), None), Entry(key(2), "user:x"), Entry(key(3), None)])
        assert [e.key for e in store.timelines.read_entries(f, 10, own_only=True)] == [key(3), key(1)]
        assert [e.key for e in store.timelines.read_entries(f, 1, own_only=True)] == [key(3)]

    def test_fanout_writes_and_reverse_index(self, store):
        k = key(1)
        followers = [feed("timeline") for _ in range(5)]
        src = feed()
        store.timelines.add_entries(src, [Entry(k, None)])
        store.timelines.add_to_feeds(k, followers, src)
        assert store.timelines.has_entry(followers[0], k) and not store.timelines.has_entry(feed(), k)
        assert sorted(store.timelines.feeds_of_activity(k)) == sorted([(src, None)] + [(f, src) for f in followers])
        store.timelines.remove_from_feeds(k, followers[:2])
        assert len(store.timelines.feeds_of_activity(k)) == 4
        store.timelines.add_to_feeds(k, followers[2:], src)  # redelivery is idempotent
        assert len(store.timelines.feeds_of_activity(k)) == 4

    def test_remove_entries_and_by_origin(self, store):
        f = feed("timeline")
        store.timelines.add_entries(f, [Entry(key(1), "user:a"), Entry(key(2), "user:b"), Entry(key(3), "user:a"),
                              Entry(key(4), None)])
        store.timelines.remove_entries(f, [key(4), key(99)])
        assert store.timelines.remove_by_origin(f, "user:a") == 2
        assert store.timelines.read_entries(f, 10) == [Entry(key(2), "user:b")]
        assert store.timelines.remove_by_origin(f, "user:zzz") == 0

    def test_read_page_joins_bodies_and_skips_missing(self, store):
        f = feed()
        store.activities.put_activities([rec(key(1)), rec(key(3))])
        store.timelines.add_entries(f, [Entry(key(1), None), Entry(key(2), None), Entry(key(3), "user:o")])
        page = store.timelines.read_page(f, 10)
        assert [(k, o) for k, _, o in page] == [(key(3), "user:o"), (key(1), None)]
        assert page[0][1] == rec(key(3)).body
        assert [k for k, _, _ in store.timelines.read_page(f, 10, rng=Range(lt=key(3)))] == [key(1)]

    def test_group_entries(self, store):
        f = feed("notification")
        store.timelines.add_entries(f, [Entry(key(1), None, "like_2020-01-01", "u1", "like"),
                              Entry(key(2), "user:x", "post_2020-01-02", "u2", "post"), Entry(key(3), None)])
        assert store.timelines.read_entries(f, 10) == [Entry(key(3), None), Entry(key(2), "user:x", "post_2020-01-02", "u2", "post"),
                                             Entry(key(1), None, "like_2020-01-01", "u1", "like")]
        store.timelines.add_entries(f, [Entry(key(1), None, "like_2020-01-01", "u9", "like")])  # upsert
        assert store.timelines.read_entries(f, 1, rng=Range(lt=key(2)))[0].actor == "u9"

    def test_read_window_and_bodies(self, store):
        f = feed("aggregated")
        store.timelines.add_entries(f, [Entry(key(t), "user:o" if t % 2 else None, f"g{t % 3}", f"u{t}", "like")
                              for t in range(6)])
        keys, origins, groups, actors, verbs = store.timelines.read_window(f, 4)
        assert list(keys) == [key(5), key(4), key(3), key(2)]
        assert list(origins) == ["user:o", None, "user:o", None]
        assert list(groups) == ["g2", "g1", "g0", "g2"] and list(actors) == ["u5", "u4", "u3", "u2"]
        assert list(verbs) == ["like"] * 4
        assert [list(c) for c in store.timelines.read_window(feed(), 4)] == [[]] * 5
        store.activities.put_activities([rec(key(1)), rec(key(2))])
        assert store.activities.get_bodies([key(1), key(2), key(9)]) == {key(1): rec(key(1)).body, key(2): rec(key(2)).body}

    def test_read_page_with_match(self, store):
        f = feed()
        recs = [rec(key(t), actor=f"u{t % 3}", verb="like" if t % 2 else "post") for t in range(40)]
        store.activities.put_activities(recs)
        store.timelines.add_entries(f, [Entry(r.key, None) for r in recs])
        desc = recs[::-1]

        def got(match, limit=100, offset=0, rng=Range()):
            return [k for k, _, _ in store.timelines.read_page(f, limit, offset, rng, match)]

        likes = [r.key for r in desc if r.verb == "like"]
        assert got(Match(verb="like")) == likes
        assert got(Match(verb="like"), limit=3, offset=2) == likes[2:5]
        assert got(Match(verb="like"), limit=4, rng=Range(lt=likes[3])) == likes[4:8]
        assert got(Match(actor="u1")) == [r.key for r in desc if r.actor == "u1"]
        assert got(Match(actor="u1", verb="post")) == [r.key for r in desc if r.actor == "u1" and r.verb == "post"]
        assert got(Match(verb="nothing")) == []

    def test_durable_across_reopen(self, store, reopen):
        f = feed()
        store.activities.put_activities([rec(key(1))])
        store.timelines.add_entries(f, [Entry(key(1), None)])
        store.follows.add_follow(feed("timeline"), f, 1)
        again = reopen(store)
        assert [e.key for e in again.timelines.read_entries(f, 5)] == [key(1)]
        assert again.follows.count_follows(f) == 1

    # ---- body copies follow the activity store (issue 14) -----------------------------------------
    def test_refresh_copies_after_an_update(self, store):
        """Whether a backend keeps copies of bodies in its timelines or joins at read time, every
        feed shows the new body once ``refresh_copies`` has walked the reverse index in chunks."""
        k, src = key(1), feed()
        followers = [feed("timeline") for _ in range(5)]
        store.activities.put_activities([rec(k, "f:1", src)])
        store.timelines.add_entries(src, [Entry(k, None)])
        store.timelines.add_to_feeds(k, followers, src)
        refs, rank = b"\x00\x01\x00\x05", b"r" * 16  # opaque to the store
        store.activities.put_activities([ActivityRecord(k, b'{"v":2}', "f:1", src, refs=refs, rank=rank)])
        rewritten, after, calls = 0, None, 0
        while True:
            n, after = store.timelines.refresh_copies(k, after, 2)
            rewritten, calls = rewritten + n, calls + 1
            assert n <= 2 and calls <= 4
            if after is None:
                break
        assert rewritten in (0, 6)  # no copies (joined at read time), or all six
        for f in [src, *followers]:
            assert store.timelines.read_page(f, 10) == [(k, b'{"v":2}', None if f == src else src)]
            assert store.timelines.page_bodies(f, [k]) == {k: b'{"v":2}'}
            # what enriched and ranked reads take beside the body follows it too
            assert store.timelines.read_page(f, 10, with_refs=True) == [(k, b'{"v":2}', None if f == src else src, refs)]
            assert [list(c) for c in store.timelines.read_ranked_window(f, 10)] == [
                [k], [None if f == src else src], [rank]]
        assert store.timelines.refresh_copies(key(99), None, 2) == (0, None)  # unknown activity

    def test_place_entries_writes_each_feeds_own_entry(self, store):
        k, src = key(4), feed()
        store.activities.put_activities([rec(k)])
        a, n = feed("aggregated"), feed("notification")
        store.timelines.place_entries(k, [(a, Entry(k, src, "g_a", "u1", "like")), (n, Entry(k, src, "g_n", "u1", "like"))])
        assert store.timelines.read_entries(a, 10) == [Entry(k, src, "g_a", "u1", "like")]
        assert store.timelines.read_entries(n, 10) == [Entry(k, src, "g_n", "u1", "like")]
        assert sorted(store.timelines.feeds_of_activity(k)) == sorted([(a, src), (n, src)])
        store.timelines.place_entries(k, [(a, Entry(k, src, "g_a", "u1", "like"))])  # redelivery
        assert len(store.timelines.read_entries(a, 10)) == 1 and store.timelines.page_bodies(a, [k]) == {k: rec(k).body}
        store.timelines.place_entries(k, [])

    def test_page_bodies_skip_gone_activities(self, store):
        f = feed("aggregated")
        store.activities.put_activities([rec(key(1)), rec(key(2))])
        store.timelines.add_entries(f, [Entry(key(t), None, "g", "a", "v") for t in (1, 2, 3)])
        assert store.timelines.page_bodies(f, [key(1), key(3), key(2)]) == {key(1): rec(key(1)).body,
                                                                        key(2): rec(key(2)).body}
        assert store.timelines.page_bodies(f, []) == {}

    def test_read_ranked_window(self, store):
        """Newest first, at most ``limit``, each entry's origin and its activity's ranking blob;
        entries whose activity is gone are left out; no blob reads as None."""
        f = feed("ranked")
        keys = [key(t) for t in range(6)]
        blobs = {k: bytes([i]) * 16 for i, k in enumerate(keys)}
        store.activities.put_activities([ActivityRecord(k, b'{"id":"x"}', rank=blobs[k]) for k in keys[1:5]]
                                        + [ActivityRecord(keys[5], b'{"id":"y"}')])
        store.timelines.add_entries(f, [Entry(k, "user:a" if i % 2 else None) for i, k in enumerate(keys)])
        got_keys, origins, got_blobs = store.timelines.read_ranked_window(f, 10)
        # keys[0] has no stored activity (a removal propagating): left out
        assert list(got_keys) == keys[:0:-1]
        assert list(origins) == ["user:a", None, "user:a", None, "user:a"]
        assert list(got_blobs) == [None, blobs[keys[4]], blobs[keys[3]], blobs[keys[2]], blobs[keys[1]]]
        k3, _, b3 = store.timelines.read_ranked_window(f, 3)
        assert list(k3) == keys[:2:-1] and list(b3) == [None, blobs[keys[4]], blobs[keys[3]]]
        assert [list(c) for c in store.timelines.read_ranked_window(feed("ranked"), 10)] == [[], [], []]

    def test_ranked_window_follows_activity_updates(self, store):
        f = feed("ranked")
        k = key(1)
        store.activities.put_activities([ActivityRecord(k, b'{"likes":1}', rank=b"a" * 16)])
        store.timelines.add_to_feeds(k, [f], "user:x")
        store.activities.put_activities([ActivityRecord(k, b'{"likes":2}', rank=b"b" * 16)])
        # as the activities service does after every change (a backend may copy the blob)
        store.timelines.refresh_copies(k)
        assert [list(c) for c in store.timelines.read_ranked_window(f, 10)] == [[k], ["user:x"], [b"b" * 16]]


class TimelineRefsContract:
    def test_read_page_with_refs(self, store):
        from feedline.activities.store import ActivityRecord
        from feedline.models.cursors import Match

        from .support import feed, key

        fid = feed()
        k1, k2 = key(1), key(2)
        store.activities.put_activities([ActivityRecord(k1, b'{"n":1}', actor="a", verb="v", refs=b"\x01\x00\x02\x00"),
                                         ActivityRecord(k2, b'{"n":2}', actor="b", verb="v")])
        store.timelines.add_to_feeds(k1, [fid], None)
        store.timelines.add_to_feeds(k2, [fid], "user:x")
        assert store.timelines.read_page(fid, 10, with_refs=True) == [
            (k2, b'{"n":2}', "user:x", None), (k1, b'{"n":1}', None, b"\x01\x00\x02\x00")]
        assert store.timelines.read_page(fid, 10) == [(k2, b'{"n":2}', "user:x"), (k1, b'{"n":1}', None)]
        assert store.timelines.read_page(fid, 10, match=Match(None, "a"), with_refs=True) == [
            (k1, b'{"n":1}', None, b"\x01\x00\x02\x00")]
