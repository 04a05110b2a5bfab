"""Write function: POST/DELETE routes of /api/v1.0. Parse -> call core -> shape response."""

from __future__ import annotations

from feedline.api import params
from feedline.api.auth import authorize_actor, authorize_targets
from feedline.api.base import Api
from feedline.errors import InputException
from feedline.serialization import json_bytes
from feedline.service import MAX_BATCH_ACTIVITIES

api = Api("write", check_formats=True)
lambda_handler = api


@api.post("/api/v1.0/feed/<slug>/<uid>/")
def add_activities(slug: str, uid: str):
    svc = api.rt.service
    fid, _, who = api.feed(slug, uid, "feed", "write")
    data = api.body()
    many = isinstance(data, dict) and "activities" in data
    payloads = data["activities"] if many else [data]
    if not isinstance(payloads, list):
        raise InputException.field("activities", "must be a list of activities")
    if len(payloads) > MAX_BATCH_ACTIVITIES:
        raise InputException.field("activities", f"at most {MAX_BATCH_ACTIVITIES} activities per request")
    activities = svc.validate(payloads)
    for act in activities:
        authorize_actor(who, act.actor)
        authorize_targets(svc.app, who, act.to)
    svc.add_activities(fid, activities)
    if many:
        return api.raw(b'{"activities":[' + b",".join(a.body for a in activities)
                       + b'],"duration":"' + api.duration().encode() + b'"}')
    return api.ok(activities[0].body)


@api.delete("/api/v1.0/feed/<slug>/<uid>/<ident>/")
def remove_activity(slug: str, uid: str, ident: str):
    svc = api.rt.service
    fid, _, _ = api.feed(slug, uid, "feed", "delete")
    ident = api.path_value(ident)
    svc.remove_activity(fid, ident, params.boolean(api.query, "foreign_id"))
    return api.ok({"removed": ident})


def _follow(slug: str, uid: str):
    svc = api.rt.service
    fid, _, _ = api.feed(slug, uid, "follower", "write")
    data = api.body()
    if not isinstance(data, dict):
        raise InputException("follow expects a JSON object with a target", {"target": ["required"]})
    svc.follow(fid, data.get("target"), svc.copy_limit(data.get("activity_copy_limit")))
    return api.ok()


def _unfollow(slug: str, uid: str, target: str):
    svc = api.rt.service
    fid, _, _ = api.feed(slug, uid, "follower", "delete")
    svc.unfollow(fid, api.path_value(target), params.boolean(api.query, "keep_history"))
    return api.ok()


# stream-python and stream-go2 say `follows/`, stream-js says `following/`
for _name in ("follows", "following"):
    api.post(f"/api/v1.0/feed/<slug>/<uid>/{_name}/")(_follow)
    api.delete(f"/api/v1.0/feed/<slug>/<uid>/{_name}/<target>/")(_unfollow)


@api.post("/api/v1.0/follow_many/")
def follow_many():
    svc = api.rt.service
    api.principal("follower", "write", None)
    svc.follow_many(api.body(), svc.copy_limit(api.query.get("activity_copy_limit")))
    return api.ok()


@api.post("/api/v1.0/unfollow_many/")
def unfollow_many():
    api.principal("follower", "delete", None)
    api.rt.service.unfollow_many(api.body())
    return api.ok()


@api.post("/api/v1.0/feed/add_to_many/")
def add_to_many():
    api.principal("feed", "write", None)
    data = api.body()
    if not isinstance(data, dict):
        raise InputException.field("body", "expected {activity, feeds}")
    api.rt.service.add_to_many(data.get("activity"), data.get("feeds"))
    return api.ok()


@api.post("/api/v1.0/activities/")
def update_activities():
    api.principal("activities", "write", None)
    data = api.body()
    api.rt.service.update_activities(data.get("activities") if isinstance(data, dict) else None)
    return api.ok()


@api.post("/api/v1.0/activity/")
def partial_update():
    api.principal("activities", "write", None)
    data = api.body()
    if not isinstance(data, dict):
        raise InputException.field("changes", "expected {changes: [...]} or one change object")
    if "changes" in data:  # batch form (stream-python, stream-js)
        if not isinstance(data["changes"], list) or not data["changes"]:
            raise InputException.field("changes", "must be a non-empty list")
        bodies = api.rt.service.partial_update(data["changes"])
        return api.raw(b'{"activities":[' + b",".join(bodies) + b'],"duration":"' + api.duration().encode() + b'"}')
    [body] = api.rt.service.partial_update([data])  # single form (stream-go2)
    return api.ok(body)


@api.post("/api/v1.0/feed_targets/<slug>/<uid>/activity_to_targets/")
def activity_to_targets(slug: str, uid: str):
    svc = api.rt.service
    fid, _, who = api.feed(slug, uid, "feed_targets", "write")
    data = api.body()
    for name in ("new_targets", "added_targets"):
        if isinstance(data, dict) and isinstance(data.get(name), list):
            authorize_targets(svc.app, who, [t.split(" ", 1)[0] for t in data[name] if isinstance(t, str)])
    body, added, removed = svc.update_to_targets(fid, data)
    return api.raw(b'{"activity":' + body + b',"added":' + json_bytes(added) + b',"removed":'
                   + json_bytes(removed) + b',"duration":"' + api.duration().encode() + b'"}')


@api.delete("/api/v1.0/activities/")
def delete_everywhere():
    """Feedline extension: remove activities from every feed they reached, by foreign_ids or ids."""
    api.principal("activities", "delete", None)
    svc = api.rt.service
    keys = svc.lookup_keys(params.listing(api.query, "ids"), params.listing(api.query, "foreign_ids"))
    removed, entries = svc.delete_everywhere(keys)
    return api.ok({"removed": removed, "entries": entries})


@api.post("/api/v1.0/feed/<slug>/<uid>/mark/")
def mark(slug: str, uid: str):
    """Feedline extension: mark a notification feed and get the *new* state back.

    Body: ``{"mark_seen": true | [group ids] | "id,id", "mark_read": ..., "limit": 25}``. Unlike
    ``GET ...?mark_seen=`` (which answers with the state before the marks, as Stream does), this
    answers with the page after them.
    """
    from feedline.aggregation.feeds import parse_mark, read_groups
    from feedline.config import NOTIFICATION
    from feedline.service import DEFAULT_LIMIT, MAX_LIMIT
    from feedline.storage.base import EVERYTHING

    svc = api.rt.service
    fid, group, _ = api.feed(slug, uid, "feed", "write")
    slug, uid = fid.split(":")
    if group.type != NOTIFICATION:
        raise InputException.field("feed", f"{slug!r} is not a notification feed group")
    data = api.body()
    if not isinstance(data, dict):
        raise InputException.field("body", "expected {mark_seen, mark_read}")
    seen, read = parse_mark(data.get("mark_seen")), parse_mark(data.get("mark_read"))
    if seen is None and read is None:
        raise InputException.field("mark_seen", "give mark_seen and/or mark_read")
    limit = params.integer({"limit": str(data.get("limit", DEFAULT_LIMIT))}, "limit", DEFAULT_LIMIT, 0, MAX_LIMIT,
                           clamp=True)
    base = f"/api/v1.0/feed/{slug}/{uid}/"
    read_groups(svc.storage, group, fid, 0, 0, EVERYTHING, base, seen, read)
    page = read_groups(svc.storage, group, fid, limit, 0, EVERYTHING, base)
    return api.raw(page.assemble(api.duration()))
