"""The activities service: add, remove, look up, update, copy to many feeds, change ``to``, delete
everywhere. Each activity is stored once (``ActivityStore``); feeds hold its key (``feeds``), and
on backends whose timelines keep a copy of the body, every change of a stored activity is followed
by a refresh of those copies (``_refresh``: inline for small audiences, through the queue in
chunks for large ones)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import ujson

from feedline.activities.inputs import Change, TargetsChange
from feedline.activities.model import Activity, build, key_for
from feedline.activities.paths import set_path, unset_path
from feedline.activities.store import ActivityRecord
from feedline.config import AppConfig
from feedline.errors import DoesNotExistException, InputException
from feedline.fanout.messages import FanoutMessage
from feedline.fanout.queue import FanoutQueue
from feedline.feeds.service import FeedService
from feedline.models import ids
from feedline.stores import Stores


def record(act: Activity, feed: str | None, rank: bytes | None = None) -> ActivityRecord:
    return ActivityRecord(act.key, act.body, act.foreign_id, feed, act.actor, act.verb, act.refs, rank)


def stored_dict(body: bytes) -> dict:
    """A stored activity as the dict a client sent (minus the server-set id)."""
    doc = ujson.loads(body)
    doc.pop("id", None)
    return doc


def now_us() -> int:
    return time.time_ns() // 1000


#: copies of a changed activity rewritten in the request; beyond that, chunked refresh messages
REFRESH_INLINE = 500


class ActivityService:
    def __init__(self, app: AppConfig, stores: Stores, feeds: FeedService, queue: FanoutQueue,
                 clock: Callable[[], int] = now_us, inline_fanout: int = 0, refresh_inline: int = REFRESH_INLINE):
        self.app = app
        self.stores = stores
        self.feeds = feeds
        self.queue = queue
        self.clock = clock
        self.inline_fanout = inline_fanout
        self.refresh_inline = refresh_inline

    def _record(self, act: Activity, feed: str | None) -> ActivityRecord:
        """The stored record, with the ranking field blob extracted from the body (every put:
        an update replaces the blob with the body, so ranked reads never see a stale field)."""
        return record(act, feed, self.feeds.rankings.extract(act.body))

    # ---- add and remove ---------------------------------------------------------------------
    def validate(self, payloads: Sequence[object]) -> list[Activity]:
        """Validate a batch. Activities without a ``time`` get the clock's one ``now`` of the
        batch plus their index in µs: strictly increasing in batch order, so the last of a batch
        reads first (feeds are newest first; with one shared time, ties would sort by id hash).
        Explicit times are kept as sent, so their ids stay deterministic."""
        now = self.clock()
        out = []
        for i, p in enumerate(payloads):
            try:
                out.append(build(p, now + i))
            except InputException as exc:
                if len(payloads) > 1:
                    exc.detail = f"activity {i}: {exc.detail}"
                raise
        return out

    def add(self, fid: str, activities: Sequence[Activity]) -> None:
        """Store activities in ``fid`` and their ``to`` targets, then enqueue the fan-out.

        If the queue refuses the messages, the activities that were new are taken back out
        before the error propagates (the client sees 503 and may retry: ids are deterministic,
        so a retry is an upsert, never a duplicate).
        """
        for target in {t for act in activities for t in act.to}:
            self.feeds.kind(target)  # unknown groups fail before anything is written
        store, timelines = self.stores.activities, self.stores.timelines
        existing = store.get_activities([a.key for a in activities])
        store.put_activities([self._record(a, fid) for a in activities])
        # a re-sent activity (same foreign_id and time) replaces the stored one: its copies follow
        self._refresh([a.key for a in activities if a.key in existing and existing[a.key].body != a.body])
        home = self.feeds.kind(fid)
        if not home.entry_needs_body:  # one write for the whole batch
            self.feeds.place_own(fid, [(a.key, a.body) for a in activities])
        messages = []
        for act in activities:
            self.feeds.place(act.key, act.to if not home.entry_needs_body else (fid, *act.to), None, act.body)
            for source in (fid, *act.to):
                # only feeds that can be followed have followers to fan out to
                if self.feeds.kind(source).fans_out and not self._fan_out_inline(act, source):
                    messages.append(FanoutMessage("add", act.id, source))
        try:
            self.queue.send(messages)
        except Exception:
            # every feed a new activity reached (incl. followers written inline) gives it back
            new = [a for a in activities if a.key not in existing]
            for act in new:
                self.feeds.take_out(act.key, [f for f, _ in timelines.feeds_of_activity(act.key)])
            if new:
                store.delete_activities([a.key for a in new])
            raise

    def _fan_out_inline(self, act: Activity, source: str) -> bool:
        """Write a small audience here instead of through the queue (saves the queue's latency
        for the common case; large audiences still go through chunked messages)."""
        if self.inline_fanout <= 0:
            return False
        followers = self.stores.follows.follower_page(source, None, self.inline_fanout + 1)
        if len(followers) > self.inline_fanout:
            return False
        if followers:
            self.feeds.place(act.key, followers, source, act.body)
        return True

    def remove(self, fid: str, ident: str, by_foreign_id: bool) -> None:
        """Remove from ``fid`` and propagate to every copy; unknown ids are not an error."""
        timelines = self.stores.timelines
        if by_foreign_id:
            keys = [k for k in self.stores.activities.keys_by_foreign_id(ident) if timelines.has_entry(fid, k)]
        else:
            try:
                keys = [ids.uuid_to_key(ident)]
            except ValueError:
                raise InputException.field("activity_id", f"{ident!r} is not an activity id") from None
        for key in keys:
            if not timelines.has_entry(fid, key):
                continue
            sources = [fid]
            rec = self.stores.activities.get_activities([key]).get(key)
            if rec is not None and rec.feed == fid:
                # Removing from the feed it was posted to removes it from its `to` targets too.
                for target in ujson.loads(rec.body).get("to") or ():
                    sources.append(target)
            for feed in sources:
                self.feeds.remove_entries(feed, [key])
            self.queue.send([FanoutMessage("remove", ids.key_to_uuid(key), s) for s in sources])

    # ---- look-ups ---------------------------------------------------------------------------
    def resolve(self, keys: list[bytes], foreign_ids: Sequence[str]) -> list[bytes]:
        """``keys`` plus the keys of every stored activity with one of ``foreign_ids``."""
        return keys + [k for f in foreign_ids for k in self.stores.activities.keys_by_foreign_id(f)]

    def bodies(self, keys: Sequence[bytes]) -> list[bytes]:
        """Stored bodies of the known ids, in the order asked (unknown ids are left out)."""
        found = self.stores.activities.get_activities(keys)
        return [found[k].body for k in dict.fromkeys(keys) if k in found]

    # ---- updates ----------------------------------------------------------------------------
    def update(self, payloads: Sequence[dict]) -> None:
        """Full replace, identified by foreign_id + time: the id stays, custom fields are replaced.

        The activity is stored once; feeds that keep a copy of its body get the new one through
        ``_refresh`` (no new entries, no follower reads). ``to`` targets are kept (change them
        with ``change_targets``).
        """
        now = self.clock()
        keys = [key_for(p.get("foreign_id"), p.get("time")) for p in payloads]
        existing = self.stores.activities.get_activities(keys)
        updated = []
        for key, p in zip(keys, payloads):
            data = dict(p)
            old = existing.get(key)
            # clients often send back what they read: the server-set fields are not input here
            for name in ("to", "id", "origin"):
                data.pop(name, None)
            if old is not None:
                old_to = ujson.loads(old.body).get("to")
                if old_to:
                    data["to"] = old_to
            updated.append(build(data, now, keep_key=key))
        self.stores.activities.put_activities([self._record(a, None) for a in updated])
        self._refresh([a.key for a in updated])

    def partial_update(self, changes: Sequence[Change]) -> list[bytes]:
        """Apply ``set`` (dotted paths) / ``unset`` changes; the bodies after them, in order."""
        existing = self.stores.activities.get_activities([c.key for c in changes])
        missing = [ids.key_to_uuid(c.key) for c in changes if c.key not in existing]
        if missing:
            raise DoesNotExistException(f"activities not found: {', '.join(missing)}")
        now = self.clock()
        updated: dict[bytes, Activity] = {}
        for c in changes:
            base = updated[c.key].body if c.key in updated else existing[c.key].body
            doc = stored_dict(base)
            for path, value in c.set.items():
                set_path(doc, path.split("."), value)
            for path in c.unset:
                unset_path(doc, path.split("."))
            updated[c.key] = build(doc, now, keep_key=c.key)
        self.stores.activities.put_activities([self._record(a, None) for a in updated.values()])
        self._refresh(list(updated))
        return [updated[c.key].body for c in changes]

    def _refresh(self, keys: Sequence[bytes]) -> None:
        """Rewrite the timeline copies of changed activities: up to ``refresh_inline`` feeds each
        here, the rest through a refresh message (the worker splits it in chunks). A no-op on
        backends without copies."""
        timelines, messages = self.stores.timelines, []
        for key in dict.fromkeys(keys):
            _, last = timelines.refresh_copies(key, None, self.refresh_inline)
            if last is not None:
                messages.append(FanoutMessage("refresh", ids.key_to_uuid(key), "", last))
        if messages:
            self.queue.send(messages)

    def add_to_many(self, payload: dict, feeds: list[str]) -> Activity:
        """One activity into many feeds, without follower propagation (Stream semantics)."""
        for f in feeds:
            self.feeds.kind(f)
        [act] = self.validate([payload])
        self.stores.activities.put_activities([self._record(act, None)])
        self._refresh([act.key])  # the same id sent again replaces the body its copies hold
        # Stream's add_to_many sends no realtime messages (docs/api.md §16)
        self.feeds.place(act.key, feeds, None, act.body, announce=False)
        return act

    def change_targets(self, fid: str, change: TargetsChange) -> tuple[bytes, list[str], list[str]]:
        """Replace or change the ``to`` of an activity of ``fid``; copies appear in / vanish from
        the targets and their followers. Returns the new body, the added and the removed feeds."""
        key = change.key
        rec = self.stores.activities.get_activities([key]).get(key)
        if rec is None or not self.stores.timelines.has_entry(fid, key):
            raise DoesNotExistException(f"no activity with that foreign_id and time in {fid}")
        doc = stored_dict(rec.body)
        current = list(doc.get("to") or ())
        if change.new is not None:
            wanted = change.new
        else:
            wanted = [t for t in current if t not in change.removed]
            wanted += [t for t in change.added if t not in wanted]
        added = [t for t in wanted if t not in current]
        removed = [t for t in current if t not in wanted]
        for t in added:
            self.feeds.kind(t)
        doc["to"] = wanted
        act = build(doc, self.clock(), keep_key=key)
        self.stores.activities.put_activities([self._record(act, None)])
        self._refresh([key])
        self.feeds.place(key, added, None, act.body)
        for t in removed:
            self.feeds.remove_entries(t, [key])
        self.queue.send([FanoutMessage("add", act.id, t) for t in added if self.feeds.kind(t).fans_out]
                        + [FanoutMessage("remove", act.id, t) for t in removed if self.feeds.kind(t).fans_out])
        return act.body, added, removed

    def delete_everywhere(self, keys: Sequence[bytes]) -> tuple[list[str], int]:
        """Remove activities from every feed they reached (follows, ``to``, add_to_many) and
        forget them: a Feedline extension (``docs/api.md`` §6.6; Stream users ask for it most)."""
        removed, entries = [], 0
        timelines, store = self.stores.timelines, self.stores.activities
        for key in dict.fromkeys(keys):
            feeds = [f for f, _ in timelines.feeds_of_activity(key)]
            if feeds:
                self.feeds.take_out(key, feeds)
                entries += len(feeds)
            if store.get_activities([key]):
                store.delete_activities([key])
                removed.append(ids.key_to_uuid(key))
        return removed, entries
