"""Read function: GET routes of /api/v1.0. Parse -> call core -> shape response.

The feed page is assembled from stored activity bytes (``assemble_page``): activities are never
decoded and re-encoded on this path.
"""

from __future__ import annotations

from feedline.api import params
from feedline.api.base import Api
from feedline.config import FLAT
from feedline.models import ids
from feedline.errors import InputException, MissingRankingException
from feedline.serialization import assemble_page, json_bytes
from feedline.service import DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET
from feedline.storage.base import Match

api = Api("read")
lambda_handler = api


@api.fast("GET", "/api/v1.0/feed/<slug>/<uid>/")
def read_feed(slug: str, uid: str):
    svc = api.rt.service
    fid, group, _ = api.feed(slug, uid, "feed", "read")
    slug, uid = fid.split(":")
    q = api.query
    limit = params.integer(q, "limit", DEFAULT_LIMIT, 0, MAX_LIMIT, clamp=True)
    offset = params.integer(q, "offset", 0, 0, MAX_OFFSET)
    if q.get("ranking"):
        # no ranking methods can be configured yet: say so rather than silently read unranked
        raise MissingRankingException(f"the ranking method {q['ranking']!r} is not configured for {slug!r}")
    if group.type != FLAT:
        from feedline.aggregation.feeds import parse_mark, read_groups

        page = read_groups(svc.storage, group, fid, limit, offset, params.id_range(q), f"/api/v1.0/feed/{slug}/{uid}/",
                           parse_mark(q.get("mark_seen")), parse_mark(q.get("mark_read")))
        return api.raw(page.assemble(api.duration()))
    # Feedline extension: ?verb= / ?actor= filter a flat feed server-side
    verb, actor = q.get("verb"), q.get("actor")
    match = Match(verb or None, actor or None) if (verb or actor) else None
    page = svc.read_flat(fid, limit, offset, params.id_range(q), f"/api/v1.0/feed/{slug}/{uid}/", match)
    return api.raw(assemble_page(page.rows, page.next, api.duration()))


def _follow_listing(slug: str, uid: str, followers: bool):
    svc = api.rt.service
    fid, _, _ = api.feed(slug, uid, "follower", "read")
    q = api.query
    limit = params.integer(q, "limit", 25, 0, 500, clamp=True)
    offset = params.integer(q, "offset", 0, 0, 400)
    only = params.listing(q, "filter")
    rows = (svc.followers if followers else svc.following)(fid, limit, offset, only)
    results = []
    for f in rows:
        t = ids.format_time(f.created_us)
        results.append({"feed_id": f.source, "target_id": f.target, "created_at": t, "updated_at": t})
    return api.ok({"results": results})


@api.get("/api/v1.0/feed/<slug>/<uid>/followers/")
def followers(slug: str, uid: str):
    return _follow_listing(slug, uid, True)


for _name in ("follows", "following"):
    api.get(f"/api/v1.0/feed/<slug>/<uid>/{_name}/")(lambda slug, uid: _follow_listing(slug, uid, False))


@api.get("/api/v1.0/activities/")
def get_activities():
    api.principal("activities", "read", None)
    q = api.query
    if q.get("ids") and q.get("foreign_ids"):
        raise InputException.field("ids", "use ids, or foreign_ids with timestamps, not both")
    fids = params.listing(q, "foreign_ids")
    timestamps = params.listing(q, "timestamps") if fids or q.get("timestamps") else None
    if fids and not timestamps:
        raise InputException.field("timestamps", "foreign_ids need timestamps of the same length")
    keys = api.rt.service.lookup_keys(params.listing(q, "ids"), fids, timestamps)
    bodies = api.rt.service.get_activities(keys)
    return api.raw(b'{"results":[' + b",".join(bodies) + b'],"duration":' + json_bytes(api.duration()) + b"}")


@api.get("/api/v1.0/stats/follow/")
def follow_stats():
    svc = api.rt.service
    q = api.query
    feeds = {}
    for name in ("followers", "following"):
        if q.get(name):
            slug, _, uid = q[name].partition(":")
            feeds[name], _ = svc.feed(slug, uid)
            api.principal("follower", "read", feeds[name])
    if not feeds:
        raise InputException.field("followers", "give followers and/or following feed ids")
    stats = svc.follow_stats(feeds.get("followers"), feeds.get("following"),
                             params.slugs(q, "followers_slugs"), params.slugs(q, "following_slugs"))
    return api.ok({"results": stats})
