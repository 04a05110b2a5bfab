"""SQLite: the activity store (``activities.store.ActivityStore``)."""

from __future__ import annotations

from collections.abc import Sequence

from feedline.activities.store import ActivityRecord, ActivityStore
from feedline.storage.sqlite.db import SQLiteDB


class SQLiteActivities(ActivityStore):
    def __init__(self, db: SQLiteDB):
        self.db = db

    def put_activities(self, records: Sequence[ActivityRecord]) -> None:
        self.db.write(
            "INSERT INTO activities (key, body, foreign_id, feed, actor, verb, refs, rank) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET body = excluded.body, foreign_id = excluded.foreign_id, "
            "feed = COALESCE(excluded.feed, activities.feed), actor = excluded.actor, verb = excluded.verb, "
            "refs = excluded.refs, rank = excluded.rank",
            [(r.key, r.body, r.foreign_id, r.feed, r.actor, r.verb, r.refs, r.rank) for r in records],
        )

    def get_activities(self, keys: Sequence[bytes]) -> dict[bytes, ActivityRecord]:
        rows = self.db.query_in(
            "SELECT key, body, foreign_id, feed, actor, verb, refs, rank FROM activities WHERE key IN ({marks})", keys)
        return {r[0]: ActivityRecord(*r) for r in rows}

    def get_bodies_refs(self, keys: Sequence[bytes]) -> dict[bytes, tuple[bytes, bytes | None]]:
        return {k: (b, r) for k, b, r in self.db.query_in(
            "SELECT key, body, refs FROM activities WHERE key IN ({marks})", keys)}

    def get_bodies(self, keys: Sequence[bytes]) -> dict[bytes, bytes]:
        return dict(self.db.query_in("SELECT key, body FROM activities WHERE key IN ({marks})", keys))

    def delete_activities(self, keys: Sequence[bytes]) -> None:
        self.db.write("DELETE FROM activities WHERE key = ?", [(k,) for k in keys])

    def keys_by_foreign_id(self, foreign_id: str) -> list[bytes]:
        return [r[0] for r in self.db.query(
            "SELECT key FROM activities WHERE foreign_id = ? AND foreign_id != '' ORDER BY key DESC",
            (foreign_id,))]
