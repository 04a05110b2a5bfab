"""Feed ids: ``slug:user_id``, both parts wholly letters, digits, ``_`` or ``-`` (docs/api.md §1.3).

Matched with ``fullmatch``: ``re.match(r"^[\\w-]+$")`` lets ``$`` match before a trailing newline,
so ``"1\\n"`` passed and a raw newline reached ``origin`` in followers' pages (invalid JSON).
"""

from __future__ import annotations

import re

from feedline.errors import InputException
from feedline.models.values import describe

_PART = re.compile(r"[\w-]+")
MAX_PART = 255


def valid_part(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_PART and _PART.fullmatch(value) is not None


def check_slug_uid(slug: str, user_id: str) -> str:
    """The feed id for a path's slug and user id, or InputException."""
    if not valid_part(slug):
        raise InputException.field("feed_slug", f"invalid feed slug {describe(slug)}: use letters, digits, _ and -")
    if not valid_part(user_id):
        raise InputException.field("user_id", f"invalid user id {describe(user_id)}: use letters, digits, _ and -")
    return f"{slug}:{user_id}"


def parse_feed_id(value: object, field: str = "feed") -> tuple[str, str]:
    """``(slug, user_id)`` of a ``slug:user_id`` string, or InputException naming ``field``."""
    if isinstance(value, str):
        slug, sep, uid = value.partition(":")
        if sep and valid_part(slug) and valid_part(uid):
            return slug, uid
    raise InputException.field(field, f"invalid feed id {describe(value)}: expected 'slug:user_id'")


def parse_target(entry: object, field: str = "to") -> str:
    """A ``to`` entry: ``"fid"`` or the legacy ``"fid token"`` (token stripped), or a [fid, token] pair."""
    if isinstance(entry, (list, tuple)) and entry:
        entry = entry[0]
    if isinstance(entry, str):
        entry = entry.split(" ", 1)[0]
    slug, uid = parse_feed_id(entry, field)
    return f"{slug}:{uid}"
