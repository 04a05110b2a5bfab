"""Lambda's execution environments, played in one process.

Lambda runs a function in as many execution environments (containers) as there are concurrent
requests, up to its concurrency limit; each environment handles one event at a time, keeps its
module globals warm between events, and has its own connections. Here an ``Execution`` is one such
environment:

- its own copy of the function's module, loaded under a distinct module name, so the handler's
  state (the ``Api`` object of the Write and Read functions, which holds the request it is
  serving) is never shared with a concurrent event;
- its own ``Runtime`` (settings, storage, service), made the runtime of the invoking thread with
  ``feedline.runtime.scoped`` for the length of the event: its own storage connection (an SQLite
  connection of its own on the WAL file, or a Cassandra session of its own);
- one event at a time: an ``Execution`` is checked out of its function's ``Executions`` pool for
  the event and returned afterwards.

A pool hands out the most recently used idle environment first (a warm start), creates a new one
(a cold start: module import, lazy connection) only when every existing one is busy, and makes the
caller wait when ``size`` are busy. (Deployed, Lambda would answer a throttle instead once the
function's reserved concurrency is used up; a local stack queues the request, which is friendlier
to a developer and changes no answer.) The fan-out queue is shared by every environment, as the
deployed functions share one SQS queue.
"""

from __future__ import annotations

import importlib.util
import threading
import time
import uuid
from collections.abc import Callable
from types import ModuleType
from typing import Any

from feedline import runtime
from feedline.local.template import Function


class LambdaContext:
    """The attributes handlers and powertools read from Lambda's context object."""

    def __init__(self, name: str, timeout_s: int, memory_mb: int = 512, log_stream: str = "local"):
        self.function_name = name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = memory_mb
        self.invoked_function_arn = f"arn:aws:lambda:local:000000000000:function:{name}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{name}"
        self.log_stream_name = log_stream
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def load_handler(fn: Function, module_name: str) -> Callable:
    """Import the function's handler file as a fresh module named ``module_name``."""
    module_file, _, attr = fn.handler.rpartition(".")
    path = fn.code_uri / (module_file.replace(".", "/") + ".py")
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {path}")
    mod: ModuleType = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return getattr(mod, attr)


class Execution:
    """One execution environment of one function (see the module docstring)."""

    def __init__(self, fn: Function, index: int, rt: runtime.Runtime):
        self.function = fn
        self.index = index
        self.runtime = rt
        self.invocations = 0
        self._handler: Callable | None = None

    @property
    def handler(self) -> Callable:
        if self._handler is None:  # the cold start: this environment's own module copy
            self._handler = load_handler(self.function, f"feedline_fn_{self.function.name}_{self.index}")
        return self._handler

    def invoke(self, event: Any) -> Any:
        handler = self.handler
        self.invocations += 1
        token = runtime.scoped(self.runtime)
        try:
            return handler(event, LambdaContext(self.function.name, self.function.timeout,
                                                log_stream=f"local/{self.index}"))
        finally:
            token.var.reset(token)  # nested invocations (write -> sync fan-out) restore the outer one


class Executions:
    """The execution environments of one function: at most ``size`` at once, warm ones first."""

    def __init__(self, fn: Function, size: int, make_runtime: Callable[[], runtime.Runtime]):
        if size < 1:
            raise ValueError("a function needs at least one execution environment")
        self.function = fn
        self.size = size
        self._make_runtime = make_runtime
        self._cond = threading.Condition()
        self._all: list[Execution] = []
        self._idle: list[Execution] = []  # a stack: the most recently used (warmest) on top

    @property
    def started(self) -> int:
        """Environments created so far (cold starts)."""
        return len(self._all)

    def _new(self) -> Execution:
        ex = Execution(self.function, len(self._all), self._make_runtime())
        self._all.append(ex)
        return ex

    def acquire(self) -> Execution:
        with self._cond:
            while True:
                if self._idle:
                    return self._idle.pop()
                if len(self._all) < self.size:
                    return self._new()
                self._cond.wait()

    def release(self, ex: Execution) -> None:
        with self._cond:
            self._idle.append(ex)
            self._cond.notify()

    def invoke(self, event: Any) -> Any:
        ex = self.acquire()
        try:
            return ex.invoke(event)
        finally:
            self.release(ex)

    def first(self) -> Execution:
        """Environment 0 (created if none was yet): what ``LocalStack.handler`` exposes."""
        with self._cond:
            if not self._all:
                self._idle.append(self._new())
            return self._all[0]

    def close(self) -> None:
        """Close each environment's storage connection (the shared queue is the stack's to close)."""
        with self._cond:
            for ex in self._all:
                ex.runtime.stores.close()
