"""The one place a feed group's type is looked at: group -> ``Feed`` implementation."""

from __future__ import annotations

from feedline.config import AGGREGATED, FLAT, NOTIFICATION, AppConfig, FeedGroup
from feedline.errors import FeedConfigException
from feedline.feeds.base import Feed
from feedline.feeds.flat import FlatFeed
from feedline.feeds.grouped import AggregatedFeed, NotificationFeed
from feedline.feeds.ranked import Rankings

_KINDS: dict[str, type[Feed]] = {FLAT: FlatFeed, AGGREGATED: AggregatedFeed, NOTIFICATION: NotificationFeed}


def feed_kind(group: FeedGroup, rankings: Rankings | None = None) -> Feed:
    """The group's ``Feed``; flat feeds get the app's compiled ranking methods (``rankings``)."""
    if group.type == FLAT:
        return FlatFeed(group, rankings)
    return _KINDS[group.type](group)


def check_formats(app: AppConfig) -> None:
    """Compile every aggregation format once: an invalid one is a start-up error naming its group,
    not a 400 on some later write. (Imports jinja2, so only the write side and the local runner
    call it.)"""
    from feedline.aggregation.template import compile_format

    for g in app.groups.values():
        if feed_kind(g).entry_needs_body:
            try:
                compile_format(g.aggregation_format)
            except FeedConfigException as exc:
                raise FeedConfigException(f"feed group {g.name!r}: {exc.detail}") from None
