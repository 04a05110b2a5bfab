"""Applies fan-out messages to storage. Idempotent: a redelivered message changes nothing."""

from __future__ import annotations

from feedline.fanout.messages import BadMessage, FanoutMessage
from feedline.models import ids
from feedline.storage.base import Storage

#: followers written per storage call
PAGE = 500


def apply(storage: Storage, msg: FanoutMessage) -> int:
    """Apply one message; returns how many feeds it touched."""
    try:
        key = ids.uuid_to_key(msg.activity)
    except ValueError:
        raise BadMessage(f"bad activity id {msg.activity!r}") from None
    if msg.op == "add":
        return _add(storage, key, msg)
    return _remove(storage, key, msg.source)


def _add(storage: Storage, key: bytes, msg: FanoutMessage) -> int:
    # The activity must still exist in its source: a message that arrives after a removal must
    # not resurrect it in the followers.
    if not storage.has_entry(msg.source, key) or not storage.get_activities([key]):
        return 0
    touched = 0
    after = msg.after
    remaining = msg.limit
    while remaining is None or remaining > 0:
        page = PAGE if remaining is None else min(PAGE, remaining)
        followers = storage.follower_page(msg.source, after, page)
        if not followers:
            break
        storage.add_to_feeds(key, followers, msg.source)
        touched += len(followers)
        after = followers[-1]
        if remaining is not None:
            remaining -= len(followers)
        if len(followers) < page:
            break
    # A removal may have raced with this write: if the source lost the activity meanwhile,
    # take back what we wrote (the remove message may already have run).
    if touched and not storage.has_entry(msg.source, key):
        _remove(storage, key, msg.source)
    return touched


def _remove(storage: Storage, key: bytes, source: str) -> int:
    feeds = [feed for feed, origin in storage.feeds_of_activity(key) if origin == source]
    if feeds:
        storage.remove_from_feeds(key, feeds)
    if not storage.feeds_of_activity(key):
        storage.delete_activities([key])
    return len(feeds)
