"""Request bodies and queries of the reactions room, checked and turned into typed inputs.

The service takes these typed values, never raw JSON: every shape check lives here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from feedline.errors import InputException
from feedline.models.feeds import parse_feed_id
from feedline.models.values import check_object
from feedline.reactions import model
from feedline.reactions.store import SCOPES, Scope

DEFAULT_LIMIT = 10
MAX_LIMIT = 25
MAX_GET_MANY = 100


@dataclass(frozen=True, slots=True)
class NewReaction:
    kind: str
    user_id: str
    #: exactly one of activity_id / parent is set (a child reaction names its parent)
    activity_id: str
    parent: str
    data: dict
    id: str | None = None
    target_feeds: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ReactionChange:
    """``PUT /reaction/{id}/``: what is not given (None) is kept."""

    data: dict | None
    target_feeds: tuple[str, ...] | None


@dataclass(frozen=True, slots=True)
class Filter:
    scope: Scope
    limit: int
    #: the id_lt / id_lte / id_gt / id_gte values as given (the service resolves them to keys)
    bounds: dict[str, str]
    with_activity_data: bool = False
    #: ``with_own_children``: the user whose children of each result are added (None: not asked)
    own_children_user: str | None = None
    own_children_kinds: tuple[str, ...] = ()
    #: ``filter_user_id``: only reactions by this user
    filter_user: str | None = None


def _data(value: Any, name: str) -> dict:
    return check_object(value, name, required=False)


def _targets(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise InputException.field("target_feeds", "must be a list of feed ids")
    if len(value) > model.MAX_TARGET_FEEDS:
        raise InputException.field("target_feeds", f"at most {model.MAX_TARGET_FEEDS} target feeds")
    out = []
    for entry in value:
        slug, uid = parse_feed_id(entry, "target_feeds")
        # models.feeds matches ``^[\w-]+$``, which lets a trailing newline through: fullmatch here
        if not (model.KIND.fullmatch(slug) and model.USER.fullmatch(uid)):
            raise InputException.field("target_feeds", f"invalid feed id {entry!r}")
        out.append(f"{slug}:{uid}")
    return tuple(dict.fromkeys(out))


def _text(data: Mapping[str, Any], name: str, limit: int) -> str:
    value = data.get(name)
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or len(value) > limit:
        raise InputException.field(name, f"must be a string of at most {limit} characters")
    return value


def new_reaction(data: Any, token_user: str | None) -> NewReaction:
    """The body of ``POST /reaction/``. A user token reacts as itself: a missing ``user_id`` is
    its own, another one is refused (400, spec §4)."""
    if not isinstance(data, dict):
        raise InputException.field("body", "expected a reaction object")
    kind = data.get("kind")
    if not model.valid_kind(kind):
        raise InputException.field("kind", f"invalid kind {kind!r}: use letters, digits, _ and - (at most "
                                            f"{model.MAX_KIND})")
    user = data.get("user_id")
    if (user is None or user == "") and token_user is not None:
        user = token_user
    if not model.valid_user(user):
        raise InputException.field("user_id", f"invalid user_id {user!r}: use letters, digits, _ and -")
    if token_user is not None and user != token_user:
        raise InputException.field("user_id", f"a user token may react only as its own user ({token_user!r})")
    parent = data.get("parent")
    parent = model.parse_id(parent, "parent") if parent not in (None, "") else ""
    activity_id = "" if parent else _text(data, "activity_id", model.MAX_ACTIVITY_ID)
    if not parent and not activity_id:
        raise InputException("Errors for fields 'activity_id', 'parent'",
                             {"activity_id": ["give activity_id or parent"], "parent": ["give activity_id or parent"]})
    rid = data.get("id")
    return NewReaction(
        kind=kind, user_id=user, activity_id=activity_id, parent=parent,  # type: ignore[arg-type]
        data=_data(data.get("data"), "data"),
        id=model.parse_id(rid) if rid not in (None, "") else None,
        target_feeds=_targets(data.get("target_feeds")),
        extra=_data(data.get("target_feeds_extra_data"), "target_feeds_extra_data"),
    )


def reaction_change(data: Any) -> ReactionChange:
    if data is None:
        return ReactionChange(None, None)
    if not isinstance(data, dict):
        raise InputException.field("body", "expected {data, target_feeds}")
    raw_targets = data.get("target_feeds")
    return ReactionChange(None if data.get("data") is None else _data(data["data"], "data"),
                          None if raw_targets is None else _targets(raw_targets))


def scope(lookup: str, value: str, kind: str | None) -> Scope:
    """The listing of ``GET /reaction/{lookup}/{value}/[{kind}/]``."""
    if lookup not in SCOPES:
        raise InputException.field("lookup", f"filter by one of {', '.join(SCOPES)}, not {lookup!r}")
    if not value or len(value) > model.MAX_ACTIVITY_ID:
        raise InputException.field(lookup, "must be a non-empty string")
    if lookup == "reaction_id":
        value = model.parse_id(value, lookup)
    if kind is not None and not model.valid_kind(kind):
        raise InputException.field("kind", f"invalid kind {kind!r}")
    return Scope(lookup, value, kind)


def kinds(values: list[str], name: str) -> tuple[str, ...]:
    for k in values:
        if not model.valid_kind(k):
            raise InputException.field(name, f"invalid kind {k!r}")
    return tuple(values)
