"""The storage contract every backend fulfils (tests/contract runs the same suite on each).

Data model, chosen for the access paths of a feed service:

- **activities**: each activity stored once, by its 16-byte sort key (see ``models._ids_py``), as
  the canonical JSON bytes the API returns, plus ``foreign_id`` (for lookups) and the feed it was
  posted to (for removal propagation).
- **timelines**: per feed, entries ``(key, origin)`` ordered newest first; ``origin`` is ``None``
  for the feed an activity was written to (and ``to`` targets), the source feed for follow copies.
- **follows**: both directions, with the follow time.

Keys are opaque 16-byte strings whose byte order is time order. Every write is an idempotent
upsert, so a redelivered fan-out message changes nothing.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
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


@dataclass(frozen=True, slots=True)
class Entry:
    key: bytes
    origin: str | None
    #: aggregated/notification feeds only: the group key rendered at write time, and the actor
    #: and verb, so a read can group a window without fetching bodies
    group: str | None = None
    actor: str | None = None
    verb: str | None = None


@dataclass(frozen=True, slots=True)
class Follow:
    source: str
    target: str
    created_us: int


@dataclass(frozen=True, slots=True)
class Range:
    """Cursor filters of a read (``id_lt``, ``id_lte``, ``id_gt``, ``id_gte``) as keys."""

    lt: bytes | None = None
    lte: bytes | None = None
    gt: bytes | None = None
    gte: bytes | None = None

    def upper(self) -> tuple[bytes | None, bool]:
        """The tightest upper bound and whether it is inclusive."""
        if self.lt is not None and (self.lte is None or self.lt <= self.lte):
            return self.lt, False
        return self.lte, True

    def lower(self) -> tuple[bytes | None, bool]:
        if self.gt is not None and (self.gte is None or self.gt >= self.gte):
            return self.gt, False
        return self.gte, True


EVERYTHING = Range()


@dataclass(frozen=True, slots=True)
class Match:
    """Read-time filter on activity fields (a Feedline extension: ``?verb=`` / ``?actor=``)."""

    verb: str | None = None
    actor: str | None = None

    def accepts(self, rec: ActivityRecord) -> bool:
        return (self.verb is None or rec.verb == self.verb) and (self.actor is None or rec.actor == self.actor)


#: how many timeline entries a filtered read may examine before it stops (bounded work per read)
MAX_FILTER_SCAN = 5000


class Storage(ABC):
    """Contract of a feed store. Public methods are concrete where they compose the hooks."""

    # ---- activities -------------------------------------------------------------------------
    @abstractmethod
    def put_activities(self, records: Sequence[ActivityRecord]) -> None:
        """Upsert activities (same key replaces body, foreign_id and feed)."""

    @abstractmethod
    def get_activities(self, keys: Sequence[bytes]) -> dict[bytes, ActivityRecord]:
        """The stored activities among ``keys`` (unknown keys are absent)."""

    @abstractmethod
    def delete_activities(self, keys: Sequence[bytes]) -> None:
        """Forget activities (their timeline entries are removed separately)."""

    @abstractmethod
    def keys_by_foreign_id(self, foreign_id: str) -> list[bytes]:
        """Keys of the stored activities with this ``foreign_id`` (any time)."""

    # ---- timelines --------------------------------------------------------------------------
    @abstractmethod
    def add_entries(self, feed: str, entries: Sequence[Entry]) -> None:
        """Upsert entries into one feed (origin, group, actor and verb as given)."""

    @abstractmethod
    def add_to_feeds(self, key: bytes, feeds: Sequence[str], origin: str | None) -> None:
        """Upsert one activity into many feeds (the fan-out write)."""

    @abstractmethod
    def remove_entries(self, feed: str, keys: Sequence[bytes]) -> None:
        """Remove entries from one feed; absent keys are ignored."""

    @abstractmethod
    def remove_from_feeds(self, key: bytes, feeds: Sequence[str]) -> None:
        """Remove one activity from many feeds."""

    @abstractmethod
    def read_entries(self, feed: str, limit: int, offset: int = 0, rng: Range = EVERYTHING,
                     own_only: bool = False) -> list[Entry]:
        """Entries newest first within ``rng``, skipping ``offset``; ``own_only`` keeps origin None."""

    @abstractmethod
    def has_entry(self, feed: str, key: bytes) -> bool: ...

    @abstractmethod
    def feeds_of_activity(self, key: bytes) -> list[tuple[str, str | None]]:
        """Every ``(feed, origin)`` that holds the activity (the reverse index)."""

    @abstractmethod
    def remove_by_origin(self, feed: str, origin: str) -> int:
        """Remove the entries of ``feed`` copied from ``origin`` (unfollow); returns how many."""

    def read_window(self, feed: str, limit: int) -> tuple[Sequence, Sequence, Sequence, Sequence, Sequence]:
        """The newest ``limit`` entries as columns ``(keys, origins, groups, actors, verbs)``.

        Column form because an aggregated read groups the whole window in the compiled core:
        one Python object per row (an ``Entry``) would cost more than the grouping itself.
        Backends override this with a query that fills the columns directly.
        """
        entries = self.read_entries(feed, limit)
        return ([e.key for e in entries], [e.origin for e in entries], [e.group for e in entries],
                [e.actor for e in entries], [e.verb for e in entries])

    def get_bodies(self, keys: Sequence[bytes]) -> dict[bytes, bytes]:
        """Stored bodies by key (unknown keys absent): the read path needs nothing else."""
        return {k: r.body for k, r in self.get_activities(keys).items()}

    def read_page(self, feed: str, limit: int, offset: int = 0, rng: Range = EVERYTHING,
                  match: Match | None = None) -> list[tuple[bytes, bytes, str | None]]:
        """``(key, body, origin)`` newest first: the entries joined with the stored bodies.

        Entries whose activity is gone are skipped (a removal still propagating). With ``match``,
        only matching activities count towards ``offset`` and ``limit``, and at most
        ``MAX_FILTER_SCAN`` entries are examined.
        """
        if match is None:
            entries = self.read_entries(feed, limit, offset, rng)
            found = self.get_activities([e.key for e in entries])
            return [(e.key, found[e.key].body, e.origin) for e in entries if e.key in found]
        out: list[tuple[bytes, bytes, str | None]] = []
        skip, scanned, batch = offset, 0, 200
        upper, inclusive = rng.upper()
        while len(out) < limit and scanned < MAX_FILTER_SCAN:
            window = Range(lt=None if inclusive else upper, lte=upper if inclusive else None, gt=rng.gt, gte=rng.gte)
            entries = self.read_entries(feed, batch, 0, window)
            if not entries:
                break
            scanned += len(entries)
            found = self.get_activities([e.key for e in entries])
            for e in entries:
                rec = found.get(e.key)
                if rec is None or not match.accepts(rec):
                    continue
                if skip:
                    skip -= 1
                    continue
                out.append((e.key, rec.body, e.origin))
                if len(out) == limit:
                    break
            upper, inclusive = entries[-1].key, False
            if len(entries) < batch:
                break
        return out

    # ---- notification marks -----------------------------------------------------------------
    @abstractmethod
    def get_marks(self, feed: str) -> bytes | None:
        """The feed's seen/read state (an opaque blob the service encodes), or None."""

    @abstractmethod
    def put_marks(self, feed: str, state: bytes) -> None:
        """Replace the feed's seen/read state."""

    # ---- follows ----------------------------------------------------------------------------
    @abstractmethod
    def add_follow(self, source: str, target: str, created_us: int) -> bool:
        """Record ``source`` follows ``target``; False (and no change) if it already does."""

    @abstractmethod
    def remove_follow(self, source: str, target: str) -> bool:
        """Forget the follow; False if there was none."""

    @abstractmethod
    def list_followers(self, feed: str, limit: int, offset: int = 0,
                       only: Iterable[str] = ()) -> list[Follow]:
        """Who follows ``feed``, newest follow first; ``only`` restricts to those sources."""

    @abstractmethod
    def list_following(self, feed: str, limit: int, offset: int = 0,
                       only: Iterable[str] = ()) -> list[Follow]:
        """Whom ``feed`` follows, newest follow first; ``only`` restricts to those targets."""

    @abstractmethod
    def follower_page(self, feed: str, after: str | None, limit: int) -> list[str]:
        """Follower feed ids of ``feed`` in a stable order, after ``after`` (fan-out chunks)."""

    @abstractmethod
    def count_follows(self, feed: str, slugs: Sequence[str] = (), followers: bool = True) -> int:
        """How many follow ``feed`` (or ``feed`` follows), optionally only feeds of ``slugs``."""

    # ---- lifecycle --------------------------------------------------------------------------
    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
