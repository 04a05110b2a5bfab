"""Grouping of a timeline window into aggregated groups: pure-Python reference twin of ``_group_c``.

Read-time aggregation (docs/api.md §2.4, §5.3): each timeline entry of an aggregated/notification feed
stores the ``group`` key rendered at write time and the activity's actor; a read groups a window
of entries by key.

``aggregate(keys, group_keys, actors, cap)``, all three lists parallel, one entry per index:

- ``keys``: sort keys (bytes, normally the 16-byte keys of ``models.ids``) whose byte order is time
  order. The window is expected NEWEST FIRST (strictly descending keys); if it is not, entries are
  taken in descending key order anyway (ties, which the contract excludes, keep input order).
- ``group_keys``: the rendered group key of each entry; ``actors``: its actor.
- ``cap`` (>= 1): activities kept per group (Stream-Framework keeps 15).

Returns one tuple per group, ordered by the group's newest member, newest first::

    (group_key, members, activity_count, actor_count, newest_index, oldest_index)

``members`` are input indices, newest first, at most ``cap``; ``activity_count`` counts every
member and ``actor_count`` the distinct actors of every member (also those beyond ``cap``);
``newest_index``/``oldest_index`` are the indices of the group's newest and oldest member (the
oldest may lie beyond ``cap``). Indices refer to the input lists, so the caller looks bodies,
verbs, ids and times up by index.

Raises ValueError for lists of different lengths or ``cap < 1``.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import gt


def _check(keys: Sequence, group_keys: Sequence, actors: Sequence, cap: int) -> None:
    if not len(keys) == len(group_keys) == len(actors):
        raise ValueError("keys, group_keys and actors must have the same length")
    if cap < 1:
        raise ValueError("cap must be at least 1")


def aggregate(
    keys: Sequence[bytes], group_keys: Sequence[str], actors: Sequence[str], cap: int
) -> list[tuple]:
    _check(keys, group_keys, actors, cap)
    n = len(keys)
    if all(map(gt, keys, keys[1:])):
        order: Sequence[int] = range(n)
    else:
        # stable: equal keys (excluded by contract) keep their input order, as in the C twin
        order = sorted(range(n), key=keys.__getitem__, reverse=True)

    # group key -> [key, members, count, actors, newest, oldest]; `out` keeps first-seen order
    groups: dict = {}
    out: list[list] = []
    for i in order:
        gk = group_keys[i]
        g = groups.get(gk)
        if g is None:
            g = [gk, [i], 1, {actors[i]}, i, i]
            groups[gk] = g
            out.append(g)
        else:
            if g[2] < cap:
                g[1].append(i)
            g[2] += 1
            g[3].add(actors[i])
            g[5] = i
    return [(g[0], g[1], g[2], len(g[3]), g[4], g[5]) for g in out]
