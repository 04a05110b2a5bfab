"""The local Faye endpoint of ``feedline dev``: Bayeux over WebSocket and HTTP long-polling, as ASGI.

``FayeApp`` serves one path (``/faye``, with or without the trailing slash stream-js's
``LOCAL_FAYE`` URL has): ``feedline dev`` runs it on port 9999 (stream-js's ``LOCAL_FAYE`` default,
``http://localhost:9999/faye/``) and, with ``with_faye``, on the API port next to the HTTP API.

- WebSocket: each text frame is a JSON array of Bayeux messages; replies and pushed messages go out
  as frames; a ``/meta/connect`` is answered after ``advice.timeout`` (the client then sends the next
  one), while pushed messages go out the moment they are published.
- HTTP long-polling: ``POST`` with a JSON body (faye's Node and XHR transports) or a form field
  ``message``, ``GET ?message=...&jsonp=cb`` (callback-polling); a ``/meta/connect`` is held until
  the client has messages or ``advice.timeout`` passes.

The protocol is ``realtime.protocol.Bayeux``; clients, subscriptions and delivery are the
``realtime.hub.Hub`` the local stack's functions publish into.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

import ujson

from feedline.local.bodies import BodyTooLarge, read_body
from feedline.realtime.hub import Hub
from feedline.realtime.messages import frame
from feedline.realtime.protocol import Bayeux, Outcome

log = logging.getLogger("feedline.dev")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: a Bayeux request is a few small messages; anything larger is refused
MAX_REQUEST_BYTES = 1024 * 1024
_JSONP = re.compile(r"[A-Za-z_$][\w$.]{0,127}")


def _encode(replies: list[dict]) -> list[bytes]:
    return [ujson.dumps(r, ensure_ascii=False).encode() for r in replies]


class FayeApp:
    def __init__(self, bayeux: Bayeux, hub: Hub, path: str = "/faye"):
        self.bayeux = bayeux
        self.hub = hub
        self.path = path.rstrip("/")

    def serves(self, path: str) -> bool:
        return path.rstrip("/") == self.path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if not self.serves(scope.get("path", "")):
            if kind == "websocket":
                await send({"type": "websocket.close", "code": 1008})
            else:
                await self._answer(send, 404, b'{"message":"Not Found"}', scope)
            return
        if kind == "websocket":
            await self._websocket(receive, send)
        else:
            await self._http(scope, receive, send)

    # ---- HTTP long-polling --------------------------------------------------------------------
    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"]
        if method == "OPTIONS":  # a browser's CORS preflight of cross-origin long-polling
            return await self._answer(send, 200, b"", scope)
        try:
            body = await read_body(receive, MAX_REQUEST_BYTES)
        except BodyTooLarge:
            return await self._answer(send, 413, b'{"message":"Payload Too Large"}', scope)
        if body is None:
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        jsonp = None
        if method == "GET":
            raw = (query.get("message") or [""])[0]
            jsonp = (query.get("jsonp") or [None])[0]
            if jsonp is not None and not _JSONP.fullmatch(jsonp):
                return await self._answer(send, 400, b'{"message":"invalid jsonp callback"}', scope)
        elif method == "POST":
            # faye's cross-origin transport posts `message=...` as text/plain (no preflight)
            form = "application/x-www-form-urlencoded" in headers.get("content-type", "")
            if form or body.startswith(b"message="):
                raw = (parse_qs(body.decode("utf-8", "replace")).get("message") or [""])[0]
            else:
                raw = body.decode("utf-8", "replace")
        else:
            return await self._answer(send, 405, b'{"message":"Method Not Allowed"}', scope)
        try:
            messages = ujson.loads(raw)
        except ValueError:
            return await self._answer(send, 400, b'{"message":"the body is not JSON"}', scope)
        outcome = self.bayeux.process(messages)
        pushed: list[bytes] = []
        if outcome.connect is not None and outcome.client_id is not None:
            await self._hold(outcome.client_id, outcome.hold_s)
            outcome.replies.append(outcome.connect)
        if outcome.client_id is not None:
            pushed = self.hub.drain(outcome.client_id)
        out = frame(_encode(outcome.replies) + pushed)
        if jsonp is not None:
            return await self._answer(send, 200, b"/**/" + jsonp.encode() + b"(" + out + b");", scope,
                                      "text/javascript")
        await self._answer(send, 200, out, scope)

    async def _hold(self, client_id: str, hold_s: float) -> None:
        """Wait until the client has messages, is closed, or ``hold_s`` passes."""
        if hold_s <= 0:
            return
        loop = asyncio.get_running_loop()
        ready = asyncio.Event()

        def notify() -> None:
            loop.call_soon_threadsafe(ready.set)

        if self.hub.attach(client_id, notify):
            self.hub.detach(client_id, notify)
            return
        try:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(ready.wait(), hold_s)
        finally:
            self.hub.detach(client_id, notify)

    @staticmethod
    async def _answer(send: Send, status: int, body: bytes, scope: Scope,
                      content_type: str = "application/json") -> None:
        origin = next((v for k, v in scope.get("headers", ()) if k.lower() == b"origin"), b"*")
        headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode()),
                   (b"cache-control", b"no-cache, no-store"),
                   (b"access-control-allow-origin", origin),
                   (b"access-control-allow-methods", b"POST, GET, OPTIONS"),
                   (b"access-control-allow-headers", b"Content-Type, Authorization, X-Requested-With, Pragma, Cache-Control"),
                   (b"access-control-max-age", b"86400")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    # ---- WebSocket ------------------------------------------------------------------------------
    async def _websocket(self, receive: Receive, send: Send) -> None:
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        await send({"type": "websocket.accept"})
        session = _Socket(self.hub, send, asyncio.get_running_loop())
        try:
            while True:
                message = await receive()
                if message["type"] == "websocket.disconnect":
                    return
                text = message.get("text")
                if text is None and message.get("bytes") is not None:
                    text = message["bytes"].decode("utf-8", "replace")
                try:
                    messages = ujson.loads(text or "[]")
                except ValueError:
                    continue  # faye clients only send JSON; a broken frame is dropped
                if messages == []:  # the client's keep-alive ping
                    continue
                await session.handle(self.bayeux.process(messages))
        finally:
            session.close()


class _Socket:
    """One open WebSocket: the client it speaks for, its held connect, pushes as they come."""

    def __init__(self, hub: Hub, send: Send, loop: asyncio.AbstractEventLoop):
        self.hub = hub
        self._send = send
        self.loop = loop
        self.client_id: str | None = None
        self.held: asyncio.Task | None = None
        self.lock = asyncio.Lock()
        self.closed = False

    def notify(self) -> None:  # any thread
        self.loop.call_soon_threadsafe(self._flush_soon)

    def _flush_soon(self) -> None:
        if not self.closed:
            self.loop.create_task(self.send([]))

    async def send(self, replies: list[bytes]) -> None:
        async with self.lock:
            if self.closed:
                return
            pushed = self.hub.drain(self.client_id) if self.client_id else []
            if not replies and not pushed:
                return
            try:
                await self._send({"type": "websocket.send", "text": frame(replies + pushed).decode()})
            except Exception:  # the peer went away: the receive loop sees the disconnect
                self.closed = True

    async def handle(self, outcome: Outcome) -> None:
        if outcome.client_id is not None and outcome.client_id != self.client_id:
            if self.client_id is not None:
                self.hub.detach(self.client_id, self.notify)
            self.client_id = outcome.client_id
            self.hub.attach(self.client_id, self.notify)
        replies = _encode(outcome.replies)
        if outcome.connect is not None:
            if self.held is not None and not self.held.done():  # a new connect replaces the held one
                self.held.cancel()
            if outcome.hold_s <= 0:
                replies += _encode([outcome.connect])
            else:
                self.held = self.loop.create_task(self._answer_later(outcome.connect, outcome.hold_s))
        await self.send(replies)

    async def _answer_later(self, reply: dict, hold_s: float) -> None:
        await asyncio.sleep(hold_s)
        await self.send(_encode([reply]))

    def close(self) -> None:
        self.closed = True
        if self.held is not None:
            self.held.cancel()
        if self.client_id is not None:
            self.hub.detach(self.client_id, self.notify)


class WithFaye:
    """``api`` with ``faye`` mounted at its path (HTTP and WebSocket), for the API port of
    ``feedline dev`` (``DevServer``: ``self.app = WithFaye(LocalApi(stack), faye)``); ``close``
    is the API's."""

    def __init__(self, api: Any, faye: FayeApp):
        self.api = api
        self.faye = faye

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and self.faye.serves(scope.get("path", "")):
            await self.faye(scope, receive, send)
        else:
            await self.api(scope, receive, send)

    def close(self) -> None:
        close = getattr(self.api, "close", None)
        if close is not None:
            close()


def build(app_config: Any, *, timeout_s: float = 30.0) -> tuple[FayeApp, Hub]:
    """The Faye endpoint and hub of one local stack (``app_config``: ``config.AppConfig``)."""
    from feedline.realtime.access import Access

    hub = Hub(app_config.app_id, expire_s=max(90.0, 3 * timeout_s))
    types = ("websocket", "long-polling", "cross-origin-long-polling", "callback-polling")
    return FayeApp(Bayeux(Access(app_config), hub, timeout_s=timeout_s, connection_types=types), hub), hub


class FayeServer:
    """uvicorn serving a ``FayeApp`` on its own port, in a thread of ``feedline dev``."""

    def __init__(self, app: FayeApp, host: str, port: int):
        import socket

        import uvicorn

        self.app = app

        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.socket = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind((host, port))
        self.socket.listen(512)
        self.port = self.socket.getsockname()[1]
        config = uvicorn.Config(app, lifespan="off", log_config=None, log_level="warning", access_log=False,
                                ws="auto", ws_ping_interval=None, server_header=False)
        self.server = uvicorn.Server(config)
        self.thread: Any = None

    def start(self) -> None:
        import threading

        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]},
                                       name="feedline-faye", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(timeout=5)
        self.socket.close()
