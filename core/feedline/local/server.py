"""``feedline dev``'s HTTP server: uvicorn serving ``asgi.LocalApi`` on one port.

Why uvicorn with httptools (llhttp, Node's parser): a well-kept HTTP/1.1 server that parses
requests strictly (a bad, negative, overflowing or repeated ``Content-Length``, an unsupported
``Transfer-Encoding`` and broken framing are refused by the parser before any of our code runs),
keeps connections alive, listens with a real backlog, drains in-flight requests on SIGINT/SIGTERM,
and speaks WebSocket on the same port once a WebSocket library is installed (the realtime work
needs that for Faye). httptools rather than h11: ~35% more requests per second through the whole
stack in the load benchmark (BENCHMARKS.md), the parse being C instead of Python.

What ``StreamHttpTools`` adds to uvicorn's protocol:
- its answer to a request it cannot parse is a ``text/plain`` 400; here it is Stream's error
  envelope;
- httptools does not bound a request head (one endless header is buffered whole); here the bytes
  fed while a head is open are counted and past ``MAX_HEAD_BYTES`` the request gets a 431.
"""

from __future__ import annotations

import http
import logging
import signal
import socket
import sys
from types import FrameType

import ujson
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from feedline.local.asgi import LocalApi
from feedline.local.faye import FayeApp, WithFaye
from feedline.local.runner import LocalStack

log = logging.getLogger("feedline.dev")

#: bigger than the API's own header limit (asgi.MAX_HEADER_BYTES), so a head between the two gets
#: the app's precise 414/431 answer; beyond it (plus at most one read's worth) the parser stops
MAX_HEAD_BYTES = 64 * 1024
#: as long as API Gateway keeps an idle connection (clients reuse theirs between calls)
KEEP_ALIVE_S = 60
#: Lambda's longest timeout in the template is 30 s: in-flight requests get that long on shutdown
GRACEFUL_SHUTDOWN_S = 30


class StreamHttpTools(HttpToolsProtocol):
    """uvicorn's httptools protocol: Stream-envelope answers to unparseable requests, a bounded head."""

    _head_open = False
    _head_bytes = 0

    def data_received(self, data: bytes) -> None:
        if self._head_open:  # the chunk that starts a head is not counted: one read (≤ 256 KiB) at most
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD_BYTES:
                self._answer(431, f"the request head is larger than {MAX_HEAD_BYTES} bytes")
                return
        super().data_received(data)

    def on_message_begin(self) -> None:
        self._head_open, self._head_bytes = True, 0
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        self._head_open = False
        super().on_headers_complete()

    def send_400_response(self, msg: str) -> None:
        # called from uvicorn's ``except httptools.HttpParserError`` block: the error is the current one
        err = sys.exc_info()[1]
        self._answer(400, f"malformed HTTP request: {err}" if err is not None else msg)

    def _answer(self, status: int, detail: str) -> None:
        body = ujson.dumps({"exception": "InputException", "code": 4, "detail": detail, "status_code": status,
                            "duration": "0.00ms"}).encode()
        self.transport.write(b"".join([
            f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}\r\n".encode(),
            b"content-type: application/json\r\n",
            b"content-length: " + str(len(body)).encode() + b"\r\n",
            b"connection: close\r\n\r\n", body]))
        self.transport.close()


class _Server(uvicorn.Server):
    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        # uvicorn records the signal and raises it again once drained, which would end the process
        # before `feedline dev` closes its stack; here the first signal drains, a second SIGINT forces
        if self.should_exit and sig == signal.SIGINT:
            self.force_exit = True
        else:
            self.should_exit = True


def listen(host: str, port: int, backlog: int) -> socket.socket:
    """Bind and listen before the server starts, so the printed port (``--port 0``) is the real one."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named explicitly: asyncio sets TCP_NODELAY only on sockets whose proto says TCP,
    # and without it every response (head and body are two writes) waits ~40 ms for a delayed ACK
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(backlog)
    sock.set_inheritable(True)
    return sock


class DevServer:
    """The uvicorn server of one ``LocalStack``: ``serve()`` blocks until SIGINT/SIGTERM, then drains."""

    def __init__(self, stack: LocalStack, host: str, port: int, verbose: bool = False, backlog: int = 2048,
                 faye: FayeApp | None = None):
        api = LocalApi(stack)
        # realtime (stream-js's feed.subscribe()) at /faye on this port too, WebSocket and long-polling
        self.app: LocalApi | WithFaye = WithFaye(api, faye) if faye is not None else api
        self.socket = listen(host, port, backlog)
        self.host = host
        self.port = self.socket.getsockname()[1]
        self.config = uvicorn.Config(
            self.app, http=StreamHttpTools, lifespan="off", backlog=backlog, log_config=None,
            log_level="info" if verbose else "warning", access_log=verbose,
            timeout_keep_alive=KEEP_ALIVE_S, timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
            server_header=False,
        )
        self.server = _Server(self.config)

    def serve(self) -> None:
        try:
            self.server.run(sockets=[self.socket])
        finally:
            self.app.close()  # uvicorn has drained the connections: let running invocations finish
            self.socket.close()

    def stop(self) -> None:
        """Ask a server running in another thread to shut down gracefully."""
        self.server.should_exit = True


def make_server(stack: LocalStack, host: str, port: int, verbose: bool = False,
                faye: FayeApp | None = None) -> DevServer:
    return DevServer(stack, host, port, verbose, faye=faye)
