"""Helpers shared by the contract suites: keys, feed ids and records."""

from __future__ import annotations

import uuid

from feedline.activities.store import ActivityRecord
from feedline.models import ids


def key(t: int, n: int = 0) -> bytes:
    return ids.key_from_time(1_600_000_000_000_000 + t, b"\x80\x80" + n.to_bytes(6, "big"))


def feed(name: str = "user") -> str:
    return f"{name}:{uuid.uuid4().hex[:10]}"


def rec(k: bytes, fid: str = "", feed_: str | None = None, actor: str = "a", verb: str = "v") -> ActivityRecord:
    return ActivityRecord(k, b'{"id":"%s"}' % ids.key_to_uuid(k).encode(), fid, feed_, actor, verb)


