"""The reaction store contract: each reaction once by id, indexed by activity, user and parent.

A record carries the reaction's canonical ``body`` (built by the service, ``model.encode_body``);
the store keeps the ``children`` members of every reaction exact (``model.encode_children``: the
latest children of each kind and the counts of its live children) and the reaction counts of
every activity (live top-level reactions per kind). Both are recomputed from the exact set of
reactions after each change, never incremented, so applying a write twice (a retry, a
redelivered message) or two writes at once leaves them exact.

Soft-deleted reactions (``deleted_us`` set) keep their row but leave every listing, count and
``latest_children``. Listings are by 16-byte sort key (``model.key_of``), newest first unless
ascending. Bound to every backend by ``tests/contract/reaction_store_contract.py``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from feedline.models.cursors import Range

#: listing scopes: the lookup fields of ``GET /reaction/{field}/{value}/``
ACTIVITY, USER, PARENT = "activity_id", "user_id", "reaction_id"
SCOPES = (ACTIVITY, USER, PARENT)


@dataclass(frozen=True, slots=True)
class ReactionRecord:
    id: str
    key: bytes
    kind: str
    activity_id: str
    user_id: str
    #: "" for a top-level reaction
    parent: str
    #: canonical JSON of the reaction's own fields (``model.encode_body``)
    body: bytes
    created_us: int
    updated_us: int
    deleted_us: int | None = None
    target_feeds: tuple[str, ...] = ()
    #: ``target_feeds_extra_data`` as canonical JSON (kept for target-feed changes, not returned)
    extra: bytes = b"{}"


@dataclass(frozen=True, slots=True)
class StoredReaction:
    record: ReactionRecord
    #: the ``latest_children`` / ``children_counts`` members (``model.EMPTY_CHILDREN`` when none)
    children: bytes


@dataclass(frozen=True, slots=True)
class Scope:
    """What a listing reads: reactions of an activity (top-level only), of a user (all), or the
    children of a reaction; optionally of one kind."""

    field: str
    value: str
    kind: str | None = None


class ReactionStore(ABC):
    @abstractmethod
    def add_reaction(self, rec: ReactionRecord) -> bool:
        """Store a new reaction, index it, and refresh its parent's children and its activity's
        counts. False (and nothing changed but the refreshes) if the id is already stored."""

    @abstractmethod
    def put_reaction(self, rec: ReactionRecord) -> None:
        """Replace a stored reaction's body, targets, extra, times and deleted state (update, soft
        delete, restore); listings, counts and the parent's children follow the new state."""

    @abstractmethod
    def delete_reaction(self, reaction_id: str) -> bool:
        """Forget a reaction (its children are deleted separately); False if it was not stored."""

    @abstractmethod
    def get_reactions(self, reaction_ids: Sequence[str]) -> dict[str, StoredReaction]:
        """The stored reactions among ``reaction_ids``, soft-deleted ones included."""

    @abstractmethod
    def list_reactions(self, scope: Scope, rng: Range, limit: int, ascending: bool = False) -> list[StoredReaction]:
        """Live reactions of ``scope`` within the key range ``rng``, by key (newest first, or
        oldest first when ``ascending``), at most ``limit``."""

    @abstractmethod
    def own_children(self, parent_ids: Sequence[str], user_id: str,
                     kinds: Sequence[str] = ()) -> dict[str, list[StoredReaction]]:
        """Live children of each parent by ``user_id`` (optionally of ``kinds``), newest first;
        parents without any are absent."""

    @abstractmethod
    def reaction_counts(self, activity_id: str) -> dict[str, int]:
        """Live top-level reactions of an activity per kind (kinds with none are absent)."""

    def enrichment_rows(self, activity_ids: Sequence[str], kinds: Sequence[str] | None, latest: int,
                        own_user: str | None) -> tuple[list[tuple[str, str, int]], list[tuple]]:
        """The reaction data of a page of activities, in one batched look-up (enriched reads):

        - counts: ``(activity_id, kind, n)`` of live top-level reactions, ``n > 0``;
        - rows: ``(activity_id, kind, slot, reaction_id, user_id, body, members)``: slot 0 for the
          ``latest`` newest live top-level reactions of each activity and kind, slot 1 for all of
          ``own_user``'s (when given); newest first within each (activity, kind, slot); ``members``
          is ``","`` + the stored children members, so the reaction is ``body[:-1] + members + "}"``.

        ``kinds`` limits both to those kinds (None: every kind). This default reads activity by
        activity; backends override it with batched reads.
        """
        from feedline.models.cursors import EVERYTHING

        wanted = None if kinds is None else set(kinds)
        counts: list[tuple[str, str, int]] = []
        rows: list[tuple] = []
        for aid in dict.fromkeys(activity_ids):
            per_kind = {k: n for k, n in self.reaction_counts(aid).items() if n and (wanted is None or k in wanted)}
            counts += [(aid, k, n) for k, n in sorted(per_kind.items())]
            for kind in sorted(per_kind) if latest > 0 else ():
                for s in self.list_reactions(Scope(ACTIVITY, aid, kind), EVERYTHING, latest):
                    r = s.record
                    rows.append((aid, kind, 0, r.id, r.user_id, r.body, b"," + s.children))
            if own_user:
                for s in self.list_reactions(Scope(USER, own_user), EVERYTHING, 10_000):
                    r = s.record
                    if r.activity_id == aid and not r.parent and (wanted is None or r.kind in wanted):
                        rows.append((aid, r.kind, 1, r.id, r.user_id, r.body, b"," + s.children))
        return counts, rows
