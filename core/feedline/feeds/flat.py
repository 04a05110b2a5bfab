"""Flat feeds: entries newest first, the page spliced from stored bodies (``assemble_page``);
ranked reads (``?ranking=``) in ``feeds.ranked``."""

from __future__ import annotations

from dataclasses import dataclass

from feedline.config import FeedGroup
from feedline.feeds.base import Feed, Page, ReadQuery
from feedline.feeds.ranked import Rankings, read_ranked
from feedline.feeds.store import Entry, PageRow
from feedline.models.cursors import Cursor, OffsetCursor
from feedline.serialization import assemble_page
from feedline.stores import Stores


@dataclass(slots=True)
class FlatPage(Page):
    rows: list[PageRow]
    cursor: Cursor | OffsetCursor | None

    def assemble(self, next_link: str, duration: str) -> bytes:
        return assemble_page(self.rows, next_link, duration)


class FlatFeed(Feed):
    followable = True
    fans_out = True
    ranks = True

    def __init__(self, group: FeedGroup, rankings: Rankings | None = None):
        super().__init__(group)
        self.rankings = rankings

    def entry(self, fid: str, key: bytes, body: bytes | None, origin: str | None) -> Entry:
        return Entry(key, origin)

    def read(self, stores: Stores, fid: str, q: ReadQuery) -> FlatPage:
        if q.ranked is not None:
            if self.rankings is None:
                raise ValueError("a ranked read needs the app's Rankings")
            return FlatPage(*read_ranked(self.rankings, self.group, stores, fid, q, q.ranked))
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
