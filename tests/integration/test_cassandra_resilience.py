"""The Cassandra backend when the database goes away, comes back, or redelivers work.

The connection is cut with a TCP proxy between the driver and the node (the shared node itself is
never stopped): closing the proxy drops every connection and refuses new ones, like a node or a
network going down; freezing it keeps the connections open but silent, like a NAT that forgot them
while Lambda had the process frozen.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid

import jwt
import pytest

from feedline import runtime
from feedline.activities.store import ActivityRecord
from feedline.errors import StorageUnavailable
from feedline.fanout.handler import handle_sqs_event
from feedline.fanout.messages import FanoutMessage
from feedline.fanout.queue import sqs_event
from feedline.feeds.store import Entry
from feedline.local import template
from feedline.local.runner import LocalStack
from feedline.models import ids
from feedline.runtime import build as build_runtime
from feedline.storage.cassandra import from_settings
from feedline.stores import Stores
from tests.conftest import API_KEY, API_SECRET, ROOT

pytestmark = pytest.mark.cassandra

TOKEN = jwt.encode({"resource": "*", "action": "*", "feed_id": "*"}, API_SECRET, algorithm="HS256")


class TcpProxy:
    """127.0.0.1:<port> -> 127.0.0.1:<target>, which a test can close, reopen or freeze."""

    def __init__(self, target: int):
        self.target = target
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self._listener: socket.socket | None = None
        self._pairs: list[tuple[socket.socket, socket.socket, threading.Event]] = []
        self._lock = threading.Lock()

    def open(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target))
            except OSError:
                client.close()
                continue
            flowing = threading.Event()
            flowing.set()
            with self._lock:
                self._pairs.append((client, upstream, flowing))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b, flowing), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket, flowing: threading.Event) -> None:
        try:
            while True:
                flowing.wait()
                data = src.recv(65536)
                if not data:
                    break
                flowing.wait()  # frozen: hold the bytes, like a path that silently drops them
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self) -> None:
        """Refuse new connections and cut the open ones."""
        if self._listener is not None:
            try:
                self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept() (Linux)
            except OSError:
                pass
            self._listener.close()
            self._listener = None
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for client, upstream, flowing in pairs:
            for s in (client, upstream):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()
            flowing.set()

    def freeze_open_connections(self) -> None:
        """The open connections stay up but carry nothing; new ones work."""
        with self._lock:
            for _, _, flowing in self._pairs:
                flowing.clear()


@pytest.fixture
def proxy(cassandra_node):
    p = TcpProxy(cassandra_node.port)
    p.open()
    yield p
    p.close()


@pytest.fixture
def proxied(cassandra_settings, proxy):
    """A store that reaches the node only through the proxy."""
    store = from_settings(cassandra_settings.with_(cassandra_port=proxy.port))
    yield store
    store.close()


def _key(n: int) -> bytes:
    return ids.key_from_time(1_700_000_000_000_000 + n, b"\x80\x80" + uuid.uuid4().bytes[:6])


def _eventually(fn, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return fn()
        except StorageUnavailable:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_reads_raise_storage_unavailable_then_recover(proxied, proxy):
    f = f"user:{uuid.uuid4().hex[:10]}"
    keys = [_key(i) for i in range(3)]
    proxied.activities.put_activities([ActivityRecord(k, b'{"n":1}') for k in keys])
    proxied.timelines.add_entries(f, [Entry(k, None) for k in keys])
    expected = [(k, b'{"n":1}', None) for k in sorted(keys, reverse=True)]
    assert proxied.timelines.read_page(f, 10) == expected

    proxy.close()
    t0 = time.monotonic()
    with pytest.raises(StorageUnavailable):
        proxied.timelines.read_page(f, 10)
    with pytest.raises(StorageUnavailable):
        proxied.timelines.add_entries(f, [Entry(_key(9), None)])
    assert time.monotonic() - t0 < 8, "an outage must fail fast (503), not hang the request"

    proxy.open()
    assert _eventually(lambda: proxied.timelines.read_page(f, 10)) == expected


def test_first_query_after_long_idle_rebuilds_and_retries(proxied, proxy):
    """Lambda thawed after minutes: the old connections are silent; one rebuild, no error."""
    f = f"user:{uuid.uuid4().hex[:10]}"
    k = _key(1)
    proxied.timelines.add_entries(f, [Entry(k, None)])
    session = proxied.activities.session
    proxy.freeze_open_connections()
    session._last_used = session.clock() - 10 * session.idle_reconnect_s  # as if frozen for a while
    assert proxied.timelines.read_entries(f, 10) == [Entry(k, None)]
    assert session.rebuilds == 1


def test_silent_connections_without_idle_fail_fast(proxied, proxy):
    """Not idle: no rebuild (during a real outage it would only add load), a quick 503."""
    f = f"user:{uuid.uuid4().hex[:10]}"
    proxied.timelines.add_entries(f, [Entry(_key(1), None)])
    proxy.freeze_open_connections()
    t0 = time.monotonic()
    with pytest.raises(StorageUnavailable):
        proxied.timelines.read_entries(f, 10)
    assert time.monotonic() - t0 < proxied.activities.session.request_timeout + 2
    assert proxied.activities.session.rebuilds == 0


def test_http_read_is_a_503_with_stream_error_body_then_recovers(cassandra_settings, proxy):
    settings = cassandra_settings.with_(cassandra_port=proxy.port)
    stack = LocalStack(template.load(ROOT / "template.yaml"), settings)
    try:
        def call(method, path, body=None):
            status, _, out = stack.http(method, f"{path}?api_key={API_KEY}",
                                        {"Authorization": TOKEN, "stream-auth-type": "jwt"},
                                        json.dumps(body).encode() if body is not None else b"")
            return status, json.loads(out)

        uid = uuid.uuid4().hex[:10]
        status, act = call("POST", f"/api/v1.0/feed/user/{uid}/", {"actor": uid, "verb": "v", "object": "o"})
        assert status == 200
        status, page = call("GET", f"/api/v1.0/feed/user/{uid}/")
        assert status == 200 and [r["id"] for r in page["results"]] == [act["id"]]

        proxy.close()
        for _ in range(3):
            status, body = call("GET", f"/api/v1.0/feed/user/{uid}/")
            assert status == 503, body  # never a 200 with a wrong (empty) page
            assert body["status_code"] == 503 and body["exception"] and "code" in body and body["detail"]

        proxy.open()
        deadline = time.monotonic() + 20
        while True:
            status, page = call("GET", f"/api/v1.0/feed/user/{uid}/")
            if status == 200 or time.monotonic() > deadline:
                break
            assert status == 503
            time.sleep(0.2)
        assert status == 200 and [r["id"] for r in page["results"]] == [act["id"]]
    finally:
        stack.close()
        runtime.install(None)  # later tests build their own runtime, not this proxied one


def _feed_state(store: Stores, feeds: list[str], key: bytes):
    return ({f: store.timelines.read_entries(f, 100) for f in feeds}, sorted(store.timelines.feeds_of_activity(key)))


def test_redelivered_fanout_message_changes_nothing(cassandra_settings):
    store = from_settings(cassandra_settings)
    rt = build_runtime(cassandra_settings, stores=store)
    try:
        source = f"user:{uuid.uuid4().hex[:10]}"
        followers = sorted(f"timeline:{uuid.uuid4().hex[:10]}" for _ in range(30))
        for i, f in enumerate(followers):
            store.follows.add_follow(f, source, 1000 + i)
        k = _key(5)
        store.activities.put_activities([ActivityRecord(k, b'{"x":1}', "", source)])
        store.timelines.add_entries(source, [Entry(k, None)])
        add = FanoutMessage("add", ids.key_to_uuid(k), source).to_json()
        # two chunks of the audience, as the planner splits a large one
        chunk = FanoutMessage("add", ids.key_to_uuid(k), source, after=followers[9], limit=50).to_json()

        assert handle_sqs_event(sqs_event([add]), rt) == {"batchItemFailures": []}
        first = _feed_state(store, [source, *followers], k)
        assert all(first[0][f] == [Entry(k, source)] for f in followers)
        for _ in range(2):  # SQS delivers at least once: the same message again, and an overlap
            again = sqs_event([add, chunk], receive_count=2)
            assert handle_sqs_event(again, rt) == {"batchItemFailures": []}
            assert _feed_state(store, [source, *followers], k) == first

        remove = FanoutMessage("remove", ids.key_to_uuid(k), source).to_json()
        store.timelines.remove_entries(source, [k])
        assert handle_sqs_event(sqs_event([remove]), rt) == {"batchItemFailures": []}
        gone = _feed_state(store, [source, *followers], k)
        assert all(entries == [] for entries in gone[0].values()) and gone[1] == []
        assert handle_sqs_event(sqs_event([remove, add], receive_count=2), rt) == {"batchItemFailures": []}
        assert _feed_state(store, [source, *followers], k) == gone  # no resurrection either
    finally:
        store.close()
