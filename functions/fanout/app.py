"""Fan-out function: SQS batches of fan-out messages, reporting partial batch failures."""

from __future__ import annotations

from feedline import runtime
from feedline.fanout.handler import handle_sqs_event


def lambda_handler(event: dict, context: object = None) -> dict:
    rt = runtime.get()
    return handle_sqs_event(event, rt.storage, context, queue=rt.queue, chunk_size=rt.settings.fanout_chunk_size,
                            app=rt.settings.app)
