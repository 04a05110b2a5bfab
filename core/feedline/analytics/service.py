"""The analytics service: store engagement and impression events; read a user's back."""

from __future__ import annotations

import time
from collections.abc import Callable

from feedline.analytics import model
from feedline.analytics.store import EventRecord
from feedline.stores import Stores

DAY_US = 86_400_000_000
MAX_WINDOW_DAYS = 31
MAX_READ = 1000


def now_us() -> int:
    return time.time_ns() // 1000


class AnalyticsService:
    def __init__(self, stores: Stores, clock: Callable[[], int] = now_us):
        self.stores = stores
        self.clock = clock

    def validate(self, kind: str, body: object) -> list[EventRecord]:
        """The events of a request body (InputException on anything malformed: none is stored)."""
        build = model.engagements if kind == "engagement" else model.impressions
        return build(body, self.clock())

    def track(self, events: list[EventRecord]) -> None:
        if events:
            self.stores.events.add_events(events)

    def user_events(self, user_id: str, since_us: int, until_us: int, limit: int) -> list[EventRecord]:
        """A user's events in ``[since, until)``, newest first; the window is at most
        ``MAX_WINDOW_DAYS`` (a Cassandra read costs a query per day of it)."""
        since_us = max(since_us, until_us - MAX_WINDOW_DAYS * DAY_US)
        return self.stores.events.user_events(user_id, since_us, until_us, min(limit, MAX_READ))
