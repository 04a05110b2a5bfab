"""Lenient query parsing: booleans as True/true/1, lists comma-joined or repeated (docs/api.md §1.2)."""

from __future__ import annotations

from collections.abc import Mapping

from feedline.errors import InputException
from feedline.models import ids
from feedline.models.cursors import Range
from feedline.models.feeds import valid_part
from feedline.models.values import describe

TRUE = {"true", "1", "yes", "on"}
FALSE = {"false", "0", "no", "off", ""}


def boolean(q: Mapping[str, str], name: str, default: bool = False) -> bool:
    value = q.get(name)
    if value is None:
        return default
    low = value.strip().lower()
    if low in TRUE:
        return True
    if low in FALSE:
        return False
    raise InputException.field(name, f"must be a boolean, got {value!r}")


def integer(q: Mapping[str, str], name: str, default: int, lo: int, hi: int, clamp: bool = False) -> int:
    value = q.get(name)
    if value is None or value == "":
        return default
    try:
        n = int(value)
    except ValueError:
        raise InputException.field(name, f"must be an integer, got {value!r}") from None
    if n < lo:
        raise InputException.field(name, f"must be at least {lo}")
    if n > hi:
        if clamp:
            return hi
        raise InputException.field(name, f"must be at most {hi}")
    return n


def listing(q: Mapping[str, str], name: str) -> list[str]:
    """Comma-joined (``a,b``), repeated (joined by the event as ``a,b``) or ``name[]`` forms."""
    raw = q.get(name)
    if raw is None:
        raw = q.get(name + "[]")
    if not raw:
        return []
    return [p for p in (s.strip() for s in raw.split(",")) if p]


#: most feed group slugs a ``followers_slugs``/``following_slugs`` filter may name (there are only
#: as many distinct answers as configured groups; each slug is one more condition or query)
MAX_SLUGS = 100


def slugs(q: Mapping[str, str], name: str) -> list[str]:
    """A list of feed group slugs (``a,b``), each a valid slug, at most MAX_SLUGS distinct."""
    out = list(dict.fromkeys(listing(q, name)))
    if len(out) > MAX_SLUGS:
        raise InputException.field(name, f"at most {MAX_SLUGS} slugs")
    for slug in out:
        if not valid_part(slug):
            raise InputException.field(name, f"invalid feed slug {describe(slug)}: use letters, digits, _ and -")
    return out


def id_range(q: Mapping[str, str]) -> Range:
    keys = {}
    for name in ("id_lt", "id_lte", "id_gt", "id_gte"):
        value = q.get(name)
        if value:
            try:
                keys[name[3:]] = ids.uuid_to_key(value)
            except ValueError:
                raise InputException.field(name, f"{value!r} is not an activity id") from None
    return Range(**keys)
