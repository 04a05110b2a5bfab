"""What a storage backend provides: one object per role contract, sharing the backend's connection.

The contracts live with the concepts that use them (``activities.store``, ``feeds.store``,
``follows.store``, ``reactions.store``); a backend (``storage.sqlite``, ``storage.cassandra``) implements each in a
module of its own and bundles them here. A new concept adds a field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from feedline.activities.store import ActivityStore
from feedline.analytics.store import EventStore
from feedline.collections.store import CollectionStore
from feedline.feeds.store import MarkStore, TimelineStore
from feedline.follows.store import FollowStore
from feedline.media.store import FileStore
from feedline.reactions.store import ReactionStore
from feedline.realtime.store import SubscriptionStore
from feedline.users.store import UserStore


@dataclass(eq=False)
class Stores:
    activities: ActivityStore
    timelines: TimelineStore
    marks: MarkStore
    follows: FollowStore
    #: realtime connections and subscriptions (the AWS path's push)
    realtime: SubscriptionStore
    reactions: ReactionStore
    users: UserStore
    collections: CollectionStore
    events: EventStore
    #: uploaded files and images (bytes with their record)
    files: FileStore
    #: releases the backend's connections
    closer: Callable[[], None] = field(default=lambda: None, repr=False)

    def close(self) -> None:
        self.closer()
