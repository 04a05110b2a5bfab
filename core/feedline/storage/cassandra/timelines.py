"""Cassandra: timelines (``feeds.store.TimelineStore``) and notification marks (``MarkStore``).

Every timeline row carries a copy of its activity's body, so a flat page is one slice of one
partition (``read_page``) and an aggregated page's members are one clustering ``IN`` on the same
partition (``page_bodies``). ``activities`` stays the truth; the copies follow it:

- **Versions.** A copy's body cell is written ``USING TIMESTAMP v``, v = the write time of the
  ``activities`` row it was read from (``CassandraActivities.versions``). Cassandra keeps the cell
  with the highest timestamp, so an older body never overwrites a newer one, whatever order the
  writes (a redelivered fan-out chunk, a late refresh) arrive in. The row marker and origin are
  written at the current time, so an entry re-added after a delete shows again.
- **Refresh on update.** ``refresh_copies`` rewrites the copies of the feeds in ``activity_feeds``.
- **The race between a new copy and an update.** A writer writes the reverse-index row, then the
  copy, then reads the activity's version again (``_recheck``) and rewrites its copies if it
  changed. An update writes the activity, then reads the reverse index. Either the update sees the
  writer's index row (and refreshes that copy at the newer version) or it read the index before
  the writer wrote it, and then the writer's re-read comes after the update's write and sees it.
- **Ghosts.** A refresh writes only the body cell (an UPDATE: no row marker). If the entry was
  deleted meanwhile and the refresh's version is newer than the delete, a row with a body and no
  origin remains: every read skips rows without an origin (and reads further to fill the page).
- **What a copy holds.** The body, its reference offsets and its ranking blob (0010), written in
  one UPDATE at one timestamp, so they always belong to the same version: an enriched flat page
  and a ranked window each read one slice. A copy from before 0010 has a body only; reads complete
  such rows from ``activities`` (one ``IN`` for those rows).
- **Rows without a body** (written before migration 0004 and not yet migrated, an activity stored
  after its entry, a copy re-added after an unfollow whose tombstone is newer than the version) are
  served from ``activities`` by one ``IN`` for those rows only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from feedline.feeds.store import Entry, GroupedRead, MarkStore, PageRow, RankedWindow, TimelineStore, Window
from feedline.models.cursors import EVERYTHING, Match, Range
from feedline.storage.cassandra.activities import CassandraActivities, Copy
from feedline.storage.cassandra.base import (
    INT32_MAX,
    OWN,
    SCAN_PAGE,
    CassandraRole,
    chunks,
    from_origin,
    key_uuid,
    origin_value,
    range_bounds,
)
from feedline.storage.cassandra.groups import MaterializedGroups, dirty_marks, member_deletes, member_writes
from feedline.storage.cassandra.session import Batch, CassandraSession
from feedline.storage.cassandra.statements import range_name

_bounds = range_bounds


def _entry_put(feed: str, key: bytes, origin: str, extra: tuple | None = None,
               now_us: int | None = None) -> list[tuple[str, tuple]]:
    """A timeline row and its index row; ``extra`` = (group, actor, verb) of grouped feeds, whose
    group member, group index and log rows go in the same batch when ``now_us`` is given
    (sessions that keep materialized groups, see ``groups.py``)."""
    put = ("timeline_put", (feed, key, origin)) if extra is None else (
        "timeline_put_grouped", (feed, key, origin, *extra))
    out = [put, ("by_origin_put", (feed, origin, key))]
    if extra is not None and extra[0] is not None and now_us is not None:
        out += member_writes(feed, key, extra[0], extra[1], now_us)
    return out


def _feeds_put(u: object, feed: str, origin: str, extra: tuple | None) -> tuple[str, tuple]:
    """The reverse-index row of an entry; grouped entries remember their group (removals need it)."""
    if extra is not None and extra[0] is not None:
        return ("activity_feeds_put_grouped", (u, feed, origin, extra[0]))
    return ("activity_feeds_put", (u, feed, origin))


def _extra(e: Entry) -> tuple | None:
    if e.group is None and e.actor is None and e.verb is None:
        return None
    return (e.group, e.actor, e.verb)


def _entry(row: tuple) -> Entry:
    key, origin, group, actor, verb = row
    return Entry(key, from_origin(origin), group, actor, verb)


def _body_put(feed: str, key: bytes, copy: Copy | None) -> list[tuple[str, tuple]]:
    """The copy of an entry's activity at its version (nothing when the activity is unknown)."""
    if copy is None:
        return []
    return [("copy_body_put", (copy.version, copy.body, copy.refs, copy.rank, feed, key))]


def _moved(feed: str, key: bytes, was: str | None, e: Entry) -> list[tuple[str, tuple]]:
    """An entry placed again under another group key leaves the group it was in (its member cell,
    its index row; the group is marked dirty)."""
    return member_deletes(feed, key, was) if was is not None and was != e.group else []


def _entry_delete(feed: str, key: bytes, origin: str, group: str | None = None) -> list[tuple[str, tuple]]:
    """A timeline row, its index row and (grouped entries) its group member, in one batch."""
    out = [("timeline_delete", (feed, key)), ("by_origin_delete", (feed, origin, key))]
    if group is not None:
        out += member_deletes(feed, key, group)
    return out


class CassandraTimelines(CassandraRole, TimelineStore):
    def __init__(self, session: CassandraSession, activities: CassandraActivities):
        CassandraRole.__init__(self, session)
        TimelineStore.__init__(self, activities)
        #: the same store, typed as this backend's (versions of bodies)
        self.versions = activities.versions
        self._ranks = activities.get_ranks
        self.groups = MaterializedGroups(session, activities)

    def _now(self, grouped: bool) -> int | None:
        """The log time of grouped inserts, or None when no groups are kept (Keyspaces mode)."""
        return self.session.timestamp() if grouped and self.session.body_copies else None

    def add_entries(self, feed: str, entries: Sequence[Entry]) -> None:
        latest = {e.key: e for e in entries}
        if not latest:
            return
        versions = self.versions(list(latest))
        now = self._now(any(e.group is not None for e in latest.values()))
        # an entry held under another group key leaves that group in the same batch
        was = {k: r[2] for k, r in self._held(feed, list(latest)).items()} if now is not None else {}
        # reverse index first (one partition per activity), then the feed's partition: each
        # timeline row with its body copy, its timeline_by_origin row and (grouped feeds) its group
        # rows, in single-partition batches
        self.session.concurrent(_feeds_put(key_uuid(k), feed, origin_value(e.origin), _extra(e))
                                for k, e in latest.items())
        self.session.concurrent([Batch([_entry_put(feed, k, origin_value(e.origin), _extra(e), now)
                                        + _body_put(feed, k, versions.get(k)) + _moved(feed, k, was.get(k), e)
                                        for k, e in latest.items()])])
        left = {g for k, e in latest.items() for g in (was.get(k),) if g is not None and g != e.group}
        self.groups.rewrite_heads({feed: left} if left else {})
        self._recheck(versions, {k: [(feed, e.group)] for k, e in latest.items()})

    def add_to_feeds(self, key: bytes, feeds: Sequence[str], origin: str | None) -> None:
        feeds = list(dict.fromkeys(feeds))
        if not feeds:
            return
        o, u = origin_value(origin), key_uuid(key)
        versions = self.versions([key])
        self.session.concurrent([Batch.rows("activity_feeds_put", [(u, f, o) for f in feeds])])
        # one request per feed: its timeline row, body copy and index row as one single-partition batch
        v = versions.get(key)
        self.session.concurrent(Batch([_entry_put(f, key, o) + _body_put(f, key, v)]) for f in feeds)
        self._recheck(versions, {key: [(f, None) for f in feeds]})

    def place_entries(self, key: bytes, entries: Sequence[tuple[str, Entry]]) -> None:
        latest = {f: e for f, e in entries}
        if not latest:
            return
        u = key_uuid(key)
        versions = self.versions([key])
        v = versions.get(key)
        now = self._now(any(e.group is not None for e in latest.values()))
        # an entry held under another group key (re-sent with a body that renders another key)
        # leaves that group in the same batch: the reverse index remembers each feed's group
        # (for a new activity: empty reads of one partition, concurrently)
        was = {f: g for rs in self.session.concurrent(("activity_feeds_in_grouped", (u, chunk))
                                                      for chunk in chunks(list(latest)))
               for f, _, g in rs.current_rows} if now is not None else {}
        # a fan-out's followers of one kind share one Entry (FeedService.place): its origin and
        # extra columns are derived once per distinct entry, not once per follower
        rows: list[tuple[str, str, tuple | None, Entry]] = []
        prev: Entry | None = None
        o, extra = "", None
        for f, e in latest.items():
            if e is not prev:
                prev, o, extra = e, origin_value(e.origin), _extra(e)
            rows.append((f, o, extra, e))
        self.session.concurrent([Batch([[_feeds_put(u, f, o, x)] for f, o, x, _ in rows])])
        self.session.concurrent(Batch([_entry_put(f, key, o, x, now) + _body_put(f, key, v) + _moved(f, key, was.get(f), e)])
                                for f, o, x, e in rows)
        self.groups.rewrite_heads({f: {was[f]} for f, e in latest.items() if was.get(f) not in (None, e.group)})
        self._recheck(versions, {key: [(f, e.group) for f, e in latest.items()]})

    def _recheck(self, written: dict[bytes, Copy], feeds: dict[bytes, list[tuple[str, str | None]]]) -> None:
        """After writing copies: rewrite those whose activity changed since its version was read
        (an update that read the reverse index before this writer's row was there). ``feeds``:
        per key, the ``(feed, group)`` it was written to (a group's summary is rebuilt)."""
        if not written:
            return  # unknown activities: their rows have no body; reads fall back to `activities`
        now = self.versions(list(written))
        redo = [Batch([_body_put(f, k, copy) + self._marks(f, g)]) for k, copy in now.items()
                if k in written and written[k].version != copy.version for f, g in feeds.get(k, ())]
        if redo:
            self.session.concurrent(redo)

    def _marks(self, feed: str, group: str | None) -> list[tuple[str, tuple]]:
        """The dirty mark of a grouped copy whose body changes (its group's summary holds it)."""
        return dirty_marks(feed, {group}) if group is not None and self.session.body_copies else []

    def refresh_copies(self, key: bytes, after: str | None = None,
                       limit: int | None = None) -> tuple[int, str | None]:
        version = self.versions([key]).get(key)
        if version is None:
            return 0, None  # gone: its removal takes the copies away
        lim = INT32_MAX - 1 if limit is None else max(1, min(limit, INT32_MAX - 1))
        rows = self.session.rows("activity_feeds_after", (key_uuid(key), after or "", lim + 1))
        more = len(rows) > lim
        rows = rows[:lim]
        self.session.concurrent(Batch([_body_put(f, key, version) + self._marks(f, g)]) if g is not None
                                else _body_put(f, key, version)[0] for f, g in rows)
        return len(rows), (rows[-1][0] if more else None)

    def _held(self, feed: str, keys: Sequence[bytes]) -> dict[bytes, tuple]:
        """The timeline rows ``(key, origin, group, actor, verb)`` of those of ``keys`` in ``feed``."""
        return {r[0]: r for chunk in chunks(keys) for r in self.session.rows("timeline_rows", (feed, chunk))
                if r[1] is not None}  # no origin: a ghost (a body refreshed after a delete)

    def _origins(self, feed: str, keys: Sequence[bytes]) -> dict[bytes, tuple[str, str | None]]:
        """Current stored ``{key: (origin, group)}`` of those of ``keys`` that ``feed`` holds (the
        group is None when the session keeps no materialized groups: nothing to remove there)."""
        keep = self.session.body_copies
        return {k: (r[1], r[2] if keep else None) for k, r in self._held(feed, keys).items()}

    def remove_entries(self, feed: str, keys: Sequence[bytes]) -> None:
        held = self._origins(feed, list(dict.fromkeys(keys)))  # absent keys: no tombstones
        self._remove_held(feed, held, stale=())

    def _remove_held(self, feed: str, held: dict[bytes, tuple[str, str | None]],
                     stale: Iterable[tuple[bytes, str]]) -> None:
        """Delete ``feed``'s entries ``{key: (origin, group)}`` with their index rows (and ``stale``
        ones), then rewrite the newest rows of the groups they left."""
        groups = [_entry_delete(feed, k, o, g) for k, (o, g) in held.items()]
        groups += [[("by_origin_delete", (feed, o, k))] for k, o in stale]
        if groups:
            self.session.concurrent([Batch(groups)])
        self.groups.rewrite_heads({feed: {g for _, g in held.values() if g is not None}}
                                  if any(g is not None for _, g in held.values()) else {})
        self.session.concurrent(("activity_feeds_delete", (key_uuid(k), feed)) for k in held)

    def remove_from_feeds(self, key: bytes, feeds: Sequence[str]) -> None:
        feeds = list(dict.fromkeys(feeds))
        if not feeds:
            return
        u = key_uuid(key)
        indexed: dict[str, str] = {}
        grouped: dict[str, str] = {}
        for chunk in chunks(feeds):
            for f, o, g in self.session.rows("activity_feeds_in_grouped", (u, chunk)):
                indexed[f] = o
                if g is not None and self.session.body_copies:
                    grouped[f] = g
        # every asked feed loses the entry, even one the reverse index does not list (a race):
        # those are read for their group (rare), so the group loses its member too
        unlisted = [f for f in feeds if f not in indexed] if self.session.body_copies else []
        if unlisted:
            found = self.session.concurrent(("timeline_group_of", (f, key)) for f in unlisted)
            grouped.update((f, rs.current_rows[0][0]) for f, rs in zip(unlisted, found)
                           if rs.current_rows and rs.current_rows[0][0] is not None)
        self.session.concurrent(
            Batch([_entry_delete(f, key, indexed[f], grouped.get(f))]) if f in indexed
            else Batch([[("timeline_delete", (f, key))] + (member_deletes(f, key, grouped[f]) if f in grouped else [])])
            for f in feeds)
        self.groups.rewrite_heads({f: {g} for f, g in grouped.items()})
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
        rows = self._live("timeline_read", upper, lower, feed, values, offset + limit)
        return [_entry(r) for r in rows[offset:offset + limit]]

    def _live(self, base: str, upper: str, lower: str, feed: str, values: list[bytes], want: int) -> list[tuple]:
        """The first ``want`` rows of a slice (``base`` with bounds) that have an origin: ghosts
        (bodies refreshed after their entry was deleted) are skipped, reading further for them."""
        fetch = want
        while True:
            rows = self.session.rows(range_name(base, upper, lower), (feed, *values, min(fetch, INT32_MAX)))
            live = [r for r in rows if r[1] is not None]
            if len(live) == len(rows) or len(live) >= want or len(rows) < fetch or fetch >= INT32_MAX:
                return live
            fetch += want - len(live)

    def read_page(self, feed: str, limit: int, offset: int = 0, rng: Range = EVERYTHING,
                  match: Match | None = None, with_refs: bool = False) -> list[PageRow]:
        """One slice of the feed's partition: keys, origins and body copies, with the copies'
        reference offsets for an enriched read (filtered reads fall back to the contract's path;
        rows without a copy, or whose copy predates 0010's offsets, are completed from
        ``activities`` by one ``IN`` for those rows only)."""
        if match is not None or limit <= 0:
            return super().read_page(feed, limit, offset, rng, match, with_refs)
        bounds = _bounds(rng)
        if bounds is None:
            return []
        upper, lower, values = bounds
        base = "page_refs_read" if with_refs else "page_read"
        rows = self._live(base, upper, lower, feed, values, offset + limit)[offset:offset + limit]
        if with_refs:
            return self._with_refs(rows)
        missing = [r[0] for r in rows if r[2] is None]
        found = self.activities.get_bodies(missing) if missing else {}
        out: list[PageRow] = []
        for k, o, body in rows:
            if body is None:
                body = found.get(k)
                if body is None:
                    continue  # the activity is gone: a removal is propagating
            out.append((k, body, from_origin(o)))
        return out

    def _with_refs(self, rows: list[tuple]) -> list[PageRow]:
        # a copy with a body but no offsets may predate 0010 (or its activity has none stored:
        # then the truth says so too): those rows take body and offsets from `activities`
        missing = [r[0] for r in rows if r[2] is None or r[3] is None]
        found = self.activities.get_bodies_refs(missing) if missing else {}
        out: list[PageRow] = []
        for k, o, body, refs in rows:
            if body is None or refs is None:
                pair = found.get(k)
                if pair is None:
                    continue  # the activity is gone: a removal is propagating
                body, refs = pair
            out.append((k, body, from_origin(o), refs))
        return out

    def page_bodies(self, feed: str, keys: Sequence[bytes]) -> dict[bytes, bytes]:
        """The body copies of ``keys`` in ``feed``'s partition (a clustering IN: one partition, not
        one per activity); keys without a copy come from ``activities``."""
        keys = list(dict.fromkeys(keys))
        if not keys:
            return {}
        if not self.session.body_copies:
            return self.activities.get_bodies(keys)
        wanted = set(keys)
        # A page's members are usually most of the rows between its oldest and newest member: one
        # contiguous slice of at most twice as many rows is cheaper than an IN of many clustering
        # keys (one slice per key on the replica). What it misses comes by IN, concurrently.
        rows = self.session.rows("timeline_bodies_range", (feed, max(keys), min(keys), 2 * len(keys)))
        out = {k: b for k, o, b in rows if o is not None and b is not None and k in wanted}
        rest = [k for k in keys if k not in out]
        if rest and len(rows) == 2 * len(keys):  # the slice stopped early: a sparse page
            found = self.session.concurrent(("timeline_bodies", (feed, chunk)) for chunk in chunks(rest))
            out.update((k, b) for rs in found for k, o, b in rs.current_rows if o is not None and b is not None)
        missing = [k for k in keys if k not in out]
        if missing:
            out.update(self.activities.get_bodies(missing))
        return out

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
        return self._window(feed, limit, self.session.body_copies)

    def _window(self, feed: str, limit: int, count: bool) -> Window:
        """The window; ``count``: when it is the whole feed and grouped, reconcile the feed's
        materialized groups with it and count it, so the next grouped reads take ``read_groups``."""
        if limit <= 0:
            return [], [], [], [], []
        started = self.session.timestamp() if count else 0
        seen_log = self.groups.recent_log(feed, started) if count else []
        rows = self._live("timeline_window", "", "", feed, [], min(limit + 1, INT32_MAX))
        if len(rows) <= limit:
            if count and (not rows or rows[0][2] is not None):  # grouped (or empty): reconcile
                self.groups.reconcile(feed, rows, started, seen_log)
        else:
            rows = rows[:limit]
        if not rows:
            return [], [], [], [], []
        keys, origins, groups, actors, verbs = (list(col) for col in zip(*rows))
        if OWN in origins:  # inline, not from_origin(): 1,000 calls per read cost ~0.1 ms
            origins = [None if o == OWN else o for o in origins]
        return keys, origins, groups, actors, verbs

    def read_groups(self, feed: str, max_length: int, cap: int, rng: Range, offset: int, limit: int,
                    with_refs: bool = False, heads_above: bytes | None = None) -> GroupedRead | None:
        if not self.session.body_copies:
            return None  # Keyspaces mode keeps no materialized groups
        return self.groups.read(feed, max_length, cap, rng, offset, limit, with_refs, heads_above)

    def read_ranked_window(self, feed: str, limit: int) -> RankedWindow:
        # one slice of the feed's partition with the copied blobs (0010); rows whose copy has no
        # blob (written before 0010, or without a copy) take it from `activities` by id
        if limit <= 0:
            return [], [], []
        rows = self._live("ranked_window", "", "", feed, [], limit)
        missing = [r[0] for r in rows if r[2] is None]
        ranks = self._ranks(missing) if missing else {}
        # a row whose copy had no blob and whose activity is gone: a removal propagating
        held = [r if r[2] is not None else (r[0], r[1], ranks[r[0]]) for r in rows
                if r[2] is not None or r[0] in ranks]
        if not held:
            return [], [], []
        return [r[0] for r in held], [from_origin(r[1]) for r in held], [r[2] for r in held]

    def has_entry(self, feed: str, key: bytes) -> bool:
        return any(r[0] is not None for r in self.session.rows("timeline_has", (feed, key)))

    def feeds_of_activity(self, key: bytes) -> list[tuple[str, str | None]]:
        return [(f, from_origin(o)) for f, o in self.session.rows("activity_feeds_get", (key_uuid(key),))]

    def remove_by_origin(self, feed: str, origin: str) -> int:
        removed = 0
        pages = self.session.pages("by_origin_keys", (feed, origin), SCAN_PAGE * 5)
        keys = [r[0] for page in pages for r in page]
        for chunk in chunks(keys, SCAN_PAGE):
            current = self._origins(feed, chunk)
            held = {k: current[k] for k in chunk if k in current and current[k][0] == origin}
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
