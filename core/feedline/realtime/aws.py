"""Realtime on AWS: Bayeux over an API Gateway WebSocket API, pushes through its management API.

- The Realtime function handles the API's routes: ``$connect`` records the connection,
  ``$default`` carries Bayeux frames (the reply is the route response API Gateway sends back on the
  socket), ``$disconnect`` forgets the connection and its subscriptions. A Lambda cannot hold a
  reply, so ``/meta/connect`` is answered at once and ``advice.interval`` paces the client's next
  one (``CONNECT_INTERVAL_S``, well inside API Gateway's 10-minute idle timeout); pushed messages
  arrive on the socket whenever they are published. Stock Faye clients handshake over HTTP first:
  ``POST /faye`` on the HTTP API (``handle_http_event``) answers handshakes only, with client ids
  any socket can verify (``ClientIds``); long-polling is not offered on AWS (the handshake lists
  ``websocket`` only; docs/api.md §16).
- ``ApiGatewayPublisher`` is the write and fan-out functions' publisher: one subscriber look-up per
  write (``SubscriptionStore.subscribers``), one message build per feed, posts to the connections
  in parallel (``POST_CONCURRENCY``), each tried once (boto3's standard retry mode, 2 attempts, short
  timeouts); a connection API Gateway reports gone (410) is dropped from the store.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qs

import ujson

from feedline.realtime.access import Access
from feedline.realtime.channels import channel_of
from feedline.realtime.messages import FeedChange, encode, frame
from feedline.realtime.protocol import HANDSHAKE, Bayeux, Sessions
from feedline.realtime.publisher import Publisher
from feedline.realtime.store import SubscriptionStore

log = logging.getLogger("feedline.realtime")

#: API Gateway closes a WebSocket after 2 hours: rows outlive that a little, then expire
CONNECTION_TTL_S = 2 * 3600 + 900
#: how often an idle client sends /meta/connect (one Lambda invocation each)
CONNECT_INTERVAL_S = 60.0
#: how long the client waits for any reply (x 1.2)
REPLY_TIMEOUT_S = 30.0
POST_CONCURRENCY = 16


class ClientIds:
    """Client ids that prove themselves: ``{random}.{hmac}`` under a key derived from the API secret.

    Stock Faye clients handshake over HTTP long-polling (``POST /faye`` on the HTTP API here) and
    only then open the WebSocket (another API, another host): the id handed out over HTTP must be
    recognised on a socket without a shared session table.
    """

    def __init__(self, secret: str):
        self.key = hmac.new(secret.encode(), b"feedline realtime client ids", hashlib.sha256).digest()

    def _mac(self, nonce: str) -> str:
        return hmac.new(self.key, nonce.encode(), hashlib.sha256).hexdigest()[:32]

    def new(self) -> str:
        nonce = secrets.token_hex(12)
        return f"{nonce}.{self._mac(nonce)}"

    def valid(self, client_id: str) -> bool:
        nonce, _, mac = client_id.partition(".")
        return bool(re.fullmatch(r"[0-9a-f]{24}", nonce)) and hmac.compare_digest(mac, self._mac(nonce))


class StoreSessions(Sessions):
    """Bayeux sessions of API Gateway connections (``conn``: the connection id; None over HTTP)."""

    def __init__(self, store: SubscriptionStore, ids: ClientIds, ttl_s: int = CONNECTION_TTL_S):
        self.store = store
        self.ids = ids
        self.ttl_s = ttl_s

    def open(self, client_id: str, conn: Any) -> None:
        if conn is not None:
            self.store.open_connection(conn, client_id, self.ttl_s)

    def known(self, client_id: str, conn: Any) -> bool:
        if not self.ids.valid(client_id):
            return False
        if conn is not None and self.store.client_of(conn) != client_id:
            # the client's first message on this socket (its handshake came over HTTP)
            self.store.open_connection(conn, client_id, self.ttl_s)
        return True

    def subscribe(self, client_id: str, channel: str, conn: Any) -> None:
        self.store.subscribe(conn, channel, self.ttl_s)

    def unsubscribe(self, client_id: str, channel: str, conn: Any) -> None:
        self.store.unsubscribe(conn, channel)

    def close(self, client_id: str, conn: Any) -> None:
        self.store.drop(conn)


def bayeux_for(app: Any, store: SubscriptionStore) -> Bayeux:
    ids = ClientIds(app.api_secret)
    return Bayeux(Access(app), StoreSessions(store, ids), timeout_s=REPLY_TIMEOUT_S, interval_s=CONNECT_INTERVAL_S,
                  hold_connect=False, connection_types=("websocket",), new_id=ids.new)


def handle_http_event(event: dict, bayeux: Bayeux) -> dict:
    """``POST /faye`` on the HTTP API (payload 2.0): the handshake stock Faye clients send over
    long-polling. Everything else belongs on the WebSocket (long-polling is not offered on AWS)."""
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("utf-8", "replace")
    if "message=" in body[:8]:  # a form-encoded request
        body = (parse_qs(body).get("message") or [""])[0]
    try:
        messages = ujson.loads(body)
    except ValueError:
        return _http(400, [{"channel": "/meta/unknown", "successful": False, "error": "400::the body is not JSON"}])
    if isinstance(messages, dict):
        messages = [messages]
    if not isinstance(messages, list):
        messages = [messages]
    handshakes = [m for m in messages if isinstance(m, dict) and m.get("channel") == HANDSHAKE]
    replies = bayeux.process(handshakes).replies if handshakes else []
    for m in messages:
        if not (isinstance(m, dict) and m.get("channel") == HANDSHAKE):
            channel = m.get("channel") if isinstance(m, dict) and isinstance(m.get("channel"), str) else "/meta/unknown"
            reply = {"channel": channel, "successful": False,
                     "error": "400::long-polling is not offered here: use the WebSocket endpoint",
                     "advice": {"reconnect": "retry", "interval": int(CONNECT_INTERVAL_S * 1000)}}
            if isinstance(m, dict) and isinstance(m.get("id"), (str, int)):
                reply["id"] = m["id"]
            replies.append(reply)
    return _http(200, replies)


def _http(status: int, replies: list[dict]) -> dict:
    return {"statusCode": status, "headers": {"content-type": "application/json", "cache-control": "no-store"},
            "body": ujson.dumps(replies, ensure_ascii=False)}


def handle_websocket_event(event: dict, bayeux: Bayeux, store: SubscriptionStore) -> dict:
    """One API Gateway WebSocket event: ``$connect``, ``$disconnect`` or a Bayeux frame."""
    ctx = event.get("requestContext") or {}
    route, conn = ctx.get("routeKey"), ctx.get("connectionId")
    if not isinstance(conn, str) or not conn:
        return {"statusCode": 400, "body": "no connection id"}
    if route == "$connect":
        store.open_connection(conn, "", CONNECTION_TTL_S)
        return {"statusCode": 200}
    if route == "$disconnect":
        store.drop(conn)
        return {"statusCode": 200}
    try:
        messages = ujson.loads(event.get("body") or "[]")
    except ValueError:
        return {"statusCode": 200, "body": ujson.dumps([{"channel": "/meta/unknown", "successful": False,
                                                          "error": "400::the frame is not JSON"}])}
    if messages == []:  # a client's keep-alive ping
        return {"statusCode": 200}
    outcome = bayeux.process(messages, conn)
    replies = outcome.replies + ([outcome.connect] if outcome.connect is not None else [])
    return {"statusCode": 200, "body": ujson.dumps(replies, ensure_ascii=False)}


class ApiGatewayPublisher(Publisher):
    def __init__(self, app_id: str, store: SubscriptionStore, endpoint: str, client: Any = None):
        self.app_id = app_id
        self.store = store
        self.endpoint = endpoint
        self._client = client
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        #: the last look-up of this thread: publish reuses it instead of reading again
        self._seen = threading.local()

    @property
    def client(self) -> Any:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    import boto3
                    from botocore.config import Config

                    self._client = boto3.client(
                        "apigatewaymanagementapi", endpoint_url=self.endpoint,
                        config=Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=2,
                                      read_timeout=5, max_pool_connections=POST_CONCURRENCY))
        return self._client

    def watched(self, feeds: Sequence[str]) -> set[str]:
        channels = {channel_of(self.app_id, fid): fid for fid in feeds}
        found = self.store.subscribers(list(channels))
        self._seen.found = found
        return {channels[c] for c in found}

    def publish(self, changes: Sequence[FeedChange]) -> None:
        found: dict[str, list[str]] = getattr(self._seen, "found", None) or {}
        channels = [channel_of(self.app_id, c.feed) for c in changes]
        if any(c not in found for c in channels):
            found = {**found, **self.store.subscribers([c for c in channels if c not in found])}
        posts: list[tuple[str, bytes]] = []
        for change in changes:
            channel, message = encode(self.app_id, change)
            data = frame([message])  # once per feed, whatever its number of subscribers
            posts.extend((conn, data) for conn in found.get(channel, ()))
        if posts:
            self.post_all(posts)

    def post_all(self, posts: list[tuple[str, bytes]]) -> None:
        if len(posts) == 1:
            self._post(*posts[0])
            return
        if self._pool is None:
            with self._lock:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(POST_CONCURRENCY, "feedline-realtime")
        list(self._pool.map(lambda p: self._post(*p), posts))

    def _post(self, conn: str, data: bytes) -> None:
        client = self.client
        try:
            client.post_to_connection(ConnectionId=conn, Data=data)
        except client.exceptions.GoneException:
            self.store.drop(conn)
        except Exception as exc:  # never retried beyond boto3's attempts: the next publish tries again
            log.warning("realtime: push to %s failed: %s", conn, exc)
