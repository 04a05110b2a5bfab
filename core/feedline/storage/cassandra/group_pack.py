"""A group's page-ready summary, as stored in its ``groups_by_time`` head row (migration 0011).

One blob per group: what a page shows of it (activity and actor counts, the oldest member's key,
and the newest ``cap`` members with origin, verb and body copy), so a page of 25 groups is one
slice of 25 rows. The layout is by column, so that decoding a group costs a few C-level calls
(one decode and split for all its origins, one for its verbs, one slice per key and per body)
rather than several Python steps per member::

    header   version u8, epoch u64, cap u16, count u32, actors u32, n u16, oldest key (16 bytes),
             origins length u32, verbs length u32
    keys     n × 16 bytes, newest first
    lengths  n × u32: the bodies
    origins  UTF-8, "\\n"-separated, "" for none (feed ids never hold a newline or are empty)
    verbs    the same
    bodies   concatenated

Only this backend reads what it wrote; a blob it cannot read (another version, truncated) makes
``unpack`` raise ``ValueError`` and the group is rebuilt from its members. ``pack`` raises
``ValueError`` for a group it cannot represent (a text holding a newline): it is then served
without being stored.
"""

from __future__ import annotations

import struct
from itertools import accumulate

VERSION = 1
_HEAD = struct.Struct("<BQHIIH16sII")
KEY = 16


class Summary:
    """A decoded group: ``keys``/``origins``/``verbs``/``bodies`` of its newest ``cap`` members."""

    __slots__ = ("epoch", "cap", "count", "actors", "oldest", "keys", "origins", "verbs", "bodies")

    def __init__(self, epoch: int, cap: int, count: int, actors: int, oldest: bytes, keys: list[bytes],
                 origins: list[str | None], verbs: list[str | None], bodies: list[bytes]):
        self.epoch, self.cap, self.count, self.actors, self.oldest = epoch, cap, count, actors, oldest
        self.keys, self.origins, self.verbs, self.bodies = keys, origins, verbs, bodies


def _texts(values: list[str | None]) -> bytes:
    if any(v is not None and ("\n" in v or v == "") for v in values):
        raise ValueError("group summary: a text it cannot hold")
    return "\n".join(v or "" for v in values).encode()


def pack(s: Summary) -> bytes:
    """The blob of a group summary."""
    n = len(s.keys)
    if (n > s.cap or s.cap > 0xFFFF or len(s.oldest) != KEY or not 0 <= s.epoch < 1 << 64
            or not len(s.origins) == len(s.verbs) == len(s.bodies) == n or any(len(k) != KEY for k in s.keys)):
        raise ValueError("group summary: bad shape")
    origins, verbs = _texts(s.origins), _texts(s.verbs)
    return b"".join([_HEAD.pack(VERSION, s.epoch, s.cap, s.count, s.actors, n, s.oldest, len(origins), len(verbs)),
                     *s.keys, struct.pack(f"<{n}I", *map(len, s.bodies)), origins, verbs, *s.bodies])


def unpack(blob: bytes) -> Summary:
    """The summary in ``blob`` (``ValueError`` when it is not one this version wrote)."""
    try:
        version, epoch, cap, count, actors, n, oldest, olen, vlen = _HEAD.unpack_from(blob)
        if version != VERSION:
            raise ValueError("group summary: unknown version")
        at = _HEAD.size
        keys = [blob[i:i + KEY] for i in range(at, at + KEY * n, KEY)]
        at += KEY * n
        lengths = struct.unpack_from(f"<{n}I", blob, at)
    except struct.error as e:
        raise ValueError(f"group summary: {e}") from None
    at += 4 * n
    texts = blob[at:at + olen].decode(), blob[at + olen:at + olen + vlen].decode()
    origins: list[str | None] = [o or None for o in texts[0].split("\n")] if n else []
    verbs: list[str | None] = [v or None for v in texts[1].split("\n")] if n else []
    ends = list(accumulate(lengths, initial=at + olen + vlen))
    bodies = [blob[a:b] for a, b in zip(ends, ends[1:])]
    if ends[-1] != len(blob) or n > cap or len(keys) != n or len(origins) != n or len(verbs) != n:
        raise ValueError("group summary: bad length")
    return Summary(epoch, cap, count, actors, oldest, keys, origins, verbs, bodies)
