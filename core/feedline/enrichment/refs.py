"""Where an activity's references are: found once when it is written, stored beside its body.

``find(body)`` (compiled twin ``_refs_c``, reference ``_refs_py``; layout documented there) gives
the blob of byte ranges of the top-level ``SU:``/``SO:``/``SA:``/``SR:`` strings of a canonical
activity. ``for_body`` is what the write path stores: the blob, or ``None`` when the body cannot
carry one (the read path then scans it with the same compiled scanner).
"""

from __future__ import annotations

from feedline._ext import load

_impl = load("feedline.enrichment._refs")

find = _impl.find


def for_body(body: bytes) -> bytes | None:
    """The reference blob to store with ``body`` (None: scan at read time instead)."""
    try:
        return find(body)
    except ValueError:
        return None


def ranges(blob: bytes) -> list[tuple[int, int]]:
    """The ``(start, end)`` byte ranges of a blob (tests, diagnostics)."""
    return [(blob[p] | blob[p + 1] << 8, blob[p + 2] | blob[p + 3] << 8) for p in range(0, len(blob), 4)]


def tokens(body: bytes, blob: bytes | None) -> list[bytes]:
    """The reference tokens of ``body`` (JSON strings, quotes included), in body order."""
    if blob is None:
        blob = find(body)
    return [body[s:e] for s, e in ranges(blob)]


__all__ = ["find", "for_body", "ranges", "tokens"]
