"""Cassandra: timelines (``feeds.store.TimelineStore``) and notification marks (``MarkStore``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from feedline.feeds.store import Entry, MarkStore, RankedWindow, TimelineStore, Window
from feedline.models.cursors import EVERYTHING, Range
from feedline.storage.cassandra.activities import CassandraActivities
from feedline.storage.cassandra.base import (
    INT32_MAX,
    OWN,
    SCAN_PAGE,
    CassandraRole,
    chunks,
    from_origin,
    key_uuid,
    origin_value,
)
from feedline.storage.cassandra.session import Batch, CassandraSession
from feedline.storage.cassandra.statements import range_name


def _entry_put(feed: str, key: bytes, origin: str, extra: tuple | None = None) -> list[tuple[str, tuple]]:
    """A timeline row and its index row; ``extra`` = (group, actor, verb) of grouped feeds."""
    put = ("timeline_put", (feed, key, origin)) if extra is None else (
        "timeline_put_grouped", (feed, key, origin, *extra))
    return [put, ("by_origin_put", (feed, origin, key))]


def _extra(e: Entry) -> tuple | None:
    if e.group is None and e.actor is None and e.verb is None:
        return None
    return (e.group, e.actor, e.verb)


def _entry(row: tuple) -> Entry:
    key, origin, group, actor, verb = row
    return Entry(key, from_origin(origin), group, actor, verb)


def _entry_delete(feed: str, key: bytes, origin: str) -> list[tuple[str, tuple]]:
    return [("timeline_delete", (feed, key)), ("by_origin_delete", (feed, origin, key))]


#: the stored origin of an entry that has none (the feed it was written to). Not null: writing a


class CassandraTimelines(CassandraRole, TimelineStore):
    def __init__(self, session: CassandraSession, activities: CassandraActivities):
        CassandraRole.__init__(self, session)
        TimelineStore.__init__(self, activities)
        self._ranks = activities.get_ranks

    def add_entries(self, feed: str, entries: Sequence[Entry]) -> None:
        latest = {e.key: e for e in entries}
        if not latest:
            return
        # reverse index first (one partition per activity), then the feed's partition: each
        # timeline row together with its timeline_by_origin row, in single-partition batches
        self.session.concurrent(("activity_feeds_put", (key_uuid(k), feed, origin_value(e.origin)))
                                for k, e in latest.items())
        self.session.concurrent([Batch([_entry_put(feed, k, origin_value(e.origin), _extra(e))
                                        for k, e in latest.items()])])

    def add_to_feeds(self, key: bytes, feeds: Sequence[str], origin: str | None) -> None:
        feeds = list(dict.fromkeys(feeds))
        if not feeds:
            return
        o, u = origin_value(origin), key_uuid(key)
        self.session.concurrent([Batch.rows("activity_feeds_put", [(u, f, o) for f in feeds])])
        # one request per feed: its timeline row and index row as one single-partition batch
        self.session.concurrent(Batch([_entry_put(f, key, o)]) for f in feeds)

    def _held(self, feed: str, keys: Sequence[bytes]) -> dict[bytes, tuple]:
        """The timeline rows ``(key, origin, group, actor, verb)`` of those of ``keys`` in ``feed``."""
        return {r[0]: r for chunk in chunks(keys) for r in self.session.rows("timeline_rows", (feed, chunk))}

    def _origins(self, feed: str, keys: Sequence[bytes]) -> dict[bytes, str]:
        """Current stored ``{key: origin}`` of those of ``keys`` that ``feed`` holds."""
        return {k: r[1] for k, r in self._held(feed, keys).items()}

    def remove_entries(self, feed: str, keys: Sequence[bytes]) -> None:
        held = self._origins(feed, list(dict.fromkeys(keys)))  # absent keys: no tombstones
        self._remove_held(feed, held, stale=())

    def _remove_held(self, feed: str, held: dict[bytes, str], stale: Iterable[tuple[bytes, str]]) -> None:
        """Delete ``feed``'s entries ``{key: origin}`` with their index rows (and ``stale`` ones)."""
        groups = [_entry_delete(feed, k, o) for k, o in held.items()]
        groups += [[("by_origin_delete", (feed, o, k))] for k, o in stale]
        if groups:
            self.session.concurrent([Batch(groups)])
        self.session.concurrent(("activity_feeds_delete", (key_uuid(k), feed)) for k in held)

    def remove_from_feeds(self, key: bytes, feeds: Sequence[str]) -> None:
        feeds = list(dict.fromkeys(feeds))
        if not feeds:
            return
        u = key_uuid(key)
        indexed: dict[str, str] = {}
        for chunk in chunks(feeds):
            indexed.update(self.session.rows("activity_feeds_in", (u, chunk)))
        # every asked feed loses the entry, even one the reverse index does not list (a race)
        self.session.concurrent(
            Batch([_entry_delete(f, key, indexed[f])]) if f in indexed else ("timeline_delete", (f, key))
            for f in feeds)
        if indexed:
            self.session.concurrent([Batch.rows("activity_feeds_delete", [(u, f) for f in indexed])])

    def read_entries(self, feed: str, limit: int, offset: int = 0, rng: Range = EVERYTHING,
                     own_only: bool = False) -> list[Entry]:
        if limit <= 0:
            return []
        bounds = _bounds(rng)
        if bounds is None:
            return []
        upper, lower, values = bounds
        if own_only:
            return self._read_own(feed, limit, offset, upper, lower, values)
        rows = self.session.rows(range_name("timeline_read", upper, lower),
                                 (feed, *values, min(offset + limit, INT32_MAX)))
        return [_entry(r) for r in rows[offset:]]

    def _read_own(self, feed: str, limit: int, offset: int, upper: str, lower: str,
                  values: list[bytes]) -> list[Entry]:
        # own entries are the (feed, OWN) slice of timeline_by_origin, checked against timeline
        out: list[Entry] = []
        skip = offset
        fetch = min(max(offset + limit, 16), SCAN_PAGE * 5)
        own = range_name("by_origin_read", upper, lower)
        for page in self.session.pages(own, (feed, OWN, *values), fetch):
            held = self._held(feed, [r[0] for r in page])
            for (k,) in page:
                row = held.get(k)
                if row is None or row[1] != OWN:
                    continue
                if skip:
                    skip -= 1
                    continue
                out.append(_entry(row))
                if len(out) == limit:
                    return out
        return out

    def read_window(self, feed: str, limit: int) -> Window:
        if limit <= 0:
            return [], [], [], [], []
        rows = self.session.rows("timeline_window", (feed, min(limit, INT32_MAX)))
        if not rows:
            return [], [], [], [], []
        keys, origins, groups, actors, verbs = (list(col) for col in zip(*rows))
        return keys, [from_origin(o) for o in origins], groups, actors, verbs

    def read_ranked_window(self, feed: str, limit: int) -> RankedWindow:
        # the window from the feed's partition, then the blobs by id (chunked IN, concurrent):
        # the blob lives with the activity, so an update rewrites one row, not every feed
        keys, origins, *_ = self.read_window(feed, limit)
        ranks = self._ranks(keys)
        held = [(k, o) for k, o in zip(keys, origins) if k in ranks]  # others: removal propagating
        return [k for k, _ in held], [o for _, o in held], [ranks[k] for k, _ in held]

    def has_entry(self, feed: str, key: bytes) -> bool:
        return bool(self.session.rows("timeline_has", (feed, key)))

    def feeds_of_activity(self, key: bytes) -> list[tuple[str, str | None]]:
        return [(f, from_origin(o)) for f, o in self.session.rows("activity_feeds_get", (key_uuid(key),))]

    def remove_by_origin(self, feed: str, origin: str) -> int:
        removed = 0
        pages = self.session.pages("by_origin_keys", (feed, origin), SCAN_PAGE * 5)
        keys = [r[0] for page in pages for r in page]
        for chunk in chunks(keys, SCAN_PAGE):
            current = self._origins(feed, chunk)
            held = {k: origin for k in chunk if current.get(k) == origin}
            # rows whose entry is gone or now comes from elsewhere are dropped from the index too
            self._remove_held(feed, held, stale=[(k, origin) for k in chunk if k not in held])
            removed += len(held)
        return removed



class CassandraMarks(CassandraRole, MarkStore):
    def get_marks(self, feed: str) -> bytes | None:
        rows = self.session.rows("marks_get", (feed,))
        return rows[0][0] if rows else None

    def put_marks(self, feed: str, state: bytes) -> None:
        self.session.write("marks_put", (feed, state))



def _bounds(rng: Range) -> tuple[str, str, list[bytes]] | None:
    """(upper kind, lower kind, bound values) of a range, or None when it is empty."""
    upper, up_incl = rng.upper()
    lower, low_incl = rng.lower()
    if upper is not None and lower is not None and (
            upper < lower or (upper == lower and not (up_incl and low_incl))):
        return None
    values: list[bytes] = []
    up = low = ""
    if upper is not None:
        up = "lte" if up_incl else "lt"
        values.append(upper)
    if lower is not None:
        low = "gte" if low_incl else "gt"
        values.append(lower)
    return up, low, values
