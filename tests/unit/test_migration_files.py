"""The Cassandra migration runner's file handling: CQL files, data steps beside them, checksums."""

from __future__ import annotations

import hashlib

import pytest

from feedline import db


def test_a_data_step_pairs_with_its_cql_and_may_stand_alone(tmp_path):
    (tmp_path / "0001_a.cql").write_text("CREATE TABLE IF NOT EXISTS a (id int PRIMARY KEY);\n")
    (tmp_path / "0002_b.cql").write_text("ALTER TABLE a ADD b text;\n")
    (tmp_path / "0002_b.py").write_text("def migrate(session, keyspace):\n    return (session, keyspace)\n")
    (tmp_path / "0003_c.py").write_text("def migrate(session, keyspace):\n    return 3\n")
    (tmp_path / "__init__.py").write_text("")
    a, b, c = db.load_migrations(tmp_path)
    assert [(m.version, m.name, m.script is not None) for m in (a, b, c)] == [
        ("0001", "a", False), ("0002", "b", True), ("0003", "c", True)]
    # a CQL-only migration keeps the checksum recorded before data steps existed
    assert a.checksum == hashlib.sha256(a.text.encode()).hexdigest()
    assert b.checksum != hashlib.sha256(b.text.encode()).hexdigest() and c.text == ""
    assert b.run_data_step("S", "ks") == ("S", "ks") and c.run_data_step(None, "ks") == 3
    assert a.run_data_step(None, "ks") is None
    before = b.checksum
    (tmp_path / "0002_b.py").write_text("def migrate(session, keyspace):\n    return 2\n")
    assert db.load_migrations(tmp_path)[1].checksum != before  # an edited data step is an edit


def test_bad_data_steps_and_names_are_refused(tmp_path):
    (tmp_path / "0001_a.py").write_text("x = 1\n")
    with pytest.raises(db.MigrationError, match="defines migrate"):
        db.load_migrations(tmp_path)[0].run_data_step(None, "ks")
    (tmp_path / "helper.py").write_text("")
    with pytest.raises(db.MigrationError, match="NNNN_name"):
        db.load_migrations(tmp_path)


def test_the_packaged_migrations_include_the_timeline_bodies_step():
    found = {f"{m.version}_{m.name}": m for m in db.load_migrations()}
    assert found["0004_timeline_bodies"].script is not None and "ADD body blob" in found["0004_timeline_bodies"].text
