"""The ``collections.store.CollectionStore`` contract, written once; bound to every backend in
test_sqlite.py and test_cassandra.py (a ``store`` fixture yields a fresh backend's ``Stores``)."""

from __future__ import annotations

import uuid

from feedline.collections.model import encode
from feedline.collections.store import ItemRecord


def item(name: str, iid: str, data: dict, owner: str = "", created: int = 1_600_000_000_000_000) -> ItemRecord:
    return ItemRecord(name, iid, owner, encode(name, iid, data, created, created), created, created)


class CollectionStoreContract:
    def test_create_once_get_put_delete(self, store):
        name = f"food_{uuid.uuid4().hex[:6]}"
        cheese = item(name, "cheese", {"kind": "brie"}, "ann")
        assert store.collections.create_item(cheese) is True
        assert store.collections.create_item(item(name, "cheese", {"kind": "other"})) is False
        assert store.collections.get_items(name, ["cheese", "nope"]) == {"cheese": cheese}
        # the same id in another collection is another item
        other = item(f"{name}x", "cheese", {})
        assert store.collections.create_item(other) is True
        changed = item(name, "cheese", {"kind": "comté"}, "ann", 2)
        store.collections.put_items([changed])
        assert store.collections.get_items(name, ["cheese"]) == {"cheese": changed}
        assert store.collections.get_items(f"{name}x", ["cheese"]) == {"cheese": other}
        assert store.collections.delete_items(name, ["cheese", "nope"]) == 1
        assert store.collections.delete_items(name, ["cheese"]) == 0
        assert store.collections.get_items(name, ["cheese"]) == {}
        assert store.collections.get_items(f"{name}x", ["cheese"]) == {"cheese": other}

    def test_batches(self, store):
        name = f"c_{uuid.uuid4().hex[:6]}"
        items = [item(name, f"id:{i}", {"n": i}, "" if i % 2 else "bob") for i in range(150)]
        store.collections.put_items(items)
        got = store.collections.get_items(name, [i.id for i in items])
        assert got == {i.id: i for i in items}
        assert got["id:0"].user_id == "bob" and got["id:1"].user_id == ""
        assert store.collections.delete_items(name, [i.id for i in items[:120]]) == 120
        assert set(store.collections.get_items(name, [i.id for i in items])) == {i.id for i in items[120:]}
        store.collections.put_items([])
