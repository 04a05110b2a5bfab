"""Fan-out through real SQS semantics (moto's server): chunking, partial failures, DLQ, outages."""

from __future__ import annotations

import json
import time
from collections import Counter

import jwt
import pytest

from feedline.config import AppConfig, Settings
from feedline.fanout.poller import SqsPoller, redrive
from feedline.fanout.queue import SqsQueue
from feedline.local import template
from feedline.local.runner import LocalStack
from tests.conftest import API_KEY, API_SECRET, ROOT, DevServer
from tests.sqs_support import AWS_ENV, FlakyProxy

TOKEN = jwt.encode({"resource": "*", "action": "*", "feed_id": "*"}, API_SECRET, algorithm="HS256")
HEADERS = {"Authorization": TOKEN, "stream-auth-type": "jwt"}


def call(stack, method, path, body=None):
    status, _, out = stack.http(method, f"{path}?api_key={API_KEY}", HEADERS,
                                json.dumps(body).encode() if body is not None else b"")
    return status, json.loads(out)


def drain(poller, client, queue_url, timeout=30.0):
    """Poll until the queue is empty (counting in-flight messages)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        poller.poll_once()
        attrs = client.get_queue_attributes(QueueUrl=queue_url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        if attrs["ApproximateNumberOfMessages"] == "0" and attrs["ApproximateNumberOfMessagesNotVisible"] == "0":
            return
    raise AssertionError("queue did not drain")


@pytest.fixture
def sqs_stack(tmp_path, moto):
    queue_url, dlq_url = moto.queues(max_receive=2, visibility=1)
    settings = Settings(app=AppConfig(API_KEY, API_SECRET), sqlite_path=str(tmp_path / "f.db"), queue="sqs",
                        queue_url=queue_url, sqs_endpoint=moto.endpoint, fanout_chunk_size=100)
    stack = LocalStack(template.load(ROOT / "template.yaml"), settings)
    yield stack, queue_url, dlq_url
    stack.close()


@pytest.mark.slow
def test_dev_server_fans_out_to_3000_followers_in_chunks(tmp_path, moto):
    import stream

    queue_url, _ = moto.queues(max_receive=3, visibility=10)
    server = DevServer(tmp_path, {**AWS_ENV, "FEEDLINE_QUEUE": "sqs", "FEEDLINE_QUEUE_URL": queue_url,
                                  "FEEDLINE_SQS_ENDPOINT": moto.endpoint, "FEEDLINE_FANOUT_CHUNK_SIZE": "500"})
    try:
        client = stream.connect(API_KEY, API_SECRET, base_url=server.base_url, timeout=30)
        followers = [f"timeline:fan{i:04d}" for i in range(3000)]
        for i in range(0, 3000, 1500):
            client.follow_many([{"source": f, "target": "user:star"} for f in followers[i:i + 1500]],
                               activity_copy_limit=0)
        act = client.feed("user", "star").add_activity({"actor": "star", "verb": "post", "object": "o"})
        sqs = moto.client()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # the poller in `feedline dev` drains the queue
            attrs = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=[
                "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
            if attrs["ApproximateNumberOfMessages"] == attrs["ApproximateNumberOfMessagesNotVisible"] == "0":
                break
            time.sleep(0.2)
        missing = [f for f in followers if not client.feed(*f.split(":")).get(limit=1)["results"]]
        assert not missing, f"{len(missing)} followers never got the activity"
        for f in followers[::300]:
            [got] = client.feed(*f.split(":")).get()["results"]
            assert got["id"] == act["id"] and got["origin"] == "user:star"
    finally:
        server.stop()


def test_partial_failures_are_retried_and_the_rest_not_duplicated(sqs_stack, moto):
    stack, queue_url, _ = sqs_stack
    deliveries: Counter = Counter()
    failed_once: set[str] = set()

    def flaky(event):
        failures = []
        for r in event["Records"]:
            deliveries[r["body"]] += 1
            body = json.loads(r["body"])
            # fail the first delivery of every other source feed
            if body["source"].endswith(("1", "3")) and r["body"] not in failed_once:
                failed_once.add(r["body"])
                failures.append({"itemIdentifier": r["messageId"]})
        ok = {"Records": [r for r in event["Records"]
                          if r["messageId"] not in {f["itemIdentifier"] for f in failures}]}
        stack.invoke("FanoutFunction", ok)
        return {"batchItemFailures": failures}

    for i in range(5):
        assert call(stack, "POST", f"/api/v1.0/feed/timeline/r{i}/follows/", {"target": f"user:s{i}"})[0] == 200
    acts = [call(stack, "POST", f"/api/v1.0/feed/user/s{i}/", {"actor": "a", "verb": "v", "object": str(i)})[1]
            for i in range(5)]
    poller = SqsPoller(moto.client(), queue_url, flaky, batch_size=10, visibility_timeout=1)
    drain(poller, moto.client(), queue_url)
    assert len(failed_once) == 2
    for body, n in deliveries.items():
        assert n == (2 if body in failed_once else 1), body
    for i, act in enumerate(acts):
        _, page = call(stack, "GET", f"/api/v1.0/feed/timeline/r{i}/")
        assert [r["id"] for r in page["results"]] == [act["id"]]


def test_poison_message_goes_to_dlq_and_redrive_delivers_once(sqs_stack, moto):
    stack, queue_url, dlq_url = sqs_stack
    broken = {"on": True}
    delivered: Counter = Counter()

    def deliver(event):
        if broken["on"]:
            return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"]]}
        for r in event["Records"]:
            delivered[r["body"]] += 1
        return stack.invoke("FanoutFunction", event)

    call(stack, "POST", "/api/v1.0/feed/timeline/p/follows/", {"target": "user:poison"})
    _, act = call(stack, "POST", "/api/v1.0/feed/user/poison/", {"actor": "a", "verb": "v", "object": "o"})
    client = moto.client()
    poller = SqsPoller(client, queue_url, deliver, visibility_timeout=1)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        poller.poll_once()
        n = client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["ApproximateNumberOfMessages"])
        if n["Attributes"]["ApproximateNumberOfMessages"] == "1":
            break
        time.sleep(0.3)
    else:
        raise AssertionError("the poison message never reached the dead-letter queue")
    assert call(stack, "GET", "/api/v1.0/feed/timeline/p/")[1]["results"] == []
    broken["on"] = False
    assert redrive(client, dlq_url, queue_url) == 1
    drain(poller, client, queue_url)
    assert list(delivered.values()) == [1]
    assert [r["id"] for r in call(stack, "GET", "/api/v1.0/feed/timeline/p/")[1]["results"]] == [act["id"]]


def test_write_path_while_the_queue_endpoint_is_down(tmp_path, moto):
    proxy = FlakyProxy(moto.port)
    queue_url, _ = moto.queues()
    settings = Settings(app=AppConfig(API_KEY, API_SECRET), sqlite_path=str(tmp_path / "f.db"), queue="sqs",
                        queue_url=queue_url, sqs_endpoint=proxy.endpoint)
    stack = LocalStack(template.load(ROOT / "template.yaml"), settings,
                       queue=SqsQueue(queue_url, proxy.endpoint))
    try:
        # down for good: retries with backoff, then a clear 503 and nothing half-written
        proxy.down = True
        status, err = call(stack, "POST", "/api/v1.0/feed/user/q/", {"actor": "a", "verb": "v", "object": "lost"})
        assert status == 503 and err["exception"] == "ServiceUnavailable" and "retry" in err["detail"]
        assert call(stack, "GET", "/api/v1.0/feed/user/q/")[1]["results"] == []
        # down briefly: the retry succeeds and the client sees a normal answer
        import threading
        threading.Timer(0.15, lambda: setattr(proxy, "down", False)).start()
        status, act = call(stack, "POST", "/api/v1.0/feed/user/q/", {"actor": "a", "verb": "v", "object": "kept"})
        assert status == 200, act
        assert [r["object"] for r in call(stack, "GET", "/api/v1.0/feed/user/q/")[1]["results"]] == ["kept"]
    finally:
        stack.close()
        proxy.close()
