"""The one response writer: every envelope and every ``duration`` is written here.

Bodies are JSON objects built from stored bytes where possible (``serialization``): a response
never decodes an activity to re-encode it. ``duration`` is always the request's elapsed time as a
JSON string ``"1.23ms"``, the last member of the object.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import ujson

from feedline.errors import StreamError
from feedline.serialization import json_bytes, with_duration

JSON = "application/json"


@dataclass(frozen=True, slots=True)
class Reply:
    """A route's answer: always a JSON object."""

    status_code: int
    body: str

    def event(self) -> dict:
        """The API Gateway (HTTP API, payload 2.0) result."""
        return {"statusCode": self.status_code, "body": self.body, "isBase64Encoded": False,
                "headers": {"Content-Type": JSON}, "cookies": []}


def obj(payload: dict | bytes | None, duration: str, status: int = 200) -> Reply:
    """A JSON object (a dict, or stored object bytes) with ``duration`` added."""
    if payload is None:
        payload = b"{}"
    elif isinstance(payload, dict):
        payload = json_bytes(payload)
    return Reply(status, with_duration(payload, duration).decode("utf-8"))


def members(duration: str, status: int = 200, **raw: bytes) -> Reply:
    """``{"name": <raw JSON>, ..., "duration": ...}`` from members that are already JSON bytes."""
    body = b"{" + b",".join(b'"' + name.encode() + b'":' + value for name, value in raw.items()) + b"}"
    return Reply(status, with_duration(body, duration).decode("utf-8"))


def array(items: list[bytes]) -> bytes:
    """A JSON array of stored JSON values (spliced, never decoded)."""
    return b"[" + b",".join(items) + b"]"


def spliced(body: bytes, status: int = 200) -> Reply:
    """A whole response the page twins wrote (they place ``duration`` themselves)."""
    return Reply(status, body.decode("utf-8"))


def error(err: StreamError, duration: str) -> Reply:
    body = err.payload()
    body["duration"] = duration
    # ensure_ascii: a detail quoting bad input (a lone surrogate, say) must still be valid JSON
    return Reply(err.status_code, ujson.dumps(body, ensure_ascii=True))


@dataclass(frozen=True, slots=True)
class Binary:
    """A route's answer that is not JSON (a file's bytes): base64 in the event, as API Gateway's
    HTTP API (payload 2.0) expects a binary body; it decodes it before the client sees it."""

    status_code: int
    body: bytes
    headers: dict[str, str]

    def event(self) -> dict:
        return {"statusCode": self.status_code, "body": base64.b64encode(self.body).decode("ascii"),
                "isBase64Encoded": True, "headers": dict(self.headers), "cookies": []}
