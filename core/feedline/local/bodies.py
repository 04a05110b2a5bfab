"""Reading an ASGI request body with a size bound (the API port and the Faye endpoint share it)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

Receive = Callable[[], Awaitable[dict[str, Any]]]


class BodyTooLarge(Exception):
    """The body grew beyond the bound (a chunked body gives no length up front)."""


async def read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None when the client went away first. Raises ``BodyTooLarge`` as soon
    as more than ``limit`` bytes arrived, so an endless body is never buffered."""
    body = bytearray()
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        body += message.get("body", b"")
        more = message.get("more_body", False)
        if len(body) > limit:
            raise BodyTooLarge
    return bytes(body)
