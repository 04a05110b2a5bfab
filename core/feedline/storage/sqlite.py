"""The embedded default backend: one SQLite file, stdlib only, durable across restarts.

One connection guarded by a lock: the local stack serves requests from threads and SQLite
serialises writers anyway. WAL mode so reads do not block on the fan-out's writes. Every statement
uses parameters (never string-built SQL with data in it).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

from feedline.errors import StorageUnavailable
from feedline.storage.base import EVERYTHING, ActivityRecord, Entry, Follow, Match, Range, Storage

SCHEMA = """
CREATE TABLE IF NOT EXISTS activities (
    key BLOB PRIMARY KEY,
    body BLOB NOT NULL,
    foreign_id TEXT NOT NULL DEFAULT '',
    feed TEXT,
    actor TEXT NOT NULL DEFAULT '',
    verb TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS activities_foreign_id ON activities (foreign_id) WHERE foreign_id != '';
CREATE TABLE IF NOT EXISTS timeline (
    feed TEXT NOT NULL,
    key BLOB NOT NULL,
    origin TEXT,
    grp TEXT,
    actor TEXT,
    verb TEXT,
    PRIMARY KEY (feed, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS marks (
    feed TEXT PRIMARY KEY,
    state BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS timeline_by_key ON timeline (key);
CREATE TABLE IF NOT EXISTS follows (
    source TEXT NOT NULL,
    target TEXT NOT NULL,
    created_us INTEGER NOT NULL,
    PRIMARY KEY (source, target)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS follows_by_target ON follows (target, source);
"""


class SQLiteStorage(Storage):
    def __init__(self, path: str | Path = ":memory:"):
        self.path = str(path)
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.RLock()

    # Connect on first use, not in __init__: building a runtime must not touch the disk.
    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            with self._lock:
                if self._conn is None:
                    if self.path != ":memory:":
                        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
                    try:
                        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
                    except sqlite3.Error as exc:
                        raise StorageUnavailable(str(exc)) from exc
                    # busy_timeout first: connections opened at once (the local runner's execution
                    # environments) wait for each other's WAL switch and schema instead of failing
                    conn.execute("PRAGMA busy_timeout=5000")
                    conn.execute("PRAGMA journal_mode=WAL")
                    conn.execute("PRAGMA synchronous=NORMAL")
                    conn.executescript(SCHEMA)
                    self._upgrade(conn)
                    self._conn = conn
        return self._conn

    @staticmethod
    def _upgrade(conn: sqlite3.Connection) -> None:
        """Bring files made by older versions up to SCHEMA (additive changes only)."""
        have = {row[1] for row in conn.execute("PRAGMA table_info(activities)")}
        for col in ("actor", "verb"):
            if col not in have:
                conn.execute(f"ALTER TABLE activities ADD COLUMN {col} TEXT NOT NULL DEFAULT ''")
        have = {row[1] for row in conn.execute("PRAGMA table_info(timeline)")}
        for col in ("grp", "actor", "verb"):
            if col not in have:
                conn.execute(f"ALTER TABLE timeline ADD COLUMN {col} TEXT")

    def _write(self, sql: str, rows: Iterable[tuple]) -> None:
        with self._lock:
            conn = self.conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany(sql, rows)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self._lock:
            return self.conn.execute(sql, params).fetchall()

    # ---- activities -------------------------------------------------------------------------
    def put_activities(self, records: Sequence[ActivityRecord]) -> None:
        self._write(
            "INSERT INTO activities (key, body, foreign_id, feed, actor, verb) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET body = excluded.body, foreign_id = excluded.foreign_id, "
            "feed = COALESCE(excluded.feed, activities.feed), actor = excluded.actor, verb = excluded.verb",
            [(r.key, r.body, r.foreign_id, r.feed, r.actor, r.verb) for r in records],
        )

    def _activities_in(self, columns: str, keys: Sequence[bytes]) -> list[tuple]:
        """Rows of ``activities`` for distinct ``keys``, in chunks under SQLite's variable limit."""
        rows: list[tuple] = []
        keys = list(dict.fromkeys(keys))
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            marks = ",".join("?" * len(chunk))
            rows += self._query(f"SELECT {columns} FROM activities WHERE key IN ({marks})", tuple(chunk))
        return rows

    def get_activities(self, keys: Sequence[bytes]) -> dict[bytes, ActivityRecord]:
        return {r[0]: ActivityRecord(*r) for r in self._activities_in("key, body, foreign_id, feed, actor, verb", keys)}

    def get_bodies(self, keys: Sequence[bytes]) -> dict[bytes, bytes]:
        return dict(self._activities_in("key, body", keys))

    def delete_activities(self, keys: Sequence[bytes]) -> None:
        self._write("DELETE FROM activities WHERE key = ?", [(k,) for k in keys])

    def keys_by_foreign_id(self, foreign_id: str) -> list[bytes]:
        return [r[0] for r in self._query(
            "SELECT key FROM activities WHERE foreign_id = ? AND foreign_id != '' ORDER BY key DESC",
            (foreign_id,))]

    # ---- timelines --------------------------------------------------------------------------
    def add_entries(self, feed: str, entries: Sequence[Entry]) -> None:
        self._write(
            "INSERT INTO timeline (feed, key, origin, grp, actor, verb) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (feed, key) DO UPDATE SET origin = excluded.origin, grp = excluded.grp, "
            "actor = excluded.actor, verb = excluded.verb",
            [(feed, e.key, e.origin, e.group, e.actor, e.verb) for e in entries],
        )

    def add_to_feeds(self, key: bytes, feeds: Sequence[str], origin: str | None) -> None:
        self._write(
            "INSERT INTO timeline (feed, key, origin) VALUES (?, ?, ?) "
            "ON CONFLICT (feed, key) DO UPDATE SET origin = excluded.origin",
            [(f, key, origin) for f in feeds],
        )

    def remove_entries(self, feed: str, keys: Sequence[bytes]) -> None:
        self._write("DELETE FROM timeline WHERE feed = ? AND key = ?", [(feed, k) for k in keys])

    def remove_from_feeds(self, key: bytes, feeds: Sequence[str]) -> None:
        self._write("DELETE FROM timeline WHERE feed = ? AND key = ?", [(f, key) for f in feeds])

    @staticmethod
    def _range_sql(rng: Range) -> tuple[str, list]:
        sql, params = "", []
        upper, inclusive = rng.upper()
        if upper is not None:
            sql += " AND key <= ?" if inclusive else " AND key < ?"
            params.append(upper)
        lower, inclusive = rng.lower()
        if lower is not None:
            sql += " AND key >= ?" if inclusive else " AND key > ?"
            params.append(lower)
        return sql, params

    def read_entries(self, feed: str, limit: int, offset: int = 0, rng: Range = EVERYTHING,
                     own_only: bool = False) -> list[Entry]:
        where, params = self._range_sql(rng)
        if own_only:
            where += " AND origin IS NULL"
        rows = self._query(
            f"SELECT key, origin, grp, actor, verb FROM timeline WHERE feed = ?{where} "
            "ORDER BY key DESC LIMIT ? OFFSET ?",
            (feed, *params, limit, offset),
        )
        return [Entry(*r) for r in rows]

    def read_window(self, feed: str, limit: int) -> tuple[Sequence, Sequence, Sequence, Sequence, Sequence]:
        rows = self._query("SELECT key, origin, grp, actor, verb FROM timeline WHERE feed = ? "
                           "ORDER BY key DESC LIMIT ?", (feed, limit))
        if not rows:
            return [], [], [], [], []
        return tuple(list(col) for col in zip(*rows))  # type: ignore[return-value]

    def read_page(self, feed: str, limit: int, offset: int = 0, rng: Range = EVERYTHING,
                  match: Match | None = None) -> list[tuple[bytes, bytes, str | None]]:
        # One join instead of entries + a second lookup: SQLite does it in the same B-tree walk,
        # and filters on the stored actor/verb columns (no scan bound needed here).
        where, params = self._range_sql(rng)
        where = where.replace("key", "t.key")
        if match is not None and match.verb is not None:
            where += " AND a.verb = ?"
            params.append(match.verb)
        if match is not None and match.actor is not None:
            where += " AND a.actor = ?"
            params.append(match.actor)
        return self._query(
            "SELECT t.key, a.body, t.origin FROM timeline t JOIN activities a ON a.key = t.key "
            f"WHERE t.feed = ?{where} ORDER BY t.key DESC LIMIT ? OFFSET ?",
            (feed, *params, limit, offset),
        )

    def has_entry(self, feed: str, key: bytes) -> bool:
        return bool(self._query("SELECT 1 FROM timeline WHERE feed = ? AND key = ?", (feed, key)))

    def feeds_of_activity(self, key: bytes) -> list[tuple[str, str | None]]:
        return self._query("SELECT feed, origin FROM timeline WHERE key = ? ORDER BY feed", (key,))

    def remove_by_origin(self, feed: str, origin: str) -> int:
        with self._lock:
            cur = self.conn.execute("DELETE FROM timeline WHERE feed = ? AND origin = ?", (feed, origin))
            return cur.rowcount

    # ---- notification marks -----------------------------------------------------------------
    def get_marks(self, feed: str) -> bytes | None:
        rows = self._query("SELECT state FROM marks WHERE feed = ?", (feed,))
        return rows[0][0] if rows else None

    def put_marks(self, feed: str, state: bytes) -> None:
        self._write("INSERT INTO marks (feed, state) VALUES (?, ?) "
                    "ON CONFLICT (feed) DO UPDATE SET state = excluded.state", [(feed, state)])

    # ---- follows ----------------------------------------------------------------------------
    def add_follow(self, source: str, target: str, created_us: int) -> bool:
        with self._lock:
            cur = self.conn.execute(
                "INSERT INTO follows (source, target, created_us) VALUES (?, ?, ?) "
                "ON CONFLICT (source, target) DO NOTHING", (source, target, created_us))
            return cur.rowcount == 1

    def remove_follow(self, source: str, target: str) -> bool:
        with self._lock:
            cur = self.conn.execute("DELETE FROM follows WHERE source = ? AND target = ?", (source, target))
            return cur.rowcount == 1

    def _list(self, col: str, feed: str, other: str, limit: int, offset: int, only: Iterable[str]) -> list[Follow]:
        only = list(only)
        sql = f"SELECT source, target, created_us FROM follows WHERE {col} = ?"
        params: list = [feed]
        if only:
            sql += f" AND {other} IN ({','.join('?' * len(only))})"
            params += only
        sql += f" ORDER BY created_us DESC, {other} DESC LIMIT ? OFFSET ?"
        return [Follow(*r) for r in self._query(sql, (*params, limit, offset))]

    def list_followers(self, feed: str, limit: int, offset: int = 0, only: Iterable[str] = ()) -> list[Follow]:
        return self._list("target", feed, "source", limit, offset, only)

    def list_following(self, feed: str, limit: int, offset: int = 0, only: Iterable[str] = ()) -> list[Follow]:
        return self._list("source", feed, "target", limit, offset, only)

    def follower_page(self, feed: str, after: str | None, limit: int) -> list[str]:
        return [r[0] for r in self._query(
            "SELECT source FROM follows WHERE target = ? AND source > ? ORDER BY source LIMIT ?",
            (feed, after or "", limit))]

    def count_follows(self, feed: str, slugs: Sequence[str] = (), followers: bool = True) -> int:
        col, other = ("target", "source") if followers else ("source", "target")
        sql = f"SELECT COUNT(*) FROM follows WHERE {col} = ?"
        params: list = [feed]
        if slugs:
            sql += " AND (" + " OR ".join(f"{other} LIKE ?" for _ in slugs) + ")"
            params += [s.replace("_", r"\_") + ":%" for s in slugs]
            sql = sql.replace("LIKE ?", "LIKE ? ESCAPE '\\'")
        return self._query(sql, tuple(params))[0][0]

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
