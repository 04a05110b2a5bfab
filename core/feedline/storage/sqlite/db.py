"""The SQLite connection every role store of the embedded backend shares, and its migrations.

One connection guarded by a lock: SQLite serialises writers anyway, and WAL mode keeps reads from
blocking on the fan-out's writes. Every statement uses parameters (never SQL built with data).

Migrations are the package files ``storage/sqlite/migrations/NNNN_name.sql``, applied in order on
first use; ``PRAGMA user_version`` records the last one applied, inside the migration's own
transaction, so an interrupted migration is applied again whole and two processes opening one new
file apply each migration once (``BEGIN IMMEDIATE`` takes the write lock before re-checking).
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path

from feedline.errors import StorageUnavailable

_FILE = re.compile(r"(\d{4})_([a-z0-9_]+)\.sql")
#: values per ``IN (...)``: under SQLite's default limit of bound variables
IN_CHUNK = 500


def migrations() -> list[tuple[int, str, str]]:
    """``(version, name, sql)`` of the packaged migrations, in order."""
    out = []
    for item in resources.files("feedline.storage.sqlite").joinpath("migrations").iterdir():
        found = _FILE.fullmatch(item.name)
        if found is not None:
            out.append((int(found.group(1)), found.group(2), item.read_text()))
    out.sort()
    versions = [v for v, _, _ in out]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"two SQLite migrations share a version: {versions}")
    return out


def migrate(conn: sqlite3.Connection) -> int:
    """Apply the migrations ``conn``'s file lacks; returns how many were applied."""
    applied = 0
    for version, _name, sql in migrations():
        if conn.execute("PRAGMA user_version").fetchone()[0] >= version:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            if conn.execute("PRAGMA user_version").fetchone()[0] >= version:  # another process won
                conn.execute("ROLLBACK")
                continue
            if version == 1:
                _legacy_columns(conn)
            for statement in _statements(sql):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {int(version)}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        applied += 1
    return applied


def _statements(sql: str) -> list[str]:
    text = "\n".join(line.split("--", 1)[0] for line in sql.splitlines())
    return [s.strip() for s in text.split(";") if s.strip()]


def _legacy_columns(conn: sqlite3.Connection) -> None:
    """Files written before migrations existed lack some columns that 0001 declares."""
    for table, cols in (("activities", ("actor", "verb")), ("timeline", ("grp", "actor", "verb"))):
        have = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        if not have:
            continue  # a new file: 0001 creates the table
        for col in cols:
            if col not in have:
                default = " NOT NULL DEFAULT ''" if table == "activities" else ""
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {col} TEXT{default}")


class SQLiteDB:
    """A lazily opened, migrated connection with the two access helpers the stores use."""

    def __init__(self, path: str | Path = ":memory:"):
        self.path = str(path)
        self._conn: sqlite3.Connection | None = None
        self.lock = threading.RLock()

    # Connect on first use, not in __init__: building a runtime must not touch the disk.
    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            with self.lock:
                if self._conn is None:
                    self._conn = self._open()
        return self._conn

    def _open(self) -> sqlite3.Connection:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            # busy_timeout first: connections opened at once (the local runner's execution
            # environments) wait for each other's WAL switch and migrations instead of failing
            conn.execute("PRAGMA busy_timeout=5000")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            migrate(conn)
        except sqlite3.Error as exc:
            raise StorageUnavailable(str(exc)) from exc
        return conn

    def version(self) -> int:
        """The last migration applied (opening the file applies the pending ones first)."""
        return int(self.query("PRAGMA user_version")[0][0])

    def write(self, sql: str, rows: Iterable[tuple]) -> None:
        with self.lock:
            conn = self.conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany(sql, rows)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def execute(self, sql: str, params: tuple = ()) -> int:
        """One statement; returns the number of rows it changed."""
        with self.lock:
            return self.conn.execute(sql, params).rowcount

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self.lock:
            return self.conn.execute(sql, params).fetchall()

    def query_in(self, sql: str, values: Sequence, params: tuple = ()) -> list[tuple]:
        """Rows of ``sql`` (with one ``{marks}`` placeholder list) for distinct ``values``, in
        chunks under SQLite's bound-variable limit; ``params`` are bound before the list."""
        rows: list[tuple] = []
        values = list(dict.fromkeys(values))
        for i in range(0, len(values), IN_CHUNK):
            chunk = values[i:i + IN_CHUNK]
            rows += self.query(sql.format(marks=",".join("?" * len(chunk))), (*params, *chunk))
        return rows

    def close(self) -> None:
        with self.lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
