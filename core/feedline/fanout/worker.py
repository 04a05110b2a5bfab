"""Applies fan-out messages to storage. Idempotent: a redelivered message changes nothing.

A message without ``limit`` is a *plan*: the worker reads the source's follower ids once, and if
there are more than one chunk's worth it enqueues one chunk message per ``chunk_size`` followers
(``after`` = the last follower of the previous chunk), which separate fan-out invocations write in
parallel. The first chunk is written right away. A message with ``limit`` writes one chunk.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from typing import TYPE_CHECKING

from feedline.fanout.messages import BadMessage, FanoutMessage
from feedline.models import ids
from feedline.storage.base import Storage

if TYPE_CHECKING:
    from feedline.config import AppConfig

Enqueue = Callable[[Sequence[FanoutMessage]], None]


def apply(storage: Storage, msg: FanoutMessage, enqueue: Enqueue | None = None, chunk_size: int = 500,
          app: "AppConfig | None" = None) -> int:
    """Apply one message; returns how many feeds it wrote.

    ``app`` tells follower feeds of aggregated/notification groups apart (they get group entries);
    without it every follower is written as a flat feed.
    """
    try:
        key = ids.uuid_to_key(msg.activity)
    except ValueError:
        raise BadMessage(f"bad activity id {msg.activity!r}") from None
    if msg.op == "remove":
        return _remove(storage, key, msg.source)
    # The activity must still exist in its source: a message that arrives after a removal must
    # not resurrect it in the followers.
    if not storage.has_entry(msg.source, key) or not storage.get_activities([key]):
        return 0
    if msg.limit is not None:
        followers = storage.follower_page(msg.source, msg.after, msg.limit)
    else:
        followers = storage.follower_page(msg.source, msg.after, chunk_size)
        if len(followers) == chunk_size and enqueue is not None:
            enqueue(plan_chunks(storage, msg, followers[-1], chunk_size))
        elif len(followers) == chunk_size:
            return write_all(storage, key, msg.source, msg.after, chunk_size, app)
    return _write(storage, key, msg.source, followers, app)


def plan_chunks(storage: Storage, msg: FanoutMessage, after: str, chunk_size: int) -> list[FanoutMessage]:
    """Chunk messages covering every follower after ``after`` (follower ids only are read)."""
    out = []
    while True:
        page = storage.follower_page(msg.source, after, chunk_size)
        if not page:
            return out
        out.append(FanoutMessage("add", msg.activity, msg.source, after, chunk_size))
        if len(page) < chunk_size:
            return out
        after = page[-1]


def write_all(storage: Storage, key: bytes, source: str, after: str | None, page: int,
              app: "AppConfig | None" = None) -> int:
    """Every follower from here on, in this invocation (no queue to spread the work)."""
    touched = 0
    while True:
        followers = storage.follower_page(source, after, page)
        if not followers:
            return touched
        touched += _write(storage, key, source, followers, app)
        if len(followers) < page:
            return touched
        after = followers[-1]


def _write(storage: Storage, key: bytes, source: str, followers: list[str], app: "AppConfig | None") -> int:
    if not followers:
        return 0
    from feedline.aggregation.feeds import place

    place(storage, app, key, followers, source)
    # A removal may have raced with this write: if the source lost the activity meanwhile, take
    # back what we wrote (the remove message may already have run).
    if not storage.has_entry(source, key):
        _remove(storage, key, source)
    return len(followers)


def _remove(storage: Storage, key: bytes, source: str) -> int:
    feeds = [feed for feed, origin in storage.feeds_of_activity(key) if origin == source]
    if feeds:
        storage.remove_from_feeds(key, feeds)
    if not storage.feeds_of_activity(key):
        storage.delete_activities([key])
    return len(feeds)
