"""Cassandra: users (``users.store.UserStore``)."""

from __future__ import annotations

from collections.abc import Sequence

from feedline.storage.cassandra.base import CassandraRole, chunks
from feedline.users.store import UserRecord, UserStore


class CassandraUsers(CassandraRole, UserStore):
    def create_user(self, user: UserRecord) -> bool:
        # Read-then-write, not a lightweight transaction (portable, one round trip cheaper):
        # two racing creates of one id may both succeed, the later write winning (DESIGN.md).
        if self.session.rows("users_get", ([user.id],)):
            return False
        self.put_user(user)
        return True

    def put_user(self, user: UserRecord) -> None:
        self.session.write("user_put", (user.id, user.body, user.created_us, user.updated_us))

    def get_users(self, ids: Sequence[str]) -> dict[str, UserRecord]:
        out: dict[str, UserRecord] = {}
        for chunk in chunks(list(dict.fromkeys(ids))):
            for r in self.session.rows("users_get", (chunk,)):
                out[r[0]] = UserRecord(r[0], r[1], r[2], r[3])
        return out

    def delete_user(self, user_id: str) -> bool:
        if not self.session.rows("users_get", ([user_id],)):
            return False
        self.session.write("user_delete", (user_id,))
        return True
