"""The collection store contract: items keyed by (collection, id), holding canonical bytes.

Bound to every backend by ``tests/contract/collection_store_contract.py``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ItemRecord:
    collection: str
    id: str
    #: the owner (a user token may change only its own items); "" when none was given
    user_id: str
    #: ``{"id","collection","foreign_id","data","created_at","updated_at"}`` as the API returns it
    body: bytes
    created_us: int
    updated_us: int


class CollectionStore(ABC):
    @abstractmethod
    def create_item(self, item: ItemRecord) -> bool:
        """Store a new item; False (and no change) if its (collection, id) is taken."""

    @abstractmethod
    def put_items(self, items: Sequence[ItemRecord]) -> None:
        """Store items, replacing the records of their (collection, id)."""

    @abstractmethod
    def get_items(self, collection: str, ids: Sequence[str]) -> dict[str, ItemRecord]:
        """The stored items of ``collection`` among ``ids``, by id (missing ones left out)."""

    @abstractmethod
    def delete_items(self, collection: str, ids: Sequence[str]) -> int:
        """Forget the items; how many existed."""
