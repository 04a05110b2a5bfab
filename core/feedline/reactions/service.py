"""The reactions service: add (with child reactions and target feeds), get, update, soft or hard
delete, restore, and the filtered listings with their cursors.

Target feeds get an activity shaped as spec §3.11 says, through the activities service's normal
write path (so followers of a target feed get it too). Its id is deterministic (``foreign_id``
``reaction:<id>`` at the reaction's creation time), so deleting or changing the reaction finds it
again without storing it.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import ujson

from feedline.activities.model import Activity, build, key_for
from feedline.activities.service import ActivityService
from feedline.config import AppConfig
from feedline.enrichment.assemble import user_objects
from feedline.errors import ConflictException, DoesNotExistException, InputException, NotAllowedException
from feedline.models import ids
from feedline.models.cursors import Range
from feedline.reactions import model
from feedline.reactions.inputs import Filter, NewReaction, ReactionChange
from feedline.reactions.store import ACTIVITY, PARENT, ReactionRecord, ReactionStore, Scope, StoredReaction
from feedline.serialization import json_bytes
from feedline.stores import Stores

#: reactions a ``filter_user_id`` listing reads per request before it answers with what it found
MAX_FILTER_SCAN = 500
#: the member every top-level reaction gets (``ReactionService._with_users``)
USER_MEMBER = b',"user":'


@dataclass(frozen=True, slots=True)
class ReactionCursor:
    """Where the next page of a filter starts: ``name`` (``id_lt`` newest first, ``id_gt`` oldest
    first) below/above ``after``, ``limit`` reactions. The routes turn it into a ``next`` link."""

    name: str
    after: bytes
    limit: int


@dataclass(frozen=True, slots=True)
class FilterPage:
    results: list[bytes]
    next: ReactionCursor | None
    #: the activity's stored body (``with_activity_data`` on an activity listing), if found
    activity: bytes | None = None


def now_us() -> int:
    return time.time_ns() // 1000


def reaction_json(s: StoredReaction) -> bytes:
    return model.reaction_bytes(s.record.body, s.children)


class ReactionService:
    def __init__(self, app: AppConfig, stores: Stores, activities: ActivityService,
                 clock: Callable[[], int] = now_us):
        self.app = app
        self.stores = stores
        self.activities = activities
        self.clock = clock

    @property
    def store(self) -> ReactionStore:
        return self.stores.reactions

    # ---- look-ups -----------------------------------------------------------------------------
    def _stored(self, reaction_id: str, live: bool = True) -> StoredReaction:
        found = self.store.get_reactions([reaction_id]).get(reaction_id)
        if found is None or (live and found.record.deleted_us is not None):
            raise DoesNotExistException(f"reaction {reaction_id} does not exist")
        return found

    def _with_users(self, reactions: list[bytes], user_ids: list[str]) -> list[bytes]:
        """Each reaction with its ``user``: the user record, or the not-found object (one batched
        look-up). Stream answers reactions so (stream-js: "reactions should be enriched when
        filtering", "response should include bob user data"); react-activity-feed names the author
        of a comment it pages in from it."""
        if not reactions:
            return reactions
        who = sorted(set(user_ids))
        users = user_objects(who, {u: r.body for u, r in self.stores.users.get_users(who).items()})
        return [r[:-1] + USER_MEMBER + users[u] + b"}" for r, u in zip(reactions, user_ids)]

    def get(self, reaction_id: str) -> bytes:
        """A reaction, soft-deleted ones too (with ``deleted_at``)."""
        s = self._stored(reaction_id, live=False)
        return self._with_users([reaction_json(s)], [s.record.user_id])[0]

    def get_many(self, reaction_ids: Sequence[str], include_deleted: bool) -> list[bytes]:
        """The known reactions in the order asked (unknown ones, and soft-deleted ones unless
        ``include_deleted``, are left out)."""
        found = self.store.get_reactions(reaction_ids)
        rows = [found[i] for i in dict.fromkeys(reaction_ids)
                if i in found and (include_deleted or found[i].record.deleted_us is None)]
        return self._with_users([reaction_json(s) for s in rows], [s.record.user_id for s in rows])

    def counts(self, activity_id: str) -> dict[str, int]:
        return self.store.reaction_counts(activity_id)

    # ---- add ----------------------------------------------------------------------------------
    def add(self, new: NewReaction) -> bytes:
        now = self.clock()
        activity_id = new.activity_id
        if new.parent:
            activity_id = self._stored(new.parent).record.activity_id
        rid = new.id
        key = model.key_of(rid, now) if rid else model.new_key(now)
        rid = rid or ids.key_to_uuid(key)
        rec = ReactionRecord(rid, key, new.kind, activity_id, new.user_id, new.parent,
                             model.encode_body(rid, new.kind, activity_id, new.user_id, new.data, new.parent, now,
                                               now, new.target_feeds),
                             now, now, None, new.target_feeds, json_bytes(new.extra))
        self._check_size(rec)
        act = self._target_activity(rec) if rec.target_feeds else None  # bad extra data fails here
        for fid in rec.target_feeds:
            self.activities.feeds.kind(fid)  # unknown groups fail before anything is written
        if not self.store.add_reaction(rec):
            return self._with_users([self._repeated(rec, new.data)], [rec.user_id])[0]
        if act is not None:
            try:
                self._place(act, rec.target_feeds)
            except Exception:
                # the client sees the error (a queue refusing, say): take the reaction back out
                self.activities.delete_everywhere([act.key])
                self.store.delete_reaction(rid)
                raise
        return self._with_users([model.reaction_bytes(rec.body, None)], [rec.user_id])[0]

    def _repeated(self, rec: ReactionRecord, data: dict) -> bytes:
        """An add whose id is stored: the same reaction again (a retried request) answers as the
        first did; a different reaction under that id is a conflict."""
        s = self._stored(rec.id, live=False)
        old = s.record
        same = ((old.kind, old.activity_id, old.user_id, old.parent, old.target_feeds, old.extra)
                == (rec.kind, rec.activity_id, rec.user_id, rec.parent, rec.target_feeds, rec.extra))
        if not same or ujson.loads(old.body).get("data") != data:
            raise ConflictException(f"a different reaction with id {rec.id} exists")
        return reaction_json(s)

    def _check_size(self, rec: ReactionRecord) -> None:
        size = len(rec.body) + len(rec.extra)
        if size > model.MAX_REACTION_BYTES:
            # the limit is on the UTF-8 size, not on the stored (\\u-escaped) form
            size = sum(len(ujson.dumps(ujson.loads(b), ensure_ascii=False, escape_forward_slashes=False).encode())
                       for b in (rec.body, rec.extra))
            if size > model.MAX_REACTION_BYTES:
                raise InputException.field("data", f"reaction is {size} bytes; the limit is "
                                                   f"{model.MAX_REACTION_BYTES}")

    # ---- target feeds -------------------------------------------------------------------------
    def _target_activity(self, rec: ReactionRecord) -> Activity:
        """The activity target feeds receive (spec §3.11): extra data merged at the top level,
        under the fields that make it this reaction's activity."""
        payload = ujson.loads(rec.extra)
        payload.update(actor=f"SU:{rec.user_id}", verb=rec.kind, object=f"SA:{rec.activity_id}",
                       foreign_id=f"reaction:{rec.id}", time=ids.format_time(rec.created_us), target="",
                       reaction=f"SR:{rec.id}")
        payload.pop("to", None)
        return build(payload, rec.created_us)

    def _place(self, act: Activity, feeds: Sequence[str]) -> None:
        for fid in feeds:
            self.activities.add(fid, [act])

    def _target_key(self, rec: ReactionRecord) -> bytes:
        return key_for(f"reaction:{rec.id}", ids.format_time(rec.created_us))

    def _take_back(self, rec: ReactionRecord) -> None:
        """Remove the reaction's activity from every feed it reached (targets and followers)."""
        if rec.target_feeds:
            self.activities.delete_everywhere([self._target_key(rec)])

    # ---- changes ------------------------------------------------------------------------------
    @staticmethod
    def _owned(rec: ReactionRecord, acting: str | None) -> None:
        if acting is not None and rec.user_id != acting:
            raise NotAllowedException(f"user {acting!r} may not change reaction {rec.id} of {rec.user_id!r}")

    def _rebuilt(self, rec: ReactionRecord, data: dict, **changes: object) -> ReactionRecord:
        rec = dataclasses.replace(rec, **changes)  # type: ignore[arg-type]
        body = model.encode_body(rec.id, rec.kind, rec.activity_id, rec.user_id, data, rec.parent, rec.created_us,
                                 rec.updated_us, rec.target_feeds, rec.deleted_us)
        return dataclasses.replace(rec, body=body)

    def update(self, reaction_id: str, change: ReactionChange, acting: str | None) -> bytes:
        s = self._stored(reaction_id)
        old = s.record
        self._owned(old, acting)
        data = change.data if change.data is not None else ujson.loads(old.body).get("data") or {}
        targets = change.target_feeds if change.target_feeds is not None else old.target_feeds
        for fid in targets:
            self.activities.feeds.kind(fid)
        rec = self._rebuilt(old, data, updated_us=max(self.clock(), old.updated_us), target_feeds=targets)
        self._check_size(rec)
        self.store.put_reaction(rec)
        added = [f for f in targets if f not in old.target_feeds]
        removed = [f for f in old.target_feeds if f not in targets]
        if added:
            self._place(self._target_activity(rec), added)
        for fid in removed:
            self.activities.remove(fid, ids.key_to_uuid(self._target_key(rec)), False)
        s = self._stored(reaction_id)
        return self._with_users([reaction_json(s)], [s.record.user_id])[0]

    def delete(self, reaction_id: str, soft: bool, acting: str | None) -> None:
        s = self._stored(reaction_id, live=soft)
        self._owned(s.record, acting)
        if soft:
            rec = s.record
            data = ujson.loads(rec.body).get("data") or {}
            self.store.put_reaction(self._rebuilt(rec, data, deleted_us=self.clock()))
            self._take_back(rec)
            return
        self._delete_tree(s.record)

    def _delete_tree(self, rec: ReactionRecord) -> None:
        """A hard delete takes the reaction's children (and theirs) with it."""
        while True:
            children = self.store.list_reactions(Scope(PARENT, rec.id), Range(), 100)
            if not children:
                break
            for child in children:
                self._delete_tree(child.record)
        # Soft-deleted children are not listed, so they stay behind, invisible (no listing, count
        # or latest_children shows them) and not restorable (their parent is gone).
        self._take_back(rec)
        self.store.delete_reaction(rec.id)

    def restore(self, reaction_id: str, acting: str | None) -> None:
        s = self._stored(reaction_id, live=False)
        if s.record.deleted_us is None:
            raise DoesNotExistException(f"reaction {reaction_id} is not soft-deleted")
        self._owned(s.record, acting)
        rec = s.record
        if rec.parent:
            self._stored(rec.parent)  # a child whose parent is gone (or soft-deleted) stays deleted
        rec = self._rebuilt(rec, ujson.loads(rec.body).get("data") or {}, deleted_us=None)
        self.store.put_reaction(rec)
        if rec.target_feeds:
            self._place(self._target_activity(rec), rec.target_feeds)

    # ---- listings -----------------------------------------------------------------------------
    def _bound(self, name: str, value: str) -> bytes:
        """A cursor value as a key: a time-based id is its own key; another reaction id is looked up."""
        try:
            return ids.uuid_to_key(value)
        except ValueError:
            pass
        rid = model.parse_id(value, name)
        found = self.store.get_reactions([rid]).get(rid)
        if found is None:
            raise InputException.field(name, f"{value!r} is not a known reaction id")
        return found.record.key

    def _page(self, f: Filter, rng: Range, ascending: bool) -> tuple[list[StoredReaction], bytes | None]:
        """Up to ``f.limit`` reactions and the key the next page starts after (None: no more).

        With ``filter_user_id`` the listing is read in slices and filtered, at most
        ``MAX_FILTER_SCAN`` reactions a request; a page cut short by that bound still carries
        a cursor (the last key read), so paging goes on where the scan stopped."""
        if not f.limit:
            return [], None
        if f.filter_user is None:
            rows = self.store.list_reactions(f.scope, rng, f.limit + 1, ascending)
            if len(rows) > f.limit:
                return rows[:f.limit], rows[f.limit - 1].record.key
            return rows, None
        out: list[StoredReaction] = []
        scanned = 0
        while True:
            want = min(f.limit + 1, MAX_FILTER_SCAN - scanned)
            batch = self.store.list_reactions(f.scope, rng, want, ascending)
            scanned += len(batch)
            for s in batch:
                if s.record.user_id != f.filter_user:
                    continue
                if len(out) == f.limit:  # one more match: there is a next page
                    return out, out[-1].record.key
                out.append(s)
            if len(batch) < want:
                return out, None
            last = batch[-1].record.key
            if scanned >= MAX_FILTER_SCAN:
                return out, last
            rng = (Range(gt=last, lt=rng.lt, lte=rng.lte) if ascending
                   else Range(lt=last, gt=rng.gt, gte=rng.gte))

    def filter(self, f: Filter) -> FilterPage:
        keys = {name[3:]: self._bound(name, value) for name, value in f.bounds.items()}
        rng = Range(**keys)
        ascending = rng.lower()[0] is not None and rng.upper()[0] is None
        rows, after = self._page(f, rng, ascending)
        results = [reaction_json(s) for s in rows]
        results = self._with_users(results, [s.record.user_id for s in rows])
        if f.own_children_user is not None and rows:
            own = self.store.own_children([s.record.id for s in rows], f.own_children_user, f.own_children_kinds)
            results = [model.with_member(r, "own_children", _by_kind(own.get(s.record.id, [])))
                       for r, s in zip(results, rows)]
        cursor = ReactionCursor("id_gt" if ascending else "id_lt", after, f.limit) if after is not None else None
        activity = None
        if f.with_activity_data and f.scope.field == ACTIVITY:
            try:
                bodies = self.activities.bodies([ids.uuid_to_key(f.scope.value)])
            except ValueError:
                bodies = []
            activity = bodies[0] if bodies else None
        return FilterPage(results, cursor, activity)


def _by_kind(children: list[StoredReaction]) -> bytes:
    """``{kind: [child, ...]}`` (kinds sorted, children newest first)."""
    groups: dict[str, list[bytes]] = {}
    for s in children:
        groups.setdefault(s.record.kind, []).append(reaction_json(s))
    return b"{" + b",".join(json_bytes(k) + b":[" + b",".join(groups[k]) + b"]" for k in sorted(groups)) + b"}"
