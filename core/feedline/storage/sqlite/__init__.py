"""The embedded default backend: one SQLite file, stdlib only, durable across restarts.

One module per role contract (``activities``, ``timelines`` with marks, ``follows``, ``reactions``,
``users``, ``collections``, ``events``), all on one shared connection (``db.SQLiteDB``); ``open_stores``
bundles them.
"""

from __future__ import annotations

from pathlib import Path

from feedline.storage.sqlite.activities import SQLiteActivities
from feedline.storage.sqlite.collections import SQLiteCollections
from feedline.storage.sqlite.db import SQLiteDB
from feedline.storage.sqlite.events import SQLiteEvents
from feedline.storage.sqlite.files import SQLiteFiles
from feedline.storage.sqlite.follows import SQLiteFollows
from feedline.storage.sqlite.reactions import SQLiteReactions
from feedline.storage.sqlite.realtime import SQLiteSubscriptions
from feedline.storage.sqlite.timelines import SQLiteMarks, SQLiteTimelines
from feedline.storage.sqlite.users import SQLiteUsers
from feedline.stores import Stores


def open_stores(path: str | Path = ":memory:") -> Stores:
    """Every role store on one file; nothing is opened until the first query."""
    db = SQLiteDB(path)
    activities = SQLiteActivities(db)
    return Stores(activities=activities, timelines=SQLiteTimelines(db, activities), marks=SQLiteMarks(db),
                  follows=SQLiteFollows(db), reactions=SQLiteReactions(db), users=SQLiteUsers(db),
                  collections=SQLiteCollections(db), events=SQLiteEvents(db), realtime=SQLiteSubscriptions(db),
                  files=SQLiteFiles(db),
                  closer=db.close)


__all__ = ["SQLiteDB", "open_stores"]
