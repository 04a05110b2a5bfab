"""HTTP routes of the follows room."""

from __future__ import annotations

from feedline.api import params, responses
from feedline.api.request import Request
from feedline.api.routes import Routes
from feedline.errors import InputException
from feedline.follows.service import copy_limit, pairs
from feedline.models import ids
from feedline.models.feeds import check_slug_uid

read = Routes()
write = Routes()


def _listing(req: Request, slug: str, uid: str, followers: bool) -> responses.Reply:
    fid, _, _ = req.feed(slug, uid, "follower", "read")
    q = req.query
    limit = params.integer(q, "limit", 25, 0, 500, clamp=True)
    offset = params.integer(q, "offset", 0, 0, 400)
    only = params.listing(q, "filter")
    svc = req.rt.follows
    rows = (svc.followers if followers else svc.following)(fid, limit, offset, only)
    results = []
    for f in rows:
        t = ids.format_time(f.created_us)
        results.append({"feed_id": f.source, "target_id": f.target, "created_at": t, "updated_at": t})
    return responses.obj({"results": results}, req.duration())


@read.get("/api/v1.0/feed/<slug>/<uid>/followers/")
def followers(req: Request, slug: str, uid: str) -> responses.Reply:
    return _listing(req, slug, uid, True)


def following(req: Request, slug: str, uid: str) -> responses.Reply:
    return _listing(req, slug, uid, False)


def follow(req: Request, slug: str, uid: str) -> responses.Reply:
    fid, _, _ = req.feed(slug, uid, "follower", "write")
    data = req.body()
    if not isinstance(data, dict):
        raise InputException("follow expects a JSON object with a target", {"target": ["required"]})
    req.rt.follows.follow(fid, data.get("target"), copy_limit(data.get("activity_copy_limit")))
    return responses.obj(None, req.duration())


def unfollow(req: Request, slug: str, uid: str, target: str) -> responses.Reply:
    fid, _, _ = req.feed(slug, uid, "follower", "delete")
    req.rt.follows.unfollow(fid, target, params.boolean(req.query, "keep_history"))
    return responses.obj(None, req.duration())


# stream-python and stream-go2 say `follows/`, stream-js says `following/`
for _name in ("follows", "following"):
    read.get(f"/api/v1.0/feed/<slug>/<uid>/{_name}/")(following)
    write.post(f"/api/v1.0/feed/<slug>/<uid>/{_name}/")(follow)
    write.delete(f"/api/v1.0/feed/<slug>/<uid>/{_name}/<target>/")(unfollow)


@write.post("/api/v1.0/follow_many/")
def follow_many(req: Request) -> responses.Reply:
    req.principal("follower", "write", None)
    req.rt.follows.follow_many(pairs(req.body(), "follow_many"), copy_limit(req.query.get("activity_copy_limit")))
    return responses.obj(None, req.duration())


@write.post("/api/v1.0/unfollow_many/")
def unfollow_many(req: Request) -> responses.Reply:
    req.principal("follower", "delete", None)
    req.rt.follows.unfollow_many(pairs(req.body(), "unfollow_many"))
    return responses.obj(None, req.duration())


@read.get("/api/v1.0/stats/follow/")
def follow_stats(req: Request) -> responses.Reply:
    q = req.query
    feeds = {}
    for name in ("followers", "following"):
        if q.get(name):
            slug, _, uid = q[name].partition(":")
            feeds[name] = check_slug_uid(slug, uid)
            req.rt.settings.app.group(slug)
            req.principal("follower", "read", feeds[name])
    if not feeds:
        raise InputException.field("followers", "give followers and/or following feed ids")
    stats = req.rt.follows.stats(feeds.get("followers"), feeds.get("following"),
                                 params.slugs(q, "followers_slugs"), params.slugs(q, "following_slugs"))
    return responses.obj({"results": stats}, req.duration())
