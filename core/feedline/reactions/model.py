"""Reaction values and their canonical bytes (spec §2.6, §3.11): pure functions, no storage.

A reaction is stored as two canonical JSON pieces, each written once and spliced on read:

- ``body``: the reaction's own fields, a JSON object in the order ``id, kind, activity_id,
  user_id, data, parent, created_at, updated_at`` then ``target_feeds`` (when given) and
  ``deleted_at`` (when soft-deleted). Rebuilt by the service when the reaction changes.
- ``children``: the members ``"latest_children":{kind:[child...]},"children_counts":{kind:n}``,
  rebuilt by the store from the exact set of children whenever a child changes.

``reaction_bytes(body, children)`` is the reaction the API returns (and what enrichment will
splice into activities byte for byte). Both pieces use ``serialization.json_bytes``: canonical
ASCII JSON with sorted keys, like activities.
"""

from __future__ import annotations

import math
import os
import re
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from feedline.errors import InputException
from feedline.models import ids
from feedline.serialization import json_bytes

#: kinds follow the feed-slug rule (spec §3.13): letters, digits, ``_`` and ``-``
KIND = re.compile(r"[\w-]+")
MAX_KIND = 255
#: user ids as feed user ids
USER = re.compile(r"[\w-]+")
MAX_USER = 255
MAX_ACTIVITY_ID = 255
MAX_REACTION_BYTES = 10 * 1024
MAX_TARGET_FEEDS = 20
#: nesting limit of ``data`` (the activities' limit, see ``check_data``)
MAX_DEPTH = 32
#: children of each kind embedded in a reaction's ``latest_children``
LATEST_CHILDREN = 5
EMPTY_CHILDREN = b'"latest_children":{},"children_counts":{}'


def check_data(value: Any, field: str, depth: int = 0) -> None:
    """Reject values JSON cannot carry faithfully: non-finite floats, nesting deeper than
    ``MAX_DEPTH``, lone surrogates in strings, non-string keys.

    A local stand-in: switch to ``feedline.models.values.check_value(value, field, MAX_DEPTH)``
    once that shared validator lands on main (the same rules, one place)."""
    if depth > MAX_DEPTH:
        raise InputException.field(field, f"nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InputException.field(field, "numbers must be finite (no NaN or Infinity)")
    elif isinstance(value, str):
        _check_text(value, field)
    elif isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise InputException.field(field, "object keys must be strings")
            _check_text(k, field)
            check_data(v, field, depth + 1)
    elif isinstance(value, list):
        for v in value:
            check_data(v, field, depth + 1)
    elif value is not None and not isinstance(value, (bool, int)):
        raise InputException.field(field, f"unsupported value of type {type(value).__name__}")


def _check_text(text: str, field: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InputException.field(field, "strings must be valid Unicode (no lone surrogates)") from None


def valid_kind(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_KIND and KIND.fullmatch(value) is not None


def valid_user(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_USER and USER.fullmatch(value) is not None


def format_time(time_us: int) -> str:
    """Reaction times are RFC 3339 with ``Z`` (spec §1.2): ``2017-07-01T20:30:45.123456Z``."""
    return ids.format_time(time_us) + "Z"


# ---- ids and keys -------------------------------------------------------------------------------
def new_key(time_us: int) -> bytes:
    """A fresh reaction's sort key: its creation time and random node bytes (multicast bit set)."""
    node = bytearray(os.urandom(6))
    node[0] |= 0x01
    return ids.key_from_time(time_us, ids.CLOCK_SEQ + bytes(node))


def parse_id(text: object, field: str = "id") -> str:
    """The canonical (lower-case, dashed) form of a reaction id, which must be a UUID."""
    if isinstance(text, str) and 32 <= len(text) <= 36:
        try:
            return str(uuid.UUID(text))
        except ValueError:
            pass
    raise InputException.field(field, f"{text!r} is not a reaction id (a UUID)")


def key_of(reaction_id: str, time_us: int) -> bytes:
    """The sort key of a reaction with this (canonical) id created at ``time_us``.

    A time-based id is its own key, so ``id_lt`` and friends compare ids in time order as for
    activities. Any other UUID (a client's choice) sorts at its creation time, with node bytes
    hashed from the id."""
    try:
        return ids.uuid_to_key(reaction_id)
    except ValueError:
        return ids.key_from_time(time_us, ids.node_lsb(b"reaction:" + reaction_id.encode("ascii")))


# ---- canonical bytes ----------------------------------------------------------------------------
def encode_body(id_: str, kind: str, activity_id: str, user_id: str, data: Mapping[str, Any], parent: str,
                created_us: int, updated_us: int, target_feeds: Sequence[str] = (),
                deleted_us: int | None = None) -> bytes:
    """The reaction's own fields as canonical JSON (the stored ``body``)."""
    parts = [
        b'{"id":', json_bytes(id_),
        b',"kind":', json_bytes(kind),
        b',"activity_id":', json_bytes(activity_id),
        b',"user_id":', json_bytes(user_id),
        b',"data":', json_bytes(dict(data)),
        b',"parent":', json_bytes(parent),
        b',"created_at":', json_bytes(format_time(created_us)),
        b',"updated_at":', json_bytes(format_time(updated_us)),
    ]
    if target_feeds:
        parts += [b',"target_feeds":', json_bytes(list(target_feeds))]
    if deleted_us is not None:
        parts += [b',"deleted_at":', json_bytes(format_time(deleted_us))]
    parts.append(b"}")
    return b"".join(parts)


def encode_children(latest: Mapping[str, Sequence[bytes]], counts: Mapping[str, int]) -> bytes:
    """The ``latest_children`` / ``children_counts`` members from the children's full bytes
    (newest first, per kind) and the exact counts. Kinds in sorted order (canonical)."""
    lc = b",".join(json_bytes(k) + b":[" + b",".join(latest[k]) + b"]" for k in sorted(latest) if latest[k])
    cc = b",".join(json_bytes(k) + b":" + str(int(counts[k])).encode() for k in sorted(counts) if counts[k])
    return b'"latest_children":{' + lc + b'},"children_counts":{' + cc + b"}"


def reaction_bytes(body: bytes, children: bytes | None) -> bytes:
    """The reaction as the API returns it: the body with the children members spliced in."""
    return body[:-1] + b"," + (children or EMPTY_CHILDREN) + b"}"


def with_member(reaction: bytes, name: str, value: bytes) -> bytes:
    """``reaction`` with one more member (already JSON), e.g. ``own_children``."""
    return reaction[:-1] + b"," + json_bytes(name) + b":" + value + b"}"
