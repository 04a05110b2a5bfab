"""Flat feeds: entries newest first, the page spliced from stored bodies (``assemble_page``)."""

from __future__ import annotations

from dataclasses import dataclass

from feedline.feeds.base import Feed, Page, ReadQuery
from feedline.feeds.store import Entry, PageRow
from feedline.models.cursors import Cursor
from feedline.serialization import assemble_page
from feedline.stores import Stores


@dataclass(slots=True)
class FlatPage(Page):
    rows: list[PageRow]
    cursor: Cursor | None

    def assemble(self, next_link: str, duration: str) -> bytes:
        return assemble_page(self.rows, next_link, duration)


class FlatFeed(Feed):
    followable = True
    fans_out = True

    def entry(self, fid: str, key: bytes, body: bytes | None, origin: str | None) -> Entry:
        return Entry(key, origin)

    def read(self, stores: Stores, fid: str, q: ReadQuery) -> FlatPage:
        rows = stores.timelines.read_page(fid, q.limit + 1, q.offset, q.rng, q.match, q.with_refs)
        cursor = None
        if len(rows) > q.limit:
            rows = rows[:q.limit]
            if rows:  # limit=0 counts nothing and has no next page
                params: tuple[tuple[str, str], ...] = ()
                if q.match is not None:
                    params = tuple((name, value) for name, value in (("verb", q.match.verb), ("actor", q.match.actor))
                                   if value is not None)
                cursor = Cursor(rows[-1][0], q.limit, params)
        return FlatPage(rows, cursor)
