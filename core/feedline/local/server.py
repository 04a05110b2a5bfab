"""``feedline dev``'s HTTP server: uvicorn serving ``asgi.LocalApi`` on one port.

Why uvicorn (and its h11 parser): a well-kept HTTP/1.1 server that parses requests strictly
(a bad, negative or conflicting ``Content-Length``, oversized headers and broken framing are refused
by h11 before any of our code runs), keeps connections alive, listens with a real backlog, drains
in-flight requests on SIGINT/SIGTERM, and speaks WebSocket on the same port once a WebSocket
library is installed (the realtime work needs that for Faye). h11 rather than httptools: h11
bounds the request head (``h11_max_incomplete_event_size``), httptools does not.

The one thing changed in uvicorn: its answer to a request it cannot parse is a ``text/plain``
400; ``StreamHttp11`` gives the same answer in Stream's error envelope, with the status h11 hints
(431 for a request head over the limit, 501 for an unsupported transfer coding).
"""

from __future__ import annotations

import http
import logging
import signal
import socket
import sys
from types import FrameType

import h11
import ujson
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from feedline.local.asgi import LocalApi
from feedline.local.runner import LocalStack

log = logging.getLogger("feedline.dev")

#: bigger than the API's own header limit (asgi.MAX_HEADER_BYTES), so a head between the two gets
#: the app's precise 414/431 answer; h11 refuses anything beyond this before buffering more
MAX_HEAD_BYTES = 64 * 1024
#: as long as API Gateway keeps an idle connection (clients reuse theirs between calls)
KEEP_ALIVE_S = 60
#: Lambda's longest timeout in the template is 30 s: in-flight requests get that long on shutdown
GRACEFUL_SHUTDOWN_S = 30


class StreamHttp11(H11Protocol):
    """uvicorn's h11 protocol, answering unparseable requests in Stream's error envelope."""

    def send_400_response(self, msg: str) -> None:
        # called from uvicorn's ``except h11.RemoteProtocolError`` block: the error is the current one
        err = sys.exc_info()[1]
        status = getattr(err, "error_status_hint", 400)
        detail = f"malformed HTTP request: {err}" if err is not None else msg
        body = ujson.dumps({"exception": "InputException", "code": 4, "detail": detail, "status_code": status,
                            "duration": "0.00ms"}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                   (b"connection", b"close")]
        try:
            self.transport.write(self.conn.send(h11.Response(status_code=status, headers=headers,
                                                             reason=http.HTTPStatus(status).phrase.encode())))
            self.transport.write(self.conn.send(h11.Data(data=body)))
            self.transport.write(self.conn.send(h11.EndOfMessage()))
        except h11.LocalProtocolError:  # a response was already under way: nothing more can be said
            pass
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

    def __init__(self, stack: LocalStack, host: str, port: int, verbose: bool = False, backlog: int = 2048):
        self.app = LocalApi(stack)
        self.socket = listen(host, port, backlog)
        self.host = host
        self.port = self.socket.getsockname()[1]
        self.config = uvicorn.Config(
            self.app, http=StreamHttp11, lifespan="off", backlog=backlog, log_config=None,
            log_level="info" if verbose else "warning", access_log=verbose,
            timeout_keep_alive=KEEP_ALIVE_S, timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
            h11_max_incomplete_event_size=MAX_HEAD_BYTES, server_header=False,
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


def make_server(stack: LocalStack, host: str, port: int, verbose: bool = False) -> DevServer:
    return DevServer(stack, host, port, verbose)
