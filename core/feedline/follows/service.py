"""The follows service: follow (with a copy of the target's recent activities), unfollow (with or
without its history), batches, listings and counts."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from feedline.config import AppConfig
from feedline.errors import InputException
from feedline.feeds.service import FeedService
from feedline.follows.store import Follow
from feedline.models.feeds import parse_feed_id
from feedline.stores import Stores

DEFAULT_COPY_LIMIT = 100
MAX_COPY_LIMIT = 1000
MAX_FOLLOW_BATCH = 2500


@dataclass(frozen=True, slots=True)
class FollowPair:
    source: str
    target: str
    keep_history: bool = False


def copy_limit(value: object) -> int:
    """``activity_copy_limit``: how many of the target's activities a new follow copies."""
    if value is None or value == "":
        return DEFAULT_COPY_LIMIT
    try:
        n = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError, OverflowError):  # OverflowError: int(1e999)
        raise InputException.field("activity_copy_limit", "must be an integer") from None
    if isinstance(value, bool) or not 0 <= n <= MAX_COPY_LIMIT:
        raise InputException.field("activity_copy_limit", f"must be between 0 and {MAX_COPY_LIMIT}")
    return n


def pairs(items: Any, what: str) -> list[FollowPair]:
    """The ``[{source, target, keep_history?}]`` body of follow_many / unfollow_many."""
    if not isinstance(items, list):
        raise InputException(f"{what} expects a JSON array of {{source, target}}", {"body": ["must be a list"]})
    if len(items) > MAX_FOLLOW_BATCH:
        raise InputException(f"{what}: at most {MAX_FOLLOW_BATCH} items", {"body": ["too many items"]})
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise InputException(f"{what}: item {i} must be an object", {"body": [f"item {i} must be an object"]})
        s_slug, s_uid = parse_feed_id(item.get("source"), "source")
        t_slug, t_uid = parse_feed_id(item.get("target"), "target")
        keep = item.get("keep_history", False)
        if not isinstance(keep, bool):
            raise InputException.field("keep_history", "must be a boolean")
        out.append(FollowPair(f"{s_slug}:{s_uid}", f"{t_slug}:{t_uid}", keep))
    return out


def now_us() -> int:
    return time.time_ns() // 1000


class FollowService:
    def __init__(self, app: AppConfig, stores: Stores, feeds: FeedService, clock: Callable[[], int] = now_us):
        self.app = app
        self.stores = stores
        self.feeds = feeds
        self.clock = clock

    def _check(self, source: str, target: object) -> str:
        slug, uid = parse_feed_id(target, "target")
        target_fid = f"{slug}:{uid}"
        if target_fid == source:
            raise InputException.field("target", "a feed cannot follow itself")
        kind = self.feeds.kind(target_fid)
        if not kind.followable:
            raise InputException.field("target", f"only flat feeds can be followed; {slug!r} is {kind.kind}")
        self.feeds.kind(source)  # any kind may follow: aggregated feeds group what they receive
        return target_fid

    def follow(self, source: str, target: object, limit: int) -> None:
        self._follow(source, self._check(source, target), limit)

    def _follow(self, source: str, target: str, limit: int) -> None:
        if not self.stores.follows.add_follow(source, target, self.clock()):
            return  # re-following is a no-op
        if not limit:
            return
        timelines = self.stores.timelines
        entries = timelines.read_entries(target, limit, own_only=True)
        if not entries:
            return
        kind = self.feeds.kind(source)
        if not kind.entry_needs_body:
            timelines.add_entries(source, [kind.entry(source, e.key, None, target) for e in entries])
            return
        bodies = self.stores.activities.get_bodies([e.key for e in entries])
        timelines.add_entries(source, [kind.entry(source, e.key, bodies[e.key], target)
                                       for e in entries if e.key in bodies])

    def unfollow(self, source: str, target: object, keep_history: bool) -> None:
        slug, uid = parse_feed_id(target, "target")
        target_fid = f"{slug}:{uid}"
        self.stores.follows.remove_follow(source, target_fid)
        if not keep_history:
            self.stores.timelines.remove_by_origin(source, target_fid)

    def follow_many(self, items: Sequence[FollowPair], limit: int) -> None:
        for p in items:
            self.feeds.kind(p.source)
            self.feeds.kind(p.target)
        for p in items:
            self._check(p.source, p.target)
        for p in items:
            self._follow(p.source, p.target, limit)

    def unfollow_many(self, items: Sequence[FollowPair]) -> None:
        for p in items:
            self.feeds.kind(p.source)
            self.feeds.kind(p.target)
        for p in items:
            self.unfollow(p.source, p.target, p.keep_history)

    def followers(self, fid: str, limit: int, offset: int, only: Sequence[str]) -> list[Follow]:
        return self.stores.follows.list_followers(fid, limit, offset, only)

    def following(self, fid: str, limit: int, offset: int, only: Sequence[str]) -> list[Follow]:
        return self.stores.follows.list_following(fid, limit, offset, only)

    def stats(self, followers: str | None, following: str | None,
              followers_slugs: Sequence[str], following_slugs: Sequence[str]) -> dict:
        out = {}
        follows = self.stores.follows
        if followers is not None:
            out["followers"] = {"feed": followers, "count": follows.count_follows(followers, followers_slugs, True)}
        if following is not None:
            out["following"] = {"feed": following, "count": follows.count_follows(following, following_slugs, False)}
        return out
