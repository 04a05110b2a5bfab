"""SQLite: users (``users.store.UserStore``)."""

from __future__ import annotations

from collections.abc import Sequence

from feedline.storage.sqlite.db import SQLiteDB
from feedline.users.store import UserRecord, UserStore


class SQLiteUsers(UserStore):
    def __init__(self, db: SQLiteDB):
        self.db = db

    def create_user(self, user: UserRecord) -> bool:
        return self.db.execute(
            "INSERT INTO users (id, body, created_us, updated_us) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
            (user.id, user.body, user.created_us, user.updated_us)) == 1

    def put_user(self, user: UserRecord) -> None:
        self.db.execute("INSERT OR REPLACE INTO users (id, body, created_us, updated_us) VALUES (?, ?, ?, ?)",
                        (user.id, user.body, user.created_us, user.updated_us))

    def get_users(self, ids: Sequence[str]) -> dict[str, UserRecord]:
        rows = self.db.query_in("SELECT id, body, created_us, updated_us FROM users WHERE id IN ({marks})", ids)
        return {r[0]: UserRecord(r[0], bytes(r[1]), r[2], r[3]) for r in rows}

    def delete_user(self, user_id: str) -> bool:
        return self.db.execute("DELETE FROM users WHERE id = ?", (user_id,)) == 1
