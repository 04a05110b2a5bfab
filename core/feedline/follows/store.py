"""The follow store contract: follow edges in both directions, with the follow time.

Bound to every backend by ``tests/contract/follow_store_contract.py``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Follow:
    source: str
    target: str
    created_us: int


class FollowStore(ABC):
    @abstractmethod
    def add_follow(self, source: str, target: str, created_us: int) -> bool:
        """Record ``source`` follows ``target``; False (and no change) if it already does."""

    @abstractmethod
    def remove_follow(self, source: str, target: str) -> bool:
        """Forget the follow; False if there was none."""

    @abstractmethod
    def list_followers(self, feed: str, limit: int, offset: int = 0,
                       only: Iterable[str] = ()) -> list[Follow]:
        """Who follows ``feed``, newest follow first; ``only`` restricts to those sources."""

    @abstractmethod
    def list_following(self, feed: str, limit: int, offset: int = 0,
                       only: Iterable[str] = ()) -> list[Follow]:
        """Whom ``feed`` follows, newest follow first; ``only`` restricts to those targets."""

    @abstractmethod
    def follower_page(self, feed: str, after: str | None, limit: int) -> list[str]:
        """Follower feed ids of ``feed`` in a stable order, after ``after`` (fan-out chunks)."""

    @abstractmethod
    def count_follows(self, feed: str, slugs: Sequence[str] = (), followers: bool = True) -> int:
        """How many follow ``feed`` (or ``feed`` follows), optionally only feeds of ``slugs``."""
