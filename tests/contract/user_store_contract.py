"""The ``users.store.UserStore`` contract, written once; bound to every backend in test_sqlite.py and
test_cassandra.py (a ``store`` fixture yields a fresh backend's ``Stores``)."""

from __future__ import annotations

import uuid

from feedline.users.model import encode
from feedline.users.store import UserRecord


def user(uid: str, data: dict, created: int = 1_600_000_000_000_000, updated: int | None = None) -> UserRecord:
    updated = created if updated is None else updated
    return UserRecord(uid, encode(uid, data, created, updated), created, updated)


class UserStoreContract:
    def test_create_once_get_update_delete(self, store):
        uid = uuid.uuid4().hex
        first = user(uid, {"name": "Ann"})
        assert store.users.create_user(first) is True
        assert store.users.create_user(user(uid, {"name": "Other"}, 5)) is False  # no change
        assert store.users.get_users([uid]) == {uid: first}
        changed = user(uid, {"name": "Bea", "ü": [1, 2.5]}, first.created_us, first.created_us + 7)
        store.users.put_user(changed)
        assert store.users.get_users([uid, "nobody"]) == {uid: changed}
        assert store.users.delete_user(uid) is True
        assert store.users.delete_user(uid) is False
        assert store.users.get_users([uid]) == {}
        assert store.users.create_user(first) is True  # a deleted id may be created again

    def test_get_many_bytes_exact(self, store):
        users = [user(f"u{i}-{uuid.uuid4().hex[:6]}", {"i": i, "s": "☃" * i}) for i in range(7)]
        for u in users:
            store.users.create_user(u)
        got = store.users.get_users([u.id for u in users[::-1]] + [users[0].id])
        assert got == {u.id: u for u in users}
        assert all(isinstance(r.body, bytes) for r in got.values())
        assert store.users.get_users([]) == {}
