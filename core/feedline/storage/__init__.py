"""Storage backends: the embedded default in ``sqlite``, production in ``cassandra``.

Each implements the role contracts of the concepts (``activities.store``, ``feeds.store``,
``follows.store``), one module per role, bundled as ``base.Stores``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from feedline.config import Settings
    from feedline.stores import Stores


def open_stores(settings: Settings) -> Stores:
    """Build the backend the settings name. Backends connect lazily, never here."""
    if settings.storage == "cassandra":
        from feedline.storage import cassandra

        return cassandra.from_settings(settings)
    from feedline.storage import sqlite

    return sqlite.open_stores(settings.sqlite_path)
