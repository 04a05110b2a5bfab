"""The feed operations, independent of any transport (HTTP handlers and tests call these)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import ujson

from feedline.config import FLAT, AppConfig, FeedGroup
from feedline.errors import FeedConfigException, InputException, StorageUnavailable
from feedline.fanout.messages import FanoutMessage
from feedline.fanout.queue import FanoutQueue
from feedline.models import ids
from feedline.models.activity import Activity, build
from feedline.models.feeds import check_slug_uid, parse_feed_id
from feedline.storage.base import ActivityRecord, Entry, Follow, Range, Storage

DEFAULT_LIMIT = 25
MAX_LIMIT = 100
MAX_OFFSET = 10_000
DEFAULT_COPY_LIMIT = 100
MAX_COPY_LIMIT = 1000
MAX_BATCH_ACTIVITIES = 100
MAX_FOLLOW_BATCH = 2500


def now_us() -> int:
    return time.time_ns() // 1000


@dataclass(frozen=True, slots=True)
class FlatPage:
    rows: list[tuple[bytes, bytes, str | None]]
    next: str


class FeedService:
    def __init__(self, app: AppConfig, storage: Storage, queue: FanoutQueue,
                 clock: Callable[[], int] = now_us):
        self.app = app
        self.storage = storage
        self.queue = queue
        self.clock = clock

    # ---- feed ids and groups ----------------------------------------------------------------
    def feed(self, slug: str, user_id: str) -> tuple[str, FeedGroup]:
        fid = check_slug_uid(slug, user_id)
        return fid, self.app.group(slug)

    def group_of(self, fid: str) -> FeedGroup:
        return self.app.group(fid.partition(":")[0])

    @staticmethod
    def require_flat(group: FeedGroup, what: str) -> None:
        if group.type != FLAT:
            raise FeedConfigException(
                f"{what}: the {group.type} feed group {group.name!r} is not supported yet by this "
                f"server (flat feeds only)"
            )

    # ---- activities -------------------------------------------------------------------------
    def validate(self, payloads: Sequence[object]) -> list[Activity]:
        now = self.clock()
        out = []
        for i, p in enumerate(payloads):
            try:
                out.append(build(p, now))
            except InputException as exc:
                if len(payloads) > 1:
                    exc.detail = f"activity {i}: {exc.detail}"
                raise
        return out

    def add_activities(self, fid: str, activities: Sequence[Activity]) -> None:
        """Store activities in ``fid`` and their ``to`` targets, then enqueue the fan-out.

        If the queue refuses the messages, the activities that were new are taken back out
        before the error propagates (the client sees 503 and may retry: ids are deterministic,
        so a retry is an upsert, never a duplicate).
        """
        self.require_flat(self.group_of(fid), "add activity")
        for act in activities:
            for target in act.to:
                self.require_flat(self.group_of(target), f"to target {target}")
        existing = self.storage.get_activities([a.key for a in activities])
        self.storage.put_activities(
            [ActivityRecord(a.key, a.body, a.foreign_id, fid) for a in activities])
        self.storage.add_entries(fid, [Entry(a.key, None) for a in activities])
        messages = []
        for act in activities:
            messages.append(FanoutMessage("add", act.id, fid))
            for target in act.to:
                self.storage.add_to_feeds(act.key, [target], None)
                messages.append(FanoutMessage("add", act.id, target))
        try:
            self.queue.send(messages)
        except Exception:
            new = [a for a in activities if a.key not in existing]
            for act in new:
                self.storage.remove_from_feeds(act.key, [fid, *act.to])
            if new:
                self.storage.delete_activities([a.key for a in new])
            raise

    def remove_activity(self, fid: str, ident: str, by_foreign_id: bool) -> None:
        """Remove from ``fid`` and propagate to every copy; unknown ids are not an error."""
        if by_foreign_id:
            keys = [k for k in self.storage.keys_by_foreign_id(ident) if self.storage.has_entry(fid, k)]
        else:
            try:
                keys = [ids.uuid_to_key(ident)]
            except ValueError:
                raise InputException.field("activity_id", f"{ident!r} is not an activity id") from None
        for key in keys:
            if not self.storage.has_entry(fid, key):
                continue
            sources = [fid]
            rec = self.storage.get_activities([key]).get(key)
            if rec is not None and rec.feed == fid:
                # Removing from the feed it was posted to removes it from its `to` targets too.
                for target in ujson.loads(rec.body).get("to") or ():
                    sources.append(target)
            for feed in sources:
                self.storage.remove_entries(feed, [key])
            self.queue.send([FanoutMessage("remove", ids.key_to_uuid(key), s) for s in sources])

    # ---- reads ------------------------------------------------------------------------------
    def read_flat(self, fid: str, limit: int, offset: int, rng: Range, next_base: str) -> FlatPage:
        self.require_flat(self.group_of(fid), "read")
        rows = self.storage.read_page(fid, limit + 1, offset, rng)
        nxt = ""
        if len(rows) > limit:
            rows = rows[:limit]
            nxt = f"{next_base}?id_lt={ids.key_to_uuid(rows[-1][0])}&limit={limit}"
        return FlatPage(rows, nxt)

    # ---- follows ----------------------------------------------------------------------------
    def _check_follow(self, source: str, target: object) -> str:
        slug, uid = parse_feed_id(target, "target")
        target_fid = f"{slug}:{uid}"
        if target_fid == source:
            raise InputException.field("target", "a feed cannot follow itself")
        tgroup = self.app.group(slug)
        if tgroup.type != FLAT:
            raise InputException.field("target", f"only flat feeds can be followed; {slug!r} is {tgroup.type}")
        self.require_flat(self.group_of(source), "follow")
        return target_fid

    @staticmethod
    def copy_limit(value: object) -> int:
        if value is None or value == "":
            return DEFAULT_COPY_LIMIT
        try:
            n = int(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise InputException.field("activity_copy_limit", "must be an integer") from None
        if isinstance(value, bool) or not 0 <= n <= MAX_COPY_LIMIT:
            raise InputException.field("activity_copy_limit", f"must be between 0 and {MAX_COPY_LIMIT}")
        return n

    def follow(self, source: str, target: object, copy_limit: int) -> None:
        target_fid = self._check_follow(source, target)
        self._follow(source, target_fid, copy_limit)

    def _follow(self, source: str, target: str, copy_limit: int) -> None:
        if not self.storage.add_follow(source, target, self.clock()):
            return  # re-following is a no-op
        if copy_limit:
            entries = self.storage.read_entries(target, copy_limit, own_only=True)
            if entries:
                self.storage.add_entries(source, [Entry(e.key, target) for e in entries])

    def unfollow(self, source: str, target: object, keep_history: bool) -> None:
        slug, uid = parse_feed_id(target, "target")
        target_fid = f"{slug}:{uid}"
        self.storage.remove_follow(source, target_fid)
        if not keep_history:
            self.storage.remove_by_origin(source, target_fid)

    def follow_many(self, items: object, copy_limit: int) -> None:
        pairs = self._pairs(items, "follow_many")
        for source, target, _ in pairs:
            self._check_follow(source, target)
        for source, target, _ in pairs:
            self._follow(source, target, copy_limit)

    def unfollow_many(self, items: object) -> None:
        for source, target, keep in self._pairs(items, "unfollow_many"):
            self.unfollow(source, target, keep)

    def _pairs(self, items: object, what: str) -> list[tuple[str, str, bool]]:
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
            self.app.group(s_slug)
            self.app.group(t_slug)
            out.append((f"{s_slug}:{s_uid}", f"{t_slug}:{t_uid}", keep))
        return out

    def followers(self, fid: str, limit: int, offset: int, only: Sequence[str]) -> list[Follow]:
        return self.storage.list_followers(fid, limit, offset, only)

    def following(self, fid: str, limit: int, offset: int, only: Sequence[str]) -> list[Follow]:
        return self.storage.list_following(fid, limit, offset, only)


__all__ = ["FeedService", "FlatPage", "StorageUnavailable"]
