"""The per-cold-start runtime: settings, storage, queue and service, built once and reused.

Lambda keeps a module's globals across warm invocations, so ``get()`` builds the runtime on the
first request (never at import) and returns the same one afterwards. The local runner and tests
``install()`` a runtime of their own (e.g. one whose queue delivers to the Fanout function).
"""

from __future__ import annotations

import contextvars
import threading
from dataclasses import dataclass, field

from feedline.config import Settings
from feedline.fanout.queue import EmbeddedQueue, FanoutQueue, SqsQueue
from feedline.service import FeedService
from feedline.storage import open_storage
from feedline.storage.base import Storage


@dataclass
class Runtime:
    settings: Settings
    storage: Storage
    queue: FanoutQueue
    service: FeedService = field(init=False)

    def __post_init__(self) -> None:
        self.service = FeedService(self.settings.app, self.storage, self.queue,
                                   inline_fanout=self.settings.inline_fanout)

    def close(self) -> None:
        self.queue.close()
        self.storage.close()


def default_deliver(runtime_ref: list) -> "callable":
    """Embedded delivery straight into the fan-out worker, with SQS batch semantics."""
    from feedline.fanout.handler import handle_sqs_event

    def deliver(event: dict) -> dict:
        rt = runtime_ref[0]
        return handle_sqs_event(event, rt.storage, queue=rt.queue, chunk_size=rt.settings.fanout_chunk_size,
                                app=rt.settings.app)

    return deliver


def build(settings: Settings, *, storage: Storage | None = None, queue: FanoutQueue | None = None) -> Runtime:
    storage = storage or open_storage(settings)
    ref: list = []
    if queue is None:
        if settings.queue == "sqs":
            queue = SqsQueue(settings.queue_url, settings.sqs_endpoint)
        else:
            queue = EmbeddedQueue(default_deliver(ref), settings.delivery)
    rt = Runtime(settings, storage, queue)
    ref.append(rt)
    return rt


_lock = threading.Lock()
_current: Runtime | None = None
_scoped: contextvars.ContextVar["Runtime | None"] = contextvars.ContextVar("feedline_runtime", default=None)


def scoped(rt: "Runtime | None") -> contextvars.Token:
    """Make ``rt`` the runtime of this thread/task (the local runner's execution environments)."""
    return _scoped.set(rt)


def get() -> Runtime:
    global _current
    rt = _scoped.get()
    if rt is not None:
        return rt
    if _current is None:
        with _lock:
            if _current is None:
                _current = build(Settings.from_env())
    return _current


def install(rt: Runtime | None) -> None:
    """Use ``rt`` for every later request in this process (None: build from env again)."""
    global _current
    with _lock:
        _current = rt
