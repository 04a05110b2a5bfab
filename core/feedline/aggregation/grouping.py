"""Grouping of a timeline window into aggregated groups (switch between the compiled twin and the
pure-Python reference; the contract is documented in ``_group_py``).

``aggregate(keys, group_keys, actors, cap) -> list[(group_key, members, activity_count,
actor_count, newest_index, oldest_index)]`` groups a NEWEST FIRST window; ``select`` pages the
result the way Stream pages aggregated feeds: by group id, which is the newest member's id.
"""

from __future__ import annotations

from collections.abc import Sequence

from feedline._ext import load

_impl = load("feedline.aggregation._group")

aggregate = _impl.aggregate


def select(
    groups: Sequence[tuple],
    keys: Sequence[bytes],
    *,
    lt: bytes | None = None,
    lte: bytes | None = None,
    gt: bytes | None = None,
    gte: bytes | None = None,
    offset: int = 0,
    limit: int = 25,
) -> list[tuple]:
    """The page of ``groups`` (as returned by ``aggregate`` over ``keys``) for Stream's cursors.

    A group's id is its newest member's id, so the cursors (``id_lt``/``id_lte``/``id_gt``/
    ``id_gte`` as sort keys, e.g. ``models.cursors.Range`` fields) compare with
    ``keys[newest_index]``; then ``offset`` groups are skipped and at most ``limit`` returned,
    newest first. Pure Python: it only looks at one key per group.
    """
    if offset < 0 or limit < 0:
        raise ValueError("offset and limit must be >= 0")
    out: list[tuple] = []
    skip = offset
    for g in groups:
        k = keys[g[4]]
        if (lt is not None and not k < lt) or (lte is not None and not k <= lte) \
                or (gt is not None and not k > gt) or (gte is not None and not k >= gte):
            continue
        if skip:
            skip -= 1
            continue
        if len(out) >= limit:
            break
        out.append(g)
    return out


__all__ = ["aggregate", "select"]
