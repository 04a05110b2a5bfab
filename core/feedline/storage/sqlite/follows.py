"""SQLite: follows (``follows.store.FollowStore``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from feedline.follows.store import Follow, FollowStore
from feedline.storage.sqlite.db import SQLiteDB


class SQLiteFollows(FollowStore):
    def __init__(self, db: SQLiteDB):
        self.db = db

    def add_follow(self, source: str, target: str, created_us: int) -> bool:
        return self.db.execute(
            "INSERT INTO follows (source, target, created_us) VALUES (?, ?, ?) "
            "ON CONFLICT (source, target) DO NOTHING", (source, target, created_us)) == 1

    def remove_follow(self, source: str, target: str) -> bool:
        return self.db.execute("DELETE FROM follows WHERE source = ? AND target = ?", (source, target)) == 1

    def _list(self, col: str, feed: str, other: str, limit: int, offset: int, only: Iterable[str]) -> list[Follow]:
        only = list(only)
        sql = f"SELECT source, target, created_us FROM follows WHERE {col} = ?"
        params: list = [feed]
        if only:
            sql += f" AND {other} IN ({','.join('?' * len(only))})"
            params += only
        sql += f" ORDER BY created_us DESC, {other} DESC LIMIT ? OFFSET ?"
        return [Follow(*r) for r in self.db.query(sql, (*params, limit, offset))]

    def list_followers(self, feed: str, limit: int, offset: int = 0, only: Iterable[str] = ()) -> list[Follow]:
        return self._list("target", feed, "source", limit, offset, only)

    def list_following(self, feed: str, limit: int, offset: int = 0, only: Iterable[str] = ()) -> list[Follow]:
        return self._list("source", feed, "target", limit, offset, only)

    def follower_page(self, feed: str, after: str | None, limit: int) -> list[str]:
        return [r[0] for r in self.db.query(
            "SELECT source FROM follows WHERE target = ? AND source > ? ORDER BY source LIMIT ?",
            (feed, after or "", limit))]

    def count_follows(self, feed: str, slugs: Sequence[str] = (), followers: bool = True) -> int:
        col, other = ("target", "source") if followers else ("source", "target")
        sql = f"SELECT COUNT(*) FROM follows WHERE {col} = ?"
        params: list = [feed]
        if slugs:
            # one IN list, not an OR chain of LIKEs: SQLite parses OR chains as nested expressions
            # and fails past its expression depth limit (1,000 slugs => 500); IN is also exact
            # and case-sensitive, like the Cassandra backend's range per slug
            slugs = list(dict.fromkeys(slugs))
            sql += f" AND substr({other}, 1, instr({other}, ':') - 1) IN ({','.join('?' * len(slugs))})"
            params += slugs
        return self.db.query(sql, tuple(params))[0][0]
