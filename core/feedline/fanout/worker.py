"""Applies fan-out messages to the stores. Idempotent: a redelivered message changes nothing.

A message without ``limit`` is a *plan*: the worker reads the source's follower ids once, and if
there are more than one chunk's worth it enqueues one chunk message per ``chunk_size`` followers
(``after`` = the last follower of the previous chunk), which separate fan-out invocations write in
parallel. The first chunk is written right away. A message with ``limit`` writes one chunk.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from feedline.fanout.messages import BadMessage, FanoutMessage
from feedline.feeds.service import FeedService
from feedline.models import ids
from feedline.stores import Stores

Enqueue = Callable[[Sequence[FanoutMessage]], None]


class Fanout:
    def __init__(self, stores: Stores, feeds: FeedService, enqueue: Enqueue | None = None, chunk_size: int = 500):
        self.stores = stores
        self.feeds = feeds
        self.enqueue = enqueue
        self.chunk_size = chunk_size

    def apply(self, msg: FanoutMessage) -> int:
        """Apply one message; returns how many feeds it wrote."""
        try:
            key = ids.uuid_to_key(msg.activity)
        except ValueError:
            raise BadMessage(f"bad activity id {msg.activity!r}") from None
        if msg.op == "remove":
            return self._remove(key, msg.source)
        if msg.op == "refresh":
            return self._refresh(key, msg)
        # The activity must still exist in its source: a message that arrives after a removal must
        # not resurrect it in the followers.
        if not self.stores.timelines.has_entry(msg.source, key) or not self.stores.activities.get_activities([key]):
            return 0
        follows, size = self.stores.follows, self.chunk_size
        if msg.limit is not None:
            followers = follows.follower_page(msg.source, msg.after, msg.limit)
        else:
            followers = follows.follower_page(msg.source, msg.after, size)
            if len(followers) == size and self.enqueue is not None:
                self.enqueue(self.plan_chunks(msg, followers[-1]))
            elif len(followers) == size:
                return self.write_all(key, msg.source, msg.after)
        return self._write(key, msg.source, followers)

    def plan_chunks(self, msg: FanoutMessage, after: str) -> list[FanoutMessage]:
        """Chunk messages covering every follower after ``after`` (follower ids only are read)."""
        out: list[FanoutMessage] = []
        while True:
            page = self.stores.follows.follower_page(msg.source, after, self.chunk_size)
            if not page:
                return out
            out.append(FanoutMessage("add", msg.activity, msg.source, after, self.chunk_size))
            if len(page) < self.chunk_size:
                return out
            after = page[-1]

    def write_all(self, key: bytes, source: str, after: str | None) -> int:
        """Every follower from here on, in this invocation (no queue to spread the work)."""
        touched = 0
        while True:
            followers = self.stores.follows.follower_page(source, after, self.chunk_size)
            if not followers:
                return touched
            touched += self._write(key, source, followers)
            if len(followers) < self.chunk_size:
                return touched
            after = followers[-1]

    def _write(self, key: bytes, source: str, followers: list[str]) -> int:
        if not followers:
            return 0
        self.feeds.place(key, followers, source)
        # A removal may have raced with this write: if the source lost the activity meanwhile, take
        # back what we wrote (the remove message may already have run).
        if not self.stores.timelines.has_entry(source, key):
            self._remove(key, source)
        return len(followers)

    def _refresh(self, key: bytes, msg: FanoutMessage) -> int:
        """Rewrite the body copies of an updated activity: one chunk of the feeds holding it (a
        message with ``limit``), or a plan: the first chunk now and a chunk message for each of the
        others (boundaries from the reverse index, feed names only), or all of them without a queue."""
        timelines, size = self.stores.timelines, msg.limit or self.chunk_size
        done, last = timelines.refresh_copies(key, msg.after, size)
        if msg.limit is not None or last is None:
            return done
        if self.enqueue is None:
            while last is not None:
                more, last = timelines.refresh_copies(key, last, size)
                done += more
            return done
        rest = sorted(f for f, _ in timelines.feeds_of_activity(key) if f > last)
        afters = [last] + [rest[i] for i in range(size - 1, len(rest) - 1, size)]
        self.enqueue([FanoutMessage("refresh", msg.activity, msg.source, a, size) for a in afters if rest])
        return done

    def _remove(self, key: bytes, source: str) -> int:
        timelines = self.stores.timelines
        feeds = [feed for feed, origin in timelines.feeds_of_activity(key) if origin == source]
        if feeds:
            self.feeds.take_out(key, feeds)
        if not timelines.feeds_of_activity(key):
            self.stores.activities.delete_activities([key])
        return len(feeds)
