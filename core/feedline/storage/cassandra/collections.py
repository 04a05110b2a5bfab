"""Cassandra: collection items (``collections.store.CollectionStore``)."""

from __future__ import annotations

from collections.abc import Sequence

from feedline.collections.store import CollectionStore, ItemRecord
from feedline.storage.cassandra.base import CassandraRole, chunks


def _params(i: ItemRecord) -> tuple:
    return (i.collection, i.id, i.user_id, i.body, i.created_us, i.updated_us)


class CassandraCollections(CassandraRole, CollectionStore):
    def create_item(self, item: ItemRecord) -> bool:
        # read-then-write as users.create_user (no lightweight transaction: DESIGN.md)
        if self.session.rows("items_get", (item.collection, [item.id])):
            return False
        self.session.write("item_put", _params(item))
        return True

    def put_items(self, items: Sequence[ItemRecord]) -> None:
        # one partition per item: concurrent single-partition writes
        self.session.concurrent([("item_put", _params(i)) for i in items])

    def get_items(self, collection: str, ids: Sequence[str]) -> dict[str, ItemRecord]:
        out: dict[str, ItemRecord] = {}
        for chunk in chunks(list(dict.fromkeys(ids))):
            for r in self.session.rows("items_get", (collection, chunk)):
                out[r[1]] = ItemRecord(r[0], r[1], r[2] or "", r[3], r[4], r[5])
        return out

    def delete_items(self, collection: str, ids: Sequence[str]) -> int:
        found = self.get_items(collection, ids)
        self.session.concurrent([("item_delete", (collection, i)) for i in found])
        return len(found)
