"""The ASGI application of ``feedline dev``: HTTP requests in, API Gateway v2 events to the functions.

The HTTP server (uvicorn, see ``server``) parses the wire; this app applies API Gateway's limits
(request line and headers ≤ 10,240 bytes, payload ≤ 10 MB) with answers in Stream's error envelope,
hands the request to ``LocalStack.route`` on the event loop (cheap: matching and the event dict),
and runs the function in a worker thread: each function has a thread pool as large as its number
of execution environments, so a burst on one function queues there and never starves another.

WebSocket connections (the realtime work's Faye endpoint will live on this port) go to
``websocket`` when one is given, and are refused (HTTP 403) otherwise.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from feedline.local.bodies import BodyTooLarge, read_body
from feedline.local.runner import Call, LocalStack, error_response

log = logging.getLogger("feedline.dev")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: API Gateway HTTP API quotas: request line and header values together, and the payload
MAX_HEADER_BYTES = 10_240
MAX_BODY_BYTES = 10 * 1024 * 1024
#: beyond this, the request target alone is refused with 414 (the rest of the header budget is the headers')
MAX_TARGET_BYTES = 8_192


def _content_length(value: str | None) -> int | None:
    """The body length a request declares (0: none), or None when repeated values differ.

    The HTTP parser has already refused anything but digits and differing repeats; what reaches
    here may still be one value repeated ("5,5" after joining), which HTTP allows.
    """
    if value is None:
        return 0
    values = {v.strip() for v in value.split(",")}
    if len(values) != 1:
        return None
    (v,) = values
    return int(v) if re.fullmatch(r"[0-9]+", v) else None


class LocalApi:
    """ASGI app: API Gateway in front of a ``LocalStack``."""

    def __init__(self, stack: LocalStack, *, websocket: ASGIApp | None = None,
                 max_body: int = MAX_BODY_BYTES, max_headers: int = MAX_HEADER_BYTES):
        self.stack = stack
        self.websocket = websocket
        self.max_body = max_body
        self.max_headers = max_headers
        self._pools: dict[str, ThreadPoolExecutor] = {}

    def _pool(self, function: str) -> ThreadPoolExecutor:
        pool = self._pools.get(function)
        if pool is None:  # only touched from the event loop's thread: no lock needed
            pool = self._pools[function] = ThreadPoolExecutor(self.stack.concurrency, f"feedline-{function}")
        return pool

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "websocket":
            if self.websocket is not None:
                await self.websocket(scope, receive, send)
            else:  # closing before accepting: the server answers the upgrade with 403
                await send({"type": "websocket.close", "code": 1008})
        elif kind == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    self.close()
                    await send({"type": "lifespan.shutdown.complete"})
                    return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        start = time.perf_counter()
        method: str = scope["method"]
        target = scope["raw_path"].decode("latin-1")
        if scope["query_string"]:
            target += "?" + scope["query_string"].decode("latin-1")
        raw_headers: list[tuple[bytes, bytes]] = scope["headers"]
        headers: dict[str, str] = {}
        size = len(method) + len(target) + 11  # the request line: METHOD SP target SP HTTP/1.1 CRLF
        for name, value in raw_headers:
            size += len(name) + len(value) + 4
            k, v = name.decode("latin-1").lower(), value.decode("latin-1")
            headers[k] = f"{headers[k]},{v}" if k in headers else v  # as API Gateway joins repeats
        if len(target) > MAX_TARGET_BYTES:
            return await self._send(send, method, *error_response(
                414, "InputException", f"the request target is longer than {MAX_TARGET_BYTES} bytes", start, 4),
                close=True)
        if size > self.max_headers:
            return await self._send(send, method, *error_response(
                431, "InputException", f"the request line and headers are larger than {self.max_headers} bytes",
                start, 4), close=True)
        length = _content_length(headers.get("content-length"))
        if length is None:
            return await self._send(send, method, *error_response(
                400, "InputException", "Content-Length is not one length in digits", start, 4), close=True)
        if length > self.max_body:
            # answered before reading: the client may stop sending; the connection is closed after
            return await self._send(send, method, *self._too_large(start), close=True)
        try:
            body = await read_body(receive, self.max_body)
        except BodyTooLarge:  # a chunked body that grew too large
            return await self._send(send, method, *self._too_large(start), close=True)
        if body is None:
            return
        try:
            routed = self.stack.route(method, target, headers, body,
                                      scope["client"][0] if scope.get("client") else "127.0.0.1")
            if isinstance(routed, Call):
                loop = asyncio.get_running_loop()
                status, out_headers, out = await loop.run_in_executor(self._pool(routed.function),
                                                                      self.stack.execute, routed)
            else:
                status, out_headers, out = routed
        except Exception:  # the runner itself failed: still an answer in the envelope
            log.exception("local runner error")
            status, out_headers, out = error_response(500, "StreamApiException", "internal error of feedline dev",
                                                      start)
        await self._send(send, method, status, out_headers, out)

    def _too_large(self, start: float) -> tuple[int, dict[str, str], bytes]:
        return error_response(413, "InputException", f"the request body is larger than {self.max_body} bytes",
                              start, 4)

    @staticmethod
    async def _send(send: Send, method: str, status: int, headers: dict[str, str], body: bytes,
                    close: bool = False) -> None:
        out = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()
               if k not in ("content-length", "connection", "transfer-encoding")]
        out.append((b"content-length", str(len(body)).encode()))
        if close:
            out.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": status, "headers": out})
        await send({"type": "http.response.body", "body": b"" if method == "HEAD" else body})

    def close(self) -> None:
        """Wait for running invocations, then stop the worker threads (the server drained first)."""
        for pool in self._pools.values():
            pool.shutdown(wait=True)
        self._pools.clear()
