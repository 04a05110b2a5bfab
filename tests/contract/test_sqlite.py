"""The store contracts bound to the embedded SQLite backend."""

from __future__ import annotations

import pytest

from feedline.storage.sqlite import open_stores

from .activity_store_contract import ActivityStoreContract
from .collection_store_contract import CollectionStoreContract
from .event_store_contract import EventStoreContract
from .file_store_contract import FileStoreContract
from .follow_store_contract import FollowStoreContract
from .mark_store_contract import MarkStoreContract
from .reaction_store_contract import ReactionEnrichmentContract, ReactionStoreContract
from .realtime_store_contract import RealtimeStoreContract
from .timeline_store_contract import TimelineRefsContract, TimelineStoreContract
from .user_store_contract import UserStoreContract


@pytest.fixture
def store(tmp_path):
    s = open_stores(tmp_path / "contract.db")
    yield s
    s.close()


@pytest.fixture
def sibling(tmp_path):
    """Another connection to the same file (another process, another Lambda container)."""
    return lambda: open_stores(tmp_path / "contract.db")


@pytest.fixture
def reopen(tmp_path):
    def _reopen(store):
        store.close()
        return open_stores(tmp_path / "contract.db")
    return _reopen


class TestSQLiteActivities(ActivityStoreContract):
    pass


class TestSQLiteTimelines(TimelineStoreContract):
    pass


class TestSQLiteMarks(MarkStoreContract):
    pass


class TestSQLiteFollows(FollowStoreContract):
    pass


class TestSQLiteRealtime(RealtimeStoreContract):
    pass


class TestSQLiteReactions(ReactionStoreContract):
    pass


class TestSQLiteUsers(UserStoreContract):
    pass


class TestSQLiteCollections(CollectionStoreContract):
    pass


class TestSQLiteEvents(EventStoreContract):
    pass


class TestSQLiteReactionEnrichment(ReactionEnrichmentContract):
    pass


class TestSQLiteTimelineRefs(TimelineRefsContract):
    pass


class TestSQLiteFiles(FileStoreContract):
    pass
