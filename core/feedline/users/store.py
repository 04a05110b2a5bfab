"""The user store contract: one record per user id, holding the canonical response bytes.

Bound to every backend by ``tests/contract/user_store_contract.py``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: str
    #: ``{"id","data","created_at","updated_at"}`` exactly as the API returns it (``model.encode``)
    body: bytes
    created_us: int
    updated_us: int


class UserStore(ABC):
    @abstractmethod
    def create_user(self, user: UserRecord) -> bool:
        """Store a new user; False (and no change) if the id is taken."""

    @abstractmethod
    def put_user(self, user: UserRecord) -> None:
        """Store ``user``, replacing the record of its id (updates)."""

    @abstractmethod
    def get_users(self, ids: Sequence[str]) -> dict[str, UserRecord]:
        """The stored users among ``ids`` (missing ids are left out)."""

    @abstractmethod
    def delete_user(self, user_id: str) -> bool:
        """Forget the user; False if there was none."""
