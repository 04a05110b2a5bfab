"""The Cassandra backend of the storage contract (``feedline.storage.base``).

Tables and the reasons for them: ``infra/cassandra/migrations`` and ``infra/cassandra/DESIGN.md``.
The rules this module keeps, so that any interrupted or redelivered operation converges:

- ``timeline``, ``activities`` and the ``follows_by_*`` edges are the truth; the other tables
  index them. Writes go index first, truth second; deletes truth first, index second. So an index
  may hold a row its table lost (a crash in between, an origin or foreign_id that changed), never
  miss one, and readers that use an index (own entries, unfollow, foreign ids, follow listings)
  check what they found against the truth. Re-running the operation removes what was left behind.
- A timeline row and its ``timeline_by_origin`` row share the partition key (the feed) and are
  written and deleted together, in one single-partition batch: one mutation, one request.
- Every statement is an idempotent upsert or delete (no counters, no lightweight transactions).
- Multi-partition work runs as concurrent single-partition statements (fan-out: one request per
  feed); only writes to one partition key are ever batched.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from feedline.storage.base import EVERYTHING, ActivityRecord, Entry, Follow, Range, Storage
from feedline.storage.cassandra.session import Batch, CassandraSession, session_options
from feedline.storage.cassandra.statements import range_name

if TYPE_CHECKING:
    from feedline.config import Settings

#: values per ``IN ?`` (Amazon Keyspaces allows 100)
IN_CHUNK = 100
#: rows fetched per page when an index is read and checked against its table
SCAN_PAGE = 200
#: follow counts read a whole edge partition: allowed longer than an ordinary request
COUNT_TIMEOUT_S = 10.0
_INT32_MAX = 2**31 - 1


def key_uuid(key: bytes) -> uuid.UUID:
    """The ``timeuuid`` of a 16-byte sort key (the same id the API shows)."""
    ts = int.from_bytes(key[:8], "big")
    return uuid.UUID(int=((ts & 0xFFFFFFFF) << 96) | (((ts >> 32) & 0xFFFF) << 80)
                     | ((((ts >> 48) & 0x0FFF) | 0x1000) << 64) | int.from_bytes(key[8:], "big"))


def uuid_key(value: uuid.UUID) -> bytes:
    """The 16-byte sort key of a ``timeuuid``."""
    return value.time.to_bytes(8, "big") + value.bytes[8:]


def _chunks(items: Sequence[Any], size: int = IN_CHUNK) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield list(items[i:i + size])


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
    return Entry(key, _from_origin(origin), group, actor, verb)


def _entry_delete(feed: str, key: bytes, origin: str) -> list[tuple[str, tuple]]:
    return [("timeline_delete", (feed, key)), ("by_origin_delete", (feed, origin, key))]


#: the stored origin of an entry that has none (the feed it was written to). Not null: writing a
#: null writes a tombstone. Not '': Amazon Keyspaces refuses empty clustering values. Not a feed
#: id: those always have a ':'.
OWN = "-"


def _origin(value: str | None) -> str:
    return value or OWN


def _from_origin(value: str | None) -> str | None:
    return None if value == OWN or not value else value


class CassandraStorage(Storage):
    def __init__(self, hosts: Sequence[str] = ("127.0.0.1",), port: int = 9042, keyspace: str = "feedline",
                 local_dc: str = "datacenter1", *, session: CassandraSession | None = None,
                 **options: Any):
        """Nothing connects here: the session is built by the first query.

        ``options`` go to ``CassandraSession`` (``protocol_version``, timeouts, ``ssl_context``,
        ``auth_provider``, ``consistency``).
        """
        self.session = session or CassandraSession(hosts, port, keyspace, local_dc, **options)

    @classmethod
    def from_settings(cls, settings: Settings) -> CassandraStorage:
        return cls(settings.cassandra_hosts, settings.cassandra_port, settings.cassandra_keyspace,
                   settings.cassandra_dc, **session_options(settings))

    @property
    def keyspace(self) -> str:
        return self.session.keyspace

    # ---- activities -------------------------------------------------------------------------
    def put_activities(self, records: Sequence[ActivityRecord]) -> None:
        from cassandra.query import UNSET_VALUE

        latest: dict[bytes, ActivityRecord] = {}
        for r in records:  # same key twice in one call: the last wins, an earlier feed is kept
            prev = latest.get(r.key)
            if prev is not None and r.feed is None and prev.feed is not None:
                r = ActivityRecord(r.key, r.body, r.foreign_id, prev.feed, r.actor, r.verb)
            latest[r.key] = r
        recs = list(latest.values())
        self.session.concurrent(("foreign_id_put", (r.foreign_id, r.key)) for r in recs if r.foreign_id)
        self.session.concurrent(
            ("activity_put", (key_uuid(r.key), r.body, r.foreign_id,
                              UNSET_VALUE if r.feed is None else r.feed, r.actor, r.verb))
            for r in recs)

    def get_activities(self, keys: Sequence[bytes]) -> dict[bytes, ActivityRecord]:
        out: dict[bytes, ActivityRecord] = {}
        for u, body, fid, feed, actor, verb in self._by_ids("activity_get", keys):
            k = uuid_key(u)
            out[k] = ActivityRecord(k, body or b"", fid or "", feed, actor or "", verb or "")
        return out

    def get_bodies(self, keys: Sequence[bytes]) -> dict[bytes, bytes]:
        return {uuid_key(u): body or b"" for u, body in self._by_ids("bodies_get", keys)}

    def _by_ids(self, name: str, keys: Sequence[bytes]) -> list[tuple]:
        """Rows of an ``... WHERE id IN ?`` statement for ``keys``: chunks of ``IN_CHUNK``, concurrent."""
        chunks = [[key_uuid(k) for k in c] for c in _chunks(list(dict.fromkeys(keys)))]
        if len(chunks) <= 1:
            return self.session.rows(name, (chunks[0],)) if chunks else []
        return [row for rs in self.session.concurrent((name, (c,)) for c in chunks) for row in rs]

    def delete_activities(self, keys: Sequence[bytes]) -> None:
        keys = list(dict.fromkeys(keys))
        found = self.get_activities(keys)
        self.session.concurrent(("activity_delete", (key_uuid(k),)) for k in keys)
        self.session.concurrent(("foreign_id_delete", (r.foreign_id, r.key))
                                for r in found.values() if r.foreign_id)

    def keys_by_foreign_id(self, foreign_id: str) -> list[bytes]:
        if not foreign_id:
            return []
        keys = [r[0] for r in self.session.rows("foreign_id_keys", (foreign_id,))]
        if not keys:
            return []
        found = self.get_activities(keys)  # a changed foreign_id leaves its old index row behind
        return [k for k in keys if k in found and found[k].foreign_id == foreign_id]

    # ---- timelines --------------------------------------------------------------------------
    def add_entries(self, feed: str, entries: Sequence[Entry]) -> None:
        latest = {e.key: e for e in entries}
        if not latest:
            return
        # reverse index first (one partition per activity), then the feed's partition: each
        # timeline row together with its timeline_by_origin row, in single-partition batches
        self.session.concurrent(("activity_feeds_put", (key_uuid(k), feed, _origin(e.origin)))
                                for k, e in latest.items())
        self.session.concurrent([Batch([_entry_put(feed, k, _origin(e.origin), _extra(e))
                                        for k, e in latest.items()])])

    def add_to_feeds(self, key: bytes, feeds: Sequence[str], origin: str | None) -> None:
        feeds = list(dict.fromkeys(feeds))
        if not feeds:
            return
        o, u = _origin(origin), key_uuid(key)
        self.session.concurrent([Batch.rows("activity_feeds_put", [(u, f, o) for f in feeds])])
        # one request per feed: its timeline row and index row as one single-partition batch
        self.session.concurrent(Batch([_entry_put(f, key, o)]) for f in feeds)

    def _held(self, feed: str, keys: Sequence[bytes]) -> dict[bytes, tuple]:
        """The timeline rows ``(key, origin, group, actor, verb)`` of those of ``keys`` in ``feed``."""
        return {r[0]: r for chunk in _chunks(keys) for r in self.session.rows("timeline_rows", (feed, chunk))}

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
        for chunk in _chunks(feeds):
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
                                 (feed, *values, min(offset + limit, _INT32_MAX)))
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

    def read_window(self, feed: str, limit: int) -> tuple[Sequence, Sequence, Sequence, Sequence, Sequence]:
        if limit <= 0:
            return [], [], [], [], []
        rows = self.session.rows("timeline_window", (feed, min(limit, _INT32_MAX)))
        if not rows:
            return [], [], [], [], []
        keys, origins, groups, actors, verbs = (list(col) for col in zip(*rows))
        return keys, [_from_origin(o) for o in origins], groups, actors, verbs

    def has_entry(self, feed: str, key: bytes) -> bool:
        return bool(self.session.rows("timeline_has", (feed, key)))

    def feeds_of_activity(self, key: bytes) -> list[tuple[str, str | None]]:
        return [(f, _from_origin(o)) for f, o in self.session.rows("activity_feeds_get", (key_uuid(key),))]

    def remove_by_origin(self, feed: str, origin: str) -> int:
        removed = 0
        pages = self.session.pages("by_origin_keys", (feed, origin), SCAN_PAGE * 5)
        keys = [r[0] for page in pages for r in page]
        for chunk in _chunks(keys, SCAN_PAGE):
            current = self._origins(feed, chunk)
            held = {k: origin for k in chunk if current.get(k) == origin}
            # rows whose entry is gone or now comes from elsewhere are dropped from the index too
            self._remove_held(feed, held, stale=[(k, origin) for k in chunk if k not in held])
            removed += len(held)
        return removed

    # ---- notification marks -----------------------------------------------------------------
    def get_marks(self, feed: str) -> bytes | None:
        rows = self.session.rows("marks_get", (feed,))
        return rows[0][0] if rows else None

    def put_marks(self, feed: str, state: bytes) -> None:
        self.session.write("marks_put", (feed, state))

    # ---- follows ----------------------------------------------------------------------------
    def add_follow(self, source: str, target: str, created_us: int) -> bool:
        # Read-then-write, not a lightweight transaction: two racing follows of one pair may both
        # return True; the edges keep one created_us and listings skip the other (checked on read).
        if self.session.rows("by_source_get", (source, target)):
            return False
        self.session.concurrent([("following_put", (source, created_us, target)),
                                 ("followers_put", (target, created_us, source))])
        self.session.concurrent([("by_source_put", (source, target, created_us)),
                                 ("by_target_put", (target, source, created_us))])
        return True

    def remove_follow(self, source: str, target: str) -> bool:
        a, b = self.session.concurrent([("by_source_get", (source, target)),
                                        ("by_target_get", (target, source))])
        created = {r[0] for r in [*a.current_rows, *b.current_rows]}
        if not created:
            return False
        self.session.concurrent([("by_source_delete", (source, target)),
                                 ("by_target_delete", (target, source))])
        self.session.concurrent(
            [("following_delete", (source, c, target)) for c in created]
            + [("followers_delete", (target, c, source)) for c in created])
        return True

    def list_followers(self, feed: str, limit: int, offset: int = 0,
                       only: Iterable[str] = ()) -> list[Follow]:
        found = self._list("followers_scan", "by_target_in", feed, limit, offset, only)
        return [Follow(other, feed, c) for c, other in found]

    def list_following(self, feed: str, limit: int, offset: int = 0,
                       only: Iterable[str] = ()) -> list[Follow]:
        found = self._list("following_scan", "by_source_in", feed, limit, offset, only)
        return [Follow(feed, other, c) for c, other in found]

    def _list(self, scan: str, edges: str, feed: str, limit: int, offset: int,
              only: Iterable[str]) -> list[tuple[int, str]]:
        """``(created_us, other side)`` newest first, checked against the edge table."""
        if limit <= 0:
            return []
        only = list(dict.fromkeys(only))
        if only:
            rows = [(c, other) for chunk in _chunks(only)
                    for other, c in self.session.rows(edges, (feed, chunk))]
            rows.sort(reverse=True)
            return rows[offset:offset + limit]
        out: list[tuple[int, str]] = []
        skip = offset
        fetch = min(max(offset + limit, 16), SCAN_PAGE * 5)
        for page in self.session.pages(scan, (feed,), fetch):
            for chunk in _chunks(page):
                current = dict(self.session.rows(edges, (feed, [other for _, other in chunk])))
                for c, other in chunk:
                    if current.get(other) != c:
                        continue  # a follow removed (or re-made at another time) half-way
                    if skip:
                        skip -= 1
                        continue
                    out.append((c, other))
                    if len(out) == limit:
                        return out
        return out

    def follower_page(self, feed: str, after: str | None, limit: int) -> list[str]:
        if limit <= 0:
            return []
        return [r[0] for r in self.session.rows("follower_page", (feed, after or "", min(limit, _INT32_MAX)))]

    def count_follows(self, feed: str, slugs: Sequence[str] = (), followers: bool = True) -> int:
        name = "count_followers" if followers else "count_following"
        if not slugs:
            return int(self.session.rows(name, (feed,), timeout=COUNT_TIMEOUT_S)[0][0])
        return sum(int(self.session.rows(f"{name}_slug", (feed, f"{s}:", f"{s};"),
                                         timeout=COUNT_TIMEOUT_S)[0][0])
                   for s in dict.fromkeys(slugs))

    # ---- lifecycle --------------------------------------------------------------------------
    def close(self) -> None:
        self.session.shutdown()


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
