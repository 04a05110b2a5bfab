"""Storage: the contract in ``base``, the embedded default in ``sqlite``, production in ``cassandra``."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from feedline.config import Settings
    from feedline.storage.base import Storage


def open_storage(settings: "Settings") -> "Storage":
    """Build the backend the settings name. Backends connect lazily, never here."""
    if settings.storage == "cassandra":
        from feedline.storage.cassandra import CassandraStorage

        return CassandraStorage.from_settings(settings)
    from feedline.storage.sqlite import SQLiteStorage

    return SQLiteStorage(settings.sqlite_path)
