"""The users service: create (or get), read (with follow counts), update, delete."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from feedline.errors import ConflictException, DoesNotExistException
from feedline.stores import Stores
from feedline.users.model import encode, with_counts
from feedline.users.store import UserRecord


def now_us() -> int:
    return time.time_ns() // 1000


class UserService:
    def __init__(self, stores: Stores, clock: Callable[[], int] = now_us):
        self.stores = stores
        self.clock = clock

    def create(self, user_id: str, data: dict[str, Any], get_or_create: bool) -> tuple[bytes, bool]:
        """``(stored body, created)``; an existing id is a 409, or with ``get_or_create`` the
        stored user unchanged."""
        now = self.clock()
        rec = UserRecord(user_id, encode(user_id, data, now, now), now, now)
        if self.stores.users.create_user(rec):
            return rec.body, True
        if get_or_create:
            found = self.stores.users.get_users([user_id]).get(user_id)
            if found is not None:
                return found.body, False
        raise ConflictException(f"user {user_id!r} already exists")

    def get(self, user_id: str, with_follow_counts: bool = False) -> bytes:
        rec = self._get(user_id)
        if not with_follow_counts:
            return rec.body
        # the counts of the user's `user` feed (spec §2.7); ids a feed id cannot carry have none
        feed = f"user:{user_id}"
        follows = self.stores.follows
        return with_counts(rec.body, follows.count_follows(feed, (), True), follows.count_follows(feed, (), False))

    def update(self, user_id: str, data: dict[str, Any]) -> bytes:
        old = self._get(user_id)
        now = max(self.clock(), old.created_us)
        rec = UserRecord(user_id, encode(user_id, data, old.created_us, now), old.created_us, now)
        self.stores.users.put_user(rec)
        return rec.body

    def delete(self, user_id: str) -> None:
        if not self.stores.users.delete_user(user_id):
            raise DoesNotExistException(f"user {user_id!r} does not exist")

    def _get(self, user_id: str) -> UserRecord:
        rec = self.stores.users.get_users([user_id]).get(user_id)
        if rec is None:
            raise DoesNotExistException(f"user {user_id!r} does not exist")
        return rec
