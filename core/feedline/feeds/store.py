"""Store contracts of the feeds room: timelines (entries per feed) and notification marks.

- **timelines**: per feed, entries ``(key, origin)`` ordered newest first; ``origin`` is ``None``
  for the feed an activity was written to (and ``to`` targets), the source feed for follow copies.
  Entries of aggregated/notification feeds also carry the group key rendered at write time, and
  the actor and verb, so a read groups a window without fetching bodies.
- **marks**: the seen/read state of a notification feed, an opaque blob (``feeds.marks``).

Keys are opaque 16-byte strings whose byte order is time order. Every write is an idempotent
upsert, so a redelivered fan-out message changes nothing.

A backend may keep a copy of each activity's body in its timeline rows (Cassandra does: a page is
then one partition read). Such copies follow the activity store: the activities service calls
``refresh_copies`` after it changed an activity, and a copy is never older than what the
activity store held when it was written (``storage/cassandra/timelines.py`` explains how). A
backend that joins pages at read time (SQLite) keeps no copies and has nothing to refresh. Bound to every backend by
``tests/contract/timeline_store_contract.py`` and ``mark_store_contract.py``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from feedline.activities.store import ActivityStore
from feedline.models.cursors import EVERYTHING, Match, Range

#: how many timeline entries a filtered read may examine before it stops (bounded work per read)
MAX_FILTER_SCAN = 5000

#: one page row: ``(key, stored body, origin)``, plus the body's reference offsets
#: (``ActivityRecord.refs``) as a fourth member when the read asked for them (enriched reads)
PageRow = tuple
#: a window as columns ``(keys, origins, group keys, actors, verbs)``
Window = tuple[Sequence, Sequence, Sequence, Sequence, Sequence]
#: a ranked read's window as columns ``(keys, origins, ranking blobs)``
RankedWindow = tuple[Sequence[bytes], Sequence["str | None"], Sequence["bytes | None"]]


@dataclass(frozen=True, slots=True)
class Entry:
    key: bytes
    origin: str | None
    #: aggregated/notification feeds only: the group key rendered at write time, and the actor
    #: and verb, so a read can group a window without fetching bodies
    group: str | None = None
    actor: str | None = None
    verb: str | None = None


@dataclass(slots=True)
class GroupedRead:
    """A page of an aggregated/notification feed read from groups a backend keeps materialized.

    ``groups`` are ``aggregation.grouping.aggregate`` tuples ``(group key, member indices, activity
    count, actor count, newest index, oldest index)`` whose indices refer to ``keys`` (and
    ``origins``/``verbs``, filled for members and newest members), newest first, at most
    ``limit + 1`` (the extra one only says that a next page exists); ``bodies`` (and ``refs``, when
    asked) hold the first ``limit`` groups' members. ``heads``: ``(group key, newest key)`` of
    every group whose newest member is newer than the asked bound, newest first (notification
    counters and marks), or None when not asked.
    """

    groups: list[tuple]
    keys: list[bytes]
    origins: list[str | None]
    verbs: list[str | None]
    bodies: dict[bytes, bytes]
    refs: dict[bytes, bytes | None] | None = None
    heads: list[tuple[str, bytes]] | None = None


class TimelineStore(ABC):
    """Timelines. ``activities`` is the same backend's activity store: a page joins the two."""

    def __init__(self, activities: ActivityStore):
        self.activities = activities

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

    def place_entries(self, key: bytes, entries: Sequence[tuple[str, Entry]]) -> None:
        """Upsert one activity into many feeds, each with its own entry ``(feed, entry)`` (the
        fan-out into aggregated/notification feeds, whose entries carry per-feed group keys)."""
        for feed, entry in entries:
            self.add_entries(feed, [entry])

    def refresh_copies(self, key: bytes, after: str | None = None,
                       limit: int | None = None) -> tuple[int, str | None]:
        """Bring the copies of activity ``key``'s body that timelines keep up to date with the
        activity store, for the feeds that hold it (the reverse index) after ``after``, at most
        ``limit`` of them, in feed order. Returns ``(feeds rewritten, last feed)``, the last feed
        being None when no feed may follow (else: continue with ``after=last``). Idempotent, and a
        late or repeated call never brings back an older body. Default: no copies, ``(0, None)``."""
        return 0, None

    def page_bodies(self, feed: str, keys: Sequence[bytes]) -> dict[bytes, bytes]:
        """Bodies of entries of ``feed`` (an aggregated page's members) by key; a key whose
        activity is gone is absent."""
        return self.activities.get_bodies(keys)

    def read_window(self, feed: str, limit: int) -> Window:
        """The newest ``limit`` entries as columns ``(keys, origins, groups, actors, verbs)``.

        Column form because an aggregated read groups the whole window in the compiled core:
        one Python object per row (an ``Entry``) would cost more than the grouping itself.
        Backends override this with a query that fills the columns directly.
        """
        entries = self.read_entries(feed, limit)
        return ([e.key for e in entries], [e.origin for e in entries], [e.group for e in entries],
                [e.actor for e in entries], [e.verb for e in entries])

    def read_groups(self, feed: str, max_length: int, cap: int, rng: Range, offset: int, limit: int,
                    with_refs: bool = False, heads_above: bytes | None = None) -> GroupedRead | None:
        """The page of groups of ``feed`` exactly as grouping the newest ``max_length`` entries
        would give it (``cap`` members shown per group, counts over all; groups selected by their
        newest member's key within ``rng``, ``offset`` groups skipped, ``limit + 1`` returned),
        from groups the backend keeps materialized; ``heads_above``: also every group's head newer
        than that key (``b""``: all).

        None when the backend cannot answer exactly this way (no materialized groups, a feed that
        may hold more than ``max_length`` entries, a member whose activity is gone): the caller
        then groups ``read_window`` itself. Default: None (SQLite groups the window in one query).
        """
        return None

    def read_ranked_window(self, feed: str, limit: int) -> RankedWindow:
        """The newest ``limit`` entries whose activity is stored, as columns ``(keys, origins,
        blobs)``: ``blobs`` are the activities' ranking blobs (``ActivityRecord.rank``, None where
        none is stored). No bodies: a ranked read fetches only its page's.

        Backends override this with one query (SQLite: a join) or two (Cassandra: the window,
        then the blobs by id).
        """
        keys, origins, *_ = self.read_window(feed, limit)
        recs = self.activities.get_activities(keys)
        rows = [(k, o, recs[k].rank) for k, o in zip(keys, origins) if k in recs]
        if not rows:
            return [], [], []
        ks, os_, bs = zip(*rows)
        return list(ks), list(os_), list(bs)

    def read_page(self, feed: str, limit: int, offset: int = 0, rng: Range = EVERYTHING,
                  match: Match | None = None, with_refs: bool = False) -> list[PageRow]:
        """``(key, body, origin)`` newest first: the entries joined with the stored bodies
        (``(key, body, origin, refs)`` with ``with_refs``: an enriched read, same round trips).

        Entries whose activity is gone are skipped (a removal still propagating). With ``match``,
        only matching activities count towards ``offset`` and ``limit``, and at most
        ``MAX_FILTER_SCAN`` entries are examined.
        """
        if match is None:
            entries = self.read_entries(feed, limit, offset, rng)
            if with_refs:
                pairs = self.activities.get_bodies_refs([e.key for e in entries])
                return [(e.key, pairs[e.key][0], e.origin, pairs[e.key][1]) for e in entries if e.key in pairs]
            found = self.activities.get_bodies([e.key for e in entries])
            return [(e.key, found[e.key], e.origin) for e in entries if e.key in found]
        out: list[PageRow] = []
        skip, scanned, batch = offset, 0, 200
        upper, inclusive = rng.upper()
        while len(out) < limit and scanned < MAX_FILTER_SCAN:
            window = Range(lt=None if inclusive else upper, lte=upper if inclusive else None, gt=rng.gt, gte=rng.gte)
            entries = self.read_entries(feed, batch, 0, window)
            if not entries:
                break
            scanned += len(entries)
            recs = self.activities.get_activities([e.key for e in entries])
            for e in entries:
                rec = recs.get(e.key)
                if rec is None or not match.accepts(rec.verb, rec.actor):
                    continue
                if skip:
                    skip -= 1
                    continue
                out.append((e.key, rec.body, e.origin, rec.refs) if with_refs else (e.key, rec.body, e.origin))
                if len(out) == limit:
                    break
            upper, inclusive = entries[-1].key, False
            if len(entries) < batch:
                break
        return out


class MarkStore(ABC):
    @abstractmethod
    def get_marks(self, feed: str) -> bytes | None:
        """The feed's seen/read state (an opaque blob the feeds room encodes), or None."""

    @abstractmethod
    def put_marks(self, feed: str, state: bytes) -> None:
        """Replace the feed's seen/read state."""
