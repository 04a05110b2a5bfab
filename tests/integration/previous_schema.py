"""A keyspace of a migration test's own, created by the migrations before the one under test, for
data written as the previous code wrote it; dropped (with any stores opened on it) afterwards."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from feedline import db
from feedline.storage.cassandra import from_settings


@dataclass
class PreviousSchema:
    settings: Any  #: the test's settings, bound to ``keyspace``
    keyspace: str
    session: Any  #: a raw driver session on ``keyspace``
    applied: list[str]  #: the migrations that created it
    _opened: list = field(default_factory=list)

    def stores(self) -> Any:
        """Feedline's stores on this keyspace (closed when the block ends)."""
        stores = from_settings(self.settings)
        self._opened.append(stores)
        return stores


@contextmanager
def previous_schema(settings: Any, tmp_path: Path, before: str, suffix: str) -> Iterator[PreviousSchema]:
    """The keyspace ``<test keyspace>_<suffix>`` migrated by every migration numbered below ``before``."""
    from cassandra.cluster import Cluster

    old = tmp_path / "old"
    old.mkdir()
    for path in sorted(db.MIGRATIONS_DIR.iterdir()):
        if path.name[:4] < before and path.suffix in (".cql", ".py"):
            shutil.copy(path, old / path.name)
    keyspace = f"{settings.cassandra_keyspace}_{suffix}"
    cluster = Cluster(list(settings.cassandra_hosts), port=settings.cassandra_port)
    schema = None
    try:
        applied = db.migrate(settings, directory=old, keyspace=keyspace)
        schema = PreviousSchema(settings.with_(cassandra_keyspace=keyspace), keyspace, cluster.connect(keyspace),
                                applied)
        yield schema
    finally:
        for stores in schema._opened if schema is not None else ():
            stores.close()
        cluster.connect().execute(f"DROP KEYSPACE IF EXISTS {keyspace}", timeout=60)
        cluster.shutdown()
