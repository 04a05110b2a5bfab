"""The per-cold-start runtime: settings, stores, queue and the concept services, built once.

Lambda keeps a module's globals across warm invocations, so ``get()`` builds the runtime on the
first request (never at import) and returns the same one afterwards. The local runner and tests
``install()`` a runtime of their own (e.g. one whose queue delivers to the Fanout function), or
``scoped()`` one to the running thread/task (the local runner's concurrent executions, each with
its own runtime like a separate Lambda container).
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from feedline.activities.service import ActivityService
from feedline.analytics.service import AnalyticsService
from feedline.collections.service import CollectionService
from feedline.config import Settings
from feedline.enrichment.service import EnrichmentService
from feedline.fanout.queue import EmbeddedQueue, FanoutQueue, SqsQueue
from feedline.feeds.service import FeedService
from feedline.follows.service import FollowService
from feedline.media.service import MediaService
from feedline.og.fetch import Limits
from feedline.og.service import OgService
from feedline.reactions.service import ReactionService
from feedline.realtime import publisher as realtime
from feedline.storage import open_stores
from feedline.stores import Stores
from feedline.users.service import UserService


@dataclass(eq=False)
class Runtime:
    settings: Settings
    stores: Stores
    queue: FanoutQueue
    #: realtime push (None: ``realtime_publisher(settings, stores)`` decides)
    publisher: realtime.Publisher | None = None
    feeds: FeedService = field(init=False)
    activities: ActivityService = field(init=False)
    follows: FollowService = field(init=False)
    reactions: ReactionService = field(init=False)
    users: UserService = field(init=False)
    collections: CollectionService = field(init=False)
    enrichment: EnrichmentService = field(init=False)
    analytics: AnalyticsService = field(init=False)
    media: MediaService = field(init=False)
    og: OgService = field(init=False)

    def __post_init__(self) -> None:
        app = self.settings.app
        if self.publisher is None:
            self.publisher = realtime_publisher(self.settings, self.stores)
        self.feeds = FeedService(app, self.stores, self.publisher)
        self.activities = ActivityService(app, self.stores, self.feeds, self.queue,
                                          inline_fanout=self.settings.inline_fanout)
        self.follows = FollowService(app, self.stores, self.feeds)
        self.reactions = ReactionService(app, self.stores, self.activities)
        self.users = UserService(self.stores)
        self.collections = CollectionService(self.stores)
        self.enrichment = EnrichmentService(self.stores, self.feeds)
        self.analytics = AnalyticsService(self.stores)
        self.media = MediaService(self.stores, app.api_secret)
        self.og = OgService(Limits(allow_private=self.settings.og_allow_private))

    def close(self) -> None:
        self.queue.close()
        self.stores.close()


def default_deliver(runtime_ref: list) -> Callable[[dict], dict]:
    """Embedded delivery straight into the fan-out worker, with SQS batch semantics."""
    from feedline.fanout.handler import handle_sqs_event

    def deliver(event: dict) -> dict:
        return handle_sqs_event(event, runtime_ref[0])

    return deliver


def realtime_publisher(settings: Settings, stores: Stores) -> realtime.Publisher:
    """The process's installed publisher (``feedline dev``'s hub), else API Gateway's management
    API when an endpoint is configured (the deployed write and fan-out functions), else none."""
    found = realtime.installed()
    if found is not None:
        return found
    if settings.realtime_endpoint:
        from feedline.realtime.aws import ApiGatewayPublisher

        return ApiGatewayPublisher(settings.app.app_id, stores.realtime, settings.realtime_endpoint)
    return realtime.NullPublisher()


def build(settings: Settings, *, stores: Stores | None = None, queue: FanoutQueue | None = None,
          publisher: realtime.Publisher | None = None) -> Runtime:
    stores = stores or open_stores(settings)
    ref: list = []
    if queue is None:
        if settings.queue == "sqs":
            queue = SqsQueue(settings.queue_url, settings.sqs_endpoint)
        else:
            queue = EmbeddedQueue(default_deliver(ref), settings.delivery)
    rt = Runtime(settings, stores, queue, publisher)
    ref.append(rt)
    return rt


_lock = threading.Lock()
_current: Runtime | None = None
_scoped: contextvars.ContextVar[Runtime | None] = contextvars.ContextVar("feedline_runtime", default=None)


def scoped(rt: Runtime | None) -> contextvars.Token:
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
                from feedline.secrets import fetch_secret

                _current = build(Settings.from_env(fetch_secret=fetch_secret))
    return _current


def install(rt: Runtime | None) -> None:
    """Use ``rt`` for every later request in this process (None: build from env again)."""
    global _current
    with _lock:
        _current = rt
