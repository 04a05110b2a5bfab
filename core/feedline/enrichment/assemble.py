"""An enriched page from what the stores returned: the pure computation between the batched
look-ups and the page twins (no storage, no HTTP; ``service`` does the fetching).

The order of work for a page (docs/api.md §13):

1. ``page_tokens``: the page's distinct reference tokens, read at the stored offsets;
2. ``wanted``: each token parsed once into what to look up (users, collection items, activities,
   reactions), one batched look-up per type;
3. ``resolved_map``: token -> the object's stored JSON, or the ``ReferenceNotFound`` object;
4. ``page.reaction_tails`` + ``page.enrich_page``: the page written from stored bytes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from operator import itemgetter

import ujson

from feedline.serialization import json_bytes

#: reference prefix -> ``reference_type`` of the not-found object (spec §3.10)
TYPES = {"SU": "user", "SO": "object", "SA": "activity", "SR": "reaction"}
#: the references resolved inside an activity an SA: reference brings (the token's bytes after its quote)
NESTED = (b"SU", b"SO")


@dataclass(slots=True)
class Wanted:
    """What a page's references ask for, each with the tokens that name it."""

    users: dict[str, list[bytes]] = field(default_factory=dict)
    items: dict[tuple[str, str], list[bytes]] = field(default_factory=dict)
    activities: dict[str, list[bytes]] = field(default_factory=dict)
    reactions: dict[str, list[bytes]] = field(default_factory=dict)


def token_text(token: bytes) -> str:
    """The string a stored JSON string token holds (tokens are canonical ASCII JSON)."""
    if b"\\" not in token:
        return token[1:-1].decode("ascii")
    return ujson.loads(token)


#: parsed tokens, by token: a page's references repeat across reads (the same users, the same
#: items), so each is parsed once per container. Bounded: emptied when full.
_PARSED: dict[bytes, tuple[str, object] | None] = {}
PARSED_MAX = 50_000


def parse(tok: bytes) -> tuple[str, object] | None:
    """``(type, key)`` of a reference token (``key``: the id, or ``(collection, id)`` for
    objects), or None for a malformed reference (``SU:`` alone, ``SO:x`` without an id), which
    stays a plain string."""
    text = token_text(tok)
    kind, rest = text[:2], text[3:]
    if not rest:
        return None
    if kind == "SO":
        collection, sep, item = rest.partition(":")
        return ("SO", (collection, item)) if collection and sep and item else None
    return kind, rest


def wanted(tokens: Iterable[bytes]) -> Wanted:
    """Parse tokens into look-ups (see ``parse``)."""
    out = Wanted()
    groups: dict[str, dict] = {"SU": out.users, "SO": out.items, "SA": out.activities, "SR": out.reactions}
    cache = _PARSED
    for tok in tokens:
        try:
            found = cache[tok]
        except KeyError:
            if len(cache) >= PARSED_MAX:
                cache.clear()
            found = cache[tok] = parse(tok)
        if found is not None:
            groups[found[0]].setdefault(found[1], []).append(tok)
    return out


def not_found(reference: str, ref_type: str, id_: str, collection: str | None = None) -> bytes:
    """Spec §3.10's object for a reference whose target does not exist."""
    doc = {"error": "ReferenceNotFound", "reference": reference, "reference_type": ref_type, "id": id_}
    if collection is not None:
        doc["collection"] = collection
    return json_bytes(doc)


#: user ids that are JSON strings as they are (no escaping): most are
PLAIN_ID = re.compile(r"[A-Za-z0-9_-]+")


def missing_user(user_id: str) -> bytes:
    """``not_found("SU:" + user_id, "user", user_id)`` without encoding a dict: reaction listings
    answer one for every reacting user without a record (a dict encode is ~3 µs, 25 a page)."""
    j = b'"' + user_id.encode() + b'"' if PLAIN_ID.fullmatch(user_id) else json_bytes(user_id)
    return b'{"error":"ReferenceNotFound","id":' + j + b',"reference":"SU:' + j[1:] + b',"reference_type":"user"}'


def user_objects(ids: Iterable[str], found: Mapping[str, bytes]) -> dict[str, bytes]:
    """``{user id: user JSON}`` for ``ids``, the not-found object for the missing ones (the
    ``user`` of reactions)."""
    return {u: found[u] if u in found else missing_user(u) for u in ids}


def resolved_map(w: Wanted, users: Mapping[str, bytes], items: Mapping[tuple[str, str], bytes],
                 activities: Mapping[str, bytes], reactions: Mapping[str, bytes]) -> dict[bytes, bytes]:
    """``{token: JSON}`` for every token of ``w``: the stored object, or the not-found object."""
    out: dict[bytes, bytes] = {}
    for uid, toks in w.users.items():
        value = users.get(uid) or not_found("SU:" + uid, "user", uid)
        for t in toks:
            out[t] = value
    for (coll, iid), toks in w.items.items():
        value = items.get((coll, iid)) or not_found(f"SO:{coll}:{iid}", "object", iid, coll)
        for t in toks:
            out[t] = value
    for aid, toks in w.activities.items():
        value = activities.get(aid) or not_found("SA:" + aid, "activity", aid)
        for t in toks:
            out[t] = value
    for rid, toks in w.reactions.items():
        value = reactions.get(rid) or not_found("SR:" + rid, "reaction", rid)
        for t in toks:
            out[t] = value
    return out


#: where ``latest_reactions_extra`` links point (the reaction filter, docs/api.md §9.3)
NEXT_PREFIX = "/api/v1.0/reaction/activity_id/"


@dataclass(frozen=True, slots=True)
class Options:
    """The reaction options of an enriched read (docs/api.md §13)."""

    counts: bool = False
    latest: bool = False
    own: bool = False
    own_children: bool = False
    own_children_kinds: tuple[str, ...] = ()
    #: ``reactionKindsFilter``: only these kinds (None: every kind)
    kinds: tuple[str, ...] | None = None
    limit: int = 5
    #: whose reactions are "own" (the user token's user, or ``user_id`` for server tokens)
    user_id: str | None = None
    #: the ``user_id`` the ``latest_reactions_extra`` links carry: only one a server token named. A user
    #: token says who it is when it follows the link; and stream-js's ``reactions.filter`` refuses a
    #: link with ``user_id`` beside the ``activity_id`` that react-activity-feed adds to page comments
    link_user_id: str | None = None
    #: ``scheme://host`` the ``latest_reactions_extra`` links start with: absolute, as Stream's are
    #: (stream-js checks they start with "http") and as the reaction filters' own ``next`` (§9.3)
    link_origin: str = ""

    @property
    def reactions(self) -> bool:
        return self.counts or self.latest or self.own

    def next_suffix(self) -> str:
        suffix = f"&limit={self.limit}&withOwnChildren=false"
        return suffix + (f"&user_id={self.link_user_id}" if self.link_user_id else "")


class Fetcher:
    """The batched look-ups an enriched page needs (one call each per page). ``service`` binds them
    to the stores; benchmarks replay recorded answers."""

    def users(self, ids: list[str]) -> dict[str, bytes]:
        raise NotImplementedError

    def items(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], bytes]:
        raise NotImplementedError

    def activities(self, ids: list[str]) -> dict[str, bytes]:
        raise NotImplementedError

    def reactions(self, ids: list[str]) -> dict[str, bytes]:
        raise NotImplementedError

    def page_reactions(self, activity_ids: list[str], opts: Options) -> tuple[list[tuple], list[tuple]]:
        """``(counts, rows)`` as ``page.reaction_tails`` takes them."""
        raise NotImplementedError


def enrichment(impl, bodies: list[bytes], refs: list[bytes | None], activity_ids: list[str], fetch: Fetcher,
               opts: Options) -> tuple[dict[bytes, bytes], list[bytes] | None]:
    """``(resolved, tails)`` for a page's activities: at most one look-up per reference type and
    one for the reaction data, whatever the page size. ``impl`` is the page twin."""
    w = wanted(impl.page_tokens(bodies, refs))
    counts: list[tuple] = []
    rows: list[tuple] = []
    if opts.reactions and activity_ids:
        counts, rows = fetch.page_reactions(activity_ids, opts)
    acts = fetch.activities(list(w.activities)) if w.activities else {}
    # an SA: activity comes with its own SU:/SO: references resolved, one level deep (its SA:/SR: stay
    # strings), as Stream answers (stream-js: a reaction's target-feed activity's object equals the
    # activity with its actor enriched); react-activity-feed shows the author of a liked, commented or
    # reposted post from it. Its users and items join the page's batched look-ups.
    inner = Wanted()
    if acts:
        inner = wanted(t for t in impl.page_tokens(list(acts.values()), [None] * len(acts)) if t[1:3] in NESTED)
    reaction_users = set(map(itemgetter(4), rows))
    user_ids = list(reaction_users.union(w.users, inner.users))
    users = fetch.users(user_ids) if user_ids else {}
    item_keys = list(dict.fromkeys([*w.items, *inner.items]))
    items = fetch.items(item_keys) if item_keys else {}
    if inner.users or inner.items:
        nested = resolved_map(inner, users, items, {}, {})
        acts = dict(zip(acts, impl.enrich_bodies(list(acts.values()), [None] * len(acts), nested, None)))
    reacts = fetch.reactions(list(w.reactions)) if w.reactions else {}
    resolved = resolved_map(w, users, items, acts, reacts)
    tails = None
    if opts.reactions:
        kinds = list(opts.kinds) if opts.kinds is not None else sorted(
            set(map(itemgetter(1), counts)).union(map(itemgetter(1), rows)))
        tails = impl.reaction_tails(activity_ids, kinds, counts, rows, user_objects(reaction_users, users),
                                    opts.counts, opts.latest, opts.own, opts.link_origin + NEXT_PREFIX,
                                    opts.next_suffix())
    return resolved, tails
