"""SQLite: timelines (``feeds.store.TimelineStore``) and notification marks (``MarkStore``)."""

from __future__ import annotations

from collections.abc import Sequence

from feedline.feeds.store import Entry, MarkStore, PageRow, RankedWindow, TimelineStore, Window
from feedline.models.cursors import EVERYTHING, Match, Range
from feedline.storage.sqlite.activities import SQLiteActivities
from feedline.storage.sqlite.db import SQLiteDB


def _range_sql(rng: Range, column: str = "key") -> tuple[str, list]:
    sql, params = "", []
    upper, inclusive = rng.upper()
    if upper is not None:
        sql += f" AND {column} <= ?" if inclusive else f" AND {column} < ?"
        params.append(upper)
    lower, inclusive = rng.lower()
    if lower is not None:
        sql += f" AND {column} >= ?" if inclusive else f" AND {column} > ?"
        params.append(lower)
    return sql, params


class SQLiteTimelines(TimelineStore):
    def __init__(self, db: SQLiteDB, activities: SQLiteActivities):
        super().__init__(activities)
        self.db = db

    def add_entries(self, feed: str, entries: Sequence[Entry]) -> None:
        self.db.write(
            "INSERT INTO timeline (feed, key, origin, grp, actor, verb) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (feed, key) DO UPDATE SET origin = excluded.origin, grp = excluded.grp, "
            "actor = excluded.actor, verb = excluded.verb",
            [(feed, e.key, e.origin, e.group, e.actor, e.verb) for e in entries],
        )

    def add_to_feeds(self, key: bytes, feeds: Sequence[str], origin: str | None) -> None:
        self.db.write(
            "INSERT INTO timeline (feed, key, origin) VALUES (?, ?, ?) "
            "ON CONFLICT (feed, key) DO UPDATE SET origin = excluded.origin",
            [(f, key, origin) for f in feeds],
        )

    def remove_entries(self, feed: str, keys: Sequence[bytes]) -> None:
        self.db.write("DELETE FROM timeline WHERE feed = ? AND key = ?", [(feed, k) for k in keys])

    def remove_from_feeds(self, key: bytes, feeds: Sequence[str]) -> None:
        self.db.write("DELETE FROM timeline WHERE feed = ? AND key = ?", [(f, key) for f in feeds])

    def read_entries(self, feed: str, limit: int, offset: int = 0, rng: Range = EVERYTHING,
                     own_only: bool = False) -> list[Entry]:
        where, params = _range_sql(rng)
        if own_only:
            where += " AND origin IS NULL"
        rows = self.db.query(
            f"SELECT key, origin, grp, actor, verb FROM timeline WHERE feed = ?{where} "
            "ORDER BY key DESC LIMIT ? OFFSET ?",
            (feed, *params, limit, offset),
        )
        return [Entry(*r) for r in rows]

    def read_window(self, feed: str, limit: int) -> Window:
        rows = self.db.query("SELECT key, origin, grp, actor, verb FROM timeline WHERE feed = ? "
                             "ORDER BY key DESC LIMIT ?", (feed, limit))
        if not rows:
            return [], [], [], [], []
        return tuple(list(col) for col in zip(*rows))  # type: ignore[return-value]

    def read_ranked_window(self, feed: str, limit: int) -> RankedWindow:
        # one join in the timeline's key order: the blobs ride along, the bodies stay on disk
        # (activities_rank covers the lookup: small index entries instead of rows with bodies)
        rows = self.db.query("SELECT t.key, t.origin, a.rank FROM timeline t "
                             "JOIN activities a INDEXED BY activities_rank ON a.key = t.key "
                             "WHERE t.feed = ? ORDER BY t.key DESC LIMIT ?", (feed, limit))
        if not rows:
            return [], [], []
        return tuple(list(col) for col in zip(*rows))  # type: ignore[return-value]

    def read_page(self, feed: str, limit: int, offset: int = 0, rng: Range = EVERYTHING,
                  match: Match | None = None, with_refs: bool = False) -> list[PageRow]:
        # One join instead of entries + a second lookup: SQLite does it in the same B-tree walk,
        # and filters on the stored actor/verb columns (no scan bound needed here).
        where, params = _range_sql(rng, "t.key")
        if match is not None and match.verb is not None:
            where += " AND a.verb = ?"
            params.append(match.verb)
        if match is not None and match.actor is not None:
            where += " AND a.actor = ?"
            params.append(match.actor)
        return self.db.query(
            f"SELECT t.key, a.body, t.origin{', a.refs' if with_refs else ''} FROM timeline t "
            "JOIN activities a ON a.key = t.key "
            f"WHERE t.feed = ?{where} ORDER BY t.key DESC LIMIT ? OFFSET ?",
            (feed, *params, limit, offset),
        )

    def has_entry(self, feed: str, key: bytes) -> bool:
        return bool(self.db.query("SELECT 1 FROM timeline WHERE feed = ? AND key = ?", (feed, key)))

    def feeds_of_activity(self, key: bytes) -> list[tuple[str, str | None]]:
        return self.db.query("SELECT feed, origin FROM timeline WHERE key = ? ORDER BY feed", (key,))

    def remove_by_origin(self, feed: str, origin: str) -> int:
        return self.db.execute("DELETE FROM timeline WHERE feed = ? AND origin = ?", (feed, origin))


class SQLiteMarks(MarkStore):
    def __init__(self, db: SQLiteDB):
        self.db = db

    def get_marks(self, feed: str) -> bytes | None:
        rows = self.db.query("SELECT state FROM marks WHERE feed = ?", (feed,))
        return rows[0][0] if rows else None

    def put_marks(self, feed: str, state: bytes) -> None:
        self.db.write("INSERT INTO marks (feed, state) VALUES (?, ?) "
                      "ON CONFLICT (feed) DO UPDATE SET state = excluded.state", [(feed, state)])
