"""Aggregated and notification feeds: group entries at write time, grouped pages at read time.

Write: each activity that lands in such a feed gets its group key rendered with the feed group's
format (Stream renders at insert, so a format change affects later inserts only) and stored on the
timeline entry with the actor and verb.

Read: the newest ``max_length`` entries are grouped by the compiled core (``aggregation.grouping``),
the page is selected by group id (the newest member's id, so ``id_lt`` paging follows the
``updated_at`` order), only the page's member bodies are fetched, and the response is spliced from
stored bytes (``aggregation.page``). Notification feeds add seen/read state (``feeds.marks``).

A backend that keeps the groups materialized answers the same page from them first
(``TimelineStore.read_groups``: Cassandra reads ~page-many group rows); when it cannot answer
exactly (a feed that may hold more than ``max_length`` entries, a removal propagating) the window
is grouped here as above.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import ujson

from feedline.aggregation.grouping import aggregate, select
from feedline.aggregation.page import assemble_groups
from feedline.feeds.base import Feed, Page, ReadQuery
from feedline.feeds.marks import Marks, MarkSpec
from feedline.feeds.store import Entry
from feedline.models import ids
from feedline.models.cursors import EVERYTHING, Cursor
from feedline.serialization import encode_origin
from feedline.stores import Stores


@dataclass
class GroupedPage(Page):
    groups: list[tuple]
    keys: Sequence[bytes]
    origins: Sequence[str | None]
    verbs: Sequence[str | None]
    bodies: dict[bytes, bytes]  # by key, for the page's members
    cursor: Cursor | None
    seen: list[bool] | None = None
    read: list[bool] | None = None
    unseen: int = 0
    unread: int = 0
    #: the members' reference offsets by key (enriched reads only)
    refs: dict[bytes, bytes | None] | None = None

    def assemble(self, next_link: str, duration: str) -> bytes:
        # ids, times and verbs only where a group header needs them (newest and oldest member)
        heads = {i for g in self.groups for i in (g[4], g[5])}
        uuids = {i: ids.key_to_uuid(self.keys[i]) for i in heads}
        times = {i: ids.format_time(ids.key_time_us(self.keys[i])) for i in heads}
        verbs = {g[4]: self.verbs[g[4]] or "" for g in self.groups}
        origins: Sequence[bytes] | dict[int, bytes]
        if self.origins.count(None) == len(self.origins):
            # the common case (entries arrive through `to`/add_to_many, not follows): built in C
            origins = [b"null"] * len(self.origins)
        else:
            cache: dict[str | None, bytes] = {None: b"null"}
            origins = {}
            for i in (m for g in self.groups for m in g[1]):
                o = self.origins[i]
                enc = cache.get(o)
                if enc is None:
                    enc = cache[o] = encode_origin(o)
                origins[i] = enc
        return assemble_groups(self.groups, self.bodies, origins, verbs, uuids, times, self.seen, self.read,
                               next_link, duration, self.unseen, self.unread, keys=self.keys)


class AggregatedFeed(Feed):
    entry_needs_body = True

    def entry(self, fid: str, key: bytes, body: bytes | None, origin: str | None) -> Entry:
        return self.entries([fid], key, body, origin)[0][1]

    def entries(self, fids: Sequence[str], key: bytes, body: bytes | None,
                origin: str | None) -> list[tuple[str, Entry]]:
        """The body is parsed once for all ``fids``; the group key is rendered once when the
        format does not name ``feed`` (the default does not), else once per feed. Entries are
        immutable, so feeds with the same entry share one object."""
        from feedline.aggregation.template import compile_format  # jinja2: write path only

        if not fids:
            return []
        fmt = compile_format(self.group.aggregation_format)
        doc = ujson.loads(body or b"{}")
        at = ids.key_time_us(key)
        actor, verb = str(doc.get("actor", "")), str(doc.get("verb", ""))
        if not fmt.uses_feed:
            slug, _, uid = fids[0].partition(":")  # not read by the format: any feed renders the same
            same = Entry(key, origin, fmt.render(doc, at, slug, uid), actor, verb)
            return [(fid, same) for fid in fids]
        out: list[tuple[str, Entry]] = []
        for fid in fids:
            slug, _, uid = fid.partition(":")
            out.append((fid, Entry(key, origin, fmt.render(doc, at, slug, uid), actor, verb)))
        return out

    def materialized(self, stores: Stores, fid: str, q: ReadQuery,
                     heads_above: bytes | None = None) -> tuple[GroupedPage, list[tuple[str, bytes]] | None] | None:
        """The page from the backend's materialized groups (and the heads asked for), or None."""
        got = stores.timelines.read_groups(fid, self.group.max_length, self.group.max_group_activities, q.rng,
                                           q.offset, q.limit, q.with_refs, heads_above)
        if got is None:
            return None
        page, limit = got.groups, q.limit
        more = len(page) > limit
        page = page[:limit]
        cursor = Cursor(got.keys[page[-1][4]], limit) if more and page else None
        return GroupedPage(page, got.keys, got.origins, got.verbs, got.bodies, cursor, refs=got.refs), got.heads

    def window(self, stores: Stores, fid: str, q: ReadQuery) -> tuple[GroupedPage, list[tuple]]:
        """The page, and every group of the window (notification counters and marks need them)."""
        keys, origins, gkeys, actors, verbs = stores.timelines.read_window(fid, self.group.max_length)
        rng, limit = q.rng, q.limit
        for _attempt in range(2):
            if None in gkeys:
                # an entry written before its feed was aggregated has no group: it stands alone
                gkeys = [g if g is not None else ids.key_to_uuid(k) for k, g in zip(keys, gkeys)]
            groups = aggregate(keys, gkeys, [a or "" for a in actors] if None in actors else actors,
                               self.group.max_group_activities)
            page = select(groups, keys, lt=rng.lt, lte=rng.lte, gt=rng.gt, gte=rng.gte, offset=q.offset,
                          limit=limit + 1)
            more = len(page) > limit
            page = page[:limit]
            wanted = [i for g in page for i in g[1]]
            refs: dict[bytes, bytes | None] | None = None
            if q.with_refs:
                found, refs = stores.activities.bodies_and_refs([keys[i] for i in wanted])
            else:
                found = stores.timelines.page_bodies(fid, [keys[i] for i in wanted])
            if len(found) == len(wanted):
                break
            # a removal is still propagating: leave its entries out and group again
            gone = {keys[i] for i in wanted if keys[i] not in found}
            cols = [(k, o, g, a, v) for k, o, g, a, v in zip(keys, origins, gkeys, actors, verbs) if k not in gone]
            keys, origins, gkeys, actors, verbs = (list(c) for c in zip(*cols)) if cols else ([], [], [], [], [])
        cursor = Cursor(keys[page[-1][4]], limit) if more and page else None
        return GroupedPage(page, keys, origins, verbs, found, cursor, refs=refs), groups

    def read(self, stores: Stores, fid: str, q: ReadQuery) -> GroupedPage:
        fast = self.materialized(stores, fid, q)
        return fast[0] if fast is not None else self.window(stores, fid, q)[0]


class NotificationFeed(AggregatedFeed):
    has_marks = True

    def read(self, stores: Stores, fid: str, q: ReadQuery) -> GroupedPage:
        marks = Marks.decode(stores.marks.get_marks(fid))
        marking = q.mark_seen is not None or q.mark_read is not None
        # groups whose newest member is not newer than both watermarks are seen and read: the
        # counters need only the heads above them (marking needs every group)
        page_seen: dict[int, bool] | None = None
        page_read: dict[int, bool] | None = None
        fast = self.materialized(stores, fid, q, b"" if marking else min(marks.seen_all, marks.read_all))
        if fast is not None:
            out, heads = fast[0], fast[1] or []
            # the heads as one-member groups over their newest keys: all that marks look at
            keys: Sequence[bytes] = [k for _, k in heads]
            groups: list[tuple] = [(g, (i,), 1, 1, i, i) for i, (g, _) in enumerate(heads)]
            page_seen, page_read = marks.flags("seen", out.groups, out.keys), marks.flags("read", out.groups, out.keys)
        else:
            out, groups = self.window(stores, fid, q)
            keys = out.keys
        seen, read = marks.flags("seen", groups, keys), marks.flags("read", groups, keys)
        page_seen, page_read = (seen, read) if page_seen is None or page_read is None else (page_seen, page_read)
        out.seen = [page_seen[id(g)] for g in out.groups]
        out.read = [page_read[id(g)] for g in out.groups]
        out.unseen = len(groups) - sum(seen.values())
        out.unread = len(groups) - sum(read.values())
        if q.mark_seen is not None or q.mark_read is not None:
            marks.apply(groups, keys, q.mark_seen, q.mark_read)
            stores.marks.put_marks(fid, marks.encode())
        return out

    def mark(self, stores: Stores, fid: str, mark_seen: MarkSpec, mark_read: MarkSpec) -> None:
        """Apply marks now (the read that follows shows them)."""
        self.read(stores, fid, ReadQuery(limit=0, rng=EVERYTHING, mark_seen=mark_seen, mark_read=mark_read))
