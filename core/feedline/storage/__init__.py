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
    """Build the backend the settings name. Backends connect lazily, never here. With a files
    bucket, uploaded files live in S3 and everything else in the backend."""
    if settings.storage == "cassandra":
        from feedline.storage import cassandra

        stores = cassandra.from_settings(settings)
    else:
        from feedline.storage import sqlite

        stores = sqlite.open_stores(settings.sqlite_path)
    if settings.files_bucket:
        from feedline.storage.s3.files import S3Files

        stores.files = S3Files(settings.files_bucket, endpoint_url=settings.s3_endpoint)
    return stores
