"""What every Cassandra role store shares: the session, key <-> timeuuid, chunking, origins.

The rules the role stores keep, so that any interrupted or redelivered operation converges:

- ``timeline``, ``activities`` and the ``follows_by_*`` edges are the truth; the other tables
  index them. Writes go index first, truth second; deletes truth first, index second. So an index
  may hold a row its table lost (a crash in between, an origin or foreign_id that changed), never
  miss one, and readers that use an index (own entries, unfollow, foreign ids, follow listings)
  check what they found against the truth. Re-running the operation removes what was left behind.
- A timeline row and its ``timeline_by_origin`` row share the partition key (the feed) and are
  written and deleted together, in one single-partition batch: one mutation, one request.
- Every statement is an idempotent upsert or delete (no counters, no lightweight transactions).
- Multi-partition work runs as concurrent single-partition statements (fan-out: one request per
  feed); only writes to one partition key are ever batched.

Tables and the reasons for them: ``storage/cassandra/migrations`` and ``infra/cassandra/DESIGN.md``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from feedline.models.cursors import Range
from feedline.storage.cassandra.session import CassandraSession

#: values per ``IN ?`` (Amazon Keyspaces allows 100)
IN_CHUNK = 100
#: rows fetched per page when an index is read and checked against its table
SCAN_PAGE = 200
#: follow counts read a whole edge partition: allowed longer than an ordinary request
COUNT_TIMEOUT_S = 10.0
INT32_MAX = 2**31 - 1

def key_uuid(key: bytes) -> uuid.UUID:
    """The ``timeuuid`` of a 16-byte sort key (the same id the API shows)."""
    ts = int.from_bytes(key[:8], "big")
    return uuid.UUID(int=((ts & 0xFFFFFFFF) << 96) | (((ts >> 32) & 0xFFFF) << 80)
                     | ((((ts >> 48) & 0x0FFF) | 0x1000) << 64) | int.from_bytes(key[8:], "big"))


def uuid_key(value: uuid.UUID) -> bytes:
    """The 16-byte sort key of a ``timeuuid``."""
    return value.time.to_bytes(8, "big") + value.bytes[8:]


def chunks(items: Sequence[Any], size: int = IN_CHUNK) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield list(items[i:i + size])


#: the stored origin of an entry that has none (the feed it was written to). Not null: writing a
#: null writes a tombstone. Not '': Amazon Keyspaces refuses empty clustering values. Not a feed
#: id: those always have a ':'.
OWN = "-"


def origin_value(value: str | None) -> str:
    return value or OWN


def from_origin(value: str | None) -> str | None:
    return None if value == OWN or not value else value


class CassandraRole:
    """A role store on the backend's shared session."""

    def __init__(self, session: CassandraSession):
        self.session = session


def range_bounds(rng: Range) -> tuple[str, str, list[bytes]] | None:
    """(upper kind, lower kind, bound values) of a range, or None when it is empty."""
    upper, up_incl = rng.upper()
    lower, low_incl = rng.lower()
    if upper is not None and lower is not None and (
            upper < lower or (upper == lower and not (up_incl and low_incl))):
        return None
    values: list[bytes] = []
    up = low = ""
    if upper is not None:
        up = "lte" if up_incl else "lt"
        values.append(upper)
    if lower is not None:
        low = "gte" if low_incl else "gt"
        values.append(lower)
    return up, low, values
