"""The ``media.store.FileStore`` contract, written once; bound to every backend in test_sqlite.py and
test_cassandra.py (a ``store`` fixture yields a fresh backend's ``Stores``)."""

from __future__ import annotations

import os

from feedline.media.model import new_id
from feedline.media.store import FileInfo, StoredFile


def info(size: int, kind: str = "files", uploader: str = "", name: str = "a.bin") -> FileInfo:
    return FileInfo(new_id(), kind, name, "application/octet-stream", size, uploader, 1_700_000_000_000_000)


class FileStoreContract:
    def test_put_get_info_delete(self, store):
        data = os.urandom(1000)
        rec = info(len(data), "images", "ann", "p.png")
        assert store.files.file_info(rec.id) is None and store.files.get_file(rec.id) is None
        store.files.put_file(rec, data)
        assert store.files.file_info(rec.id) == rec
        assert store.files.get_file(rec.id) == StoredFile(rec, data)
        assert store.files.delete_file(rec.id) is True
        assert store.files.delete_file(rec.id) is False
        assert store.files.file_info(rec.id) is None and store.files.get_file(rec.id) is None

    def test_large_file_round_trips_byte_exact(self, store):
        # more than a Cassandra chunk (256 KiB), not a multiple of it
        data = os.urandom(4 * 1024 * 1024 - 3)
        rec = info(len(data))
        store.files.put_file(rec, data)
        got = store.files.get_file(rec.id)
        assert got is not None and got.info == rec and got.data == data

    def test_files_are_independent(self, store):
        a, b = info(5, uploader="u1"), info(7, uploader="u2")
        store.files.put_file(a, b"aaaaa")
        store.files.put_file(b, b"bbbbbbb")
        assert store.files.delete_file(a.id) is True
        got = store.files.get_file(b.id)
        assert got is not None and got.data == b"bbbbbbb" and got.info.uploader == "u2"

    def test_survives_reopening(self, store, reopen):
        data = b"\x00\xff" * 100
        rec = info(len(data))
        store.files.put_file(rec, data)
        again = reopen(store)
        got = again.files.get_file(rec.id)
        assert got is not None and got.data == data
