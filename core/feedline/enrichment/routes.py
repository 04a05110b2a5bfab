"""HTTP routes of the enrichment room: ``GET /enrich/feed/...`` and ``GET /enrich/activities/``
(docs/api.md §13)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from feedline.activities.routes import lookup_keys
from feedline.api import params, responses
from feedline.api.auth import Principal
from feedline.api.links import next_link
from feedline.api.request import Request
from feedline.api.routes import Routes
from feedline.enrichment.assemble import Options
from feedline.errors import InputException
from feedline.feeds.routes import read_query
from feedline.reactions.routes import origin

read = Routes()

#: reaction kinds follow the feed-slug rule (docs/api.md §9)
KIND = re.compile(r"[\w-]+")
DEFAULT_RECENT = 5
MAX_RECENT = 25


def options(q: Mapping[str, str], who: Principal, link_origin: str = "") -> Options:
    """The reaction options of the query (stream-python, stream-js and stream-go2 spellings)."""
    limit_name = "recentReactionsLimit" if q.get("recentReactionsLimit") else "reaction_limit"
    limit = params.integer(q, limit_name, DEFAULT_RECENT, 0, MAX_RECENT, clamp=True)
    kinds = params.listing(q, "reactionKindsFilter")
    for kind in kinds:
        if not KIND.fullmatch(kind):
            raise InputException.field("reactionKindsFilter", f"{kind!r} is not a reaction kind")
    # whose reactions are "own": a user token's user; a server token names one (JS: withUserId)
    user_id = who.user_id or q.get("user_id") or q.get("withUserId") or None
    own = params.boolean(q, "withOwnReactions")
    return Options(
        counts=params.boolean(q, "withReactionCounts"),
        latest=params.boolean(q, "withRecentReactions"),
        own=own and user_id is not None,
        own_children=params.boolean(q, "withOwnChildren"),
        own_children_kinds=tuple(params.listing(q, "withOwnChildrenKinds")),
        kinds=tuple(kinds) if kinds else None,
        limit=limit,
        user_id=user_id,
        link_user_id=None if who.user_id else user_id,
        link_origin=link_origin,
    )


def enrich_base(fid: str) -> str:
    slug, _, uid = fid.partition(":")
    return f"/api/v1.0/enrich/feed/{slug}/{uid}/"


@read.get("/api/v1.0/enrich/feed/<slug>/<uid>/")
def read_enriched_feed(req: Request, slug: str, uid: str) -> responses.Reply:
    # the plain read's policy (docs/api.md §2.3): a user token reads the feeds it may read
    fid, group, who = req.feed(slug, uid, "feed", "read")
    query = read_query(req, fid, group, with_refs=True)
    page = req.rt.enrichment.read_feed(fid, query, options(req.query, who, origin(req)))
    return responses.spliced(page.assemble(next_link(enrich_base(fid), page.cursor), req.duration()))


@read.get("/api/v1.0/enrich/activities/")
def get_enriched_activities(req: Request) -> responses.Reply:
    who = req.principal("activities", "read", None)
    bodies = req.rt.enrichment.activities(lookup_keys(req), options(req.query, who, origin(req)))
    return responses.members(req.duration(), results=responses.array(bodies))
