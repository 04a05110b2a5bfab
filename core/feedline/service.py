"""The feed operations, independent of any transport (HTTP handlers and tests call these)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from urllib.parse import quote

import ujson

from feedline.config import FLAT, AppConfig, FeedGroup
from feedline.errors import DoesNotExistException, InputException, StorageUnavailable
from feedline.fanout.messages import FanoutMessage
from feedline.fanout.queue import FanoutQueue
from feedline.models import ids
from feedline.models.activity import RESERVED, Activity, build, key_for
from feedline.models.feeds import check_slug_uid, parse_feed_id, parse_target
from feedline.models.values import check_path
from feedline.storage.base import ActivityRecord, Entry, Follow, Match, Range, Storage

DEFAULT_LIMIT = 25
MAX_LIMIT = 100
MAX_OFFSET = 10_000
DEFAULT_COPY_LIMIT = 100
MAX_COPY_LIMIT = 1000
MAX_BATCH_ACTIVITIES = 100
MAX_FOLLOW_BATCH = 2500
MAX_GET_IDS = 100
MAX_UPDATE_BATCH = 100
MAX_ADD_TO_MANY = 5000
#: fields a partial update may not touch (identity and per-copy fields)
IMMUTABLE = frozenset({"id", "foreign_id", "time", "to"}) | RESERVED


def record(act: Activity, feed: str | None) -> ActivityRecord:
    return ActivityRecord(act.key, act.body, act.foreign_id, feed, act.actor, act.verb)


def stored_dict(body: bytes) -> dict:
    """A stored activity as the dict a client sent (minus the server-set id)."""
    doc = ujson.loads(body)
    doc.pop("id", None)
    return doc


def now_us() -> int:
    return time.time_ns() // 1000


@dataclass(frozen=True, slots=True)
class FlatPage:
    rows: list[tuple[bytes, bytes, str | None]]
    next: str


class FeedService:
    def __init__(self, app: AppConfig, storage: Storage, queue: FanoutQueue,
                 clock: Callable[[], int] = now_us, inline_fanout: int = 0):
        self.app = app
        self.storage = storage
        self.queue = queue
        self.clock = clock
        self.inline_fanout = inline_fanout

    # ---- feed ids and groups ----------------------------------------------------------------
    def feed(self, slug: str, user_id: str) -> tuple[str, FeedGroup]:
        fid = check_slug_uid(slug, user_id)
        return fid, self.app.group(slug)

    def group_of(self, fid: str) -> FeedGroup:
        return self.app.group(fid.partition(":")[0])

    @staticmethod
    def require_flat(group: FeedGroup, what: str) -> None:
        if group.type != FLAT:
            raise InputException.field(
                "feed", f"{what}: {group.name!r} is an {group.type} feed group; only flat feeds can do this")

    def place(self, key: bytes, body: bytes, feeds: Sequence[str], origin: str | None) -> None:
        """Write one activity into feeds of any type (see ``aggregation.feeds.place``)."""
        from feedline.aggregation.feeds import place

        place(self.storage, self.app, key, feeds, origin, body)

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
        for target in {t for act in activities for t in act.to}:
            self.group_of(target)  # unknown groups fail before anything is written
        existing = self.storage.get_activities([a.key for a in activities])
        self.storage.put_activities([record(a, fid) for a in activities])
        flat = self.group_of(fid).type == FLAT
        if flat:  # one write for the whole batch
            self.storage.add_entries(fid, [Entry(a.key, None) for a in activities])
        messages = []
        for act in activities:
            self.place(act.key, act.body, act.to if flat else (fid, *act.to), None)
            for source in (fid, *act.to):
                # only flat feeds have followers (aggregated/notification feeds cannot be followed)
                if self.group_of(source).type == FLAT and not self._fan_out_inline(act, source):
                    messages.append(FanoutMessage("add", act.id, source))
        try:
            self.queue.send(messages)
        except Exception:
            # every feed a new activity reached (incl. followers written inline) gives it back
            new = [a for a in activities if a.key not in existing]
            for act in new:
                self.storage.remove_from_feeds(act.key, [f for f, _ in self.storage.feeds_of_activity(act.key)])
            if new:
                self.storage.delete_activities([a.key for a in new])
            raise

    def _fan_out_inline(self, act: Activity, source: str) -> bool:
        """Write a small audience here instead of through the queue (saves the queue's latency
        for the common case; large audiences still go through chunked messages)."""
        if self.inline_fanout <= 0:
            return False
        followers = self.storage.follower_page(source, None, self.inline_fanout + 1)
        if len(followers) > self.inline_fanout:
            return False
        if followers:
            self.place(act.key, act.body, followers, source)
        return True

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
    def read_flat(self, fid: str, limit: int, offset: int, rng: Range, next_base: str,
                  match: Match | None = None) -> FlatPage:
        self.require_flat(self.group_of(fid), "read")
        rows = self.storage.read_page(fid, limit + 1, offset, rng, match)
        nxt = ""
        if len(rows) > limit:
            rows = rows[:limit]
            nxt = f"{next_base}?id_lt={ids.key_to_uuid(rows[-1][0])}&limit={limit}"
            if match is not None:
                for name in ("verb", "actor"):
                    value = getattr(match, name)
                    if value is not None:
                        nxt += f"&{name}={quote(value, safe='')}"
        return FlatPage(rows, nxt)

    # ---- app-level activity endpoints -------------------------------------------------------
    def lookup_keys(self, id_texts: Sequence[str], foreign_ids: Sequence[str],
                    timestamps: Sequence[str] | None = None) -> list[bytes]:
        """Keys for ``ids``, or for ``foreign_ids`` (with ``timestamps``: the exact activities;
        without: every activity with that foreign_id). Exactly one form, at most 100 values."""
        if bool(id_texts) == bool(foreign_ids):
            raise InputException.field("ids", "give ids, or foreign_ids (not both, not neither)")
        if len(id_texts) > MAX_GET_IDS or len(foreign_ids) > MAX_GET_IDS:
            raise InputException.field("ids" if id_texts else "foreign_ids", f"at most {MAX_GET_IDS} per request")
        if id_texts:
            keys = []
            for text in id_texts:
                try:
                    keys.append(ids.uuid_to_key(text))
                except ValueError:
                    raise InputException.field("ids", f"{text!r} is not an activity id") from None
            return keys
        if timestamps is None:
            return [k for fid in foreign_ids for k in self.storage.keys_by_foreign_id(fid)]
        if len(timestamps) != len(foreign_ids):
            raise InputException.field("timestamps", "foreign_ids and timestamps must have the same length")
        return [key_for(f, t) for f, t in zip(foreign_ids, timestamps)]

    def get_activities(self, keys: Sequence[bytes]) -> list[bytes]:
        """Stored bodies of the known ids, in the order asked (unknown ids are left out)."""
        found = self.storage.get_activities(keys)
        return [found[k].body for k in dict.fromkeys(keys) if k in found]

    def update_activities(self, payloads: object) -> None:
        """Full replace, identified by foreign_id + time: the id stays, custom fields are replaced.

        The activity is stored once, so every feed holding it shows the new version on its next
        read: no fan-out is needed. ``to`` targets are kept (change them with activity_to_targets).
        """
        if not isinstance(payloads, list) or not payloads:
            raise InputException.field("activities", "must be a non-empty list of activities")
        if len(payloads) > MAX_UPDATE_BATCH:
            raise InputException.field("activities", f"at most {MAX_UPDATE_BATCH} activities per request")
        now = self.clock()
        keys = []
        for i, p in enumerate(payloads):
            if not isinstance(p, dict):
                raise InputException.field("activities", f"activity {i} must be an object")
            keys.append(key_for(p.get("foreign_id"), p.get("time")))
        existing = self.storage.get_activities(keys)
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
        self.storage.put_activities([record(a, None) for a in updated])

    def partial_update(self, changes: Sequence[object]) -> list[bytes]:
        """Apply ``set`` (dotted paths) / ``unset`` changes by id or foreign_id + time."""
        if len(changes) > MAX_UPDATE_BATCH:
            raise InputException.field("changes", f"at most {MAX_UPDATE_BATCH} changes per request")
        plans = []
        for i, change in enumerate(changes):
            if not isinstance(change, dict):
                raise InputException.field("changes", f"change {i} must be an object")
            if change.get("id") is not None:
                if not isinstance(change["id"], str):
                    raise InputException.field("id", "must be an activity id string")
                try:
                    key = ids.uuid_to_key(change["id"])
                except ValueError:
                    raise InputException.field("id", f"{change['id']!r} is not an activity id") from None
            else:
                key = key_for(change.get("foreign_id"), change.get("time"))
            set_, unset = change.get("set") or {}, change.get("unset") or []
            if not isinstance(set_, dict):
                raise InputException.field("set", "must be an object of dotted.path: value")
            if not isinstance(unset, list) or not all(isinstance(u, str) and u for u in unset):
                raise InputException.field("unset", "must be a list of dotted paths")
            if not set_ and not unset:
                raise InputException.field("set", "a change needs set and/or unset")
            both = set(set_) & set(unset)
            if both:
                raise InputException.field("unset", f"paths both set and unset: {sorted(both)}")
            for path in [*set_, *unset]:
                if check_path(path, "set" if path in set_ else "unset")[0] in IMMUTABLE:
                    raise InputException.field(path, f"{path!r} cannot be changed")
            for path in unset:
                if path in ("actor", "verb", "object"):
                    raise InputException.field(path, f"{path!r} is required and cannot be unset")
            plans.append((key, set_, unset))
        existing = self.storage.get_activities([k for k, _, _ in plans])
        missing = [ids.key_to_uuid(k) for k, _, _ in plans if k not in existing]
        if missing:
            raise DoesNotExistException(f"activities not found: {', '.join(missing)}")
        now = self.clock()
        updated: dict[bytes, Activity] = {}
        for key, set_, unset in plans:
            base = updated[key].body if key in updated else existing[key].body
            doc = stored_dict(base)
            for path, value in set_.items():
                _set_path(doc, path.split("."), value)
            for path in unset:
                _unset_path(doc, path.split("."))
            updated[key] = build(doc, now, keep_key=key)
        self.storage.put_activities([record(a, None) for a in updated.values()])
        return [updated[k].body for k, _, _ in plans]

    def add_to_many(self, payload: object, feeds: object) -> Activity:
        """One activity into many feeds, without follower propagation (Stream semantics)."""
        if not isinstance(payload, dict):
            raise InputException.field("activity", "must be an activity object")
        if "to" in payload:
            raise InputException.field("to", "add_to_many does not allow 'to'")
        if not isinstance(feeds, list) or not feeds:
            raise InputException.field("feeds", "must be a non-empty list of feed ids")
        if len(feeds) > MAX_ADD_TO_MANY:
            raise InputException.field("feeds", f"at most {MAX_ADD_TO_MANY} feeds")
        targets = []
        for f in feeds:
            slug, uid = parse_feed_id(f, "feeds")
            self.app.group(slug)
            targets.append(f"{slug}:{uid}")
        [act] = self.validate([payload])
        self.storage.put_activities([record(act, None)])
        self.place(act.key, act.body, list(dict.fromkeys(targets)), None)
        return act

    def update_to_targets(self, fid: str, data: object) -> tuple[bytes, list[str], list[str]]:
        """Replace (``new_targets``) or change (``added_targets`` / ``removed_targets``) the ``to``
        of an activity of ``fid``; copies appear in / vanish from the targets and their followers."""
        if not isinstance(data, dict):
            raise InputException.field("body", "must be an object")
        key = key_for(data.get("foreign_id"), data.get("time"))
        lists = {}
        for name in ("new_targets", "added_targets", "removed_targets"):
            if name in data and data[name] is not None:
                value = data[name]
                if not isinstance(value, list):
                    raise InputException.field(name, "must be a list of feed ids")
                lists[name] = list(dict.fromkeys(parse_target(v, name) for v in value))
        if not lists:
            raise InputException.field("new_targets", "give new_targets, or added_targets and/or removed_targets")
        if "new_targets" in lists and len(lists) > 1:
            raise InputException.field("new_targets", "cannot be combined with added_targets/removed_targets")
        clash = set(lists.get("added_targets", ())) & set(lists.get("removed_targets", ()))
        if clash:
            raise InputException.field("added_targets", f"feeds both added and removed: {sorted(clash)}")
        rec = self.storage.get_activities([key]).get(key)
        if rec is None or not self.storage.has_entry(fid, key):
            raise DoesNotExistException(f"no activity with that foreign_id and time in {fid}")
        doc = stored_dict(rec.body)
        current = list(doc.get("to") or ())
        if "new_targets" in lists:
            wanted = lists["new_targets"]
        else:
            wanted = [t for t in current if t not in lists.get("removed_targets", ())]
            wanted += [t for t in lists.get("added_targets", ()) if t not in wanted]
        added = [t for t in wanted if t not in current]
        removed = [t for t in current if t not in wanted]
        for t in added:
            self.group_of(t)
        doc["to"] = wanted
        act = build(doc, self.clock(), keep_key=key)
        self.storage.put_activities([record(act, None)])
        self.place(key, act.body, added, None)
        for t in removed:
            self.storage.remove_entries(t, [key])
        flat = [t for t in (*added, *removed) if self.group_of(t).type == FLAT]
        self.queue.send([FanoutMessage("add", act.id, t) for t in added if t in flat]
                        + [FanoutMessage("remove", act.id, t) for t in removed if t in flat])
        return act.body, added, removed

    def delete_everywhere(self, keys: Sequence[bytes]) -> tuple[list[str], int]:
        """Remove activities from every feed they reached (follows, ``to``, add_to_many) and
        forget them: a Feedline extension (Stream users ask for it most, spec §6.2)."""
        removed, entries = [], 0
        for key in dict.fromkeys(keys):
            feeds = [f for f, _ in self.storage.feeds_of_activity(key)]
            if feeds:
                self.storage.remove_from_feeds(key, feeds)
                entries += len(feeds)
            if self.storage.get_activities([key]):
                self.storage.delete_activities([key])
                removed.append(ids.key_to_uuid(key))
        return removed, entries

    def follow_stats(self, followers: str | None, following: str | None,
                     followers_slugs: Sequence[str], following_slugs: Sequence[str]) -> dict:
        out = {}
        if followers is not None:
            out["followers"] = {"feed": followers,
                                "count": self.storage.count_follows(followers, followers_slugs, True)}
        if following is not None:
            out["following"] = {"feed": following,
                                "count": self.storage.count_follows(following, following_slugs, False)}
        return out

    # ---- follows ----------------------------------------------------------------------------
    def _check_follow(self, source: str, target: object) -> str:
        slug, uid = parse_feed_id(target, "target")
        target_fid = f"{slug}:{uid}"
        if target_fid == source:
            raise InputException.field("target", "a feed cannot follow itself")
        tgroup = self.app.group(slug)
        if tgroup.type != FLAT:
            raise InputException.field("target", f"only flat feeds can be followed; {slug!r} is {tgroup.type}")
        self.group_of(source)  # any type may follow: aggregated feeds group what they receive
        return target_fid

    @staticmethod
    def copy_limit(value: object) -> int:
        if value is None or value == "":
            return DEFAULT_COPY_LIMIT
        try:
            n = int(value)  # type: ignore[arg-type]
        except (TypeError, ValueError, OverflowError):  # OverflowError: int(1e999)
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
            if not entries:
                return
            group = self.group_of(source)
            if group.type == FLAT:
                self.storage.add_entries(source, [Entry(e.key, target) for e in entries])
                return
            from feedline.aggregation.feeds import group_entry

            bodies = self.storage.get_bodies([e.key for e in entries])
            self.storage.add_entries(source, [group_entry(group, source, e.key, bodies[e.key], target)
                                              for e in entries if e.key in bodies])

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


def _set_path(doc: dict, parts: list[str], value: object) -> None:
    node = doc
    for i, part in enumerate(parts[:-1]):
        nxt = node.get(part)
        if nxt is None:
            nxt = node[part] = {}
        elif not isinstance(nxt, dict):
            path = ".".join(parts[: i + 1])
            raise InputException.field(".".join(parts), f"{path!r} is not an object")
        node = nxt
    node[parts[-1]] = value


def _unset_path(doc: dict, parts: list[str]) -> None:
    node = doc
    for part in parts[:-1]:
        node = node.get(part)
        if not isinstance(node, dict):
            return  # nothing there to unset
    node.pop(parts[-1], None)
