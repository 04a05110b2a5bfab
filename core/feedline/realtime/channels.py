"""Channel names of feeds: ``/site-{app_id}-feed-{slug}{user_id}`` (stream-js's ``notificationChannel``).

The feed id is written without its ``:`` (``user:1`` -> ``user1``), so a channel name alone may fit
more than one feed (groups ``user`` and ``users``: ``users1`` is ``user:s1`` or ``users:1``).
``feeds_of`` returns every configured feed the name fits: a subscriber must be allowed to read all
of them (``access``), and each feed publishes to its one channel name, so nothing leaks.

``app_id`` is the application's id as stream-js's client knows it (``stream.connect(key, secret,
app_id)``): ``AppConfig.app_id`` (``FEEDLINE_APP_ID``; ``local`` unless configured; docs/api.md §16).
"""

from __future__ import annotations

import re

from feedline.config import AppConfig
from feedline.models.feeds import valid_part

_CHANNEL = re.compile(r"/site-([A-Za-z0-9_]+)-feed-([\w-]+)")


class ChannelError(ValueError):
    """Not a feed channel of this app."""


def channel_of(app_id: str, fid: str) -> str:
    slug, _, uid = fid.partition(":")
    return f"/site-{app_id}-feed-{slug}{uid}"


def feeds_of(app: AppConfig, channel: object) -> list[str]:
    """The configured feeds whose channel is ``channel`` (ChannelError when none, or another app's)."""
    found = _CHANNEL.fullmatch(channel) if isinstance(channel, str) else None
    if found is None:
        raise ChannelError(f"{channel!r} is not a feed channel (/site-{{app_id}}-feed-{{slug}}{{user_id}})")
    app_id, together = found.group(1), found.group(2)
    if app_id != app.app_id:
        raise ChannelError(f"{channel!r} belongs to app {app_id!r}, not to this app ({app.app_id!r})")
    feeds = [f"{slug}:{together[len(slug):]}" for slug in app.groups
             if together.startswith(slug) and valid_part(together[len(slug):])]
    if not feeds:
        raise ChannelError(f"{channel!r} names no feed of a configured feed group")
    return sorted(feeds)
