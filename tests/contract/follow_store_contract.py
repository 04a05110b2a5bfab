"""The ``follows.store.FollowStore`` contract, written once; bound to every backend in test_sqlite.py and
test_cassandra.py (a ``store`` fixture yields a fresh backend's ``Stores``)."""

from __future__ import annotations

from .support import feed


class FollowStoreContract:
    def test_follow_unfollow(self, store):
        a, b = feed("timeline"), feed()
        assert store.follows.add_follow(a, b, 10) is True
        assert store.follows.add_follow(a, b, 20) is False
        [f] = store.follows.list_following(a, 10)
        assert (f.source, f.target, f.created_us) == (a, b, 10)
        assert store.follows.remove_follow(a, b) is True
        assert store.follows.remove_follow(a, b) is False
        assert store.follows.list_followers(b, 10) == []

    def test_listings_newest_first_with_filter_and_paging(self, store):
        target = feed()
        sources = [feed("timeline") for _ in range(6)]
        for i, s in enumerate(sources):
            store.follows.add_follow(s, target, 100 + i)
        got = [f.source for f in store.follows.list_followers(target, 10)]
        assert got == sources[::-1]
        assert [f.source for f in store.follows.list_followers(target, 2, offset=1)] == sources[::-1][1:3]
        assert [f.source for f in store.follows.list_followers(target, 10, only=[sources[1], sources[4], "x:y"])] == [
            sources[4], sources[1]]
        assert [f.target for f in store.follows.list_following(sources[0], 10, only=[target])] == [target]
        assert store.follows.list_following(sources[0], 10, only=["user:none"]) == []

    def test_follower_pages_cover_everyone_once(self, store):
        target = feed()
        sources = sorted(feed("timeline") for _ in range(23))
        for s in sources:
            store.follows.add_follow(s, target, 1)
        seen, after = [], None
        while True:
            page = store.follows.follower_page(target, after, 5)
            if not page:
                break
            seen += page
            after = page[-1]
        assert seen == sources

    def test_count_follows(self, store):
        target = feed()
        for s in [feed("timeline"), feed("timeline"), feed("flat")]:
            store.follows.add_follow(s, target, 1)
        assert store.follows.count_follows(target) == 3
        assert store.follows.count_follows(target, ["timeline"]) == 2
        assert store.follows.count_follows(target, ["flat", "timeline"]) == 3
        assert store.follows.count_follows(target, ["user"]) == 0
        assert store.follows.count_follows(target, followers=False) == 0

    def test_count_follows_by_many_slugs(self, store):
        """Issue 15: 1,000 slugs were 1,000 OR-ed LIKEs on SQLite, past its expression depth
        limit (a 500). Slugs match exactly (case and ``_`` included) on every backend."""
        target = feed()
        for s in [feed("timeline"), feed("time_line"), feed("flat")]:
            store.follows.add_follow(s, target, 1)
        many = [f"g{i}" for i in range(997)] + ["timeline", "flat", "timeline"]
        assert store.follows.count_follows(target, many) == 2
        assert store.follows.count_follows(target, ["TIMELINE", "time%", "timexline"]) == 0
        assert store.follows.count_follows(target, ["time_line"]) == 1
