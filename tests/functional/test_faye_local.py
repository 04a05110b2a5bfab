"""``feedline dev``'s Faye endpoint (local.faye) over real sockets: HTTP long-polling and WebSocket.

The stream-js test (tests/e2e/test_realtime_js.py) drives the same endpoint with the Faye client;
these pin the transports themselves: a held long-poll returns the moment something is published,
WebSocket pushes arrive without a poll, refusals, CORS and JSONP.
"""

from __future__ import annotations

import json
import threading
import time

import jwt
import pytest
import requests

from feedline.config import AppConfig
from feedline.local.faye import FayeServer, build
from feedline.realtime.messages import Added, FeedChange

SECRET = "faye-secret-0123456789-0123456789"
APP = AppConfig("key", SECRET, app_id="local")
CHANNEL = "/site-local-feed-user1"
BODY = b'{"id":"6045bfa0-a467-11e7-8080-80005886bfee","verb":"post"}'


@pytest.fixture
def faye():
    app, hub = build(APP, timeout_s=3)
    server = FayeServer(app, "127.0.0.1", 0)
    server.start()
    url = f"http://127.0.0.1:{server.port}/faye/"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            requests.options(url, timeout=1)
            break
        except requests.ConnectionError:
            time.sleep(0.05)
    yield url, hub
    server.stop()


def sub_ext(signature: str) -> dict:
    return {"user_id": CHANNEL[1:], "api_key": "key", "signature": signature}


def publish_soon(hub, delay: float) -> None:
    def go():
        time.sleep(delay)
        hub.publish([FeedChange("user:1", [Added(b"\1" * 16, BODY)])])
    threading.Thread(target=go, daemon=True).start()


def post(url: str, messages: list[dict]) -> list[dict]:
    r = requests.post(url, json=messages, timeout=10)
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    return r.json()


def test_long_polling_connect_returns_when_something_is_published(faye):
    url, hub = faye
    [hs] = post(url, [{"channel": "/meta/handshake", "version": "1.0", "supportedConnectionTypes": ["long-polling"]}])
    cid = hs["clientId"]
    token = jwt.encode({"user_id": "1"}, SECRET, algorithm="HS256")
    [sub] = post(url, [{"channel": "/meta/subscribe", "clientId": cid, "subscription": CHANNEL, "ext": sub_ext(token)}])
    assert sub["successful"] is True
    publish_soon(hub, 0.3)
    start = time.monotonic()
    replies = post(url, [{"channel": "/meta/connect", "clientId": cid, "connectionType": "long-polling", "id": "c"}])
    took = time.monotonic() - start
    assert 0.25 < took < 2.5  # held, and released by the publish (the hold is 3 s)
    assert [r["channel"] for r in replies] == ["/meta/connect", CHANNEL]
    assert replies[1]["data"]["new"][0]["verb"] == "post" and replies[1]["data"]["feed"] == "user:1"
    # nothing pending: the next connect is held for the whole timeout
    start = time.monotonic()
    assert [r["channel"] for r in post(url, [{"channel": "/meta/connect", "clientId": cid}])] == ["/meta/connect"]
    assert time.monotonic() - start >= 2.9


def test_websocket_pushes_without_a_poll_and_refuses_bad_signatures(faye):
    from websockets.sync.client import connect

    url, hub = faye
    with connect(url.replace("http://", "ws://")) as ws:
        ws.send(json.dumps([{"channel": "/meta/handshake", "version": "1.0", "supportedConnectionTypes": ["websocket"]}]))
        cid = json.loads(ws.recv(timeout=5))[0]["clientId"]
        forged = jwt.encode({"user_id": "1"}, "another-secret-0123456789-0123456789", algorithm="HS256")
        ws.send(json.dumps([{"channel": "/meta/subscribe", "clientId": cid, "subscription": CHANNEL, "id": "1",
                             "ext": sub_ext(forged)}]))
        [refused] = json.loads(ws.recv(timeout=5))
        assert refused["successful"] is False and refused["error"].startswith("403:")
        token = jwt.encode({"resource": "feed", "action": "read", "feed_id": "user1"}, SECRET, algorithm="HS256")
        ws.send(json.dumps([{"channel": "/meta/connect", "clientId": cid, "connectionType": "websocket", "id": "2"},
                            {"channel": "/meta/subscribe", "clientId": cid, "subscription": CHANNEL, "id": "3",
                             "ext": sub_ext(token)}]))
        [sub] = json.loads(ws.recv(timeout=5))  # the connect is held, the subscription answered
        assert sub["id"] == "3" and sub["successful"] is True
        ws.send("[]")  # a keep-alive ping: no answer
        sent = time.monotonic()
        hub.publish([FeedChange("user:1", [Added(b"\1" * 16, BODY)])])
        [msg] = json.loads(ws.recv(timeout=5))
        assert msg["channel"] == CHANNEL and time.monotonic() - sent < 1.0
        [connect_reply] = json.loads(ws.recv(timeout=5))  # after the 3 s hold
        assert connect_reply["id"] == "2" and connect_reply["successful"] is True
    # the socket closed: the client is still known until it expires, but nothing is attached
    assert hub.subscribers(CHANNEL) == 1


def test_cors_jsonp_and_other_paths(faye):
    url, _ = faye
    r = requests.options(url, headers={"Origin": "https://app.example"}, timeout=5)
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "https://app.example"
    msg = json.dumps([{"channel": "/meta/handshake", "version": "1.0", "supportedConnectionTypes": ["callback-polling",
                                                                                                   "long-polling"]}])
    r = requests.get(url, params={"message": msg, "jsonp": "__jsonp1__"}, timeout=5)
    assert r.status_code == 200 and r.text.startswith("/**/__jsonp1__([") and r.text.endswith(");")
    assert requests.get(url, params={"message": msg, "jsonp": "alert(1)//"}, timeout=5).status_code == 400
    assert requests.post(url, data=b"{nope", timeout=5).status_code == 400
    r = requests.post(url, data={"message": msg}, timeout=5)
    assert r.json()[0]["successful"] is True
    # faye's CORS transport: `message=<urlencoded JSON>` sent as text/plain
    from urllib.parse import quote

    r = requests.post(url, data=("message=" + quote(msg)).encode(), headers={"content-type": "text/plain"}, timeout=5)
    assert r.json()[0]["successful"] is True
    assert requests.post(url.replace("/faye/", "/other"), data=msg, timeout=5).status_code == 404


def test_mounted_next_to_another_app():
    import asyncio

    from feedline.local.faye import WithFaye

    app, _hub = build(APP)
    calls, closed = [], []

    class Api:
        async def __call__(self, scope, receive, send):
            calls.append(scope["path"])

        def close(self):
            closed.append(True)

    mounted = WithFaye(Api(), app)
    sent = []

    async def receive():
        return {"type": "http.request", "body": json.dumps([{"channel": "/meta/handshake", "version": "1.0",
                                                               "supportedConnectionTypes": ["long-polling"]}]).encode()}

    async def send(message):
        sent.append(message)

    for path in ("/api/v1.0/feed/user/1/", "/faye", "/faye/"):
        asyncio.run(mounted({"type": "http", "method": "POST", "path": path, "headers": [], "query_string": b""},
                            receive, send))
    assert calls == ["/api/v1.0/feed/user/1/"]
    bodies = [json.loads(m["body"]) for m in sent if m["type"] == "http.response.body"]
    assert [b[0]["successful"] for b in bodies] == [True, True]
    mounted.close()
    assert closed == [True]
