"""Writers of one SQLite file in one process queue on one lock before SQLite's own (db.py)."""

from __future__ import annotations

import threading

from feedline.storage.sqlite.db import SQLiteDB


def test_connections_to_one_file_share_the_write_gate(tmp_path):
    a, b = SQLiteDB(tmp_path / "f.db"), SQLiteDB(str(tmp_path / "." / "f.db"))
    other = SQLiteDB(tmp_path / "g.db")
    assert a.write_lock is b.write_lock
    assert other.write_lock is not a.write_lock
    assert SQLiteDB(":memory:").write_lock is not SQLiteDB(":memory:").write_lock


def test_concurrent_writers_on_their_own_connections_all_land(tmp_path):
    path = tmp_path / "w.db"
    dbs = [SQLiteDB(path) for _ in range(6)]
    for db in dbs:  # migrations applied once, by whichever opens first
        db.version()
    dbs[0].execute("CREATE TABLE t (writer INTEGER, n INTEGER, PRIMARY KEY (writer, n))")
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            for n in range(60):
                dbs[i].write("INSERT INTO t VALUES (?, ?)", [(i, n)])
                with dbs[i].transaction() as conn:  # read-then-write inside one transaction
                    (count,) = conn.execute("SELECT COUNT(*) FROM t WHERE writer = ?", (i,)).fetchone()
                    conn.execute("INSERT INTO t VALUES (?, ?)", (i, 1000 + count))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(dbs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert dbs[0].query("SELECT COUNT(*) FROM t")[0][0] == 6 * 120
    for db in dbs:
        db.close()
