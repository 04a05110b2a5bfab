"""Cassandra: the activity store (``activities.store.ActivityStore``).

Each activity row is written at an explicit timestamp taken from the driver's monotonic clock;
that write time is the activity's *version*. Timelines copy the body into their rows at the same
timestamp (``timelines.py``), so the newest version of a copy wins whatever order writes arrive in.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from feedline.activities.store import ActivityRecord, ActivityStore
from feedline.storage.cassandra.base import CassandraRole, chunks, key_uuid, uuid_key


class Copy(NamedTuple):
    """What a timeline row copies of its activity, and the version it is written at."""

    body: bytes
    version: int
    #: the body's reference offsets (enriched reads) and ranking blob (ranked reads)
    refs: bytes | None
    rank: bytes | None


class CassandraActivities(CassandraRole, ActivityStore):
    def put_activities(self, records: Sequence[ActivityRecord]) -> None:
        from cassandra.query import UNSET_VALUE

        latest: dict[bytes, ActivityRecord] = {}
        for r in records:  # same key twice in one call: the last wins, an earlier feed is kept
            prev = latest.get(r.key)
            if prev is not None and r.feed is None and prev.feed is not None:
                r = ActivityRecord(r.key, r.body, r.foreign_id, prev.feed, r.actor, r.verb, r.refs, r.rank)
            latest[r.key] = r
        recs = list(latest.values())
        self.session.concurrent(("foreign_id_put", (r.foreign_id, r.key)) for r in recs if r.foreign_id)
        if not self.session.body_copies:  # no versions to keep: the driver's own timestamp
            self.session.concurrent(
                ("activity_put_unversioned", (key_uuid(r.key), r.body, r.foreign_id,
                                              UNSET_VALUE if r.feed is None else r.feed, r.actor, r.verb, r.refs, r.rank))
                for r in recs)
            return
        version = self.session.timestamp()
        self.session.concurrent(
            ("activity_put", (key_uuid(r.key), r.body, r.foreign_id,
                              UNSET_VALUE if r.feed is None else r.feed, r.actor, r.verb, r.refs, r.rank, version))
            for r in recs)

    def get_activities(self, keys: Sequence[bytes]) -> dict[bytes, ActivityRecord]:
        out: dict[bytes, ActivityRecord] = {}
        for u, body, fid, feed, actor, verb, refs, rank in self._by_ids("activity_get", keys):
            k = uuid_key(u)
            out[k] = ActivityRecord(k, body or b"", fid or "", feed, actor or "", verb or "", refs, rank)
        return out

    def get_bodies_refs(self, keys: Sequence[bytes]) -> dict[bytes, tuple[bytes, bytes | None]]:
        return {uuid_key(u): (body or b"", refs) for u, body, refs in self._by_ids("bodies_refs_get", keys)}

    def get_bodies(self, keys: Sequence[bytes]) -> dict[bytes, bytes]:
        return {uuid_key(u): body or b"" for u, body in self._by_ids("bodies_get", keys)}

    def versions(self, keys: Sequence[bytes]) -> dict[bytes, Copy]:
        """``{key: Copy}`` of the stored activities among ``keys``: body, reference offsets and
        ranking blob, and the version = the body's write time (microseconds), the timestamp their
        copies are written at. Empty when the session keeps no body copies (then no copy is
        written or refreshed)."""
        if not self.session.body_copies:
            return {}
        return {uuid_key(u): Copy(body or b"", int(ver), refs, rank)
                for u, body, ver, refs, rank in self._by_ids("activity_versions", keys) if ver is not None}

    def get_ranks(self, keys: Sequence[bytes]) -> dict[bytes, bytes | None]:
        """``{key: ranking blob or None}`` of the stored activities among ``keys`` (no bodies)."""
        return {uuid_key(u): rank for u, rank in self._by_ids("ranks_get", keys)}

    def _by_ids(self, name: str, keys: Sequence[bytes]) -> list[tuple]:
        """Rows of an ``... WHERE id IN ?`` statement for ``keys``: chunks of ``IN_CHUNK``, concurrent."""
        parts = [[key_uuid(k) for k in c] for c in chunks(list(dict.fromkeys(keys)))]
        if len(parts) <= 1:
            return self.session.rows(name, (parts[0],)) if parts else []
        return [row for rs in self.session.concurrent((name, (c,)) for c in parts) for row in rs]

    def delete_activities(self, keys: Sequence[bytes]) -> None:
        keys = list(dict.fromkeys(keys))
        found = self.get_activities(keys)
        self.session.concurrent(("activity_delete", (key_uuid(k),)) for k in keys)
        self.session.concurrent(("foreign_id_delete", (r.foreign_id, r.key))
                                for r in found.values() if r.foreign_id)

    def keys_by_foreign_id(self, foreign_id: str) -> list[bytes]:
        if not foreign_id:
            return []
        keys = [r[0] for r in self.session.rows("foreign_id_keys", (foreign_id,))]
        if not keys:
            return []
        found = self.get_activities(keys)  # a changed foreign_id leaves its old index row behind
        return [k for k in keys if k in found and found[k].foreign_id == foreign_id]

