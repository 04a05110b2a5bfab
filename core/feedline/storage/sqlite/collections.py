"""SQLite: collection items (``collections.store.CollectionStore``)."""

from __future__ import annotations

from collections.abc import Sequence

from feedline.collections.store import CollectionStore, ItemRecord
from feedline.storage.sqlite.db import SQLiteDB

_COLS = "collection, id, user_id, body, created_us, updated_us"


class SQLiteCollections(CollectionStore):
    def __init__(self, db: SQLiteDB):
        self.db = db

    def create_item(self, item: ItemRecord) -> bool:
        return self.db.execute(
            f"INSERT INTO collection_items ({_COLS}) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (item.collection, item.id, item.user_id, item.body, item.created_us, item.updated_us)) == 1

    def put_items(self, items: Sequence[ItemRecord]) -> None:
        if items:
            self.db.write(f"INSERT OR REPLACE INTO collection_items ({_COLS}) VALUES (?, ?, ?, ?, ?, ?)",
                          [(i.collection, i.id, i.user_id, i.body, i.created_us, i.updated_us) for i in items])

    def get_items(self, collection: str, ids: Sequence[str]) -> dict[str, ItemRecord]:
        rows = self.db.query_in(
            f"SELECT {_COLS} FROM collection_items WHERE collection = ? AND id IN ({{marks}})", ids, (collection,))
        return {r[1]: ItemRecord(r[0], r[1], r[2], bytes(r[3]), r[4], r[5]) for r in rows}

    def delete_items(self, collection: str, ids: Sequence[str]) -> int:
        found = self.get_items(collection, ids)
        if found:
            self.db.write("DELETE FROM collection_items WHERE collection = ? AND id = ?",
                          [(collection, i) for i in found])
        return len(found)
