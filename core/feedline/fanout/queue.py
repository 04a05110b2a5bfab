"""Queues that carry fan-out messages to the fan-out function.

- ``EmbeddedQueue``: in-process, for the local stack and tests. ``sync`` delivers before the write
  returns (so a read right after a write sees the fan-out, as stream-python's tests expect);
  ``async`` delivers from a background thread. Delivery goes through a callable that receives an
  SQS-shaped event (``{"Records": [{"messageId", "body", ...}]}``), normally the Fanout function's
  own handler, and honours its ``batchItemFailures`` with retries and a dead-letter list.
- ``SqsQueue``: boto3, built lazily and injectable (moto's server locally, SQS in AWS).
"""

from __future__ import annotations

import logging
import queue as stdqueue
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any

from feedline.errors import ServiceUnavailable
from feedline.fanout.messages import FanoutMessage

log = logging.getLogger("feedline.fanout")

Deliver = Callable[[dict], dict | None]


class FanoutQueue(ABC):
    @abstractmethod
    def send(self, messages: Sequence[FanoutMessage]) -> None:
        """Enqueue messages; raises ServiceUnavailable if they could not all be accepted."""

    def close(self) -> None:  # noqa: B027
        pass


def sqs_event(bodies: Sequence[str], receive_count: int = 1) -> dict:
    """An SQS-shaped Lambda event for message bodies (what the event source mapping sends)."""
    now = str(int(time.time() * 1000))
    return {"Records": [
        {
            "messageId": str(uuid.uuid4()),
            "receiptHandle": str(uuid.uuid4()),
            "body": body,
            "attributes": {"ApproximateReceiveCount": str(receive_count), "SentTimestamp": now,
                           "SenderId": "feedline-local", "ApproximateFirstReceiveTimestamp": now},
            "messageAttributes": {},
            "md5OfBody": "",
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:local:000000000000:feedline-fanout",
            "awsRegion": "local",
        }
        for body in bodies
    ]}


class EmbeddedQueue(FanoutQueue):
    def __init__(self, deliver: Deliver, mode: str = "sync", max_receive: int = 3, batch_size: int = 10):
        if mode not in ("sync", "async"):
            raise ValueError("mode is sync or async")
        self.deliver = deliver
        self.mode = mode
        self.max_receive = max_receive
        self.batch_size = batch_size
        self.dead_letters: list[str] = []
        self._pending: stdqueue.Queue[str | None] = stdqueue.Queue()
        self._thread: threading.Thread | None = None
        self._local = threading.local()

    def send(self, messages: Sequence[FanoutMessage]) -> None:
        bodies = [m.to_json() for m in messages]
        if not bodies:
            return
        if self.mode == "sync":
            # The fan-out function itself enqueues (chunk messages) while it is being delivered
            # to: those wait until the current batch is done, as they would in SQS, instead of
            # re-entering the function.
            deferred = getattr(self._local, "deferred", None)
            if deferred is not None:
                deferred.extend(bodies)
                return
            self._local.deferred = bodies
            try:
                while self._local.deferred:
                    todo, self._local.deferred = self._local.deferred, []
                    for i in range(0, len(todo), self.batch_size):
                        self._deliver_batch(todo[i:i + self.batch_size])
            finally:
                self._local.deferred = None
            return
        self._ensure_thread()
        for b in bodies:
            self._pending.put(b)

    def _deliver_batch(self, bodies: list[str]) -> None:
        attempt = 1
        while bodies:
            by_id: dict[str, str] = {}
            event = sqs_event(bodies, attempt)
            for rec in event["Records"]:
                by_id[rec["messageId"]] = rec["body"]
            try:
                result = self.deliver(event) or {}
                failed = [by_id[f["itemIdentifier"]] for f in result.get("batchItemFailures", [])]
            except Exception:  # the whole invocation failed: every record is retried
                log.exception("fan-out invocation failed")
                failed = bodies
            if not failed:
                return
            attempt += 1
            if attempt > self.max_receive:
                log.error("fan-out: %d message(s) moved to the dead-letter list", len(failed))
                self.dead_letters.extend(failed)
                return
            bodies = failed

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="feedline-fanout", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            body = self._pending.get()
            if body is None:
                return
            batch = [body]
            while len(batch) < self.batch_size:
                try:
                    nxt = self._pending.get_nowait()
                except stdqueue.Empty:
                    break
                if nxt is None:
                    self._pending.put(None)
                    break
                batch.append(nxt)
            self._deliver_batch(batch)
            for _ in batch:
                self._pending.task_done()

    def drain(self, timeout: float = 10.0) -> None:
        """Wait until every queued message was delivered (async mode)."""
        deadline = time.monotonic() + timeout
        while self._pending.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.005)

    def close(self) -> None:
        if self._thread is not None:
            self._pending.put(None)
            self._thread.join(timeout=5)
            self._thread = None


def make_sqs_client(endpoint_url: str = "", max_attempts: int = 3) -> Any:
    """A boto3 SQS client with short timeouts (boto3 imported here: only its users pay for it)."""
    import boto3
    from botocore.config import Config

    cfg = Config(retries={"max_attempts": max_attempts, "mode": "standard"}, connect_timeout=2, read_timeout=5)
    kwargs: dict[str, Any] = {"config": cfg}
    if endpoint_url:
        kwargs["endpoint_url"] = endpoint_url
    return boto3.client("sqs", **kwargs)


class SqsQueue(FanoutQueue):
    """Sends to SQS with boto3. The client is built on first use (never at import) or injected."""

    def __init__(self, queue_url: str, endpoint_url: str = "", client: Any = None, attempts: int = 4):
        self.queue_url = queue_url
        self.endpoint_url = endpoint_url
        self._client = client
        self.attempts = attempts

    @property
    def client(self) -> Any:
        if self._client is None:
            # no botocore retries: send() retries itself with a short backoff, so a request
            # waits ~1 s at most before the client gets a clear 503
            self._client = make_sqs_client(self.endpoint_url, max_attempts=1)
        return self._client

    def send(self, messages: Sequence[FanoutMessage]) -> None:
        pending = [(str(i), m.to_json()) for i, m in enumerate(messages)]
        for start in range(0, len(pending), 10):
            batch = pending[start:start + 10]
            delay = 0.05
            for attempt in range(self.attempts):
                try:
                    resp = self.client.send_message_batch(
                        QueueUrl=self.queue_url,
                        Entries=[{"Id": i, "MessageBody": b} for i, b in batch],
                    )
                except Exception as exc:  # endpoint down, throttled: back off, then give up
                    err: Exception | None = exc
                    failed_ids = {i for i, _ in batch}
                else:
                    err = None
                    failed_ids = {f["Id"] for f in resp.get("Failed", [])}
                batch = [(i, b) for i, b in batch if i in failed_ids]
                if not batch:
                    break
                if attempt + 1 < self.attempts:
                    time.sleep(delay)
                    delay *= 4
            if batch:
                raise ServiceUnavailable(
                    f"the fan-out queue did not accept the message(s): {err or 'rejected'}; retry the request"
                )
