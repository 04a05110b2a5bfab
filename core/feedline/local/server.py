"""``feedline dev``: the HTTP API and the fan-out queue of template.yaml in one process."""

from __future__ import annotations

import logging
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from feedline.local.runner import LocalStack

log = logging.getLogger("feedline.dev")


def make_server(stack: LocalStack, host: str, port: int, verbose: bool = False) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "feedline-dev"
        # headers and body go out in two writes: without TCP_NODELAY the client's delayed ACK
        # adds ~40 ms to every keep-alive request
        disable_nagle_algorithm = True

        def _handle(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            try:
                status, headers, out = stack.http(self.command, self.path, dict(self.headers.items()), body,
                                                  self.client_address[0])
            except Exception:  # the runner itself failed: API Gateway would answer 500 too
                log.exception("local runner error")
                status, headers, out = 500, {"content-type": "application/json"}, b'{"message":"Internal Server Error"}'
            self.send_response(status)
            for k, v in headers.items():
                if k not in ("content-length", "connection"):
                    self.send_header(k, v)
            self.send_header("content-length", str(len(out)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(out)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _handle

        def log_message(self, fmt: str, *args: object) -> None:
            if verbose:
                log.info("%s %s", self.address_string(), fmt % args)

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server
