"""0004 data step: copy each activity's body into the timeline rows written before 0004.

Scans ``timeline`` (every partition, paged) for live rows without a body and writes the body of
their activity with ``USING TIMESTAMP`` = the activity's write time, exactly as the store writes
copies, so a copy written concurrently by the running application (same or newer version) is never
replaced by an older one. Rows whose activity is gone stay without a body (reads skip them, as
before). Idempotent: a re-run only fills rows that still lack a body. Online: readers fall back to
``activities`` for rows without a body until this has run.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger("feedline.db")

#: rows collected before their bodies are read (by IN of 100) and written (concurrently)
FLUSH_ROWS = 1000
SCAN_FETCH = 1000


def migrate(session: Any, keyspace: str) -> int:
    """Fill the body copies; returns how many rows were written."""
    from cassandra.query import SimpleStatement

    from feedline.storage.cassandra.base import chunks, key_uuid, uuid_key

    if "system_schema_mcs" in session.cluster.metadata.keyspaces:
        # Amazon Keyspaces: no versioned copies there (USING TIMESTAMP is refused for old
        # versions); its sessions read bodies by IN, so there is nothing to fill
        log.info("0004_timeline_bodies: Amazon Keyspaces, no body copies to fill")
        return 0
    scan = SimpleStatement(f"SELECT feed, key, origin, body FROM {keyspace}.timeline", fetch_size=SCAN_FETCH)
    versions = session.prepare(f"SELECT id, body, WRITETIME(body) FROM {keyspace}.activities WHERE id IN ?")
    put = session.prepare(f"UPDATE {keyspace}.timeline USING TIMESTAMP ? SET body = ? WHERE feed = ? AND key = ?")
    written = 0

    def flush(rows: list[tuple[str, bytes]]) -> int:
        from cassandra.concurrent import execute_concurrent_with_args

        found: dict[bytes, tuple[bytes, int]] = {}
        for chunk in chunks(list({k for _, k in rows})):
            for u, body, ver in session.execute(versions, ([key_uuid(k) for k in chunk],)):
                if ver is not None:
                    found[uuid_key(u)] = (body, int(ver))
        args = [(found[k][1], found[k][0], f, k) for f, k in rows if k in found]
        execute_concurrent_with_args(session, put, args, concurrency=64, raise_on_first_error=True)
        return len(args)

    pending: list[tuple[str, bytes]] = []
    for feed, key, origin, body in session.execute(scan):
        if body is None and origin is not None:
            pending.append((feed, key))
            if len(pending) >= FLUSH_ROWS:
                written += flush(pending)
                pending = []
    if pending:
        written += flush(pending)
    log.info("0004_timeline_bodies: %d timeline rows got their body copy", written)
    return written
