"""The event store contract: append-only analytics events, read back per user by time.

Bound to every backend by ``tests/contract/event_store_contract.py``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class EventRecord:
    #: 16-byte time-ordered key (``models.ids``): the event time, then a hash of the event
    key: bytes
    kind: str  # "engagement" | "impression"
    user_id: str
    feed_id: str  # "" when the event names no feed
    #: the canonical JSON of the event (``model.encode``)
    body: bytes


class EventStore(ABC):
    @abstractmethod
    def add_events(self, events: Sequence[EventRecord]) -> None:
        """Store events (a key stored twice is one event: redelivered requests do not double)."""

    @abstractmethod
    def user_events(self, user_id: str, since_us: int, until_us: int, limit: int) -> list[EventRecord]:
        """Events of ``user_id`` with ``since_us <= time < until_us``, newest first, at most ``limit``
        (the service bounds the window: a backend may cost a query per day of it)."""
