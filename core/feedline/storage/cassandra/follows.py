"""Cassandra: follows (``follows.store.FollowStore``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from feedline.follows.store import Follow, FollowStore
from feedline.storage.cassandra.base import COUNT_TIMEOUT_S, INT32_MAX, SCAN_PAGE, CassandraRole, chunks


class CassandraFollows(CassandraRole, FollowStore):
    def add_follow(self, source: str, target: str, created_us: int) -> bool:
        # Read-then-write, not a lightweight transaction: two racing follows of one pair may both
        # return True; the edges keep one created_us and listings skip the other (checked on read).
        if self.session.rows("by_source_get", (source, target)):
            return False
        self.session.concurrent([("following_put", (source, created_us, target)),
                                 ("followers_put", (target, created_us, source))])
        self.session.concurrent([("by_source_put", (source, target, created_us)),
                                 ("by_target_put", (target, source, created_us))])
        return True

    def remove_follow(self, source: str, target: str) -> bool:
        a, b = self.session.concurrent([("by_source_get", (source, target)),
                                        ("by_target_get", (target, source))])
        created = {r[0] for r in [*a.current_rows, *b.current_rows]}
        if not created:
            return False
        self.session.concurrent([("by_source_delete", (source, target)),
                                 ("by_target_delete", (target, source))])
        self.session.concurrent(
            [("following_delete", (source, c, target)) for c in created]
            + [("followers_delete", (target, c, source)) for c in created])
        return True

    def list_followers(self, feed: str, limit: int, offset: int = 0,
                       only: Iterable[str] = ()) -> list[Follow]:
        found = self._list("followers_scan", "by_target_in", feed, limit, offset, only)
        return [Follow(other, feed, c) for c, other in found]

    def list_following(self, feed: str, limit: int, offset: int = 0,
                       only: Iterable[str] = ()) -> list[Follow]:
        found = self._list("following_scan", "by_source_in", feed, limit, offset, only)
        return [Follow(feed, other, c) for c, other in found]

    def _list(self, scan: str, edges: str, feed: str, limit: int, offset: int,
              only: Iterable[str]) -> list[tuple[int, str]]:
        """``(created_us, other side)`` newest first, checked against the edge table."""
        if limit <= 0:
            return []
        only = list(dict.fromkeys(only))
        if only:
            rows = [(c, other) for chunk in chunks(only)
                    for other, c in self.session.rows(edges, (feed, chunk))]
            rows.sort(reverse=True)
            return rows[offset:offset + limit]
        out: list[tuple[int, str]] = []
        skip = offset
        fetch = min(max(offset + limit, 16), SCAN_PAGE * 5)
        for page in self.session.pages(scan, (feed,), fetch):
            for chunk in chunks(page):
                current = dict(self.session.rows(edges, (feed, [other for _, other in chunk])))
                for c, other in chunk:
                    if current.get(other) != c:
                        continue  # a follow removed (or re-made at another time) half-way
                    if skip:
                        skip -= 1
                        continue
                    out.append((c, other))
                    if len(out) == limit:
                        return out
        return out

    def follower_page(self, feed: str, after: str | None, limit: int) -> list[str]:
        if limit <= 0:
            return []
        return [r[0] for r in self.session.rows("follower_page", (feed, after or "", min(limit, INT32_MAX)))]

    def count_follows(self, feed: str, slugs: Sequence[str] = (), followers: bool = True) -> int:
        name = "count_followers" if followers else "count_following"
        if not slugs:
            return int(self.session.rows(name, (feed,), timeout=COUNT_TIMEOUT_S)[0][0])
        return sum(int(self.session.rows(f"{name}_slug", (feed, f"{s}:", f"{s};"),
                                         timeout=COUNT_TIMEOUT_S)[0][0])
                   for s in dict.fromkeys(slugs))

