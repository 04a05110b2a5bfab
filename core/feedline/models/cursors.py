"""Read cursors and filters shared by the API layer, the services and the stores.

Keys are the 16-byte sort keys of ``models.ids`` (byte order = time order), so a cursor is a
bound on keys, never a decoded uuid.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Range:
    """Cursor filters of a read (``id_lt``, ``id_lte``, ``id_gt``, ``id_gte``) as keys."""

    lt: bytes | None = None
    lte: bytes | None = None
    gt: bytes | None = None
    gte: bytes | None = None

    def upper(self) -> tuple[bytes | None, bool]:
        """The tightest upper bound and whether it is inclusive."""
        if self.lt is not None and (self.lte is None or self.lt <= self.lte):
            return self.lt, False
        return self.lte, True

    def lower(self) -> tuple[bytes | None, bool]:
        if self.gt is not None and (self.gte is None or self.gt >= self.gte):
            return self.gt, False
        return self.gte, True

    @property
    def unbounded(self) -> bool:
        return self.lt is None and self.lte is None and self.gt is None and self.gte is None


EVERYTHING = Range()


@dataclass(frozen=True, slots=True)
class Match:
    """Read-time filter on activity fields (a Feedline extension: ``?verb=`` / ``?actor=``)."""

    verb: str | None = None
    actor: str | None = None

    def accepts(self, verb: str, actor: str) -> bool:
        return (self.verb is None or verb == self.verb) and (self.actor is None or actor == self.actor)


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where the next page of a read starts: the API layer turns it into a ``next`` link.

    ``before`` is the key the next page reads below (``id_lt``); ``params`` are the query
    parameters a next page keeps (a filter, say), in order.
    """

    before: bytes
    limit: int
    params: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class OffsetCursor:
    """The next page of a read paged by position (a ranked read: scores have no id order).

    ``offset`` is where the next page starts; ``params`` are the query parameters it keeps
    (the ranking method and its variables), in order.
    """

    offset: int
    limit: int
    params: tuple[tuple[str, str], ...] = ()
