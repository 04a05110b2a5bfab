"""Canonical activity encoding and page assembly: pure-Python reference twin of ``_activity_c``.

Canonical form of an activity (what is stored and returned): one JSON object, no spaces, keys in
the order ``id, actor, verb, object, target, foreign_id, time``, then custom fields sorted by name
(nested objects sorted too), then ``to`` when it is not empty. Non-ASCII characters are
``\\uXXXX``-escaped and ``/`` is not escaped.

Why ASCII: Lambda wants the response body as a ``str``. Decoding a 200 KB page that holds CJK
text costs ~350 µs (CPython builds a UCS-2 string); the same page escaped is pure ASCII and
decodes in ~16 µs (bench: 14% more bytes on deliberately non-ASCII-heavy data). The Lambda
runtime re-encodes the body either way, and every JSON client reads both forms alike. The per-copy ``origin`` is spliced in at read time, before the closing
brace, so one stored body serves every feed that holds the activity.
"""

from __future__ import annotations

from collections.abc import Sequence

import ujson


def json_bytes(value: object) -> bytes:
    """Canonical JSON of one value (sorted keys, UTF-8, no spaces)."""
    return ujson.dumps(
        value, ensure_ascii=True, escape_forward_slashes=False, sort_keys=True, reject_bytes=True
    ).encode("ascii")


def encode_activity(
    id_: str,
    actor: str,
    verb: str,
    object_: str,
    target: str,
    foreign_id: str,
    time: str,
    extra: dict,
    to: Sequence[str] | None,
) -> bytes:
    parts = [
        b'{"id":', json_bytes(id_),
        b',"actor":', json_bytes(actor),
        b',"verb":', json_bytes(verb),
        b',"object":', json_bytes(object_),
        b',"target":', json_bytes(target),
        b',"foreign_id":', json_bytes(foreign_id),
        b',"time":', json_bytes(time),
    ]
    for name in sorted(extra):
        parts.append(b",")
        parts.append(json_bytes(name))
        parts.append(b":")
        parts.append(json_bytes(extra[name]))
    if to:
        parts.append(b',"to":')
        parts.append(json_bytes(list(to)))
    parts.append(b"}")
    return b"".join(parts)


def encode_origin(feed: str | None) -> bytes:
    """JSON of an ``origin`` value: ``null`` or the feed id string.

    Feed ids are validated as ``[\\w-]+:[\\w-]+`` before they are stored: no quotes, backslashes or
    control characters, so an ASCII id goes between quotes as it is (``\\w`` also allows non-ASCII
    letters, which are escaped like every other string).
    """
    if feed is None:
        return b"null"
    return b'"' + feed.encode("ascii") + b'"' if feed.isascii() else json_bytes(feed)


def assemble_page(rows: Sequence[tuple[bytes, bytes, str | None]], next_url: str, duration: str) -> bytes:
    """``{"results":[...],"next":...,"duration":...}`` from storage rows ``(key, body, origin)``.

    Raises TypeError if ``next_url`` or ``duration`` is not a str, a body is not ``bytes`` or an
    origin is neither None nor a str; ValueError for an empty body or a row that is not three
    values. The compiled twin checks the same (it splices bodies with memcpy: an unchecked empty
    or non-bytes body would crash the process there).
    """
    if type(next_url) is not str or type(duration) is not str:
        raise TypeError("next_url and duration must be str")
    cache: dict[str | None, bytes] = {}
    items = []
    for _key, body, origin in rows:
        if type(body) is not bytes:
            raise TypeError("activity bodies must be bytes")
        if not body:
            raise ValueError("empty activity body")
        if origin is not None and type(origin) is not str:
            raise TypeError("origins must be str or None")
        enc = cache.get(origin)
        if enc is None:
            enc = cache[origin] = encode_origin(origin)
        items.append(body[:-1] + b',"origin":' + enc + b"}")
    return (
        b'{"results":[' + b",".join(items) + b'],"next":' + json_bytes(next_url)
        + b',"duration":' + json_bytes(duration) + b"}"
    )


def with_duration(body: bytes, duration: str) -> bytes:
    """A stored object body with ``"duration"`` appended (single-object responses)."""
    if body == b"{}":
        return b'{"duration":' + json_bytes(duration) + b"}"
    return body[:-1] + b',"duration":' + json_bytes(duration) + b"}"
