"""A local stand-in for Lambda's SQS event source mapping (``feedline dev --queue sqs``).

It receives batches (``batch_size``, ``visibility_timeout``), hands the fan-out function the real
SQS event shape, deletes the records that succeeded and leaves the reported failures alone: they
reappear after the visibility timeout and, after the queue's ``maxReceiveCount``, SQS moves them to
the dead-letter queue (the redrive policy does that, not this code).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger("feedline.poller")


def lambda_records(messages: list[dict], queue_arn: str, region: str) -> dict:
    return {"Records": [
        {
            "messageId": m["MessageId"],
            "receiptHandle": m["ReceiptHandle"],
            "body": m["Body"],
            "attributes": m.get("Attributes", {}),
            "messageAttributes": m.get("MessageAttributes", {}),
            "md5OfBody": m.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": queue_arn,
            "awsRegion": region,
        }
        for m in messages
    ]}


class SqsPoller:
    def __init__(self, client: Any, queue_url: str, deliver: Callable[[dict], dict | None], *,
                 batch_size: int = 10, visibility_timeout: int = 30, wait_seconds: int = 1):
        self.client = client
        self.queue_url = queue_url
        self.deliver = deliver
        self.batch_size = batch_size
        self.visibility_timeout = visibility_timeout
        self.wait_seconds = wait_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        attrs = client.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]
        self.queue_arn = attrs["QueueArn"]
        self.region = client.meta.region_name

    def poll_once(self) -> tuple[int, int]:
        """One receive + invoke + delete round; returns (received, failed)."""
        resp = self.client.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=self.batch_size, WaitTimeSeconds=self.wait_seconds,
            VisibilityTimeout=self.visibility_timeout, AttributeNames=["All"], MessageAttributeNames=["All"])
        messages = resp.get("Messages", [])
        if not messages:
            return 0, 0
        event = lambda_records(messages, self.queue_arn, self.region)
        try:
            result = self.deliver(event) or {}
            failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        except Exception:  # the invocation failed: nothing is deleted, everything comes back
            log.exception("fan-out invocation failed")
            return len(messages), len(messages)
        done = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                for i, m in enumerate(messages) if m["MessageId"] not in failed]
        if done:
            self.client.delete_message_batch(QueueUrl=self.queue_url, Entries=done)
        return len(messages), len(failed)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="feedline-sqs-poller", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception:  # endpoint down: keep polling, like the event source mapping
                log.warning("SQS poll failed; retrying", exc_info=True)
                self._stop.wait(1.0)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.wait_seconds + 5)


def redrive(client: Any, dlq_url: str, queue_url: str, max_messages: int = 10_000) -> int:
    """Move messages from the dead-letter queue back to the queue; returns how many moved."""
    moved = 0
    while moved < max_messages:
        resp = client.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                      VisibilityTimeout=30, MessageAttributeNames=["All"])
        messages = resp.get("Messages", [])
        if not messages:
            break
        sent = client.send_message_batch(QueueUrl=queue_url, Entries=[
            {"Id": str(i), "MessageBody": m["Body"]} for i, m in enumerate(messages)])
        ok = {e["Id"] for e in sent.get("Successful", [])}
        client.delete_message_batch(QueueUrl=dlq_url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages) if str(i) in ok])
        moved += len(ok)
    return moved
