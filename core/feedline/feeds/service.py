"""The feeds service: which kind of feed a feed id is, writing entries into feeds, reading pages.

Every write into a feed and every removal from one goes through here (``place``, ``place_own``,
``take_out``, ``remove_entries``), so this is the one place realtime subscribers are told about
them (``realtime.publisher.Publisher``; a no-op unless realtime is on).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import ujson

from feedline.config import AppConfig
from feedline.errors import FeedConfigException, InputException, MissingRankingException
from feedline.feeds.base import Feed, Page, ReadQuery
from feedline.feeds.factory import feed_kind
from feedline.feeds.grouped import NotificationFeed
from feedline.feeds.marks import MarkSpec
from feedline.feeds.ranked import Rankings
from feedline.realtime.messages import Added, FeedChange, Removed
from feedline.realtime.publisher import NullPublisher, Publisher
from feedline.stores import Stores

log = logging.getLogger("feedline.realtime")


class FeedService:
    def __init__(self, app: AppConfig, stores: Stores, publisher: Publisher | None = None):
        self.app = app
        self.stores = stores
        self.publisher: Publisher = publisher or NullPublisher()
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

    def place(self, key: bytes, feeds: Sequence[str], origin: str | None, body: bytes | None = None,
              announce: bool = True) -> None:
        """Write one activity into feeds of any kind: feeds whose entry is the key alone in one
        call, the others (aggregated/notification: a group key rendered from the body per feed) in
        another. ``announce=False``: subscribers are not told (Stream's add_to_many)."""
        plain: list[str] = []
        rendered: dict[Feed, list[str]] = {}  # by kind: each renders its feeds' entries in one call
        for fid in feeds:
            try:
                kind = self.kind(fid)
            except FeedConfigException:
                plain.append(fid)  # a group dropped from the config since the follow: a plain entry
                continue
            if kind.entry_needs_body:
                found = rendered.get(kind)
                if found is None:
                    found = rendered[kind] = []
                found.append(fid)
            else:
                plain.append(fid)
        timelines = self.stores.timelines
        groups: dict[str, str | None] = {}
        if rendered:
            if body is None:
                body = self.stores.activities.get_bodies([key]).get(key)
            if body is not None:  # gone meanwhile: a removal is propagating
                entries = [pair for kind, fids in rendered.items() for pair in kind.entries(fids, key, body, origin)]
                timelines.place_entries(key, entries)
                groups.update((fid, entry.group) for fid, entry in entries)
        if plain:
            timelines.add_to_feeds(key, plain, origin)
        if announce and self.publisher.active:
            self._announce_added([(fid, key, groups.get(fid)) for fid in (*plain, *groups)],
                                 {key: body} if body is not None else {}, origin)

    def place_own(self, fid: str, items: Sequence[tuple[bytes, bytes]]) -> None:
        """Write activities ``(key, body)`` into the feed they were posted to, whose entries need
        no body (one write for the batch); feeds whose entries do go through ``place``."""
        kind = self.kind(fid)
        self.stores.timelines.add_entries(fid, [kind.entry(fid, key, None, None) for key, _ in items])
        if self.publisher.active:
            self._announce_added([(fid, key, None) for key, _ in items], dict(items), None)

    def take_out(self, key: bytes, feeds: Sequence[str]) -> None:
        """Remove one activity from ``feeds`` (absent entries are ignored)."""
        seen = self._watched_with_bodies(feeds, [key])
        self.stores.timelines.remove_from_feeds(key, feeds)
        if seen is not None:
            self._announce_removed([(fid, key) for fid in feeds], *seen)

    def remove_entries(self, fid: str, keys: Sequence[bytes]) -> None:
        """Remove activities from one feed (absent keys are ignored)."""
        seen = self._watched_with_bodies([fid], keys)
        self.stores.timelines.remove_entries(fid, keys)
        if seen is not None:
            self._announce_removed([(fid, key) for key in keys], *seen)

    # ---- realtime ---------------------------------------------------------------------------
    def _watched_with_bodies(self, feeds: Sequence[str], keys: Sequence[bytes]
                             ) -> tuple[set[str], dict[bytes, bytes]] | None:
        """The watched feeds among ``feeds`` and the bodies of ``keys`` (read before a removal:
        the foreign ids go in the message), or None when nobody watches them."""
        if not self.publisher.active or not feeds:
            return None
        try:
            watched = self.publisher.watched(list(dict.fromkeys(feeds)))
        except Exception:
            log.exception("realtime: subscriber look-up failed")
            return None
        return (watched, self.stores.activities.get_bodies(list(keys))) if watched else None

    def _announce_added(self, items: list[tuple[str, bytes, str | None]], bodies: dict[bytes, bytes],
                        origin: str | None) -> None:
        try:
            watched = self.publisher.watched(list(dict.fromkeys(fid for fid, _, _ in items)))
            if not watched:
                return
            missing = [key for fid, key, _ in items if fid in watched and key not in bodies]
            if missing:
                bodies = {**bodies, **self.stores.activities.get_bodies(missing)}
            changes: dict[str, FeedChange] = {}
            for fid, key, group in items:
                if fid in watched and key in bodies:
                    change = changes.get(fid) or changes.setdefault(fid, FeedChange(fid))
                    change.new.append(Added(key, bodies[key], origin, group))
            self.publisher.publish(list(changes.values()))
        except Exception:  # the write succeeded: realtime is best effort
            log.exception("realtime: publishing new activities failed")

    def _announce_removed(self, items: list[tuple[str, bytes]], watched: set[str], bodies: dict[bytes, bytes]) -> None:
        try:
            foreign: dict[bytes, str | None] = {}
            for key, body in bodies.items():
                value = ujson.loads(body).get("foreign_id")
                foreign[key] = value if isinstance(value, str) and value else None
            changes: dict[str, FeedChange] = {}
            for fid, key in items:
                if fid in watched:
                    change = changes.get(fid) or changes.setdefault(fid, FeedChange(fid))
                    change.deleted.append(Removed(key, foreign.get(key)))
            if changes:
                self.publisher.publish(list(changes.values()))
        except Exception:
            log.exception("realtime: publishing removals failed")

    def read(self, fid: str, q: ReadQuery) -> Page:
        feed = self.kind(fid)
        if q.ranked is not None and not feed.ranks:
            raise MissingRankingException(
                f"the ranking method {q.ranked.method!r} is not configured for {feed.group.name!r}")
        page = feed.read(self.stores, fid, q)
        if feed.has_marks and (q.mark_seen or q.mark_read):
            self._announce_marks(fid, q.mark_seen, q.mark_read)
        return page

    def mark(self, fid: str, mark_seen: MarkSpec, mark_read: MarkSpec) -> None:
        feed = self.kind(fid)
        if not isinstance(feed, NotificationFeed):
            raise InputException.field("feed", f"{feed.group.name!r} is not a notification feed group")
        feed.mark(self.stores, fid, mark_seen, mark_read)
        if mark_seen or mark_read:
            self._announce_marks(fid, mark_seen, mark_read)

    def _announce_marks(self, fid: str, mark_seen: MarkSpec, mark_read: MarkSpec) -> None:
        """Tell a notification feed's subscribers which groups were marked (a Feedline extension:
        Stream does not push marks, stream-js#275)."""
        if not self.publisher.active:
            return
        try:
            if self.publisher.watched([fid]):
                self.publisher.publish([FeedChange(fid, mark_seen=mark_seen or None, mark_read=mark_read or None)])
        except Exception:
            log.exception("realtime: publishing marks failed")
