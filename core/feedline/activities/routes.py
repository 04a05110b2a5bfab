"""HTTP routes of the activities room."""

from __future__ import annotations

from feedline.activities import inputs
from feedline.api import params, responses
from feedline.api.auth import authorize_actor, authorize_targets
from feedline.api.request import Request
from feedline.api.routes import Routes
from feedline.errors import InputException
from feedline.serialization import encode_origin, json_bytes

read = Routes()
write = Routes()

NO_ORIGIN = b',"origin":' + encode_origin(None) + b"}"


@write.post("/api/v1.0/feed/<slug>/<uid>/")
def add_activities(req: Request, slug: str, uid: str) -> responses.Reply:
    svc = req.rt.activities
    fid, _, who = req.feed(slug, uid, "feed", "write")
    payloads, many = inputs.activity_batch(req.body())
    activities = svc.validate(payloads)
    for act in activities:
        authorize_actor(who, act.actor)
        authorize_targets(req.rt.settings.app, who, act.to)
    svc.add(fid, activities)
    if many:
        return responses.members(req.duration(), activities=responses.array([a.body for a in activities]))
    return responses.obj(activities[0].body, req.duration())


@write.delete("/api/v1.0/feed/<slug>/<uid>/<ident>/")
def remove_activity(req: Request, slug: str, uid: str, ident: str) -> responses.Reply:
    fid, _, _ = req.feed(slug, uid, "feed", "delete")
    req.rt.activities.remove(fid, ident, params.boolean(req.query, "foreign_id"))
    return responses.obj({"removed": ident}, req.duration())


@read.get("/api/v1.0/activities/")
def get_activities(req: Request) -> responses.Reply:
    req.principal("activities", "read", None)
    svc = req.rt.activities
    keys = lookup_keys(req)
    # the shape of a feed read: stored bodies have no origin, a feed read splices it in (the JS
    # SDK compares the two); here it is null, spliced in the same way (never decoded)
    bodies = [body[:-1] + NO_ORIGIN for body in svc.bodies(keys)]
    return responses.members(req.duration(), results=responses.array(bodies))


def lookup_keys(req: Request) -> list[bytes]:
    """The activities a GET by ``ids`` or ``foreign_ids`` + ``timestamps`` names (docs/api.md §6.1;
    the enriched twin of this read takes the same query)."""
    q = req.query
    if q.get("ids") and q.get("foreign_ids"):
        raise InputException.field("ids", "use ids, or foreign_ids with timestamps, not both")
    fids = params.listing(q, "foreign_ids")
    timestamps = params.listing(q, "timestamps") if fids or q.get("timestamps") else None
    if fids and not timestamps:
        raise InputException.field("timestamps", "foreign_ids need timestamps of the same length")
    return req.rt.activities.resolve(*inputs.lookup(params.listing(q, "ids"), fids, timestamps))


@write.post("/api/v1.0/feed/add_to_many/")
def add_to_many(req: Request) -> responses.Reply:
    req.principal("feed", "write", None)
    req.rt.activities.add_to_many(*inputs.add_to_many(req.body()))
    return responses.obj(None, req.duration())


@write.post("/api/v1.0/activities/")
def update_activities(req: Request) -> responses.Reply:
    req.principal("activities", "write", None)
    req.rt.activities.update(inputs.full_updates(req.body()))
    return responses.obj(None, req.duration())


@write.post("/api/v1.0/activity/")
def partial_update(req: Request) -> responses.Reply:
    req.principal("activities", "write", None)
    data = req.body()
    if not isinstance(data, dict):
        raise InputException.field("changes", "expected {changes: [...]} or one change object")
    svc = req.rt.activities
    if "changes" in data:  # batch form (stream-python, stream-js)
        if not isinstance(data["changes"], list) or not data["changes"]:
            raise InputException.field("changes", "must be a non-empty list")
        bodies = svc.partial_update(inputs.changes(data["changes"]))
        return responses.members(req.duration(), activities=responses.array(bodies))
    [body] = svc.partial_update(inputs.changes([data]))  # single form (stream-go2)
    return responses.obj(body, req.duration())


@write.post("/api/v1.0/feed_targets/<slug>/<uid>/activity_to_targets/")
def activity_to_targets(req: Request, slug: str, uid: str) -> responses.Reply:
    fid, _, who = req.feed(slug, uid, "feed_targets", "write")
    data = req.body()
    for name in ("new_targets", "added_targets"):
        if isinstance(data, dict) and isinstance(data.get(name), list):
            authorize_targets(req.rt.settings.app, who, [t.split(" ", 1)[0] for t in data[name] if isinstance(t, str)])
    body, added, removed = req.rt.activities.change_targets(fid, inputs.targets_change(data))
    return responses.members(req.duration(), activity=body, added=json_bytes(added), removed=json_bytes(removed))


@write.delete("/api/v1.0/activities/")
def delete_everywhere(req: Request) -> responses.Reply:
    """Feedline extension: remove activities from every feed they reached, by foreign_ids or ids."""
    req.principal("activities", "delete", None)
    svc = req.rt.activities
    keys = svc.resolve(*inputs.lookup(params.listing(req.query, "ids"), params.listing(req.query, "foreign_ids"), None))
    removed, entries = svc.delete_everywhere(keys)
    return responses.obj({"removed": removed, "entries": entries}, req.duration())
