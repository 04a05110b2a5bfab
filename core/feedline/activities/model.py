"""Validation and normalisation of incoming activities (docs/api.md §4.1-4.2)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ujson

from feedline.enrichment.refs import for_body
from feedline.errors import InputException
from feedline.models import ids
from feedline.models.feeds import parse_target
from feedline.models.values import MAX_DEPTH, describe, find_problem, has_surrogate, safe_text
from feedline.serialization import encode_activity, json_bytes

#: custom field names Stream reserves (docs/api.md §4.1); ``to`` is reserved but is a real input field.
RESERVED = frozenset(
    {"activity_id", "activity", "analytics", "extra_context", "id", "is_read", "is_seen",
     "origin", "score", "site_id"}
)
CORE_FIELDS = ("actor", "verb", "object", "target", "foreign_id", "time", "to")
MAX_ACTIVITY_BYTES = 10 * 1024
MAX_VERB_BYTES = 255
MAX_FOREIGN_ID = 255
MAX_TO = 100


@dataclass(slots=True, frozen=True)
class Activity:
    """A validated activity, with its deterministic id and canonical stored bytes."""

    key: bytes
    id: str
    actor: str
    verb: str
    object: str
    target: str
    foreign_id: str
    time_us: int
    time: str
    extra: dict[str, Any]
    to: tuple[str, ...]
    body: bytes
    #: where the body's reference strings are (``enrichment.refs``): found once, here, so every
    #: write path stores them and an enriched read never scans or decodes the body
    refs: bytes | None = None


def _ref(data: dict, name: str, errors: dict[str, list[str]], required: bool) -> str:
    value = data.get(name)
    if value is None or value == "":
        if required:
            errors[name] = ["This field is required."]
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)  # Stream stores actor/object/target as strings: 3 comes back as "3"
    errors[name] = ["must be a string"]
    return ""


def _unstorable(data: dict) -> dict[str, list[str]]:
    """The field that makes the activity unstorable (``models.values``: a non-finite number, a
    lone surrogate, nesting deeper than MAX_DEPTH with the activity object as level 1), if any."""
    found = find_problem(data, MAX_DEPTH)
    if found is None:
        return {}
    if not found.keys:  # the object itself: nothing but depth can be wrong with it here
        return {"activity": [found.reason]}
    top = found.keys[0]
    label = safe_text(top) if isinstance(top, str) else str(top)
    return {label: [f"{found.location.lstrip('.')} {found.reason}"]}


def build(data: Any, now_us: int, *, field_prefix: str = "", keep_key: bytes | None = None) -> Activity:  # noqa: C901 - one pass that lists every bad field
    """Validate one activity payload. Raises InputException listing every bad field.

    ``keep_key`` re-encodes an existing activity (updates): its id stays the same even when the
    content that derived it changed.
    """
    if not isinstance(data, dict):
        raise InputException(f"{field_prefix or 'activity'} must be a JSON object", {"activity": ["must be an object"]})
    errors = _unstorable(data)
    if errors:
        # nothing below may see these values: a lone surrogate fails every encode("utf-8")
        raise InputException(f"Errors for fields {', '.join(repr(n) for n in sorted(errors))}", errors)
    actor = _ref(data, "actor", errors, True)
    verb = _ref(data, "verb", errors, True)
    obj = _ref(data, "object", errors, True)
    target = _ref(data, "target", errors, False)
    if len(verb.encode("utf-8")) > MAX_VERB_BYTES:
        errors["verb"] = [f"must be at most {MAX_VERB_BYTES} bytes"]

    foreign_id = data.get("foreign_id")
    if foreign_id is None:
        foreign_id = ""
    elif isinstance(foreign_id, (int, float)) and not isinstance(foreign_id, bool):
        foreign_id = str(foreign_id)
    elif not isinstance(foreign_id, str):
        errors["foreign_id"] = ["must be a string"]
        foreign_id = ""
    if len(foreign_id) > MAX_FOREIGN_ID:
        errors["foreign_id"] = [f"must be at most {MAX_FOREIGN_ID} characters"]

    raw_time = data.get("time")
    time_us = now_us
    if raw_time is not None and raw_time != "":
        try:
            time_us = ids.parse_time(raw_time)
        except (ValueError, TypeError):
            errors["time"] = ["must be an ISO-8601 time such as 2017-07-01T20:30:45.123456"]

    to: list[str] = []
    raw_to = data.get("to")
    if raw_to is not None:
        if not isinstance(raw_to, list):
            errors["to"] = ["must be a list of feed ids"]
        elif len(raw_to) > MAX_TO:
            errors["to"] = [f"at most {MAX_TO} targets"]
        else:
            try:
                for entry in raw_to:
                    fid = parse_target(entry, "to")
                    if fid not in to:
                        to.append(fid)
            except InputException:
                errors["to"] = [f"invalid feed id in to: {describe(entry)}"]

    extra: dict[str, Any] = {}
    for name, value in data.items():
        if name in CORE_FIELDS:
            continue
        if name in RESERVED:
            errors[name] = [f"'{name}' is a reserved field name"]
            continue
        extra[name] = value

    if errors:
        names = ", ".join(f"'{n}'" for n in sorted(errors))
        raise InputException(f"Errors for fields {names}", errors)

    if keep_key is not None:
        time_us = ids.key_time_us(keep_key)
    time_str = ids.format_time(time_us)
    # Identity of the id: foreign_id when given (same foreign_id + time => same id, an upsert),
    # otherwise the content, so identical data at the same time is one activity (docs/api.md §4.2).
    if foreign_id:
        identity = b"f:" + foreign_id.encode("utf-8")
    else:
        identity = b"c:" + json_bytes([actor, verb, obj, target, extra])
    try:
        key = keep_key or ids.activity_key(time_us, identity)
    except ValueError:
        raise InputException.field("time", "time out of range") from None
    id_ = ids.key_to_uuid(key)
    try:
        body = encode_activity(id_, actor, verb, obj, target, foreign_id, time_str, extra, to)
    except (TypeError, OverflowError, ValueError) as exc:
        raise InputException(f"activity has a value that is not JSON: {exc}", {"activity": [str(exc)]}) from None
    if len(body) > MAX_ACTIVITY_BYTES:
        # the limit is on the activity's UTF-8 size, not on its stored (\u-escaped) form
        size = len(ujson.dumps(ujson.loads(body), ensure_ascii=False, escape_forward_slashes=False).encode())
        if size > MAX_ACTIVITY_BYTES:
            raise InputException(
                f"activity is {size} bytes; the limit is {MAX_ACTIVITY_BYTES}",
                {"activity": [f"must be at most {MAX_ACTIVITY_BYTES} bytes"]},
            )
    return Activity(key, id_, actor, verb, obj, target, foreign_id, time_us, time_str, extra, tuple(to), body,
                    for_body(body))


def key_for(foreign_id: object, time: object, field_prefix: str = "") -> bytes:
    """The id an activity with this ``foreign_id`` and ``time`` has (ids are deterministic)."""
    errors: dict[str, list[str]] = {}
    if not isinstance(foreign_id, str) or not foreign_id:
        errors[f"{field_prefix}foreign_id"] = ["This field is required."]
    elif has_surrogate(foreign_id):
        errors[f"{field_prefix}foreign_id"] = ["contains a lone UTF-16 surrogate (not valid Unicode)"]
    time_us = 0
    if not isinstance(time, str) or not time:
        errors[f"{field_prefix}time"] = ["This field is required."]
    else:
        try:
            time_us = ids.parse_time(time)
        except ValueError:
            errors[f"{field_prefix}time"] = ["must be an ISO-8601 time"]
    if errors:
        raise InputException(f"Errors for fields {', '.join(repr(k) for k in sorted(errors))}", errors)
    return ids.activity_key(time_us, b"f:" + foreign_id.encode("utf-8"))  # type: ignore[attr-defined]
