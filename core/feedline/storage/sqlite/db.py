"""The SQLite connection every role store of the embedded backend shares, and its migrations.

One connection guarded by a lock: SQLite serialises writers anyway, and WAL mode keeps reads from
blocking on the fan-out's writes. Every statement uses parameters (never SQL built with data).

Writers of one file in one process (the local runner's execution environments each have their own
connection) also queue on a per-file lock before they ask SQLite for its write lock. Without it a
writer that finds the file locked waits in SQLite's busy handler, which polls by sleeping 1, 2, 5,
10, ... up to 100 ms: under a few concurrent writers most of a write's latency was those sleeps
(BENCHMARKS.md, "Load"). Another process writing the same file still meets the busy handler.

Migrations are the package files ``storage/sqlite/migrations/NNNN_name.sql``, applied in order on
first use; ``PRAGMA user_version`` records the last one applied, inside the migration's own
transaction, so an interrupted migration is applied again whole and two processes opening one new
file apply each migration once (``BEGIN IMMEDIATE`` takes the write lock before re-checking).
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

from feedline.errors import StorageUnavailable

_FILE = re.compile(r"(\d{4})_([a-z0-9_]+)\.sql")
#: values per ``IN (...)``: under SQLite's default limit of bound variables
IN_CHUNK = 500


_FILE_LOCKS: dict[str, threading.Lock] = {}
_FILE_LOCKS_GUARD = threading.Lock()


def _file_lock(path: str) -> threading.Lock:
    """The in-process write lock of one database file (a private one for ``:memory:``)."""
    if path == ":memory:":
        return threading.Lock()
    key = str(Path(path).resolve())
    with _FILE_LOCKS_GUARD:
        return _FILE_LOCKS.setdefault(key, threading.Lock())


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
        #: taken before ``self.lock`` by every write (never the other way round: no deadlock)
        self.write_lock = _file_lock(self.path)

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

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: ``BEGIN IMMEDIATE`` takes the file's write lock before the first
        statement, so reads inside it see every committed change and nothing lands in between."""
        with self.write_lock, self.lock:
            conn = self.conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def write(self, sql: str, rows: Iterable[tuple]) -> None:
        with self.transaction() as conn:
            conn.executemany(sql, rows)

    def execute(self, sql: str, params: tuple = ()) -> int:
        """One writing statement (its own transaction); returns the number of rows it changed."""
        with self.write_lock, self.lock:
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
