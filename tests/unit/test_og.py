"""Open Graph: the parser (pure) and the page fetch against a local HTTP server: bounds (time,
size, redirects) and the address rule (SSRF), including on redirects and with a rebinding resolver."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from feedline.og import fetch as og_fetch
from feedline.og.fetch import FetchError, Limits, check_url, fetch
from feedline.og.parse import has_metadata, parse
from feedline.og.service import OgError, OgService

PAGE = """<!doctype html><html><head>
<meta charset="utf-8"><title> Fallback   title </title>
<meta property="og:title" content="The &amp; Title">
<meta property="og:type" content="article">
<meta property="og:url" content="/canonical">
<meta property="og:site_name" content="Site">
<meta property="og:description" content="A description">
<meta property="og:locale" content="en_GB">
<meta property="og:image" content="/img/a.png">
<meta property="og:image:width" content="640"><meta property="og:image:height" content="x">
<meta property="og:image:alt" content="An image">
<meta property="og:image" content="javascript:alert(1)">
<meta property="og:image:width" content="99">
<meta property="og:image:url" content="https://cdn.example.org/b.jpg">
<meta property="og:image:secure_url" content="https://cdn.example.org/b.jpg">
<meta property="og:image:type" content="image/jpeg">
<meta property="og:video" content="https://v.example.org/v.mp4"><meta property="og:video:height" content="360">
<meta property="og:audio" content="https://a.example.org/a.mp3"><meta property="og:audio:type" content="audio/mpeg">
<meta name="twitter:site" content="@site">
<link rel="shortcut icon" href="/favicon.ico">
</head><body><title>not this one</title></body></html>"""


def test_parse_reads_og_tags_in_streams_shape():
    got = parse(PAGE, "http://example.org/post/1")
    assert got == {
        "title": "The & Title", "type": "article", "url": "http://example.org/canonical", "site_name": "Site",
        "description": "A description", "locale": "en_GB", "site": "@site",
        "images": [{"image": "http://example.org/img/a.png", "url": "http://example.org/img/a.png", "width": 640,
                    "alt": "An image"},
                   {"image": "https://cdn.example.org/b.jpg", "url": "https://cdn.example.org/b.jpg",
                    "secure_url": "https://cdn.example.org/b.jpg", "type": "image/jpeg"}],
        "videos": [{"video": "https://v.example.org/v.mp4", "url": "https://v.example.org/v.mp4", "height": 360}],
        "audios": [{"audio": "https://a.example.org/a.mp3", "url": "https://a.example.org/a.mp3",
                    "type": "audio/mpeg"}],
        "favicon": "http://example.org/favicon.ico",
    }


def test_parse_falls_back_to_title_description_and_twitter():
    html = ('<html><head><title>Plain</title><meta name="description" content="Desc">'
            '<meta name="twitter:image" content="//img.example.org/t.png"></head></html>')
    got = parse(html, "https://example.org/")
    assert got == {"title": "Plain", "description": "Desc",
                   "images": [{"image": "https://img.example.org/t.png", "url": "https://img.example.org/t.png"}]}
    assert has_metadata(got)
    assert not has_metadata(parse("<html><body>nothing</body></html>", "https://example.org/"))
    # broken markup never raises
    assert parse("<meta property=og:title content=Unquoted><title>x<<>", "http://e.org/")["title"] == "Unquoted"


@pytest.mark.parametrize("url", ["", "ftp://example.org/", "javascript:alert(1)", "http://", "http://user:pw@host/",
                                 "http://exa mple.org/", "http://host:99999/", "/relative", "http://h/" + "a" * 3000,
                                 "http://[::1/"])
def test_check_url_refuses(url):
    with pytest.raises(FetchError):
        check_url(url)


@pytest.mark.parametrize("url", ["http://example.org", "https://example.org:8443/a?b=c", "http://[2001:db8::1]/"])
def test_check_url_accepts(url):
    check_url(url)


class Pages(BaseHTTPRequestHandler):
    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):  # noqa: C901 - one branch per test page
        port = self.server.server_address[1]
        path = self.path
        if path == "/page":
            self._send(200, PAGE.encode())
        elif path.startswith("/hop/"):
            n = int(path.rsplit("/", 1)[1])
            self._redirect("/page" if n == 0 else f"/hop/{n - 1}")
        elif path == "/to-other-address":
            self._redirect(f"http://127.0.0.2:{port}/page")
        elif path == "/big":
            self._send(200, b"<html><head><title>Big</title></head><body>" + b"x" * (3 * 1024 * 1024))
        elif path.startswith("/slow/"):  # /slow/<seconds>
            time.sleep(float(path.rsplit("/", 1)[1]))
            self._send(200, PAGE.encode())
        elif path == "/dribble":  # headers a byte at a time: every read is quick, the whole is not
            try:
                self.wfile.write(b"HTTP/1.0 200 OK\r\nX-Slow: ")
                for _ in range(30):
                    self.wfile.write(b"a")
                    self.wfile.flush()
                    time.sleep(0.1)
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.close_connection = True
        elif path == "/chunked":
            self.protocol_version = "HTTP/1.1"
            body = PAGE.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(0, len(body), 100):
                piece = body[i:i + 100]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")
            self.close_connection = True
        elif path == "/json":
            self._send(200, b'{"title": "no"}', "application/json")
        elif path == "/missing":
            self._send(404, b"<html><title>Not found</title></html>")
        elif path == "/latin1":
            self._send(200, "<title>Caf\u00e9</title>".encode("latin-1"), "text/html; charset=iso-8859-1")
        else:
            self._send(200, b"<html><body>no metadata</body></html>")

    def _send(self, status, body, ctype="text/html; charset=utf-8"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _redirect(self, location):
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture(scope="module")
def pages():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Pages)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


LOCAL = Limits(timeout_s=1.0, max_bytes=64 * 1024, max_redirects=3, allow_private=True)


def test_fetch_reads_a_page_and_follows_redirects(pages):
    page = fetch(f"{pages}/hop/2", LOCAL)
    assert page.url == f"{pages}/page" and "og:title" in page.html
    assert fetch(f"{pages}/latin1", LOCAL).html == "<title>Caf\u00e9</title>"
    assert fetch(f"{pages}/chunked", LOCAL).html == PAGE


def test_fetch_bounds(pages):
    with pytest.raises(FetchError, match="redirects"):
        fetch(f"{pages}/hop/4", LOCAL)
    big = fetch(f"{pages}/big", LOCAL)  # read up to the cap, never the whole body
    assert len(big.html) == LOCAL.max_bytes and parse(big.html, big.url)["title"] == "Big"
    start = time.monotonic()
    with pytest.raises(FetchError, match="in time|could not be fetched"):
        fetch(f"{pages}/slow/2", LOCAL)
    assert time.monotonic() - start < 1.8  # the deadline, not the page, ends the wait
    start = time.monotonic()
    with pytest.raises(FetchError, match="in time|could not be fetched"):
        fetch(f"{pages}/dribble", LOCAL)
    assert time.monotonic() - start < 1.8
    with pytest.raises(FetchError, match="not HTML"):
        fetch(f"{pages}/json", LOCAL)
    with pytest.raises(FetchError, match="HTTP 404"):
        fetch(f"{pages}/missing", LOCAL)


def test_private_addresses_are_refused_unless_allowed(pages):
    strict = Limits(timeout_s=1.0)
    for url in (f"{pages}/page", "http://localhost:1/", "http://169.254.169.254/latest/meta-data/",
                "http://[::1]:1/", "http://10.0.0.1/", "http://0.0.0.0:1/", "http://[::ffff:127.0.0.1]:1/"):
        with pytest.raises(FetchError, match="private or reserved"):
            fetch(url, strict)


@pytest.mark.parametrize("address,public", [
    ("93.184.215.14", True), ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", True),
    ("127.0.0.1", False), ("10.1.2.3", False), ("172.16.0.1", False), ("192.168.1.1", False),
    ("169.254.169.254", False), ("100.64.0.1", False), ("224.0.0.1", False),
    ("0.0.0.0", False),  # noqa: S104 - an address judged, not bound
    ("::1", False), ("fe80::1%eth0", False), ("fd00:ec2::254", False), ("::ffff:127.0.0.1", False),
    ("::ffff:93.184.215.14", True), ("2002:7f00:1::", False), ("2002:5db8:d70e::", True),
    ("2001:0:4136:e378:8000:63bf:f5ff:fffe", False),  # Teredo, client 10.0.0.1
])
def test_address_rule(address, public):
    assert og_fetch._is_public(address) is public


def test_redirects_are_checked_again(pages, monkeypatch):
    # 127.0.0.1 plays a public address, 127.0.0.2 a private one: the second hop must be refused
    monkeypatch.setattr(og_fetch, "_is_public", lambda a: a == "127.0.0.1")
    strict = Limits(timeout_s=1.0)
    assert fetch(f"{pages}/page", strict).url.endswith("/page")
    with pytest.raises(FetchError, match="private or reserved"):
        fetch(f"{pages}/to-other-address", strict)


def test_the_connection_goes_to_the_checked_address(pages, monkeypatch):
    """DNS rebinding: the name is resolved once; the socket opens to that address, with the name
    in the Host header."""
    port = pages.rsplit(":", 1)[1]
    answers = iter([["127.0.0.1"], ["10.9.9.9"]])
    monkeypatch.setattr(og_fetch, "_resolve", lambda host, port, deadline: next(answers))
    page = fetch(f"http://rebind.test:{port}/page", LOCAL)
    assert "og:title" in page.html


def test_service_caches_successes_not_failures(pages):
    calls = []

    def counting(url, limits):
        calls.append(url)
        return fetch(url, limits)

    svc = OgService(LOCAL, counting)
    first = svc.scrape(f"{pages}/page")
    first["title"] = "changed by a caller"
    assert svc.scrape(f"{pages}/page")["title"] == "The & Title" and len(calls) == 1
    for _ in range(2):
        with pytest.raises(OgError) as err:
            svc.scrape(f"{pages}/nothing")
        assert err.value.status_code == 400 and "no Open Graph metadata" in err.value.detail
    assert len(calls) == 3
