"""Aggregated and notification feeds: group entries at write time, grouped pages at read time.

Write: each activity that lands in an aggregated/notification feed gets its group key rendered
with the feed group's format (Stream renders at insert, so a format change affects later inserts
only) and stored on the timeline entry with the actor and verb.

Read: the newest ``max_length`` entries are grouped by the compiled core (``grouping.aggregate``),
the page is selected by group id (the newest member's id, so ``id_lt`` paging follows the
``updated_at`` order), only the page's member bodies are fetched, and the response is spliced from
stored bytes (``page.assemble_groups``).

Notification state per feed: ``seen_all``/``read_all`` watermarks (set by ``mark_*=true``) and
per-group watermarks (set by marking group ids). A group is seen while its newest member is not
newer than its watermark, so a new activity makes it unseen again (Stream-Framework's rule).
Marks are applied *after* the read: the response shows the state before them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import ujson

from feedline.aggregation.grouping import aggregate, select
from feedline.aggregation.page import assemble_groups
from feedline.config import FLAT, NOTIFICATION, AppConfig, FeedGroup
from feedline.models import ids
from feedline.serialization import encode_origin
from feedline.storage.base import Entry, Range, Storage


def place(storage: Storage, app: AppConfig | None, key: bytes, feeds: Sequence[str], origin: str | None,
          body: bytes | None = None) -> None:
    """Write one activity into feeds of any type: flat feeds get a plain entry in one call,
    aggregated/notification feeds an entry carrying the group key rendered for that feed."""
    flat, grouped = [], []
    for fid in feeds:
        group = app.groups.get(fid.partition(":")[0]) if app is not None else None
        (grouped if group is not None and group.type != FLAT else flat).append((fid, group))
    if grouped:
        if body is None:
            body = storage.get_bodies([key]).get(key)
        if body is not None:  # gone meanwhile: a removal is propagating
            for fid, group in grouped:
                storage.add_entries(fid, [group_entry(group, fid, key, body, origin)])
    if flat:
        storage.add_to_feeds(key, [f for f, _ in flat], origin)


def group_entry(group: FeedGroup, fid: str, key: bytes, body: bytes, origin: str | None) -> Entry:
    """The timeline entry of one activity in an aggregated/notification feed."""
    from feedline.aggregation.template import compile_format  # jinja2: write path only

    doc = ujson.loads(body)
    slug, _, uid = fid.partition(":")
    rendered = compile_format(group.aggregation_format).render(doc, ids.key_time_us(key), slug, uid)
    return Entry(key, origin, rendered, str(doc.get("actor", "")), str(doc.get("verb", "")))


# ---- notification marks ---------------------------------------------------------------------

@dataclass
class Marks:
    seen_all: bytes = b""
    read_all: bytes = b""
    seen: dict[str, bytes] = field(default_factory=dict)
    read: dict[str, bytes] = field(default_factory=dict)

    @classmethod
    def decode(cls, blob: bytes | None) -> "Marks":
        if not blob:
            return cls()
        d = ujson.loads(blob)
        return cls(bytes.fromhex(d.get("s", "")), bytes.fromhex(d.get("r", "")),
                   {g: bytes.fromhex(k) for g, k in d.get("sg", {}).items()},
                   {g: bytes.fromhex(k) for g, k in d.get("rg", {}).items()})

    def encode(self) -> bytes:
        return ujson.dumps({"s": self.seen_all.hex(), "r": self.read_all.hex(),
                            "sg": {g: k.hex() for g, k in self.seen.items()},
                            "rg": {g: k.hex() for g, k in self.read.items()}}).encode()

    def flags(self, which: str, groups: Sequence[tuple], keys: Sequence[bytes]) -> dict[int, bool]:
        """``{id(group): seen?}`` (``which`` = "seen" or "read"): a group is marked while its newest
        member is not newer than the feed's watermark or its own. One pass over the window's groups
        on every read, so the lookups are hoisted out of the loop."""
        floor, per_group = getattr(self, f"{which}_all"), getattr(self, which)
        return {id(g): keys[g[4]] <= floor or keys[g[4]] <= per_group.get(g[0], b"") for g in groups}


def parse_mark(value: object) -> bool | list[str] | None:
    """``true``/``1``/``current`` = all groups; a comma string or list = those group ids."""
    if value is None or value is False or value == "":
        return None
    if value is True:
        return True
    if isinstance(value, str):
        low = value.strip().lower()
        if low in ("true", "1", "current", "all"):
            return True
        if low in ("false", "0"):
            return None
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    from feedline.errors import InputException

    raise InputException.field("mark_seen", "must be true or a list of group ids")


@dataclass
class GroupedPage:
    groups: list[tuple]
    keys: Sequence[bytes]
    origins: list[str | None]
    verbs: Sequence[str | None]
    bodies: dict[bytes, bytes]  # by key, for the page's members
    next: str
    seen: list[bool] | None = None
    read: list[bool] | None = None
    unseen: int = 0
    unread: int = 0

    def assemble(self, duration: str) -> bytes:
        # ids, times and verbs only where a group header needs them (newest and oldest member)
        heads = {i for g in self.groups for i in (g[4], g[5])}
        uuids = {i: ids.key_to_uuid(self.keys[i]) for i in heads}
        times = {i: ids.format_time(ids.key_time_us(self.keys[i])) for i in heads}
        verbs = {g[4]: self.verbs[g[4]] or "" for g in self.groups}
        if self.origins.count(None) == len(self.origins):
            # the common case (entries arrive through `to`/add_to_many, not follows): built in C
            origins: Sequence[bytes] | dict[int, bytes] = [b"null"] * len(self.origins)
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
                               self.next, duration, self.unseen, self.unread, keys=self.keys)


def read_groups(storage: Storage, group: FeedGroup, fid: str, limit: int, offset: int, rng: Range,
                next_base: str, mark_seen: bool | list[str] | None = None,
                mark_read: bool | list[str] | None = None) -> GroupedPage:
    keys, origins, gkeys, actors, verbs = storage.read_window(fid, group.max_length)
    for _attempt in range(2):
        if None in gkeys:
            # an entry written before its feed was aggregated has no group: it stands alone
            gkeys = [g if g is not None else ids.key_to_uuid(k) for k, g in zip(keys, gkeys)]
        groups = aggregate(keys, gkeys, [a or "" for a in actors] if None in actors else actors,
                           group.max_group_activities)
        page = select(groups, keys, lt=rng.lt, lte=rng.lte, gt=rng.gt, gte=rng.gte, offset=offset, limit=limit + 1)
        more = len(page) > limit
        page = page[:limit]
        wanted = [i for g in page for i in g[1]]
        found = storage.get_bodies([keys[i] for i in wanted])
        if len(found) == len(wanted):
            break
        # a removal is still propagating: leave its entries out and group again
        gone = {keys[i] for i in wanted if keys[i] not in found}
        cols = [(k, o, g, a, v) for k, o, g, a, v in zip(keys, origins, gkeys, actors, verbs) if k not in gone]
        keys, origins, gkeys, actors, verbs = (list(c) for c in zip(*cols)) if cols else ([], [], [], [], [])
    nxt = f"{next_base}?id_lt={ids.key_to_uuid(keys[page[-1][4]])}&limit={limit}" if more and page else ""
    out = GroupedPage(page, keys, origins, verbs, found, nxt)
    if group.type == NOTIFICATION:
        marks = Marks.decode(storage.get_marks(fid))
        seen, read = marks.flags("seen", groups, keys), marks.flags("read", groups, keys)
        out.seen = [seen[id(g)] for g in page]
        out.read = [read[id(g)] for g in page]
        out.unseen = len(groups) - sum(seen.values())
        out.unread = len(groups) - sum(read.values())
        if mark_seen is not None or mark_read is not None:
            apply_marks(storage, fid, marks, groups, keys, mark_seen, mark_read)
    return out


def apply_marks(storage: Storage, fid: str, marks: Marks, groups: Sequence[tuple], keys: Sequence[bytes],
                mark_seen: bool | list[str] | None, mark_read: bool | list[str] | None) -> None:
    newest = keys[0] if keys else b""
    by_id = {ids.key_to_uuid(keys[g[4]]): g for g in groups}
    for which, how in (("seen", mark_seen), ("read", mark_read)):
        if how is None:
            continue
        if how is True:
            setattr(marks, f"{which}_all", max(getattr(marks, f"{which}_all"), newest))
        else:
            per_group = getattr(marks, which)
            for gid in how:
                g = by_id.get(gid)
                if g is not None:  # unknown group ids are ignored, as Stream does
                    per_group[g[0]] = max(per_group.get(g[0], b""), keys[g[4]])
        # per-group marks below the watermark, or of groups no longer in the window, are dead
        floor = getattr(marks, f"{which}_all")
        live = {g[0] for g in groups}
        setattr(marks, which, {k: v for k, v in getattr(marks, which).items() if v > floor and k in live})
    storage.put_marks(fid, marks.encode())
