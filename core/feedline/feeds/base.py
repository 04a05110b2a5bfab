"""The ``Feed`` interface: what differs between flat, aggregated and notification feeds.

The feed group's type is looked at in one place only, ``factory.feed_kind``; everything else asks
the ``Feed`` what it can do (``followable``, ``fans_out``, ``has_marks``) or has it do its part
(the timeline entry of an activity, a page read).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from feedline.config import FeedGroup
from feedline.feeds.marks import MarkSpec
from feedline.feeds.store import Entry
from feedline.models.cursors import EVERYTHING, Cursor, Match, OffsetCursor, Range
from feedline.stores import Stores


@dataclass(frozen=True, slots=True)
class RankedQuery:
    """The ranking part of a read (``?ranking=``): the method's name, the parsed ``ranking_vars``
    and their raw text (repeated in ``next``), the ``session`` seeding ``rand*``, ``withScoreVars``."""

    method: str
    variables: Mapping[str, Any] = field(default_factory=dict)
    variables_text: str | None = None
    session: str | None = None
    with_vars: bool = False


@dataclass(frozen=True, slots=True)
class ReadQuery:
    """A page read, as typed values (the API layer parses the query string into one)."""

    limit: int = 25
    offset: int = 0
    rng: Range = EVERYTHING
    match: Match | None = None
    mark_seen: MarkSpec = None
    mark_read: MarkSpec = None
    #: also fetch each activity's reference offsets (enriched reads; no extra round trip)
    with_refs: bool = False
    #: a ranked read (flat feeds with ranking methods): paged by ``limit`` + ``offset`` only
    ranked: RankedQuery | None = None


class Page(ABC):
    """A read's result: written from stored bytes by the page twins."""

    cursor: Cursor | OffsetCursor | None

    @abstractmethod
    def assemble(self, next_link: str, duration: str) -> bytes:
        """The whole response body, ``next`` and ``duration`` included."""


class Feed(ABC):
    """One feed group's behaviour (stateless apart from the group's options)."""

    #: may be the target of a follow (and so has followers to fan out to)
    followable = False
    #: activities posted here are copied to its followers
    fans_out = False
    #: has seen/read state (``mark_seen``, ``mark_read``, ``unseen``, ``unread``)
    has_marks = False
    #: an entry needs the activity's body to be written (a group key is rendered from it)
    entry_needs_body = False
    #: may be read ranked (``?ranking=``): flat feeds, when the group has ranking methods
    ranks = False

    def __init__(self, group: FeedGroup):
        self.group = group

    @property
    def kind(self) -> str:
        return self.group.type

    @abstractmethod
    def entry(self, fid: str, key: bytes, body: bytes | None, origin: str | None) -> Entry:
        """The timeline entry of one activity in feed ``fid`` of this group."""

    def entries(self, fids: Sequence[str], key: bytes, body: bytes | None,
                origin: str | None) -> list[tuple[str, Entry]]:
        """``(fid, entry)`` of one activity in each of ``fids`` (feeds of this group): ``entry``
        for each, unless a kind knows a cheaper way to the same entries (a fan-out's chunk)."""
        return [(fid, self.entry(fid, key, body, origin)) for fid in fids]

    @abstractmethod
    def read(self, stores: Stores, fid: str, q: ReadQuery) -> Page:
        """One page of ``fid``, newest first."""
