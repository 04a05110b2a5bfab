"""Structured logs for the three functions: powertools' Logger, the Lambda context, a correlation id.

Why a bridge instead of a Logger built at import: importing powertools' logging costs ~100+ ms of a
cold start, which the Read function's hot route must not pay for a log line it rarely writes. So
``install(service)`` (once per cold start) puts one small handler on the root logger; the first
record that reaches it builds powertools' Logger, and from then on every standard-library record
(ours under ``feedline.*`` and the libraries': the Cassandra driver, botocore) is rendered as JSON
by powertools' handler and formatter. ``bind`` (once per invocation, ~0.2 µs: one context variable)
records the Lambda context and the correlation id (the HTTP request id, the SQS message id) that
every record of that invocation then carries.
"""

from __future__ import annotations

import contextvars
import logging
from typing import Any

#: (lambda context, correlation id, cold start?) of the invocation running in this thread/task
_current: contextvars.ContextVar[tuple[Any, str | None, bool] | None] = contextvars.ContextVar(
    "feedline_log_context", default=None)


def bind(context: Any, correlation_id: str | None, cold_start: bool = False) -> None:
    _current.set((context, correlation_id, cold_start))


def correlate(correlation_id: str | None) -> None:
    """Change the correlation id of the running invocation (one SQS record of a batch, say)."""
    now = _current.get()
    _current.set((now[0] if now else None, correlation_id, now[2] if now else False))


def context_keys() -> dict[str, Any]:
    """The keys powertools' ``inject_lambda_context`` would add, for the running invocation."""
    now = _current.get()
    if now is None:
        return {}
    context, correlation_id, cold = now
    out: dict[str, Any] = {"correlation_id": correlation_id, "cold_start": cold}
    if context is not None:
        out.update(function_name=getattr(context, "function_name", None),
                   function_memory_size=getattr(context, "memory_limit_in_mb", None),
                   function_arn=getattr(context, "invoked_function_arn", None),
                   function_request_id=getattr(context, "aws_request_id", None))
    return out


class _Bridge(logging.Handler):
    """Root handler: builds powertools' Logger on the first record and renders through it."""

    def __init__(self, service: str):
        super().__init__()
        self.service = service
        self._target: logging.Handler | None = None

    def target(self) -> logging.Handler:
        if self._target is None:
            from aws_lambda_powertools import Logger

            logger = Logger(service=self.service)
            handler = logger.registered_handler
            handler.addFilter(_add_context)
            self.setLevel(logger.log_level)  # POWERTOOLS_LOG_LEVEL, as for every powertools Logger
            self._target = handler
        return self._target

    def emit(self, record: logging.LogRecord) -> None:
        try:
            target = self.target()
        except Exception:  # noqa: BLE001 - logging must never break a request
            self.handleError(record)
            return
        if record.levelno >= self.level and target.filter(record):
            target.emit(record)


def _add_context(record: logging.LogRecord) -> bool:
    for key, value in context_keys().items():
        if not hasattr(record, key):
            setattr(record, key, value)
    return True


_installed: _Bridge | None = None


def install(service: str, level: int = logging.INFO) -> None:
    """Route standard-library records to powertools' JSON handler (idempotent; replaces the root
    handlers Lambda's runtime installs, so a record is printed once)."""
    global _installed
    if _installed is not None:
        return
    root = logging.getLogger()
    for h in list(root.handlers):
        if type(h).__name__ == "LambdaLoggerHandler":
            root.removeHandler(h)
    _installed = _Bridge(service)
    root.addHandler(_installed)
    if root.level > level or root.level == logging.NOTSET:
        root.setLevel(level)
