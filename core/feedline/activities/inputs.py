"""Request bodies of the activities room, checked and turned into typed inputs for the service.

The service takes these typed values, never raw JSON: every shape check of a body lives here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from feedline.activities.model import RESERVED, key_for
from feedline.errors import InputException
from feedline.models import ids
from feedline.models.feeds import parse_feed_id, parse_target
from feedline.models.values import check_path

MAX_BATCH_ACTIVITIES = 100
MAX_GET_IDS = 100
MAX_UPDATE_BATCH = 100
MAX_ADD_TO_MANY = 5000
#: fields a partial update may not touch (identity and per-copy fields)
IMMUTABLE = frozenset({"id", "foreign_id", "time", "to"}) | RESERVED


@dataclass(frozen=True, slots=True)
class Change:
    """One partial update: ``set`` dotted paths to values, ``unset`` dotted paths."""

    key: bytes
    set: dict[str, Any]
    unset: list[str]


@dataclass(frozen=True, slots=True)
class TargetsChange:
    """A change of an activity's ``to``: a replacement list, or additions and removals."""

    key: bytes
    new: list[str] | None
    added: list[str]
    removed: list[str]


def activity_batch(data: Any) -> tuple[list[Any], bool]:
    """``(payloads, many)`` of an add: one activity object, or ``{"activities": [...]}``."""
    many = isinstance(data, dict) and "activities" in data
    payloads = data["activities"] if many else [data]
    if not isinstance(payloads, list):
        raise InputException.field("activities", "must be a list of activities")
    if len(payloads) > MAX_BATCH_ACTIVITIES:
        raise InputException.field("activities", f"at most {MAX_BATCH_ACTIVITIES} activities per request")
    return payloads, many


def activity_key(text: object, field: str) -> bytes:
    if not isinstance(text, str):
        raise InputException.field(field, "must be an activity id string")
    try:
        return ids.uuid_to_key(text)
    except ValueError:
        raise InputException.field(field, f"{text!r} is not an activity id") from None


def lookup(id_texts: list[str], foreign_ids: list[str], timestamps: list[str] | None) -> tuple[list[bytes], list[str]]:
    """``(keys, foreign ids to resolve)`` for ``ids``, or ``foreign_ids`` (with ``timestamps``: the
    exact activities; without: every activity with that foreign_id). One form, at most 100 values."""
    if bool(id_texts) == bool(foreign_ids):
        raise InputException.field("ids", "give ids, or foreign_ids (not both, not neither)")
    if len(id_texts) > MAX_GET_IDS or len(foreign_ids) > MAX_GET_IDS:
        raise InputException.field("ids" if id_texts else "foreign_ids", f"at most {MAX_GET_IDS} per request")
    if id_texts:
        return [activity_key(t, "ids") for t in id_texts], []
    if timestamps is None:
        return [], list(foreign_ids)
    if len(timestamps) != len(foreign_ids):
        raise InputException.field("timestamps", "foreign_ids and timestamps must have the same length")
    return [key_for(f, t) for f, t in zip(foreign_ids, timestamps)], []


def full_updates(data: Any) -> list[dict]:
    payloads = data.get("activities") if isinstance(data, dict) else None
    if not isinstance(payloads, list) or not payloads:
        raise InputException.field("activities", "must be a non-empty list of activities")
    if len(payloads) > MAX_UPDATE_BATCH:
        raise InputException.field("activities", f"at most {MAX_UPDATE_BATCH} activities per request")
    for i, p in enumerate(payloads):
        if not isinstance(p, dict):
            raise InputException.field("activities", f"activity {i} must be an object")
    return payloads


def changes(items: list[Any]) -> list[Change]:
    """Partial updates by id or foreign_id + time, each with ``set`` and/or ``unset``."""
    if len(items) > MAX_UPDATE_BATCH:
        raise InputException.field("changes", f"at most {MAX_UPDATE_BATCH} changes per request")
    out = []
    for i, change in enumerate(items):
        if not isinstance(change, dict):
            raise InputException.field("changes", f"change {i} must be an object")
        if change.get("id") is not None:
            key = activity_key(change["id"], "id")
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
        out.append(Change(key, set_, unset))
    return out


def add_to_many(data: Any) -> tuple[dict, list[str]]:
    """``(activity, feed ids)`` of an add_to_many body (no ``to``: Stream refuses it there)."""
    if not isinstance(data, dict):
        raise InputException.field("body", "expected {activity, feeds}")
    payload, feeds = data.get("activity"), data.get("feeds")
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
        targets.append(f"{slug}:{uid}")
    return payload, list(dict.fromkeys(targets))


def targets_change(data: Any) -> TargetsChange:
    """``new_targets`` (replace), or ``added_targets`` and/or ``removed_targets``."""
    if not isinstance(data, dict):
        raise InputException.field("body", "must be an object")
    key = key_for(data.get("foreign_id"), data.get("time"))
    lists: dict[str, list[str]] = {}
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
    return TargetsChange(key, lists.get("new_targets"), lists.get("added_targets", []),
                         lists.get("removed_targets", []))
