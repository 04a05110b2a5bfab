"""The feeds service: which kind of feed a feed id is, writing entries into feeds, reading pages."""

from __future__ import annotations

from collections.abc import Sequence

from feedline.config import AppConfig
from feedline.errors import FeedConfigException, InputException, MissingRankingException
from feedline.feeds.base import Feed, Page, ReadQuery
from feedline.feeds.factory import feed_kind
from feedline.feeds.grouped import NotificationFeed
from feedline.feeds.marks import MarkSpec
from feedline.feeds.ranked import Rankings
from feedline.stores import Stores


class FeedService:
    def __init__(self, app: AppConfig, stores: Stores):
        self.app = app
        self.stores = stores
        #: every group's ranking methods, compiled now: a bad one stops the cold start
        self.rankings = Rankings(app)
        self._kinds: dict[str, Feed] = {}

    def kind(self, fid: str) -> Feed:
        """The ``Feed`` of feed id ``fid``'s group (FeedConfigException for an unknown group)."""
        slug = fid.partition(":")[0]
        found = self._kinds.get(slug)
        if found is None:
            found = self._kinds[slug] = feed_kind(self.app.group(slug), self.rankings)
        return found

    def place(self, key: bytes, feeds: Sequence[str], origin: str | None, body: bytes | None = None) -> None:
        """Write one activity into feeds of any kind: feeds whose entry is the key alone in one
        call, the others (aggregated/notification: a group key rendered from the body) one by one."""
        plain: list[str] = []
        rendered: list[str] = []
        for fid in feeds:
            try:
                needs_body = self.kind(fid).entry_needs_body
            except FeedConfigException:
                needs_body = False  # a group dropped from the config since the follow: a plain entry
            (rendered if needs_body else plain).append(fid)
        timelines = self.stores.timelines
        if rendered:
            if body is None:
                body = self.stores.activities.get_bodies([key]).get(key)
            if body is not None:  # gone meanwhile: a removal is propagating
                for fid in rendered:
                    timelines.add_entries(fid, [self.kind(fid).entry(fid, key, body, origin)])
        if plain:
            timelines.add_to_feeds(key, plain, origin)

    def read(self, fid: str, q: ReadQuery) -> Page:
        feed = self.kind(fid)
        if q.ranked is not None and not feed.ranks:
            raise MissingRankingException(
                f"the ranking method {q.ranked.method!r} is not configured for {feed.group.name!r}")
        return feed.read(self.stores, fid, q)

    def mark(self, fid: str, mark_seen: MarkSpec, mark_read: MarkSpec) -> None:
        feed = self.kind(fid)
        if not isinstance(feed, NotificationFeed):
            raise InputException.field("feed", f"{feed.group.name!r} is not a notification feed group")
        feed.mark(self.stores, fid, mark_seen, mark_read)
