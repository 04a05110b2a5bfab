"""The collections service: add, get, update, delete, batch upsert, select, batch delete.

``owner`` is the user of a user token (None for a server token): such a caller may change only
items whose ``user_id`` is its own, and new items it adds belong to it (spec §4).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from feedline.collections.model import encode
from feedline.collections.store import ItemRecord
from feedline.errors import ConflictException, DoesNotExistException, NotAllowedException
from feedline.stores import Stores


def now_us() -> int:
    return time.time_ns() // 1000


def _check_owner(owner: str | None, user_id: str, what: str) -> None:
    if owner is not None and user_id != owner:
        raise NotAllowedException(f"user {owner!r} may not {what} an item of user {user_id or 'nobody'!r}")


class CollectionService:
    def __init__(self, stores: Stores, clock: Callable[[], int] = now_us):
        self.stores = stores
        self.clock = clock

    def add(self, collection: str, item_id: str | None, data: dict[str, Any], user_id: str,
            owner: str | None) -> bytes:
        if owner is not None:
            user_id = user_id or owner
            _check_owner(owner, user_id, "add")
        item_id = item_id or str(uuid.uuid4())
        now = self.clock()
        rec = ItemRecord(collection, item_id, user_id, encode(collection, item_id, data, now, now, user_id), now, now)
        if not self.stores.collections.create_item(rec):
            raise ConflictException(f"collection item {collection}:{item_id} already exists")
        return rec.body

    def get(self, collection: str, item_id: str) -> bytes:
        return self._get(collection, item_id).body

    def update(self, collection: str, item_id: str, data: dict[str, Any], owner: str | None) -> bytes:
        old = self._get(collection, item_id)
        _check_owner(owner, old.user_id, "update")
        now = max(self.clock(), old.created_us)
        rec = ItemRecord(collection, item_id, old.user_id,
                         encode(collection, item_id, data, old.created_us, now, old.user_id), old.created_us, now)
        self.stores.collections.put_items([rec])
        return rec.body

    def delete(self, collection: str, item_id: str, owner: str | None) -> None:
        old = self._get(collection, item_id)
        _check_owner(owner, old.user_id, "delete")
        self.stores.collections.delete_items(collection, [item_id])

    def upsert(self, batch: dict[str, list[tuple[str, dict[str, Any], str]]], owner: str | None) -> None:
        """Insert or replace ``{collection: [(id, data, user_id)]}``; an item that exists keeps
        its ``created_at`` (and its owner when none is given)."""
        now = self.clock()
        records = []
        for collection, items in batch.items():
            existing = self.stores.collections.get_items(collection, [i for i, _, _ in items])
            for item_id, data, user_id in items:
                old = existing.get(item_id)
                if old is not None:
                    _check_owner(owner, old.user_id, "update")
                    user_id = user_id or old.user_id
                elif owner is not None:
                    user_id = user_id or owner
                _check_owner(owner, user_id, "add")
                created = old.created_us if old is not None else now
                updated = max(now, created)
                records.append(ItemRecord(collection, item_id, user_id,
                                          encode(collection, item_id, data, created, updated, user_id),
                                          created, updated))
        self.stores.collections.put_items(records)

    def select(self, refs: Sequence[tuple[str, str]]) -> list[bytes]:
        """Stored items for ``(collection, id)`` pairs, in the order asked (missing ones left out)."""
        by_name: dict[str, list[str]] = {}
        for name, item_id in refs:
            by_name.setdefault(name, []).append(item_id)
        found = {name: self.stores.collections.get_items(name, ids) for name, ids in by_name.items()}
        out, seen = [], set()
        for name, item_id in refs:
            rec = found[name].get(item_id)
            if rec is not None and (name, item_id) not in seen:
                seen.add((name, item_id))
                out.append(rec.body)
        return out

    def delete_many(self, collection: str, ids: Sequence[str], owner: str | None) -> int:
        if owner is not None:
            for rec in self.stores.collections.get_items(collection, ids).values():
                _check_owner(owner, rec.user_id, "delete")
        return self.stores.collections.delete_items(collection, ids)

    def _get(self, collection: str, item_id: str) -> ItemRecord:
        rec = self.stores.collections.get_items(collection, [item_id]).get(item_id)
        if rec is None:
            raise DoesNotExistException(f"collection item {collection}:{item_id} does not exist")
        return rec
