"""Fan-out function: SQS batches of fan-out messages, reporting partial batch failures."""

from __future__ import annotations

from feedline import runtime
from feedline.fanout.handler import handle_sqs_event


def lambda_handler(event: dict, context: object = None) -> dict:
    return handle_sqs_event(event, runtime.get().storage, context)
