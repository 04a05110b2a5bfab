"""A collection item as stored and returned: canonical bytes built once, at write time.

The stored body is the exact JSON the API answers (minus ``duration``), so reads, the create
response, ``select`` and a later enrichment (``SO:<collection>:<id>``) embed the same bytes.
"""

from __future__ import annotations

import re
from typing import Any

from feedline.errors import InputException
from feedline.models.values import check_object
from feedline.serialization import json_bytes
from feedline.users.model import USER_ID, rfc3339

#: collection names follow the feed-slug rule (spec §3.13)
NAME = re.compile(r"[\w-]{1,255}")
#: no ``,`` (lists of ids are comma-joined) and no ``/``; ``:`` is fine (``name:id`` splits once)
ITEM_ID = re.compile(r"[\w@.:+-]{1,255}")
MAX_ITEM_BYTES = 10 * 1024


def check_name(value: object, field: str = "collection_name") -> str:
    if not isinstance(value, str) or NAME.fullmatch(value) is None:
        raise InputException.field(field, "must be 1-255 letters, digits, _ and -")
    return value


def check_id(value: object, field: str = "id") -> str:
    if not isinstance(value, str):
        raise InputException.field(field, "must be a string")
    if ITEM_ID.fullmatch(value) is None:
        raise InputException.field(field, "must be 1-255 letters, digits, _ - @ . : +")
    return value


def check_user_id(value: object) -> str:
    """The owner: a user id or nothing ("")."""
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or USER_ID.fullmatch(value) is None:
        raise InputException.field("user_id", "must be a user id string")
    return value


#: the object-value rule every concept's ``data`` follows (``models.values``)
check_data = check_object


def encode(collection: str, item_id: str, data: dict[str, Any], created_us: int, updated_us: int,
           user_id: str = "") -> bytes:
    """``{"id","collection","foreign_id":"name:id","data","created_at","updated_at"}``, plus
    ``"user_id"`` when the item has an owner."""
    body = (b'{"id":' + json_bytes(item_id) + b',"collection":' + json_bytes(collection)
            + b',"foreign_id":' + json_bytes(f"{collection}:{item_id}") + b',"data":' + json_bytes(data)
            + b',"created_at":' + json_bytes(rfc3339(created_us))
            + b',"updated_at":' + json_bytes(rfc3339(updated_us))
            + (b',"user_id":' + json_bytes(user_id) if user_id else b"") + b"}")
    if len(body) > MAX_ITEM_BYTES:
        raise InputException.field("data", f"an item must be at most {MAX_ITEM_BYTES} bytes")
    return body


def parse_foreign_id(value: str) -> tuple[str, str]:
    """``name:id`` -> (name, id), the id being everything after the first ``:``."""
    name, sep, item_id = value.partition(":")
    if not sep:
        raise InputException.field("foreign_ids", f"{value!r} is not collection_name:id")
    return check_name(name, "foreign_ids"), check_id(item_id, "foreign_ids")
