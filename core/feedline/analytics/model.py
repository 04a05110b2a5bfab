"""Analytics events: validation of what stream-python / stream-js send, and the stored bytes.

- engagement: ``{"content_list": [{content, label, user_data, features?, feed_id?, location?,
  position?, boost?, time?}]}`` (``client.track_engagements``), one event per item.
- impression: a JSON array (stream-python) or one object (stream-js) of ``{content_list,
  user_data, features?, feed_id?, location?, position?, time?}``, one event per object.

``user_data`` is a user id, or an object with an ``id`` (and e.g. an ``alias``): the id is the
partition events are read back by. ``time`` is the client's event time when given (never later
than the time the server received it), else the time the server received it.
"""

from __future__ import annotations

from typing import Any

from feedline.analytics.store import EventRecord
from feedline.errors import InputException
from feedline.models import ids
from feedline.models.feeds import parse_feed_id
from feedline.models.plain import check_plain
from feedline.serialization import json_bytes

#: events per request (engagement items, or impression objects)
MAX_EVENTS = 100
#: content items per impression
MAX_CONTENT = 100
MAX_FEATURES = 100
#: stored bytes per event
MAX_EVENT_BYTES = 10 * 1024
MAX_TEXT = 255


def _err(i: int, name: str, why: str) -> InputException:
    return InputException(f"Errors for fields '{name}' (event {i})", {name: [f"event {i}: {why}"]})


def _text(item: dict, name: str, i: int, required: bool = False) -> str | None:
    value = item.get(name)
    if value is None or value == "":
        if required:
            raise _err(i, name, "This field is required.")
        return None
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise _err(i, name, f"must be a string of at most {MAX_TEXT} characters")
    return value


def user_of(value: object, i: int) -> str:
    """The user id of ``user_data``: a non-empty string or number, or an object with one as ``id``."""
    uid = value.get("id") if isinstance(value, dict) else value
    if isinstance(uid, (int, float)) and not isinstance(uid, bool):
        uid = str(uid)
    if not isinstance(uid, str) or not uid or len(uid) > MAX_TEXT:
        raise _err(i, "user_data", "must be a user id or an object with an id")
    return uid


def _features(value: object, i: int) -> list[dict[str, str]] | None:
    if value is None:
        return None
    if not isinstance(value, list) or len(value) > MAX_FEATURES:
        raise _err(i, "features", f"must be a list of at most {MAX_FEATURES} {{group, value}} objects")
    out = []
    for f in value:
        if not (isinstance(f, dict) and isinstance(f.get("group"), str) and isinstance(f.get("value"), str)):
            raise _err(i, "features", "every feature is {group: string, value: string}")
        out.append({"group": f["group"], "value": f["value"]})
    return out


def _common(item: dict, kind: str, i: int, now_us: int) -> tuple[dict[str, Any], str, str, int]:  # noqa: C901 - one check per optional field
    user_data = item.get("user_data")
    user_id = user_of(user_data, i)
    check_plain(user_data, "user_data")
    doc: dict[str, Any] = {"kind": kind, "user_data": user_data}
    features = _features(item.get("features"), i)
    if features is not None:
        doc["features"] = features
    feed_id = ""
    if item.get("feed_id") not in (None, ""):
        slug, uid = parse_feed_id(item["feed_id"], "feed_id")
        doc["feed_id"] = feed_id = f"{slug}:{uid}"
    location = _text(item, "location", i)
    if location is not None:
        doc["location"] = location
    position = item.get("position")
    if position is not None:
        if isinstance(position, bool) or not isinstance(position, int) or not 0 <= position < 2**31:
            raise _err(i, "position", "must be a non-negative integer")
        doc["position"] = position
    time_us = now_us
    if item.get("time") not in (None, ""):
        try:
            # never in the future: a skewed client clock must not make an event "newest" for days
            time_us = min(ids.parse_time(item["time"]), now_us)
        except (TypeError, ValueError):
            raise _err(i, "time", "must be an ISO-8601 time") from None
    doc["time"] = ids.format_time(time_us)
    return doc, user_id, feed_id, time_us


def _record(doc: dict[str, Any], user_id: str, feed_id: str, time_us: int, i: int) -> EventRecord:
    body = json_bytes(doc)
    if len(body) > MAX_EVENT_BYTES:
        raise _err(i, "event", f"must be at most {MAX_EVENT_BYTES} bytes")
    try:
        key = ids.activity_key(time_us, b"e:" + body)
    except ValueError:
        raise _err(i, "time", "out of range") from None
    return EventRecord(key, doc["kind"], user_id, feed_id, body)


def _items(value: object, name: str) -> list[dict]:
    if not isinstance(value, list) or not value:
        raise InputException.field(name, "must be a non-empty list")
    if len(value) > MAX_EVENTS:
        raise InputException.field(name, f"at most {MAX_EVENTS} events per request")
    if not all(isinstance(v, dict) for v in value):
        raise InputException.field(name, "every event must be an object")
    return value


def engagements(body: object, now_us: int) -> list[EventRecord]:
    if not isinstance(body, dict):
        raise InputException.field("content_list", "expected {content_list: [engagements]}")
    out = []
    for i, item in enumerate(_items(body.get("content_list"), "content_list")):
        doc, user_id, feed_id, time_us = _common(item, "engagement", i, now_us)
        if item.get("content") in (None, "", {}):
            raise _err(i, "content", "This field is required.")
        check_plain(item["content"], "content")
        doc["content"] = item["content"]
        doc["label"] = _text(item, "label", i, required=True)
        boost = item.get("boost")
        if boost is not None:
            if isinstance(boost, bool) or not isinstance(boost, (int, float)):
                raise _err(i, "boost", "must be a number")
            check_plain(boost, "boost")
            doc["boost"] = boost
        out.append(_record(doc, user_id, feed_id, time_us, i))
    return out


def impressions(body: object, now_us: int) -> list[EventRecord]:
    if body == {}:
        return []  # stream-python sends `{}` for an empty list (`data or {}`)
    out = []
    for i, item in enumerate(_items([body] if isinstance(body, dict) else body, "impressions")):
        doc, user_id, feed_id, time_us = _common(item, "impression", i, now_us)
        content = item.get("content_list")
        if not isinstance(content, list) or not content or len(content) > MAX_CONTENT:
            raise _err(i, "content_list", f"must be a list of 1-{MAX_CONTENT} content items")
        check_plain(content, "content_list")
        doc["content_list"] = content
        out.append(_record(doc, user_id, feed_id, time_us, i))
    return out
