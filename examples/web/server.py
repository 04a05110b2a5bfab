"""The demo's web server (stdlib only): the built page (dist/), the avatars, ``/config.json`` (where
the API and Faye are, the app's key and id) and ``GET /token?user=<id>``, a user token signed with
the API secret, which never leaves this process.

The page's origin (this server) differs from the API's (``feedline dev`` on another port): every API
call the kit makes is cross-origin, under the stack's CORS configuration, as in production.
"""

from __future__ import annotations

import html
import json
import mimetypes
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt

HERE = Path(__file__).resolve().parent
DIST = HERE / "dist"
#: Stream user ids: letters, digits, ``_`` and ``-`` (what our API accepts in a feed id)
USER_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
#: files of dist/ the page loads
ASSET = re.compile(r"/(bundle\.js|bundle\.css|bundle\.js\.map|bundle\.css\.map)")
AVATAR = re.compile(r"/avatars/([A-Za-z0-9_-]{1,64})\.svg")


def user_token(secret: str, user_id: str) -> str:
    """What stream-python's ``create_user_token`` signs: HS256 over ``{"user_id": ...}``."""
    return jwt.encode({"user_id": user_id}, secret, algorithm="HS256")


def avatar_svg(user_id: str, name: str, colour: str) -> bytes:
    initial = html.escape((name or user_id)[:1].upper())
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96" viewBox="0 0 96 96">'
            f'<circle cx="48" cy="48" r="48" fill="{colour}"/>'
            f'<text x="48" y="62" font-family="Liberation Sans, Arial, sans-serif" font-size="44" '
            f'font-weight="bold" fill="#fff" text-anchor="middle">{initial}</text></svg>').encode()


class DemoServer:
    """Serves the demo on ``host:port`` (0: a free port) in a thread of its own."""

    def __init__(self, host: str, port: int, *, api_key: str, api_secret: str, app_id: str, api_url: str,
                 faye_url: str, users: dict[str, tuple[str, str, str]]):
        config = json.dumps({"apiKey": api_key, "appId": app_id, "apiUrl": api_url, "fayeUrl": faye_url}).encode()
        secret = api_secret

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                path = url.path
                if path in ("/", "/index.html"):
                    self._file(DIST / "index.html")
                elif m := ASSET.fullmatch(path):
                    self._file(DIST / m.group(1))
                elif path == "/config.json":
                    self._reply(200, "application/json", config)
                elif path == "/token":
                    user = parse_qs(url.query).get("user", [""])[0]
                    if not USER_ID.fullmatch(user):
                        self._reply(400, "application/json", b'{"error": "user must be 1-64 of [A-Za-z0-9_-]"}')
                    else:
                        self._reply(200, "application/json", json.dumps({"token": user_token(secret, user)}).encode())
                elif m := AVATAR.fullmatch(path):
                    name, _, colour = users.get(m.group(1), (m.group(1), "", "#8a939c"))
                    self._reply(200, "image/svg+xml", avatar_svg(m.group(1), name, colour))
                else:
                    self._reply(404, "text/plain", b"not found")

            def _file(self, path: Path) -> None:
                if not path.is_file():
                    self._reply(404, "text/plain", f"{path.name} is not built: run `make demo`".encode())
                    return
                kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                self._reply(200, kind, path.read_bytes())

            def _reply(self, status: int, kind: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet: the page's requests are the browser's business

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="demo-web", daemon=True)

    def start(self) -> DemoServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
