"""``next`` links: written at the edge from the cursors services return (services know no URLs)."""

from __future__ import annotations

from urllib.parse import quote

from feedline.models import ids
from feedline.models.cursors import Cursor, OffsetCursor


def next_link(base: str, cursor: Cursor | OffsetCursor | None) -> str:
    """``base?id_lt=<uuid>&limit=N[&name=value...]`` (``base?limit=N&offset=M[&...]`` for a
    position cursor), or ``""`` when there is no next page."""
    if cursor is None:
        return ""
    if isinstance(cursor, OffsetCursor):
        link = f"{base}?limit={cursor.limit}&offset={cursor.offset}"
    else:
        link = f"{base}?id_lt={ids.key_to_uuid(cursor.before)}&limit={cursor.limit}"
    for name, value in cursor.params:
        link += f"&{name}={quote(value, safe='')}"
    return link


def feed_base(fid: str) -> str:
    slug, _, uid = fid.partition(":")
    return f"/api/v1.0/feed/{slug}/{uid}/"
