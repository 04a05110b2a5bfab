"""Fan-out through the embedded queue: partial batch failures, retries, dead letters, idempotency."""

from __future__ import annotations

import pytest

from feedline.activities import inputs
from feedline.activities.model import build
from feedline.config import AppConfig, Settings
from feedline.fanout.handler import handle_sqs_event
from feedline.fanout.messages import BadMessage, FanoutMessage
from feedline.fanout.queue import EmbeddedQueue, sqs_event
from feedline.runtime import build as build_runtime
from feedline.storage.sqlite import open_stores


@pytest.fixture
def stores(tmp_path):
    s = open_stores(tmp_path / "f.db")
    yield s
    s.close()


@pytest.fixture
def rt(stores):
    return build_runtime(Settings(app=AppConfig("k", "s")), stores=stores)


def test_messages_are_ids_and_a_version():
    m = FanoutMessage("add", "6045bfa0-a467-11e7-8080-80005886bfee", "user:1")
    assert m.to_json() == '{"v":1,"op":"add","activity":"6045bfa0-a467-11e7-8080-80005886bfee","source":"user:1"}'
    assert FanoutMessage.from_json(m.to_json()) == m
    for bad in ['{"v":2,"op":"add","activity":"x","source":"y"}', "nope", '{"v":1,"op":"eat","activity":"x","source":"y"}']:
        with pytest.raises(BadMessage):
            FanoutMessage.from_json(bad)


def test_partial_batch_failure_reports_only_the_bad_record(rt):
    good = FanoutMessage("add", "6045bfa0-a467-11e7-8080-80005886bfee", "user:1").to_json()
    event = sqs_event([good, '{"v":1,"op":"add","activity":"not-an-id","source":"user:1"}', good])
    bad_id = event["Records"][1]["messageId"]
    assert handle_sqs_event(event, rt) == {"batchItemFailures": [{"itemIdentifier": bad_id}]}


def test_embedded_queue_retries_then_dead_letters():
    calls = []

    def flaky(event):
        calls.append([r["body"] for r in event["Records"]])
        return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"] if "bad" in r["body"]]}

    q = EmbeddedQueue(flaky, "sync", max_receive=3)
    q.send([FanoutMessage("add", "good", "user:1"), FanoutMessage("add", "bad", "user:1")])
    assert len(calls) == 3 and all(len(c) == 1 for c in calls[1:])  # only the failed record is retried
    assert len(q.dead_letters) == 1 and "bad" in q.dead_letters[0]


def test_async_delivery_drains(stores, tmp_path):
    settings = Settings(app=AppConfig("k", "s"), delivery="async")
    rt = build_runtime(settings, stores=stores)
    try:
        svc = rt.activities
        rt.follows.follow("timeline:a", "user:b", 10)
        act = build({"actor": "b", "verb": "v", "object": "o"}, svc.clock())
        svc.add("user:b", [act])
        rt.queue.drain()
        assert stores.timelines.has_entry("timeline:a", act.key)
    finally:
        rt.close()


def test_redelivered_and_late_messages_change_nothing(stores, rt):
    svc = rt.activities
    for i in range(3):
        rt.follows.follow(f"timeline:{i}", "user:b", 10)
    act = build({"actor": "b", "verb": "v", "object": "o"}, svc.clock())
    svc.add("user:b", [act])
    add = FanoutMessage("add", act.id, "user:b").to_json()
    before = sorted(stores.timelines.feeds_of_activity(act.key))
    assert len(before) == 4
    handle_sqs_event(sqs_event([add, add]), rt)  # duplicate delivery
    assert sorted(stores.timelines.feeds_of_activity(act.key)) == before
    svc.remove("user:b", act.id, False)
    assert stores.timelines.feeds_of_activity(act.key) == [] and stores.activities.get_activities([act.key]) == {}
    handle_sqs_event(sqs_event([add]), rt)  # an add that arrives after the removal
    assert stores.timelines.feeds_of_activity(act.key) == []  # not resurrected


class RecordingQueue(EmbeddedQueue):
    def __init__(self, deliver):
        super().__init__(deliver, "sync")
        self.sent: list[FanoutMessage] = []

    def send(self, messages):
        self.sent.extend(messages)
        super().send(messages)


def test_updates_reach_followers_without_a_second_fanout(stores):
    settings = Settings(app=AppConfig("k", "s"))
    queue = RecordingQueue(lambda ev: handle_sqs_event(ev, rt))
    rt = build_runtime(settings, stores=stores, queue=queue)
    svc = rt.activities
    for i in range(5):
        rt.follows.follow(f"timeline:{i}", "user:b", 10)
    act = build({"actor": "b", "verb": "v", "object": "o", "foreign_id": "p:1", "time": "2020-01-01T00:00:00"},
                svc.clock())
    svc.add("user:b", [act])
    assert [m.op for m in queue.sent] == ["add"]
    svc.update(inputs.full_updates({"activities": [{"actor": "b", "verb": "edited", "object": "o",
                                                    "foreign_id": "p:1", "time": "2020-01-01T00:00:00"}]}))
    svc.partial_update(inputs.changes([{"id": act.id, "set": {"extra.deep": 1}}]))
    assert [m.op for m in queue.sent] == ["add"]  # no fan-out for either update
    for i in range(5):
        [(key, body, origin)] = stores.timelines.read_page(f"timeline:{i}", 10)
        assert key == act.key and b'"verb":"edited"' in body and b'"extra":{"deep":1}' in body


def test_large_audience_fans_out_in_chunk_messages(stores):
    settings = Settings(app=AppConfig("k", "s"), fanout_chunk_size=100)
    queue = RecordingQueue(lambda ev: handle_sqs_event(ev, rt))
    rt = build_runtime(settings, stores=stores, queue=queue)
    for i in range(1050):
        stores.follows.add_follow(f"timeline:{i:05d}", "user:star", i)
    act = build({"actor": "star", "verb": "v", "object": "o"}, rt.activities.clock())
    rt.activities.add("user:star", [act])
    chunks = [m for m in queue.sent if m.limit is not None]
    assert len(chunks) == 10 and all(m.limit == 100 for m in chunks)  # first chunk written by the planner
    assert len(stores.timelines.feeds_of_activity(act.key)) == 1051
    # every chunk redelivered: nothing changes
    handle_sqs_event(sqs_event([m.to_json() for m in chunks]), rt)
    assert len(stores.timelines.feeds_of_activity(act.key)) == 1051


class DownQueue(EmbeddedQueue):
    def send(self, messages):
        from feedline.errors import ServiceUnavailable

        raise ServiceUnavailable("queue down")


def test_queue_failure_takes_a_new_activity_back_out_everywhere(stores):
    """Inline fan-out wrote the small audience, then the queue refused the rest: nothing remains."""
    from feedline.errors import ServiceUnavailable

    settings = Settings(app=AppConfig("k", "s"), inline_fanout=5)
    rt = build_runtime(settings, stores=stores, queue=DownQueue(lambda ev: None))
    svc = rt.activities
    rt.follows.follow("timeline:small", "user:b", 0)
    for i in range(10):  # topic:big has too many followers for inline: it needs the queue
        rt.follows.follow(f"timeline:big{i}", "topic:big", 0)
    act = build({"actor": "b", "verb": "v", "object": "o", "to": ["topic:big"]}, svc.clock())
    with pytest.raises(ServiceUnavailable):
        svc.add("user:b", [act])
    assert stores.timelines.feeds_of_activity(act.key) == [] and stores.activities.get_activities([act.key]) == {}
