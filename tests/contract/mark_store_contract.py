"""The ``feeds.store.MarkStore`` contract, written once; bound to every backend in test_sqlite.py and
test_cassandra.py (a ``store`` fixture yields a fresh backend's ``Stores``)."""

from __future__ import annotations

from .support import feed


class MarkStoreContract:
    def test_marks(self, store):
        f = feed("notification")
        assert store.marks.get_marks(f) is None
        store.marks.put_marks(f, b"\x00state-1")
        store.marks.put_marks(f, b"\x00state-2")
        assert store.marks.get_marks(f) == b"\x00state-2"
        assert store.marks.get_marks(feed("notification")) is None
