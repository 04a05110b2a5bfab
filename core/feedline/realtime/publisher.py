"""The ``Publisher``: how the feeds service tells subscribers about placed and removed activities.

``FeedService`` calls it on every write into a feed and every removal from one (directly, through
``to``, through fan-out chunks, delete-everywhere), so no write path needs to know about realtime.
It asks ``watched`` first (one look-up for all the feeds of a write): only feeds somebody is
subscribed to cost a body look-up and a message build. Publishing is best effort: a failure is
logged, never raised into the write that already succeeded.

Which publisher a runtime uses: the one ``install``-ed in this process (``feedline dev``'s hub),
else API Gateway's management API when ``FEEDLINE_REALTIME_ENDPOINT`` is set (``realtime.aws``),
else ``NullPublisher``.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence

from feedline.realtime.messages import FeedChange


class Publisher(ABC):
    #: False: nothing is ever watched (the feeds service skips all realtime work)
    active = True

    @abstractmethod
    def watched(self, feeds: Sequence[str]) -> set[str]:
        """The feeds among ``feeds`` that have at least one subscriber."""

    @abstractmethod
    def publish(self, changes: Sequence[FeedChange]) -> None:
        """Send each change to every subscriber of its feed (one message build per change)."""


class NullPublisher(Publisher):
    """Realtime off."""

    active = False

    def watched(self, feeds: Sequence[str]) -> set[str]:
        return set()

    def publish(self, changes: Sequence[FeedChange]) -> None:
        return None


_lock = threading.Lock()
_installed: Publisher | None = None


def install(publisher: Publisher | None) -> None:
    """Make ``publisher`` the one every runtime built afterwards in this process uses (None: unset)."""
    global _installed
    with _lock:
        _installed = publisher


def installed() -> Publisher | None:
    return _installed
