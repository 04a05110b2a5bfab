"""Enriched pages from stored bytes: pure-Python reference twin of ``_enrich_c``.

Nothing here decodes an activity. Each activity's references were located when it was written
(``refs``: the half-open byte ranges of its top-level reference strings, quotes included); a read
replaces each range by the resolved object's stored JSON and appends the reaction members.

``enrich_page(bodies, refs, origins, resolved, tails, next_url, duration)`` writes a flat page::

    {"results":[<body with each reference replaced>,"origin":<origin><tail>},...],
     "next":<next_url>,"duration":<duration>}

- ``bodies``: stored activity bodies (bytes ending in ``}``);
- ``refs``: per body its reference blob (``refs.find``), or ``None`` for a row stored before refs
  existed (the body is scanned here, by the same twin's scanner);
- ``origins``: per body its encoded origin (``b'null'`` / ``b'"user:1"'``);
- ``resolved``: ``{reference token (quotes included, as stored): JSON bytes}``; a token that is
  not in it stays as it is (not a reference the caller resolves);
- ``tails``: ``None``, or per body bytes appended after the origin (``reaction_tails``).

``enrich_bodies(bodies, refs, resolved, tails)`` gives the enriched bodies one by one (for the
aggregated page, which splices them with ``aggregation.page``): as above, without the origin.

``reaction_tails(activity_ids, kinds, counts, rows, users, with_counts, with_latest, with_own,
next_prefix, next_suffix)`` writes each activity's reaction members (one ``bytes`` per entry of
``activity_ids``, to pass as ``tails``) from what the reaction store returns for the page:

- ``kinds``: the kinds to show, in output order (others are ignored: ``reactionKindsFilter``);
- ``counts``: ``(activity_id, kind, n)`` rows; a kind with 0 is left out of ``reaction_counts``;
- ``rows``: ``(activity_id, kind, slot, reaction_id, user_id, body, members)`` rows, slot 0 for
  ``latest_reactions`` and 1 for ``own_reactions``, newest first within each (activity, kind,
  slot); a reaction is ``body`` minus its closing brace, ``members`` (each with its leading comma,
  may be empty), ``,"user":``, ``users[user_id]``, ``}``;
- ``latest_reactions_extra``: per kind shown, ``{"next": url}`` with ``url`` = ``next_prefix +
  activity_id + "/" + kind + "/?id_lt=" + <id of the oldest reaction shown> + next_suffix`` when
  the kind's count is larger than what is shown, else ``""``.

Output members in the order ``latest_reactions``, ``latest_reactions_extra``, ``own_reactions``,
``reaction_counts``; a kind without entries is left out, so an empty map is ``{}``.

Strictness (both twins alike, checked in this order): list lengths (ValueError), then per
activity its body (TypeError unless bytes; ValueError unless it ends in ``}``), origin and tail
(TypeError unless bytes), the reference ranges (ValueError unless increasing, inside the body
and quoted), each resolved value found (TypeError unless bytes); for ``reaction_tails`` the
input types (TypeError), slots (ValueError) and users (KeyError for a user id not in ``users``),
row by row in input order.
"""

from __future__ import annotations

from collections.abc import Sequence

from feedline.enrichment._refs_py import find
from feedline.serialization._activity_py import json_bytes


def _ranges(body: bytes, blob: bytes | None) -> list[tuple[int, int]]:
    if blob is None:
        blob = find(body)
    elif type(blob) is not bytes:
        raise TypeError("refs must be bytes or None")
    if len(blob) % 4:
        raise ValueError("refs blob length is not a multiple of 4")
    out = []
    prev = 0
    last = len(body) - 1
    for p in range(0, len(blob), 4):
        s = blob[p] | blob[p + 1] << 8
        e = blob[p + 2] | blob[p + 3] << 8
        if s < prev or e - s < 2 or e > last or body[s] != 0x22 or body[e - 1] != 0x22:
            raise ValueError(f"bad reference range {s}..{e}")
        out.append((s, e))
        prev = e
    return out


def _check_body(body: object) -> bytes:
    if type(body) is not bytes:
        raise TypeError("bodies must be bytes")
    if not body or body[-1] != 0x7D:
        raise ValueError("a body must be a JSON object")
    return body


def _splice(body: bytes, blob: bytes | None, resolved: dict) -> list:
    parts: list = []
    pos = 0
    for s, e in _ranges(body, blob):
        value = resolved.get(body[s:e])
        if value is None:
            continue
        if type(value) is not bytes:
            raise TypeError("resolved values must be bytes")
        parts.append(body[pos:s])
        parts.append(value)
        pos = e
    parts.append(body[pos:-1])
    return parts


def _lengths(n: int, *columns: Sequence | None) -> None:
    for col in columns:
        if col is not None and len(col) != n:
            raise ValueError("every per-activity list needs one entry per body")


def _check_bytes(value: object, what: str) -> bytes:
    if type(value) is not bytes:
        raise TypeError(f"{what} must be bytes")
    return value


def enrich_bodies(bodies: Sequence[bytes], refs: Sequence[bytes | None], resolved: dict,
                  tails: Sequence[bytes] | None) -> list[bytes]:
    if type(resolved) is not dict:
        raise TypeError("resolved must be a dict")
    _lengths(len(bodies), refs, tails)
    out = []
    for i, body in enumerate(bodies):
        body = _check_body(body)
        tail = b"" if tails is None else _check_bytes(tails[i], "tails")
        parts = _splice(body, refs[i], resolved)
        parts.append(tail)
        parts.append(b"}")
        out.append(b"".join(parts))
    return out


def enrich_page(bodies: Sequence[bytes], refs: Sequence[bytes | None], origins: Sequence[bytes],
                resolved: dict, tails: Sequence[bytes] | None, next_url: str, duration: str) -> bytes:
    if type(resolved) is not dict:
        raise TypeError("resolved must be a dict")
    _lengths(len(bodies), refs, origins, tails)
    out = [b'{"results":[']
    for i, body in enumerate(bodies):
        body = _check_body(body)
        origin = _check_bytes(origins[i], "origins")
        tail = b"" if tails is None else _check_bytes(tails[i], "tails")
        if i:
            out.append(b",")
        out += _splice(body, refs[i], resolved)
        out += (b',"origin":', origin, tail, b"}")
    out.append(b'],"next":' + json_bytes(next_url) + b',"duration":' + json_bytes(duration) + b"}")
    return b"".join(out)


def page_tokens(bodies: Sequence[bytes], refs: Sequence[bytes | None]) -> list[bytes]:
    """The distinct reference tokens of a page, in first-seen order (what to look up)."""
    if len(refs) != len(bodies):
        raise ValueError("every per-activity list needs one entry per body")
    seen: dict[bytes, None] = {}
    for i, body in enumerate(bodies):
        body = _check_body(body)
        for s, e in _ranges(body, refs[i]):
            seen[body[s:e]] = None
    return list(seen)


def _check_str(value: object, what: str) -> str:
    if type(value) is not str:
        raise TypeError(f"{what} must be str")
    return value


def _count_cells(counts: Sequence[tuple], aidx: dict, kidx: dict, k: int) -> list:
    count = [0] * (len(aidx) * k)
    for row in counts:
        if type(row) is not tuple or len(row) != 3:
            raise TypeError("count rows must be (activity_id, kind, n) tuples")
        a, kind, c = row
        if type(c) is not int:
            raise TypeError("counts must be ints")
        i, j = aidx.get(_check_str(a, "activity ids")), kidx.get(_check_str(kind, "kinds"))
        if i is not None and j is not None:
            count[i * k + j] = c
    return count


def _row_reaction(row: object, users: dict) -> tuple[str, str, int, str, bytes]:
    """``(activity_id, kind, slot, id, reaction bytes)`` of one checked row."""
    if type(row) is not tuple or len(row) != 7:
        raise TypeError("reaction rows must be (activity_id, kind, slot, id, user_id, body, members) tuples")
    a, kind, slot, rid, uid, body, members = row
    _check_str(a, "activity ids")
    _check_str(kind, "kinds")
    _check_str(rid, "reaction ids")
    if type(slot) is not int:
        raise TypeError("slot must be an int")
    if type(body) is not bytes or type(members) is not bytes:
        raise TypeError("reaction bodies and members must be bytes")
    if not body or body[-1] != 0x7D:
        raise ValueError("a reaction body must be a JSON object")
    user = users[_check_str(uid, "user ids")]
    if type(user) is not bytes:
        raise TypeError("users must map to bytes")
    return a, kind, slot, rid, body[:-1] + members + b',"user":' + user + b"}"


def _lists(name: bytes, kjson: list[bytes], cells: list[list[bytes]], base: int) -> bytes:
    return name + b",".join(kj + b":[" + b",".join(cells[base + j]) + b"]"
                            for j, kj in enumerate(kjson) if cells[base + j]) + b"}"


def reaction_tails(activity_ids: Sequence[str], kinds: Sequence[str], counts: Sequence[tuple],
                   rows: Sequence[tuple], users: dict, with_counts: bool, with_latest: bool, with_own: bool,
                   next_prefix: str, next_suffix: str) -> list[bytes]:
    """Each activity's reaction members from the rows the reaction store returns for a page."""
    if type(users) is not dict:
        raise TypeError("users must be a dict")
    aidx: dict[str, int] = {}
    for a in activity_ids:
        aidx.setdefault(_check_str(a, "activity ids"), len(aidx))
    kidx = {_check_str(kd, "kinds"): j for j, kd in enumerate(kinds)}
    kjson = [json_bytes(kd) for kd in kinds]
    k = len(kinds)
    cells = len(aidx) * k
    count = _count_cells(counts, aidx, kidx, k)
    latest: list[list[bytes]] = [[] for _ in range(cells)]
    last_id = [""] * cells
    own: list[list[bytes]] = [[] for _ in range(cells)]
    for row in rows:
        a, kind, slot, rid, reaction = _row_reaction(row, users)
        i, j = aidx.get(a), kidx.get(kind)
        if i is None or j is None:
            continue
        cell = i * k + j
        if slot == 0:
            latest[cell].append(reaction)
            last_id[cell] = rid
        elif slot == 1:
            own[cell].append(reaction)
        else:
            raise ValueError("slot must be 0 (latest) or 1 (own)")
    tails = []
    for i, aid in enumerate(aidx):
        parts: list[bytes] = []
        base = i * k
        if with_latest:
            parts.append(_lists(b',"latest_reactions":{', kjson, latest, base))
            links = []
            for j in range(k):
                if latest[base + j]:
                    more = count[base + j] > len(latest[base + j])
                    url = next_prefix + aid + "/" + kinds[j] + "/?id_lt=" + last_id[base + j] + next_suffix if more else ""
                    links.append(kjson[j] + b':{"next":' + json_bytes(url) + b"}")
            parts.append(b',"latest_reactions_extra":{' + b",".join(links) + b"}")
        if with_own:
            parts.append(_lists(b',"own_reactions":{', kjson, own, base))
        if with_counts:
            parts.append(b',"reaction_counts":{'
                         + b",".join(kjson[j] + b":%d" % count[base + j] for j in range(k) if count[base + j]) + b"}")
        tails.append(b"".join(parts))
    return [tails[aidx[a]] for a in activity_ids]
