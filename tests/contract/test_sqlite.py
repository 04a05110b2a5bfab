"""The storage contract bound to the embedded SQLite backend."""

from __future__ import annotations

import pytest

from feedline.storage.sqlite import SQLiteStorage

from .storage_contract import StorageContract


class TestSQLiteStorage(StorageContract):
    @pytest.fixture
    def store(self, tmp_path):
        s = SQLiteStorage(tmp_path / "contract.db")
        yield s
        s.close()

    @pytest.fixture
    def reopen(self):
        def _reopen(store):
            store.close()
            return SQLiteStorage(store.path)
        return _reopen
