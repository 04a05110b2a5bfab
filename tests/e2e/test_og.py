"""Open Graph (spec §2.12) through stream-python's ``client.og`` against `feedline dev`, per backend.

The pages live on a local HTTP server (127.0.0.1), which only a stack started with
``FEEDLINE_OG_ALLOW_PRIVATE=1`` may fetch: ``og_server`` is such a stack. The shared ``dev_server``
(the default: private addresses refused) shows the refusal through the same path.
"""

from __future__ import annotations

import threading
import uuid
from http.server import ThreadingHTTPServer

import jwt
import pytest
import stream
from stream import exceptions as exc

from tests.conftest import API_KEY, API_SECRET, BACKENDS, DevServer
from tests.unit.test_og import Pages

from .test_errors_and_auth import assert_error, raw

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def pages():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Pages)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module", params=[
    pytest.param(b, marks=[pytest.mark.cassandra] if b == "cassandra" else []) for b in BACKENDS])
def og_server(request, tmp_path_factory):
    """`feedline dev` allowed to fetch private addresses (the local pages), on each backend."""
    extra = {"FEEDLINE_OG_ALLOW_PRIVATE": "1"}
    keyspace = None
    if request.param == "cassandra":
        from feedline import db

        node = request.getfixturevalue("cassandra_node")
        keyspace = f"feedline_og_{uuid.uuid4().hex[:10]}"
        db.migrate(request.getfixturevalue("cassandra_settings").with_(cassandra_keyspace=keyspace))
        extra.update({"FEEDLINE_STORAGE": "cassandra", "FEEDLINE_CASSANDRA_HOSTS": node.host,
                      "FEEDLINE_CASSANDRA_PORT": str(node.port), "FEEDLINE_CASSANDRA_KEYSPACE": keyspace})
    server = DevServer(tmp_path_factory.mktemp(f"og-{request.param}"), extra)
    yield server
    server.stop()
    if keyspace is not None:
        from tests.cassandra_support import _drop_keyspace

        _drop_keyspace(node, keyspace)


def test_python_client_og_reads_the_page(og_server, pages):
    client = stream.connect(API_KEY, API_SECRET, base_url=og_server.base_url, timeout=20)
    got = client.og(f"{pages}/hop/1")  # a redirect first
    assert got["title"] == "The & Title" and got["description"] == "A description"
    assert got["url"] == f"{pages}/canonical" and got["type"] == "article" and got["site_name"] == "Site"
    assert got["images"][0] == {"image": f"{pages}/img/a.png", "url": f"{pages}/img/a.png", "width": 640,
                                "alt": "An image"}
    assert got["favicon"] == f"{pages}/favicon.ico" and got["duration"].endswith("ms")
    assert "determiner" not in got  # only what the page has


def test_a_user_token_may_ask(og_server, pages):
    token = jwt.encode({"user_id": "alice"}, API_SECRET, algorithm="HS256")
    resp = raw(og_server, "GET", "og/", token=token, url=f"{pages}/page")
    assert resp.status_code == 200 and resp.json()["title"] == "The & Title"


@pytest.mark.parametrize("path,detail", [
    ("/nothing", "no Open Graph metadata"), ("/json", "not HTML"), ("/missing", "HTTP 404"),
    ("/hop/9", "redirects"), ("/slow/3.5", "fetched|in time"),  # the stack's 3 s deadline
])
def test_pages_without_a_preview_are_400(og_server, pages, path, detail):
    body = assert_error(raw(og_server, "GET", "og/", url=pages + path), 400, 4)
    assert body["exception"] == "InputException"
    import re

    assert re.search(detail, body["detail"]), body


@pytest.mark.parametrize("url", ["", "ftp://example.org/", "not a url", "http://user:pw@127.0.0.1/"])
def test_bad_urls_are_400(og_server, url):
    assert_error(raw(og_server, "GET", "og/", url=url), 400, 4)


def test_private_targets_are_refused_by_default(dev_server, pages):
    """The shared stack runs with the default: loopback, the metadata service, private ranges."""
    client = stream.connect(API_KEY, API_SECRET, base_url=dev_server.base_url, timeout=20)
    for url in (f"{pages}/page", "http://169.254.169.254/latest/meta-data/", "http://[::1]/", "http://10.1.2.3/"):
        with pytest.raises(exc.InputException) as err:
            client.og(url)
        assert err.value.status_code == 400 and "private or reserved" in str(err.value)


def test_og_needs_a_valid_token(og_server, pages):
    bad = jwt.encode({"user_id": "alice"}, "another secret", algorithm="HS256")
    assert raw(og_server, "GET", "og/", token=bad, url=f"{pages}/page").status_code in (401, 403)
