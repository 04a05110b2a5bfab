"""HTTP routes of the feeds room: the feed read (the hot route) and the notification mark."""

from __future__ import annotations

from collections.abc import Mapping

from feedline.api import params, responses
from feedline.api.links import feed_base, next_link
from feedline.api.request import Request
from feedline.api.routes import Routes
from feedline.config import FeedGroup
from feedline.errors import InputException
from feedline.feeds.base import RankedQuery, ReadQuery
from feedline.feeds.marks import parse_mark
from feedline.models.cursors import EVERYTHING, Match
from feedline.ranking import RankingVarsError, parse_ranking_vars

DEFAULT_LIMIT = 25
MAX_LIMIT = 100
MAX_OFFSET = 10_000

read = Routes()
write = Routes()


@read.get("/api/v1.0/feed/<slug>/<uid>/", hot=True)
def read_feed(req: Request, slug: str, uid: str) -> responses.Reply:
    fid, group, _ = req.feed(slug, uid, "feed", "read")
    page = req.rt.feeds.read(fid, read_query(req, fid, group))
    return responses.spliced(page.assemble(next_link(feed_base(fid), page.cursor), req.duration()))


def read_query(req: Request, fid: str, group: FeedGroup, with_refs: bool = False) -> ReadQuery:
    """The page read a feed GET asks for (docs/api.md §5.2, §5.3): also the enriched read's."""
    q = req.query
    limit = params.integer(q, "limit", DEFAULT_LIMIT, 0, MAX_LIMIT, clamp=True)
    offset = params.integer(q, "offset", 0, 0, MAX_OFFSET)
    if "ranking_vars" in q or "rankingVars" in q or q.get("ranking"):
        ranked = ranked_query(q)
        if ranked is not None:
            return ReadQuery(limit, offset, EVERYTHING, ranked=ranked, with_refs=with_refs)
    svc = req.rt.feeds
    kind = svc.kind(fid)
    match = None
    if kind.fans_out:
        # Feedline extension: ?verb= / ?actor= filter a flat feed server-side
        verb, actor = q.get("verb"), q.get("actor")
        match = Match(verb or None, actor or None) if (verb or actor) else None
    if kind.has_marks:
        return ReadQuery(limit, offset, params.id_range(q), None, parse_mark(q.get("mark_seen")),
                         parse_mark(q.get("mark_read")), with_refs)
    return ReadQuery(limit, offset, params.id_range(q), match, with_refs=with_refs)


def ranked_query(q: Mapping[str, str]) -> RankedQuery | None:
    """The ranking part of a read's query (docs/api.md §8), or None for an unranked read.

    ``ranking_vars`` (stream-js: ``rankingVars``) must be a JSON object even without ``ranking``;
    a ranked read pages by ``limit`` + ``offset`` only, and takes no ``verb``/``actor`` filter.
    """
    name = "ranking_vars" if "ranking_vars" in q else "rankingVars"
    text = q.get(name)
    try:
        variables = parse_ranking_vars(text)
    except RankingVarsError as exc:
        raise InputException.field(name, str(exc)) from None
    method = q.get("ranking")
    if not method:
        return None
    for cursor in ("id_lt", "id_lte", "id_gt", "id_gte"):
        if q.get(cursor):
            raise InputException.field(cursor, "a ranked read pages by limit and offset only")
    for field in ("verb", "actor"):
        if q.get(field):
            raise InputException.field(field, "a ranked read takes no verb/actor filter")
    return RankedQuery(method, variables, text, q.get("session") or None, params.boolean(q, "withScoreVars"))


@write.post("/api/v1.0/feed/<slug>/<uid>/mark/")
def mark(req: Request, slug: str, uid: str) -> responses.Reply:
    """Feedline extension: mark a notification feed and get the *new* state back.

    Body: ``{"mark_seen": true | [group ids] | "id,id", "mark_read": ..., "limit": 25}``. Unlike
    ``GET ...?mark_seen=`` (which answers with the state before the marks, as Stream does), this
    answers with the page after them.
    """
    fid, _, _ = req.feed(slug, uid, "feed", "write")
    svc = req.rt.feeds
    if not svc.kind(fid).has_marks:
        raise InputException.field("feed", f"{slug!r} is not a notification feed group")
    data = req.object_body("{mark_seen, mark_read}")
    seen, read_ = parse_mark(data.get("mark_seen")), parse_mark(data.get("mark_read"))
    if seen is None and read_ is None:
        raise InputException.field("mark_seen", "give mark_seen and/or mark_read")
    limit = params.integer({"limit": str(data.get("limit", DEFAULT_LIMIT))}, "limit", DEFAULT_LIMIT, 0, MAX_LIMIT,
                           clamp=True)
    svc.mark(fid, seen, read_)
    page = svc.read(fid, ReadQuery(limit))
    return responses.spliced(page.assemble(next_link(feed_base(fid), page.cursor), req.duration()))
