"""Deterministic Stream-shaped activities for benchmarks (5 custom fields, non-ASCII text)."""

from __future__ import annotations

from feedline.activities.model import Activity, build

BASE_US = 1_750_000_000_000_000
VERBS = ("like", "post", "comment", "share", "follow", "mention", "repost", "save")


def payload(i: int, days: int = 10) -> dict:
    return {
        "actor": f"user:{(i * 7919) % 200}",
        "verb": VERBS[i % len(VERBS)],
        "object": f"photo:{i}",
        "target": f"album:{i % 13}",
        "foreign_id": f"post:{i}",
        "time": None,
        "message": f"Julie și încă {i % 15} au apreciat fotografia ta — ☕ “Café au lait” #{i} 日本の旅",
        "popularity": (i * 37) % 1000,
        "tags": ["travel", "café", "日本", f"t{i % 7}"],
        "location": {"lat": 52.3676, "lng": 4.9041, "name": "Amsterdam Centraal"},
        "lang": "ro",
    }


def activities(n: int, days: int = 10) -> list[Activity]:
    """``n`` activities spread over ``days`` days, newest first."""
    step = days * 86_400_000_000 // max(n, 1)
    out = []
    for i in range(n):
        p = payload(i, days)
        p.pop("time")
        out.append(build(p, BASE_US - i * step))
    return out


def page_rows(n: int = 25) -> list[tuple[bytes, bytes, str | None]]:
    """One feed page as storage returns it: ``(key, stored body, origin)`` rows."""
    return [(a.key, a.body, "user:42" if i % 3 else None) for i, a in enumerate(activities(n))]
