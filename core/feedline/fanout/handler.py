"""SQS batch handling for the fan-out function, with partial batch failures.

Uses powertools' ``BatchProcessor``: a record that raises is reported in ``batchItemFailures`` and
retried by SQS alone; the others are deleted. A poison message (``BadMessage``) fails every time
and so lands in the dead-letter queue after ``maxReceiveCount``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from feedline.fanout import worker
from feedline.fanout.messages import FanoutMessage
from feedline.storage.base import Storage

if TYPE_CHECKING:
    from feedline.config import AppConfig
    from feedline.fanout.queue import FanoutQueue

log = logging.getLogger("feedline.fanout")


def handle_sqs_event(event: dict, storage: Storage, context: object = None, *,
                     queue: "FanoutQueue | None" = None, chunk_size: int = 500,
                     app: "AppConfig | None" = None) -> dict:
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    if not event.get("Records"):
        return {"batchItemFailures": []}
    # report every failed record instead of raising when the whole batch fails: same retry
    # semantics for SQS, and the response says which records failed
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    enqueue = queue.send if queue is not None else None

    def record_handler(record) -> int:
        return worker.apply(storage, FanoutMessage.from_json(record.body), enqueue, chunk_size, app)

    return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                    context=context)
