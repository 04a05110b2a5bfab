"""Realtime on AWS: the Realtime function driven with API Gateway WebSocket events, and the pushes
of the write and fan-out functions through a management API stub served here (what each connection
would be sent).

The stack is the template's, played by the local runner: HTTP events to the Write function, SQS
batches to the Fanout function, WebSocket and HTTP events to the Realtime function; the runtime's
publisher is the AWS one (``FEEDLINE_REALTIME_ENDPOINT`` -> the stub), subscriptions in SQLite.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest

from feedline.config import AppConfig, Settings
from feedline.local import template
from feedline.local.runner import LocalStack
from feedline.realtime import publisher
from tests.conftest import API_KEY, API_SECRET, ROOT

SERVER_TOKEN = jwt.encode({"resource": "*", "action": "*", "feed_id": "*"}, API_SECRET, algorithm="HS256")


class ManagementApi:
    """API Gateway's management API, as far as ``post_to_connection`` goes: records the posts;
    connections in ``gone`` answer 410 GoneException."""

    def __init__(self):
        self.posts: list[tuple[str, bytes]] = []
        self.gone: set[str] = set()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                conn = self.path.rsplit("/@connections/", 1)[-1]
                if conn in api.gone:
                    out = b'{"message": null}'
                    self.send_response(410)
                    self.send_header("x-amzn-ErrorType", "GoneException")
                else:
                    api.posts.append((conn, body))
                    out = b""
                    self.send_response(200)
                self.send_header("content-length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/faye"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def to(self, conn: str) -> list[dict]:
        return [m for c, body in self.posts if c == conn for m in json.loads(body)]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def mgmt():
    api = ManagementApi()
    yield api
    api.close()


@pytest.fixture
def stack(tmp_path, mgmt, monkeypatch):
    for k, v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(k, v)
    publisher.install(None)
    settings = Settings(app=AppConfig(API_KEY, API_SECRET, app_id="1234"), sqlite_path=str(tmp_path / "f.db"),
                        realtime_endpoint=mgmt.url)
    s = LocalStack(template.load(ROOT / "template.yaml"), settings)
    yield s
    s.close()


def ws(stack, route: str, conn: str, body: object = None) -> dict:
    event = {"requestContext": {"routeKey": route, "connectionId": conn, "eventType": route.strip("$").upper(),
                                "apiId": "abc", "stage": "faye", "domainName": "abc.execute-api.us-east-1.amazonaws.com"},
             "isBase64Encoded": False}
    if body is not None:
        event["body"] = json.dumps(body)
    return stack.invoke("RealtimeFunction", event)


def bayeux(stack, conn: str, messages: list[dict]) -> list[dict]:
    result = ws(stack, "$default", conn, messages)
    assert result["statusCode"] == 200
    return json.loads(result["body"])


def http_handshake(stack) -> str:
    status, headers, out = stack.http("POST", "/faye", {"content-type": "application/json"}, json.dumps(
        [{"channel": "/meta/handshake", "version": "1.0", "supportedConnectionTypes": ["long-polling", "websocket"],
          "id": "1"}]).encode())
    [reply] = json.loads(out)
    assert status == 200 and reply["successful"] is True and reply["supportedConnectionTypes"] == ["websocket"]
    return reply["clientId"]


def subscribe(stack, conn: str, client_id: str, feed: str, signature: str) -> dict:
    channel = "/site-1234-feed-" + feed.replace(":", "")
    [reply] = bayeux(stack, conn, [{"channel": "/meta/subscribe", "clientId": client_id, "subscription": channel,
                                    "id": "s", "ext": {"user_id": channel[1:], "api_key": API_KEY,
                                                       "signature": signature}}])
    return reply


def write(stack, method: str, path: str, body: object = None) -> dict:
    status, _, out = stack.http(method, f"{path}?api_key={API_KEY}",
                                {"Authorization": SERVER_TOKEN, "stream-auth-type": "jwt"},
                                json.dumps(body).encode() if body is not None else b"")
    assert status in (200, 201), out
    return json.loads(out)


def test_subscribe_push_remove_gone_and_disconnect(stack, mgmt):
    alice = jwt.encode({"user_id": "alice"}, API_SECRET, algorithm="HS256")
    assert ws(stack, "$connect", "connA") == {"statusCode": 200}
    assert ws(stack, "$connect", "connB")["statusCode"] == 200
    assert ws(stack, "$connect", "connC")["statusCode"] == 200

    # A: the stock Faye sequence (handshake over HTTP, then the socket); B: handshake on the socket
    cid_a = http_handshake(stack)
    [hs] = bayeux(stack, "connB", [{"channel": "/meta/handshake", "version": "1.0",
                                    "supportedConnectionTypes": ["websocket"], "id": "1"}])
    cid_b = hs["clientId"]
    [conn_reply] = bayeux(stack, "connA", [{"channel": "/meta/connect", "clientId": cid_a, "connectionType": "websocket",
                                            "id": "2"}])
    assert conn_reply["successful"] is True and conn_reply["advice"]["interval"] == 60000  # answered at once
    assert subscribe(stack, "connA", cid_a, "timeline:alice", alice)["successful"] is True
    assert subscribe(stack, "connA", cid_a, "user:alice", alice)["successful"] is True
    # B: a forged signature is a Bayeux error, not a subscription
    forged = jwt.encode({"user_id": "alice"}, "wrong-secret-0123456789-0123456789", algorithm="HS256")
    refused = subscribe(stack, "connB", cid_b, "timeline:alice", forged)
    assert refused["successful"] is False and refused["error"].startswith("403:")
    # C subscribes, then its socket goes away without a $disconnect
    cid_c = bayeux(stack, "connC", [{"channel": "/meta/handshake", "version": "1.0",
                                     "supportedConnectionTypes": ["websocket"]}])[0]["clientId"]
    assert subscribe(stack, "connC", cid_c, "user:alice", alice)["successful"] is True
    mgmt.gone.add("connC")
    # a client id minted elsewhere (another secret) is not accepted on a socket
    [unknown] = bayeux(stack, "connB", [{"channel": "/meta/connect", "clientId": "0" * 24 + ".forged"}])
    assert unknown["successful"] is False and unknown["advice"]["reconnect"] == "handshake"

    # a post to user:alice reaches A's user channel (and C's, which is gone: dropped); through the
    # follow, the fan-out function's copy reaches A's timeline channel
    write(stack, "POST", "/api/v1.0/feed/timeline/alice/follows/", {"target": "user:alice"})
    act = write(stack, "POST", "/api/v1.0/feed/user/alice/", {"actor": "alice", "verb": "post", "object": "o:1",
                                                               "foreign_id": "post:1"})
    pushed = mgmt.to("connA")
    by_channel = {m["channel"]: m["data"] for m in pushed}
    assert set(by_channel) == {"/site-1234-feed-useralice", "/site-1234-feed-timelinealice"}
    own, copy = by_channel["/site-1234-feed-useralice"], by_channel["/site-1234-feed-timelinealice"]
    assert [a["id"] for a in own["new"]] == [act["id"]] and own["new"][0]["origin"] is None
    assert own["feed"] == "user:alice" and own["app_id"] == "1234" and own["deleted"] == []
    assert [a["id"] for a in copy["new"]] == [act["id"]] and copy["new"][0]["origin"] == "user:alice"
    assert mgmt.to("connB") == [] and mgmt.to("connC") == []
    # the gone connection was dropped from the store: the next publish does not try it
    assert stack.runtime.stores.realtime.client_of("connC") is None
    assert stack.runtime.stores.realtime.subscribers(["/site-1234-feed-useralice"]) == {
        "/site-1234-feed-useralice": ["connA"]}

    # the removal reaches both channels, with the foreign id
    mgmt.posts.clear()
    write(stack, "DELETE", f"/api/v1.0/feed/user/alice/{act['id']}/")
    removed = {m["channel"]: m["data"] for m in mgmt.to("connA")}
    assert removed["/site-1234-feed-useralice"]["deleted"] == [act["id"]]
    assert removed["/site-1234-feed-useralice"]["deleted_foreign_ids"][0][0] == "post:1"
    assert removed["/site-1234-feed-timelinealice"]["deleted"] == [act["id"]]

    # unsubscribe, then disconnect: nothing is pushed any more
    [unsub] = bayeux(stack, "connA", [{"channel": "/meta/unsubscribe", "clientId": cid_a,
                                       "subscription": "/site-1234-feed-timelinealice"}])
    assert unsub["successful"] is True
    mgmt.posts.clear()
    write(stack, "POST", "/api/v1.0/feed/user/alice/", {"actor": "alice", "verb": "post", "object": "o:2"})
    assert {m["channel"] for m in mgmt.to("connA")} == {"/site-1234-feed-useralice"}
    assert ws(stack, "$disconnect", "connA")["statusCode"] == 200
    mgmt.posts.clear()
    write(stack, "POST", "/api/v1.0/feed/user/alice/", {"actor": "alice", "verb": "post", "object": "o:3"})
    assert mgmt.posts == []


def test_long_polling_is_not_offered_and_bad_frames_are_answered(stack):
    status, _, out = stack.http("POST", "/faye", {"content-type": "application/json"}, json.dumps(
        [{"channel": "/meta/connect", "clientId": "x", "id": "9"}]).encode())
    [reply] = json.loads(out)
    assert status == 200 and reply["successful"] is False and reply["id"] == "9"
    status, _, out = stack.http("POST", "/faye", {"content-type": "application/json"}, b"{nope")
    assert status == 400 and json.loads(out)[0]["successful"] is False
    assert ws(stack, "$connect", "c1")["statusCode"] == 200
    result = ws(stack, "$default", "c1", None) | {}
    assert result == {"statusCode": 200}  # an empty frame: the client's ping
    event = {"requestContext": {"routeKey": "$default", "connectionId": "c1"}, "body": "not json"}
    bad = stack.invoke("RealtimeFunction", event)
    assert json.loads(bad["body"])[0]["successful"] is False


def test_publishing_is_one_build_per_feed_and_posts_in_parallel(stack, mgmt, monkeypatch):
    """100 connections on one feed: one message build, 100 posts of the same bytes."""
    import feedline.realtime.aws as aws

    alice = jwt.encode({"user_id": "alice"}, API_SECRET, algorithm="HS256")
    for i in range(100):
        conn = f"conn{i}"
        ws(stack, "$connect", conn)
        cid = bayeux(stack, conn, [{"channel": "/meta/handshake", "version": "1.0",
                                    "supportedConnectionTypes": ["websocket"]}])[0]["clientId"]
        assert subscribe(stack, conn, cid, "user:alice", alice)["successful"] is True
    builds = []
    real = aws.encode
    monkeypatch.setattr(aws, "encode", lambda *a: builds.append(1) or real(*a))
    start = time.perf_counter()
    write(stack, "POST", "/api/v1.0/feed/user/alice/", {"actor": "alice", "verb": "post", "object": "o:1"})
    assert len(builds) == 1 and len(mgmt.posts) == 100, time.perf_counter() - start
    assert len({body for _, body in mgmt.posts}) == 1
    assert {c for c, _ in mgmt.posts} == {f"conn{i}" for i in range(100)}
