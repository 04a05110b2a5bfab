"""Fan-out function: SQS batches of fan-out messages, reporting partial batch failures."""

from __future__ import annotations

from feedline import logs, runtime
from feedline.fanout.handler import handle_sqs_event

_started: list = []


def lambda_handler(event: dict, context: object = None) -> dict:
    rt = runtime.get()
    cold = not _started or _started[0] is not rt
    if cold:
        logs.install("feedline-fanout")
        _started[:] = [rt]
    logs.bind(context, None, cold)
    return handle_sqs_event(event, rt, context)
