"""Write function: POST/DELETE routes of /api/v1.0. Parse -> call core -> shape response."""

from __future__ import annotations

from feedline.api import params
from feedline.api.auth import authorize_actor, authorize_targets
from feedline.api.base import Api
from feedline.errors import InputException
from feedline.service import MAX_BATCH_ACTIVITIES

api = Api("write")
lambda_handler = api


@api.post("/api/v1.0/feed/<slug>/<uid>/")
def add_activities(slug: str, uid: str):
    svc = api.rt.service
    fid, _ = svc.feed(api.path_value(slug), api.path_value(uid))
    who = api.principal("feed", "write", fid)
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
    fid, _ = svc.feed(api.path_value(slug), api.path_value(uid))
    api.principal("feed", "delete", fid)
    ident = api.path_value(ident)
    svc.remove_activity(fid, ident, params.boolean(api.query, "foreign_id"))
    return api.ok({"removed": ident})


def _follow(slug: str, uid: str):
    svc = api.rt.service
    fid, _ = svc.feed(api.path_value(slug), api.path_value(uid))
    api.principal("follower", "write", fid)
    data = api.body()
    if not isinstance(data, dict):
        raise InputException("follow expects a JSON object with a target", {"target": ["required"]})
    svc.follow(fid, data.get("target"), svc.copy_limit(data.get("activity_copy_limit")))
    return api.ok()


def _unfollow(slug: str, uid: str, target: str):
    svc = api.rt.service
    fid, _ = svc.feed(api.path_value(slug), api.path_value(uid))
    api.principal("follower", "delete", fid)
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
