"""A user as stored and returned: canonical bytes built once, at write time.

The stored body is the exact JSON the API answers (minus ``duration``), so a read, the create
response and a later enrichment (``SU:<id>`` in an activity) all embed the same bytes. Times are
RFC3339 with ``Z`` (spec §1.2: users, collections and reactions use it, activities do not).
"""

from __future__ import annotations

import re
from typing import Any

from feedline.errors import InputException
from feedline.models import ids
from feedline.models.values import check_object
from feedline.serialization import json_bytes

#: letters, digits and ``_ - @ . +``: what Stream apps use as user ids (uuids, handles, emails)
USER_ID = re.compile(r"[\w@.+-]{1,255}")
#: bytes of the stored user (data included)
MAX_USER_BYTES = 10 * 1024


def rfc3339(time_us: int) -> str:
    return ids.format_time(time_us) + "Z"


def check_id(value: object) -> str:
    if not isinstance(value, str) or USER_ID.fullmatch(value) is None:
        raise InputException.field("id", "must be a string of 1-255 letters, digits, _ - @ . +")
    return value


#: the object-value rule every concept's ``data`` follows (``models.values``)
check_data = check_object


def encode(user_id: str, data: dict[str, Any], created_us: int, updated_us: int) -> bytes:
    """``{"id":…,"data":…,"created_at":…,"updated_at":…}``: the stored and returned bytes."""
    body = (b'{"id":' + json_bytes(user_id) + b',"data":' + json_bytes(data)
            + b',"created_at":' + json_bytes(rfc3339(created_us))
            + b',"updated_at":' + json_bytes(rfc3339(updated_us)) + b"}")
    if len(body) > MAX_USER_BYTES:
        raise InputException.field("data", f"the user must be at most {MAX_USER_BYTES} bytes")
    return body


def with_counts(body: bytes, followers: int, following: int) -> bytes:
    """The stored body with ``followers_count`` / ``following_count`` spliced in (never re-encoded)."""
    return body[:-1] + b',"followers_count":%d,"following_count":%d}' % (followers, following)
