"""The activity store contract: each activity stored once, by its 16-byte sort key.

The stored value is the canonical JSON bytes the API returns (``serialization``), plus the
``foreign_id`` (lookups), the feed it was posted to (removal propagation), its actor and verb
(filtered reads without decoding the body) and its ranking field blob (ranked reads without
decoding the body, ``feeds.ranked``). Every write is an idempotent upsert.
Bound to every backend by ``tests/contract/activity_store_contract.py``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ActivityRecord:
    key: bytes
    body: bytes
    foreign_id: str = ""
    #: the feed the activity was added to (None for add_to_many copies)
    feed: str | None = None
    #: kept beside the body for filtered reads (``?verb=`` / ``?actor=``) without decoding it
    actor: str = ""
    verb: str = ""
    #: where the body's reference strings are (``enrichment.refs``), found once at write time;
    #: None for rows stored before refs existed (an enriched read scans those bodies instead)
    refs: bytes | None = None
    #: the numeric fields ranking methods read, extracted from ``body`` at write time
    #: (``ranking.FieldLayout.extract``); replaced with the body, None = none stored
    rank: bytes | None = None


class ActivityStore(ABC):
    @abstractmethod
    def put_activities(self, records: Sequence[ActivityRecord]) -> None:
        """Upsert activities (same key replaces body, foreign_id, actor, verb, refs and rank; a record
        without ``feed`` keeps the stored one)."""

    @abstractmethod
    def get_activities(self, keys: Sequence[bytes]) -> dict[bytes, ActivityRecord]:
        """The stored activities among ``keys`` (unknown keys are absent)."""

    @abstractmethod
    def delete_activities(self, keys: Sequence[bytes]) -> None:
        """Forget activities (their timeline entries are removed separately)."""

    @abstractmethod
    def keys_by_foreign_id(self, foreign_id: str) -> list[bytes]:
        """Keys of the stored activities with this ``foreign_id`` (any time), newest first."""

    def get_bodies_refs(self, keys: Sequence[bytes]) -> dict[bytes, tuple[bytes, bytes | None]]:
        """Stored ``(body, refs)`` by key (unknown keys absent): what an enriched read needs."""
        return {k: (r.body, r.refs) for k, r in self.get_activities(keys).items()}

    def bodies_and_refs(self, keys: Sequence[bytes]) -> tuple[dict[bytes, bytes], dict[bytes, bytes | None]]:
        """``get_bodies_refs`` as two maps, ``(bodies, refs)`` by key: what a page splice takes."""
        pairs = self.get_bodies_refs(keys)
        return {k: p[0] for k, p in pairs.items()}, {k: p[1] for k, p in pairs.items()}

    def get_bodies(self, keys: Sequence[bytes]) -> dict[bytes, bytes]:
        """Stored bodies by key (unknown keys absent): the read path needs nothing else."""
        return {k: r.body for k, r in self.get_activities(keys).items()}
