"""Cassandra: materialized groups of aggregated and notification feeds (migration 0008).

A grouped page reads ~page-many group rows instead of grouping a ``max_length`` window per read.
Tables (all partitioned by feed, like ``timeline``; ``infra/cassandra/DESIGN.md`` has the design):

- ``feed_groups (feed, grp) -> members map<key, actor>``: the group's members. An entry's timeline
  row, its member cell, its ``groups_by_time`` row and its ``group_log`` row are written in ONE
  single-partition batch (one mutation), and its removal deletes the row and the cell in one batch:
  a group's members are exactly the feed's live entries of that group. Adds and removals are cell
  writes (``members + {k: a}`` / ``members - {k}``): no read on the write path, concurrent writers
  (two fan-out chunks and a direct post) merge by construction, a redelivered add rewrites the
  same cell. Counts, actor count, the capped member list, newest and oldest are computed at read.
- ``groups_by_time (feed, newest DESC, grp)``: the page order (a group's id is its newest member).
  One row per insert; the invariant is the house's (an index may hold stale rows, never miss one):
  the newest member of every group has its row. A read checks each row against the group's map and
  deletes rows whose key is not the group's newest (read-repair) at the timestamp its read started;
  a removal deletes its key's row and then rewrites the row of the group's newest as it reads it,
  at the timestamp that read started, so the later of a repair and a rewrite that race wins, as in
  the reaction counts (``reactions.py``): the rewrite's read starts after the remover's delete,
  which the repairing reader had not seen yet.
- ``group_log (feed, at, n)``: one row per insert (2-day TTL); statics of ``feed_groups`` (0011;
  ``group_log``'s own before): the feed's ``size`` counted by the last reconcile, ``checked``
  (``MARGIN_US`` before that count's read started) and
  ``counted``, the log rows newer than ``checked`` the reconcile saw BEFORE it read the feed (their
  entries are in ``size``); 1-day TTL, so the log outlives the size it qualifies. A read uses the
  materialized groups only while ``size`` + the other inserts logged since ``checked`` (removals
  only shrink a feed; a redelivered insert counts twice: conservative) is at most ``max_length``:
  then the feed holds at most ``max_length`` entries and its groups ARE the window's groups.
  Otherwise (a feed that may be larger, no size yet, more than ``LOG_LIMIT`` inserts since the
  count) it groups the window as before, and that read reconciles the feed if it saw all of it
  (``reconcile``), which counts it again.
- **Summaries (0011)**: a group's head row in ``groups_by_time`` carries ``packed``, the group as a
  page shows it (``group_pack.py``), so a page whose groups are unchanged is ONE round trip: the
  feed's statics, its newest log rows and a slice of ~page-many head rows, concurrently. Writers
  never read: every change of a group adds it to the feed's static ``dirty`` set in the statement
  or batch the change sends anyway (member add/remove, a body copy rewritten, a repair, a move).
  A read rebuilds the summaries of its dirty or summary-less groups from their maps and member
  rows, writes them and removes those marks, both ``MARGIN_US`` before its read started: a change
  still in flight then keeps its mark (and is rebuilt by a later read), and a summary never
  overwrites one built from a later read. More than ``DIRTY_MAX`` marks (changes to groups no read
  asked for) start a new ``epoch``: summaries of another epoch are not used, and all marks go.

Keyspaces mode (``body_copies=False``) writes none of this and always groups the window: the
repairs and the rewrite need ``USING TIMESTAMP``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from feedline.feeds.store import GroupedRead
from feedline.models.cursors import Range
from feedline.storage.cassandra.base import INT32_MAX, OWN, chunks, range_bounds
from feedline.storage.cassandra.group_pack import Summary, pack, unpack
from feedline.storage.cassandra.session import CassandraSession
from feedline.storage.cassandra.statements import range_name

#: a log row outlives any size it qualifies (a size without its log would undercount inserts)
LOG_TTL_S = 2 * 86400
SIZE_TTL_S = 86400
#: repairs and counts are dated this long before the read that decided them, so every write still
#: in flight then (request timeout 2.5 s, client clocks a few seconds apart at most) is newer and wins
MARGIN_US = 10_000_000
#: inserts since the last count a read accepts: more send the read to the window (which counts again)
LOG_LIMIT = 32
#: log rows a reconcile may record as counted (a burst of more within MARGIN_US: no size this time)
COUNTED_MAX = 16
#: log rows a read looks at
LOG_READ = LOG_LIMIT + COUNTED_MAX + 2
#: dirty marks a feed keeps (each read decodes them all): beyond, a read starts a new summary epoch
DIRTY_MAX = 64

Statement = tuple[str, tuple]


def member_writes(feed: str, key: bytes, group: str, actor: str | None, now_us: int) -> list[Statement]:
    """What an insert into a grouped feed writes beside its timeline row (same partition, same batch)."""
    return [("group_member_add", ({key: actor or ""}, {group}, feed, group)),
            ("group_index_put", (feed, key, group)),
            ("group_log_put", (feed, now_us, uuid.uuid4(), LOG_TTL_S))]


def member_deletes(feed: str, key: bytes, group: str) -> list[Statement]:
    """What a removal from a grouped feed deletes beside its timeline row (same batch)."""
    return [("group_member_remove", ({key}, {group}, feed, group)), ("group_index_delete", (feed, key, group))]


def dirty_marks(feed: str, groups: set[str]) -> list[Statement]:
    """Marks ``groups`` of ``feed`` for a summary rebuild (a member's body copy was rewritten)."""
    return [("group_dirty_add", (groups, feed))] if groups else []


class MaterializedGroups:
    """Reads, index rewrites and reconciles of the materialized groups (``session`` needs ``rows``,
    ``concurrent``, ``timestamp``: a ``CassandraSession`` or the 0008 data step's adapter)."""

    def __init__(self, session: Any, activities: Any = None, margin_us: int = MARGIN_US,
                 summaries: bool | None = None):
        self.session = session
        self.activities = activities
        #: whether the schema has 0011's columns: the 0008 data step (whose source is part of its
        #: checksum: it stays as applied) runs before they exist, over its own session adapter; it
        #: marks no group (none has a summary then) and records no count (a feed's first read does)
        self.summaries = isinstance(session, CassandraSession) if summaries is None else summaries
        #: how long before a reconcile's read its repairs and count are dated (tests of a
        #: finished race may count at once)
        self.margin_us = margin_us

    # ---- after removals ------------------------------------------------------------------------
    def rewrite_heads(self, touched: dict[str, set[str]]) -> None:
        """After members left groups: write each touched group's newest row as read now (its old
        newest row may have been the one deleted), at the timestamp the read started."""
        if not touched:
            return
        started = self.session.timestamp()
        reads = [("group_members_in", (feed, chunk)) for feed, grps in touched.items() for chunk in chunks(sorted(grps))]
        results = self.session.concurrent(reads)
        writes = [("group_index_put_at", (feed, max(members), grp, started))
                  for (_, (feed, _chunk)), rs in zip(reads, results) for grp, members in rs.current_rows if members]
        if writes:
            self.session.concurrent(writes)

    # ---- reads ---------------------------------------------------------------------------------
    def usable(self, size_rows: Sequence[tuple], log_rows: Sequence[tuple], max_length: int) -> bool:
        """Whether the feed provably holds at most ``max_length`` entries, from its last count
        ``(size, checked, counted)`` and the newest ``LOG_READ`` rows ``(at, n)`` of its log (see
        the module doc). Two statements (run together): the static columns come with every row
        of a slice, and decoding them 50 times costs more than the second request."""
        if not size_rows:
            return False
        size, checked, counted = size_rows[0][0], size_rows[0][1], size_rows[0][2] or ()
        if size is None or checked is None:
            return False
        newer = [r[1] for r in log_rows if r[0] is not None and r[0] > checked]
        if len(newer) >= LOG_READ:
            return False  # there may be more than this read saw
        since = sum(1 for n in newer if n not in counted)
        return since <= LOG_LIMIT and size + since <= max_length

    def recent_log(self, feed: str, started: int) -> list[tuple]:
        """The log rows ``(at, n)`` a reconcile dated ``started`` will count as seen: read BEFORE
        the feed is (an insert whose log row is visible now has its entry visible too)."""
        return self.session.rows("group_log_since", (feed, started - self.margin_us, COUNTED_MAX + 1))

    def read(self, feed: str, max_length: int, cap: int, rng: Range, offset: int, limit: int,
             with_refs: bool, heads_above: bytes | None) -> GroupedRead | None:
        bounds = range_bounds(rng)
        if bounds is None or limit < 0 or offset < 0:
            return None
        upper, lower, values = bounds
        started = self.session.timestamp()
        want = offset + limit + 1
        fetch = want + 2  # stale rows are deleted by the reads that meet them: few remain
        page_read = range_name("group_page_read", upper, lower)
        first: list[Statement] = [("group_size_get", (feed,)), ("group_log_read", (feed, LOG_READ)),
                                  (page_read, (feed, *values, fetch))]
        if heads_above is not None:
            first.append((range_name("group_index_read", "", "gt"), (feed, heads_above, INT32_MAX)))
        results = self.session.concurrent(first)
        statics = results[0].current_rows
        if not self.usable(statics, results[1].current_rows, max_length):
            return None
        heads = None
        if heads_above is not None:
            if results[3].has_more_pages:
                return None
            heads = _heads(results[3].current_rows)
        dirty: set[str] = set(statics[0][3] or ())
        epoch: int = statics[0][4] or 0
        writes: list[Statement] = []
        renew = len(dirty) > DIRTY_MAX
        if renew:
            # marks of groups no read asked for: a new epoch voids every summary, so all marks go
            epoch = started
            writes.append(("group_epoch_put", (epoch, feed)))
        rows = results[2].current_rows
        while True:
            found = self._valid_groups(feed, rows, want, cap, None if renew else dirty, epoch)
            if found is None:
                return None
            valid, stale, built = found
            if len(valid) >= want or len(rows) < fetch or fetch >= INT32_MAX:
                break
            # stale rows ate the slice: read a longer one (this read deletes the stale rows)
            fetch = min(fetch * 4, INT32_MAX)
            rows = self.session.rows(page_read, (feed, *values, fetch))
        # repairs, dated when this read started (see the module doc); summaries and the removal of
        # their groups' dirty marks MARGIN before it, so a change still in flight stays marked
        at = started - self.margin_us
        writes += [("group_index_delete_at", (started, feed, k, g)) for k, g in stale]
        writes += [("group_pack_put", (at, blob, feed, k, g)) for g, (k, blob) in built.items()]
        cleaned = dirty if renew else {g for g in built if g in dirty}
        if cleaned:
            writes.append(("group_dirty_clean", (at, cleaned, feed)))
        if writes:
            self.session.concurrent(writes)
        return self._page(valid[offset:offset + limit + 1], limit, with_refs, heads)

    def _valid_groups(self, feed: str, rows: Sequence[tuple], want: int, cap: int, dirty: set[str] | None,
                      epoch: int
                      ) -> tuple[list[tuple[str, Summary]], list[tuple[bytes, str]], dict[str, tuple[bytes, bytes]]] | None:
        """The first ``want`` groups of a page slice ``(newest, grp, packed)`` whose row is their
        newest member, in slice order, with their summaries; the stale rows met on the way; and
        the summaries rebuilt here ``{group: (head key, blob)}`` (to be written). A group's first
        row with a summary is its head when the group is not dirty (every change marks it; None:
        no summary is usable) and the summary is of this ``epoch``; the
        others are checked against the group's members, read for them (one clustering IN), and
        each gets a new summary. None: the window path must answer (a member's entry left
        meanwhile or moved to another group)."""
        first: dict[str, int] = {}  # group -> index of its first row
        for i, (_, g, _) in enumerate(rows):
            first.setdefault(g, i)
        order = list(first)
        known = _summaries(rows, first, cap, dirty, epoch) if dirty is not None else {}
        valid: list[tuple[str, Summary]] = []
        stale: list[tuple[bytes, str]] = []
        built: dict[str, tuple[bytes, bytes]] = {}
        maps: dict[str, dict] = {}
        start = 0
        done = 0  # rows examined
        while done < len(rows) and len(valid) < want:
            # the next candidates' maps, for those without a usable summary: as many groups as
            # could still be valid, one clustering IN
            batch = order[start:start + max(want - len(valid), 1)]
            start += len(batch)
            unknown = [g for g in batch if g not in known]
            if unknown:
                results = self.session.concurrent(("group_members_in", (feed, chunk)) for chunk in chunks(unknown))
                maps.update((g, _plain(m)) for rs in results for g, m in rs.current_rows if m)
            seen = set(order[:start])
            page: list[tuple[int, str]] = []  # (position in valid, group) of page groups to build
            while done < len(rows) and len(valid) < want:
                k, g, _ = rows[done]
                if g not in seen:
                    break  # its map is not read yet
                done += 1
                if first[g] != done - 1:
                    stale.append((k, g))  # a group's later row: not its newest
                elif g in known:
                    valid.append((g, known[g]))
                elif g in maps and max(maps[g]) == k:
                    # every valid group gets its summary, the next page's first and the offset's
                    # too: the next read of this page then needs no map
                    page.append((len(valid), g))
                    valid.append((g, _PENDING))
                else:
                    stale.append((k, g))  # not its group's newest (or the group is empty)
            if page:
                summaries = self._build(feed, cap, epoch, [(g, maps[g]) for _, g in page])
                if summaries is None:
                    return None
                for (i, g), (s, blob) in zip(page, summaries):
                    valid[i] = (g, s)
                    if blob is not None:
                        built[g] = (s.keys[0], blob)
        return valid, stale, built

    def _build(self, feed: str, cap: int, epoch: int, groups: list[tuple[str, dict]]
               ) -> list[tuple[Summary, bytes | None]] | None:
        """Summaries of ``groups`` ``(group, members {key: actor})`` from their members' rows and
        body copies, each with its blob (None when a member had no copy: served, not stored)."""
        order = [(g, sorted(m, reverse=True)) for g, m in groups]
        wanted = [k for _, ks in order for k in ks[:cap]]
        rows = self._member_rows(feed, wanted)
        if len(rows) < len(wanted):
            return None  # a member's entry left meanwhile: the window path answers exactly
        missing = [k for k in wanted if rows[k][2] is None]
        found = self.activities.get_bodies(missing) if missing else {}
        out: list[tuple[Summary, bytes | None]] = []
        for (g, ks), (_, m) in zip(order, groups):
            members = ks[:cap]
            if any(rows[k][3] != g for k in members):
                # an entry placed again with another group key (its old group still lists it): the
                # window path answers, and its reconcile repairs the groups
                return None
            bodies = [rows[k][2] if rows[k][2] is not None else found.get(k) for k in members]
            if any(b is None for b in bodies):
                return None  # an activity is gone (its removal is propagating): the window regroups
            origins = [None if rows[k][0] == OWN else rows[k][0] for k in members]
            verbs = [rows[k][1] for k in members]
            s = Summary(epoch, cap, len(ks), len(set(m.values())), ks[-1], members, origins, verbs,
                        bodies)  # type: ignore[arg-type]
            blob = None if any(rows[k][2] is None for k in members) else _packed(s)
            out.append((s, blob))
        return out

    def _page(self, page: list[tuple[str, Summary]], limit: int, with_refs: bool,
              heads: list[tuple[str, bytes]] | None) -> GroupedRead | None:
        keys: list[bytes] = []
        origins: list[str | None] = []
        verbs: list[str | None] = []
        bodies: dict[bytes, bytes] = {}
        groups: list[tuple] = []
        for n, (g, s) in enumerate(page):
            start = len(keys)
            keys.extend(s.keys)
            origins.extend(s.origins)
            verbs.extend(s.verbs)
            if n < limit:
                bodies.update(zip(s.keys, s.bodies))
            if s.count > len(s.keys):
                keys.append(s.oldest)
                origins.append(None)
                verbs.append(None)
            groups.append((g, list(range(start, start + len(s.keys))), s.count, s.actors, start, len(keys) - 1))
        refs: dict[bytes, bytes | None] | None = None
        if with_refs:
            wanted = [keys[i] for g in groups[:limit] for i in g[1]]
            bodies, refs = self.activities.bodies_and_refs(wanted)
            if any(k not in bodies for k in wanted):
                return None  # an activity is gone (its removal is propagating): the window regroups
        return GroupedRead(groups, keys, origins, verbs, bodies, refs, heads)

    def _member_rows(self, feed: str, keys: list[bytes]) -> dict[bytes, tuple]:
        """``{key: (origin, verb, body copy, group)}`` of the live entries among ``keys``: one
        contiguous slice when they are dense (a group's newest members usually are), the rest by
        clustering IN."""
        if not keys:
            return {}
        wanted = set(keys)
        n = 2 * len(wanted)
        rows = self.session.rows("group_bodies_range", (feed, max(wanted), min(wanted), n))
        out = {k: (o, v, b, g) for k, o, v, b, g in rows if o is not None and k in wanted}
        rest = [k for k in wanted if k not in out]
        if rest and len(rows) == n:
            found = self.session.concurrent(("group_bodies", (feed, chunk)) for chunk in chunks(rest))
            out.update((k, (o, v, b, g)) for rs in found for k, o, v, b, g in rs.current_rows if o is not None)
        return out

    # ---- reconcile: make the groups match a complete feed, then count it ------------------------
    def reconcile(self, feed: str, rows: Sequence[tuple], started: int, seen_log: Sequence[tuple]) -> int | None:
        """``rows``: EVERY live entry of ``feed`` ``(key, origin, grp, actor, verb)``, read from
        ``started`` on, after ``seen_log`` (``recent_log(feed, started)``). Repairs the groups to
        match them (entries written by an earlier version, a key whose group changed), dated
        ``margin_us`` before ``started`` so every write in flight wins over a repair, and deletes
        stale index rows; when nothing needed repair (and ``seen_log`` is not a burst of more than
        ``COUNTED_MAX`` rows), records the feed's size (the fast path's bound). The log is not
        trimmed: its rows expire (a range delete would leave every row it shadows on the path of
        the next reads until compaction; live rows past the newest ``LOG_READ`` are never read).
        Returns how many repairs were written. A feed with an entry without a group (written
        before its feed group was aggregated) is left alone (None): it is read from the window; so
        is a feed in a burst (more than ``COUNTED_MAX`` inserts within the margin: None)."""
        if any(r[2] is None for r in rows):
            return None
        if len(seen_log) > COUNTED_MAX:
            # a burst of inserts within the margin: no count could be recorded now, and the repairs
            # wait for the read that can (reading every map and index row each time cost a feed
            # under constant writes ~40 ms per read on the local node)
            return None
        expected: dict[str, dict[bytes, str]] = {}
        for key, _origin, grp, actor, _verb in rows:
            expected.setdefault(grp, {})[key] = actor or ""
        # (a partition holding only its statics answers one row without a group)
        have = {g: m or {} for g, m in self.session.rows("group_members_all", (feed,)) if g is not None}
        index = {(k, g) for k, g in self.session.rows("group_index_all", (feed,))}
        at = started - self.margin_us
        writes: list[Statement] = []
        for g in set(expected) | set(have):
            exp, got = expected.get(g, {}), have.get(g, {})
            add = {k: a for k, a in exp.items() if got.get(k) != a}
            extra = {k for k in got if k not in exp}
            if add:
                writes.append(("group_member_add_at", (at, add, feed, g)))
            if extra:
                writes.append(("group_member_remove_at", (at, extra, feed, g)))
        heads = {(max(m), g) for g, m in expected.items()}
        writes += [("group_index_put_at", (feed, k, g, at)) for k, g in heads - index]
        # rows of keys that are members but not their group's newest are harmless (reads skip
        # them): deleted, but not a repair; rows of keys that are not members are
        wrong = [(k, g) for k, g in index if k not in expected.get(g, {})]
        stale = [(k, g) for k, g in index - heads if k in expected.get(g, {})]
        writes += [("group_index_delete_at", (at, feed, k, g)) for k, g in wrong + stale]
        repairs = len(writes) - len(stale)
        touched = {p[3] for name, p in writes if name.startswith("group_member_")}
        if self.summaries:
            writes += dirty_marks(feed, touched)  # now, not at `at`: a later read must rebuild them
        if writes:
            self.session.concurrent(writes)
        if repairs == 0 and self.summaries:
            counted = {n for _, n in seen_log}
            self.session.concurrent([("group_size_put", (SIZE_TTL_S, started, len(rows), at, counted, feed))])
        return repairs


def _packed(s: Summary) -> bytes | None:
    """The blob of ``s``, or None for a group a blob cannot hold (served, not stored)."""
    try:
        return pack(s)
    except ValueError:
        return None


#: the place of a group whose summary is being built (filled before the page is assembled)
_PENDING = Summary(0, 0, 0, 0, b"", [], [], [], [])


def _summaries(rows: Sequence[tuple], first: dict[str, int], cap: int, dirty: set[str], epoch: int
               ) -> dict[str, Summary]:
    """The usable summaries of a page slice: in a group's first row, of a group not marked dirty,
    built for this ``cap`` in this ``epoch`` and headed by that row's key."""
    known: dict[str, Summary] = {}
    for g, i in first.items():
        packed = rows[i][2]
        if packed is None or g in dirty:
            continue
        try:
            s = unpack(packed)
        except ValueError:
            continue  # not one this version wrote: rebuilt from the members
        if s.cap == cap and s.epoch == epoch and s.keys and s.keys[0] == rows[i][0]:
            known[g] = s
    return known


def _plain(m: Any) -> dict:
    """A driver map as a plain dict. The driver decodes a map into an ``OrderedMapSerializedKey``,
    whose Mapping methods are Python-level and cost ~1 µs per item: its item list is read directly
    when it has one (every member is iterated a few times per page)."""
    items = getattr(m, "_items", None)
    return dict(items) if isinstance(items, list) else dict(m.items())


def _heads(rows: Iterable[tuple]) -> list[tuple[str, bytes]]:
    """``(group, newest)`` newest first from index rows newest first: a group's first row is its
    newest (the newest member always has a row; any row of a key that left was deleted with it)."""
    seen: set[str] = set()
    out = []
    for k, g in rows:
        if g not in seen:
            seen.add(g)
            out.append((g, k))
    return out
