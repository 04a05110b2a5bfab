"""Fetching a page for Open Graph: bounded in time and size, and never into our own network.

The URL comes from a client, so the server must not become a proxy into what only it can reach
(server-side request forgery): the metadata service at 169.254.169.254, a VPC's private ranges,
localhost. Every hop (the URL and each redirect) is checked the same way:

- only ``http``/``https``, no user info, a host name;
- the host is resolved once, and every address it resolves to must be globally routable
  (``ipaddress``'s ``is_global``: no loopback, private, link-local, shared 100.64/10, multicast,
  reserved or unspecified addresses; an IPv4 address inside an IPv6 one, mapped, 6to4 or Teredo,
  is judged as that IPv4 address);
- the connection goes to the address that was checked (the socket is opened to the IP, the Host
  header and TLS server name carry the host name), so a DNS answer that changes between the check
  and the connect (DNS rebinding) cannot redirect it.

``allow_private`` (``FEEDLINE_OG_ALLOW_PRIVATE``) lifts the address rule and nothing else: for the
local stack and tests, whose pages live on 127.0.0.1.

Bounds: one deadline for the whole fetch (DNS, connect, redirects, body), at most ``max_bytes`` of
body read (the rest is never downloaded), at most ``max_redirects`` hops.
"""

from __future__ import annotations

import http.client
import ipaddress
import re
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import SplitResult, urljoin, urlsplit

#: a URL we are asked to fetch, as text (before any parsing)
MAX_URL_CHARS = 2048
USER_AGENT = "Mozilla/5.0 (compatible; FeedlineOG/1.0; link preview)"
_HOST = re.compile(r"[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\]")
_HTML = re.compile(r"\s*(text/html|application/xhtml\+xml)\s*(;.*)?", re.IGNORECASE | re.DOTALL)
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]{1,40})", re.IGNORECASE)


class FetchError(Exception):
    """The page could not be fetched (refused, unreachable, not HTML, too slow): a 400 to the client."""


@dataclass(frozen=True, slots=True)
class Limits:
    timeout_s: float = 3.0
    max_bytes: int = 1024 * 1024
    max_redirects: int = 3
    allow_private: bool = False


@dataclass(frozen=True, slots=True)
class Page:
    url: str
    """the URL the page was finally read from (after redirects)"""
    html: str


def check_url(url: str) -> SplitResult:
    """``url`` split, or FetchError unless it is an absolute http(s) URL we may try."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL_CHARS or not url.isprintable():
        raise FetchError(f"url must be an absolute http(s) URL of at most {MAX_URL_CHARS} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise FetchError(f"url is not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise FetchError("url must use http or https")
    if parts.username is not None or parts.password is not None:
        raise FetchError("url must not carry user information")
    host = parts.netloc.rpartition("@")[2]
    host = host if port is None else host.rsplit(":", 1)[0]
    if not host or _HOST.fullmatch(host) is None or port == 0:
        raise FetchError("url must name a host")
    return parts


def _is_public(address: str) -> bool:
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        # an IPv4 address inside an IPv6 one (mapped, 6to4, Teredo) is judged as that IPv4 address
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None:
            ip = embedded
    return ip.is_global and not ip.is_multicast


def _resolve(host: str, port: int, deadline: float) -> list[str]:
    """The addresses of ``host``, within the deadline (``getaddrinfo`` itself takes no timeout)."""
    found: list[object] = []

    def run() -> None:
        try:
            found.append(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except (OSError, UnicodeError) as exc:
            found.append(exc)

    worker = threading.Thread(target=run, name="og-resolve", daemon=True)
    worker.start()
    worker.join(max(0.0, deadline - time.monotonic()))
    if not found:
        raise FetchError(f"resolving {host!r} timed out")
    result = found[0]
    if isinstance(result, BaseException):
        raise FetchError(f"cannot resolve {host!r}")
    addresses = [str(info[4][0]) for info in result]  # type: ignore[attr-defined]
    if not addresses:
        raise FetchError(f"cannot resolve {host!r}")
    return addresses


def _address(parts: SplitResult, limits: Limits, deadline: float) -> str:
    """The address to connect to: checked, and the one the socket will use."""
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = _resolve(host, port, deadline)
    if not limits.allow_private:
        refused = [a for a in addresses if not _is_public(a)]
        if refused:
            # any non-public answer refuses the host: picking a public one among them would let
            # a name that also points inside be used as a probe
            raise FetchError(f"url resolves to a private or reserved address ({refused[0]}): refused")
    return addresses[0]


class _Pinned(http.client.HTTPConnection):
    """HTTP to a checked address, with the URL's host in the Host header."""

    def __init__(self, host: str, port: int | None, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedTLS(http.client.HTTPSConnection):
    """HTTPS to a checked address; the certificate is verified against the URL's host name."""

    def __init__(self, host: str, port: int | None, address: str, timeout: float, context: ssl.SSLContext):
        super().__init__(host, port, timeout=timeout, context=context)
        self.address = address
        self.tls = context

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self.tls.wrap_socket(sock, server_hostname=self.host)


def fetch(url: str, limits: Limits) -> Page:
    """The HTML page at ``url`` (following at most ``limits.max_redirects`` checked redirects)."""
    deadline = time.monotonic() + limits.timeout_s
    parts = check_url(url)
    for _hop in range(limits.max_redirects + 1):
        status, location, raw, content_type = _get(parts, limits, deadline)
        if location is None:
            if not 200 <= status < 300:
                raise FetchError(f"the page answered HTTP {status}")
            if content_type is not None and _HTML.fullmatch(content_type) is None:
                raise FetchError(f"the page is not HTML ({content_type[:60]})")
            return Page(parts.geturl(), _decode(raw, content_type))
        parts = check_url(urljoin(parts.geturl(), location))
    raise FetchError(f"more than {limits.max_redirects} redirects")


def _get(parts: SplitResult, limits: Limits, deadline: float) -> tuple[int, str | None, bytes, str | None]:
    """One GET: ``(status, redirect location or None, body prefix, content type)``."""
    address = _address(parts, limits, deadline)
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise FetchError("the page did not answer in time")
    host = parts.hostname or ""
    conn: http.client.HTTPConnection
    if parts.scheme == "https":
        conn = _PinnedTLS(host, parts.port, address, remaining, ssl.create_default_context())
    else:
        conn = _Pinned(host, parts.port, address, remaining)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    # Socket timeouts bound each read, not the sum: a server dribbling a byte a second would hold
    # the function. The watchdog shuts the socket at the deadline, whatever read is waiting.
    watchdog = threading.Timer(remaining, _abort, (conn,))
    watchdog.daemon = True
    watchdog.start()
    try:
        conn.request("GET", target, headers={"User-Agent": USER_AGENT, "Accept": "text/html,application/xhtml+xml",
                                             "Accept-Encoding": "identity"})
        resp = conn.getresponse()
        if resp.status in (301, 302, 303, 307, 308):
            return resp.status, resp.getheader("Location") or "", b"", None
        return resp.status, None, _read(conn, resp, limits.max_bytes, deadline), resp.getheader("Content-Type")
    except FetchError:
        raise
    except (OSError, http.client.HTTPException, ValueError) as exc:
        # ssl.SSLError, socket.timeout and refused connections are OSErrors
        raise FetchError(f"the page could not be fetched ({type(exc).__name__})") from None
    finally:
        watchdog.cancel()
        conn.close()


def _abort(conn: http.client.HTTPConnection) -> None:
    sock = conn.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # already closed


def _read(conn: http.client.HTTPConnection, resp: http.client.HTTPResponse, limit: int, deadline: float) -> bytes:
    """At most ``limit`` bytes of the body, each read bounded by what is left of the deadline."""
    out = bytearray()
    while len(out) < limit:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            if out:
                break  # what arrived in time is parsed: the head, where the tags are, comes first
            raise FetchError("the page did not answer in time")
        if conn.sock is not None:
            conn.sock.settimeout(remaining)
        try:
            chunk = resp.read1(min(65536, limit - len(out)))
        except TimeoutError:
            if out:
                break
            raise FetchError("the page did not answer in time") from None
        if not chunk:
            break
        out += chunk
    return bytes(out)


def _decode(raw: bytes, content_type: str | None) -> str:
    """The page as text: the header's charset, else a ``<meta charset>`` near the top, else UTF-8."""
    for source in (content_type or "", raw[:2048].decode("ascii", "replace")):
        found = _CHARSET.search(source)
        if found is not None:
            try:
                return raw.decode(found.group(1), "replace")
            except LookupError:
                break
    return raw.decode("utf-8", "replace")
