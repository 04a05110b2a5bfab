"""The realtime message of one feed change, as stream-js's ``RealTimeMessage`` reads it.

``{feed, app_id, new: [activity (+ origin, + group in aggregated/notification feeds)], deleted:
[ids], deleted_foreign_ids: [[foreign_id, time]], published_at, mark_seen?, mark_read?}``
(docs/api.md §16), wrapped in the
Bayeux message ``{"channel": ..., "data": ...}`` its subscribers receive.

One change is encoded once: every subscriber of the feed gets the same bytes (a transport only
wraps them in a JSON array, with other messages or alone). New activities are spliced from their
stored bodies, never parsed and re-encoded.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import ujson

from feedline.models import ids
from feedline.realtime.channels import channel_of
from feedline.serialization import encode_origin


@dataclass(frozen=True, slots=True)
class Added:
    key: bytes
    #: the stored body (a JSON object)
    body: bytes
    #: the feed it came from (fan-out copies), None in the feed it was written to
    origin: str | None = None
    #: aggregated/notification feeds: the group key rendered for this feed
    group: str | None = None


@dataclass(frozen=True, slots=True)
class Removed:
    key: bytes
    foreign_id: str | None = None


@dataclass(slots=True)
class FeedChange:
    feed: str
    new: list[Added] = field(default_factory=list)
    deleted: list[Removed] = field(default_factory=list)
    #: notification feeds: groups just marked seen / read (True: all of them)
    mark_seen: bool | list[str] | None = None
    mark_read: bool | list[str] | None = None


def _mark(value: bool | list[str] | None) -> str | list[str] | None:
    """stream-js's ``RealTimeMessage.mark_seen``/``mark_read``: ``"all"`` or group ids."""
    if value is True:
        return "all"
    return list(value) if value else None


def _activity(item: Added) -> bytes:
    body = item.body.rstrip()
    if not body.endswith(b"}"):
        raise ValueError("a stored activity body is a JSON object")
    extra = b',"origin":' + encode_origin(item.origin)
    if item.group is not None:
        extra += b',"group":' + ujson.dumps(item.group, ensure_ascii=False).encode()
    # an empty object has no member to follow: `{` + `"origin":...` without the leading comma
    return body[:-1] + (extra[1:] if body[:-1].rstrip().endswith(b"{") else extra) + b"}"


def encode(app_id: str, change: FeedChange, now_us: int | None = None) -> tuple[str, bytes]:
    """``(channel, Bayeux message bytes)`` of one feed change."""
    channel = channel_of(app_id, change.feed)
    published = ids.format_time(time.time_ns() // 1000 if now_us is None else now_us)
    deleted_fids = [[r.foreign_id, ids.format_time(ids.key_time_us(r.key))] for r in change.deleted if r.foreign_id]
    doc: dict = {"feed": change.feed, "app_id": app_id, "published_at": published,
                 "deleted": [ids.key_to_uuid(r.key) for r in change.deleted], "deleted_foreign_ids": deleted_fids}
    for name, value in (("mark_seen", _mark(change.mark_seen)), ("mark_read", _mark(change.mark_read))):
        if value is not None:
            doc[name] = value
    head = ujson.dumps(doc, ensure_ascii=False).encode()
    data = head[:-1] + b',"new":[' + b",".join(_activity(a) for a in change.new) + b"]}"
    return channel, b'{"channel":' + ujson.dumps(channel).encode() + b',"data":' + data + b"}"


def frame(messages: Sequence[bytes]) -> bytes:
    """Bayeux messages as one JSON array (a WebSocket frame or a long-poll response body)."""
    return b"[" + b",".join(messages) + b"]"
