"""Updates reach every copy of an activity's body, on both backends (SQLite joins at read time and
has nothing to refresh; Cassandra keeps a copy in each timeline row): inline for small audiences,
through chunked ``refresh`` messages for large ones; redelivered and late messages change nothing."""

from __future__ import annotations

import pytest

from feedline.activities import inputs
from feedline.activities.model import build
from feedline.config import AppConfig, Settings
from feedline.fanout.handler import handle_sqs_event
from feedline.fanout.messages import FanoutMessage
from feedline.fanout.queue import EmbeddedQueue, sqs_event
from feedline.feeds.store import TimelineStore
from feedline.runtime import build as build_runtime
from feedline.storage.sqlite import open_stores


class RecordingQueue(EmbeddedQueue):
    def __init__(self, deliver):
        super().__init__(deliver, "sync")
        self.sent: list[FanoutMessage] = []

    def send(self, messages):
        self.sent.extend(messages)
        super().send(messages)


@pytest.fixture(params=["sqlite", pytest.param("cassandra", marks=pytest.mark.cassandra)])
def stores(request, tmp_path):
    if request.param == "sqlite":
        s = open_stores(tmp_path / "f.db")
        yield s
        s.close()
        return
    from feedline.storage.cassandra import from_settings
    from tests.cassandra_support import truncate_all

    s = from_settings(request.getfixturevalue("cassandra_settings"))
    truncate_all(s)
    yield s
    s.close()


def _runtime(stores, chunk: int):
    settings = Settings(app=AppConfig("k", "s"), fanout_chunk_size=chunk)
    queue = RecordingQueue(lambda ev: handle_sqs_event(ev, rt))
    rt = build_runtime(settings, stores=stores, queue=queue)
    return rt, queue


def _post(rt, verb="post"):
    payload = {"actor": "b", "verb": verb, "object": "o", "foreign_id": "p:1", "time": "2020-01-01T00:00:00"}
    return payload, build(payload, rt.activities.clock())


def test_large_audiences_are_refreshed_by_chunked_messages(stores):
    rt, queue = _runtime(stores, chunk=4)
    rt.activities.refresh_inline = 3
    followers = [f"timeline:{i:03d}" for i in range(15)]
    for f in followers:
        rt.follows.follow(f, "user:b", 0)
    payload, act = _post(rt)
    rt.activities.add("user:b", [act])
    queue.sent.clear()
    rt.activities.update(inputs.full_updates({"activities": [dict(payload, verb="edited")]}))
    refresh = [m for m in queue.sent if m.op == "refresh"]
    keeps_copies = type(stores.timelines).refresh_copies is not TimelineStore.refresh_copies
    assert bool(refresh) == keeps_copies
    if refresh:  # a backend with copies (16 feeds): 3 inline, a plan that writes 4, chunk messages for 9
        assert refresh[0].limit is None and refresh[0].after is not None
        assert [m.limit for m in refresh[1:]] == [4, 4, 4]
    for f in ["user:b", *followers]:
        [(key, body, _)] = stores.timelines.read_page(f, 10)
        assert key == act.key and b'"verb":"edited"' in body
    # redelivered and late refresh messages (and a late add of the same activity) change nothing
    rt.activities.partial_update(inputs.changes([{"id": act.id, "set": {"n": 2}}]))
    handle_sqs_event(sqs_event([m.to_json() for m in refresh]
                               + [FanoutMessage("add", act.id, "user:b").to_json()]), rt)
    for f in ["user:b", *followers]:
        [(_, body, _)] = stores.timelines.read_page(f, 10)
        assert b'"verb":"edited"' in body and b'"n":2' in body, f


def test_every_write_path_keeps_copies_current(stores):
    rt, _ = _runtime(stores, chunk=100)
    svc = rt.activities
    rt.follows.follow("timeline:x", "user:b", 0)
    rt.follows.follow("aggregated:x", "user:b", 0)
    payload, act = _post(rt)
    svc.add("user:b", [act])
    svc.add_to_many(dict(payload, verb="many"), ["timeline:y"])  # same id sent again: a new body
    svc.change_targets("user:b", inputs.TargetsChange(act.key, ["topic:t"], [], []))
    feeds = ["user:b", "timeline:x", "timeline:y", "topic:t"]
    for f in feeds:
        [(_, body, _)] = stores.timelines.read_page(f, 10)
        assert b'"verb":"many"' in body and b'"to":["topic:t"]' in body, f
    page = rt.feeds.read("aggregated:x", _query()).assemble("", "0ms")
    assert b'"verb":"many"' in page and b'"to":["topic:t"]' in page
    [(_, again)] = [(k, b) for k, b, _ in stores.timelines.read_page("user:b", 1)]
    svc.add("user:b", [build(dict(payload, verb="resent"), svc.clock())])  # re-sent with a new body
    for f in feeds:
        [(_, body, _)] = stores.timelines.read_page(f, 10)
        assert b'"verb":"resent"' in body, f


def _query():
    from feedline.feeds.base import ReadQuery

    return ReadQuery(limit=10)
