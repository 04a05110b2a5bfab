"""Aggregated/notification page assembly from stored bytes: pure-Python reference twin of ``_page_c``.

``assemble_groups`` builds Stream's aggregated response (docs/api.md §5.3) by splicing the stored
activity bodies, like ``serialization.assemble_page`` does for flat feeds: no activity is decoded.

Arguments:

- ``groups``: the page's groups, tuples as returned by ``grouping.aggregate`` (or a slice of them):
  ``(group_key, members, activity_count, actor_count, newest_index, oldest_index)``;
- ``bodies``, ``origins``, ``verbs``, ``key_uuids``, ``times``: per *input index* of the aggregated
  window (any sequence indexable by int; only the indices the groups reference are read, so the
  caller may pass lazy sequences or dicts keyed by index): the stored body (bytes ending in ``}``),
  the encoded origin (``b'null'`` / ``b'"user:1"'``), the verb, the activity id (UUID text) and the
  activity time (Stream's time text);
- ``keys``: optional; when given, ``bodies`` is looked up by ``keys[i]`` instead of ``i`` (so the
  caller can pass the storage's ``{key: body}`` map as it is, without building a per-index one);
- ``seen``, ``read``: ``None`` for aggregated feeds, or (both, notification feeds) one truthy/falsy
  flag per group of ``groups``; ``unseen``/``unread``: the feed-level counters (notification only);
- ``next_url``, ``duration``: the envelope's strings.

Output (keys in this order; notification-only parts in brackets)::

    {"results":[{"id":<uuid of newest member>,"group":<group key>,"verb":<verb of newest member>,
      "activity_count":N,"actor_count":M,"created_at":<time of oldest member>,
      "updated_at":<time of newest member>,"activities":[<body minus "}">,"origin":<origin>},...]
      [,"is_seen":bool,"is_read":bool]},...]
     [,"unseen":n,"unread":n],"next":<next_url>,"duration":<duration>}

Every string is encoded by ``serialization.json_bytes`` (the compiled twin takes a byte-identical
shortcut for printable ASCII without ``"`` or ``\\``). Raises ValueError if only one of
``seen``/``read`` is given, if their length differs from ``groups``, or for an empty body;
TypeError if a body or an origin is not ``bytes``; IndexError for an index out of range.
"""

from __future__ import annotations

from collections.abc import Sequence

from feedline.serialization._activity_py import json_bytes


def _notification(seen: Sequence | None, read: Sequence | None, ngroups: int) -> bool:
    if seen is None and read is None:
        return False
    if seen is None or read is None:
        raise ValueError("seen and read must both be given (notification feed) or both be None")
    if len(seen) != ngroups or len(read) != ngroups:
        raise ValueError("seen and read need one flag per group")
    return True


def assemble_groups(
    groups: Sequence[tuple],
    bodies: Sequence[bytes],
    origins: Sequence[bytes],
    verbs: Sequence[str],
    key_uuids: Sequence[str],
    times: Sequence[str],
    seen: Sequence[int] | None,
    read: Sequence[int] | None,
    next_url: str,
    duration: str,
    unseen: int,
    unread: int,
    keys: Sequence[bytes] | None = None,
) -> bytes:
    notification = _notification(seen, read, len(groups))
    # one flat list of parts joined once; bodies are cut with memoryviews (copied by the join only)
    out = [b'{"results":[']
    add = out.append
    for gi, (group_key, members, count, actor_count, newest, oldest) in enumerate(groups):
        if gi:
            add(b",")
        add(b'{"id":' + json_bytes(key_uuids[newest])
            + b',"group":' + json_bytes(group_key)
            + b',"verb":' + json_bytes(verbs[newest])
            + b',"activity_count":%d,"actor_count":%d' % (count, actor_count)
            + b',"created_at":' + json_bytes(times[oldest])
            + b',"updated_at":' + json_bytes(times[newest])
            + b',"activities":[')
        sep = b""
        for m in members:
            body = bodies[m] if keys is None else bodies[keys[m]]
            origin = origins[m]
            if type(body) is not bytes or type(origin) is not bytes:
                raise TypeError("bodies and origins must be bytes")
            if not body:
                raise ValueError("empty activity body")
            add(sep)
            add(memoryview(body)[:-1])  # type: ignore[arg-type]  # join takes any buffer
            add(b',"origin":')
            add(origin)
            add(b"}")
            sep = b","
        if notification:
            add(b'],"is_seen":' + (b"true" if seen[gi] else b"false")  # type: ignore[index]
                + b',"is_read":' + (b"true" if read[gi] else b"false") + b"}")  # type: ignore[index]
        else:
            add(b"]}")
    add(b"]")
    if notification:
        add(b',"unseen":%d,"unread":%d' % (unseen, unread))
    add(b',"next":' + json_bytes(next_url) + b',"duration":' + json_bytes(duration) + b"}")
    return b"".join(out)
