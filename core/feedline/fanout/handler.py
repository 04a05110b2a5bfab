"""SQS batch handling for the fan-out function, with partial batch failures.

Uses powertools' ``BatchProcessor``: a record that raises is reported in ``batchItemFailures`` and
retried by SQS alone; the others are deleted. A poison message (``BadMessage``) fails every time
and so lands in the dead-letter queue after ``maxReceiveCount``. Every failed record is logged at
ERROR with its message id (the correlation id of its log lines), so a poison message leaves a trace.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from feedline import logs
from feedline.fanout.messages import FanoutMessage
from feedline.fanout.worker import Fanout

if TYPE_CHECKING:
    from feedline.runtime import Runtime

log = logging.getLogger("feedline.fanout")


def handle_sqs_event(event: dict, rt: Runtime, context: Any = None) -> dict:
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    if not event.get("Records"):
        return {"batchItemFailures": []}
    # report every failed record instead of raising when the whole batch fails: same retry
    # semantics for SQS, and the response says which records failed
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    fanout = Fanout(rt.stores, rt.feeds, rt.queue.send, rt.settings.fanout_chunk_size)

    def record_handler(record: Any) -> int:
        logs.correlate(record.message_id)
        try:
            return fanout.apply(FanoutMessage.from_json(record.body))
        except Exception as exc:
            receives = (record.attributes.approximate_receive_count if record.attributes else None)
            log.error("fan-out record failed: %s: %s", type(exc).__name__, exc,
                      extra={"message_id": record.message_id, "receive_count": receives})
            raise

    return dict(process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                         context=context))
