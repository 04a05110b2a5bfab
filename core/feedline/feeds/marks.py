"""Notification marks: which groups of a notification feed are seen and read.

State per feed: ``seen_all``/``read_all`` watermarks (set by ``mark_*=true``) and per-group
watermarks (set by marking group ids). A group is seen while its newest member is not newer than
its watermark, so a new activity makes it unseen again (Stream-Framework's rule). Marks are applied
*after* the read: the response shows the state before them (``docs/api.md`` §5.3 describes both forms).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import ujson

from feedline.errors import InputException
from feedline.models import ids

#: a parsed ``mark_seen``/``mark_read``: True (all), group ids, or None (nothing to mark)
MarkSpec = bool | list[str] | None


@dataclass
class Marks:
    seen_all: bytes = b""
    read_all: bytes = b""
    seen: dict[str, bytes] = field(default_factory=dict)
    read: dict[str, bytes] = field(default_factory=dict)

    @classmethod
    def decode(cls, blob: bytes | None) -> Marks:
        if not blob:
            return cls()
        d = ujson.loads(blob)
        return cls(bytes.fromhex(d.get("s", "")), bytes.fromhex(d.get("r", "")),
                   {g: bytes.fromhex(k) for g, k in d.get("sg", {}).items()},
                   {g: bytes.fromhex(k) for g, k in d.get("rg", {}).items()})

    def encode(self) -> bytes:
        return ujson.dumps({"s": self.seen_all.hex(), "r": self.read_all.hex(),
                            "sg": {g: k.hex() for g, k in self.seen.items()},
                            "rg": {g: k.hex() for g, k in self.read.items()}}).encode()

    def flags(self, which: str, groups: Sequence[tuple], keys: Sequence[bytes]) -> dict[int, bool]:
        """``{id(group): seen?}`` (``which`` = "seen" or "read"): a group is marked while its newest
        member is not newer than the feed's watermark or its own. One pass over the window's groups
        on every read, so the lookups are hoisted out of the loop."""
        floor, per_group = getattr(self, f"{which}_all"), getattr(self, which)
        return {id(g): keys[g[4]] <= floor or keys[g[4]] <= per_group.get(g[0], b"") for g in groups}

    def apply(self, groups: Sequence[tuple], keys: Sequence[bytes], mark_seen: MarkSpec, mark_read: MarkSpec) -> None:
        """Mark all groups (True) or the named ones, as of the window ``groups`` over ``keys``."""
        newest = keys[0] if keys else b""
        by_id = {ids.key_to_uuid(keys[g[4]]): g for g in groups}
        for which, how in (("seen", mark_seen), ("read", mark_read)):
            if how is None:
                continue
            if how is True:
                setattr(self, f"{which}_all", max(getattr(self, f"{which}_all"), newest))
            elif how:
                per_group = getattr(self, which)
                for gid in how:
                    g = by_id.get(gid)
                    if g is not None:  # unknown group ids are ignored, as Stream does
                        per_group[g[0]] = max(per_group.get(g[0], b""), keys[g[4]])
            # per-group marks below the watermark, or of groups no longer in the window, are dead
            floor = getattr(self, f"{which}_all")
            live = {g[0] for g in groups}
            setattr(self, which, {k: v for k, v in getattr(self, which).items() if v > floor and k in live})


def parse_mark(value: object) -> MarkSpec:
    """``true``/``1``/``current`` = all groups; a comma string or list = those group ids."""
    if value is None or value is False or value == "":
        return None
    if value is True:
        return True
    if isinstance(value, str):
        low = value.strip().lower()
        if low in ("true", "1", "current", "all"):
            return True
        if low in ("false", "0"):
            return None
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise InputException.field("mark_seen", "must be true or a list of group ids")
