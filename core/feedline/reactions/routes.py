"""HTTP routes of the reactions room (spec §2.6).

Callers: a server token needs the ``reactions`` scope; a user token may react only as itself,
target only feeds it may write, and change or delete only its own reactions (spec §4).
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

from feedline.api import params, responses
from feedline.api.auth import authorize_targets
from feedline.api.request import Request
from feedline.api.routes import Routes
from feedline.errors import InputException
from feedline.models import ids
from feedline.reactions import inputs, model
from feedline.reactions.service import ReactionCursor
from feedline.serialization import json_bytes

read = Routes()
write = Routes()

#: query parameters a ``next`` link does not copy (it writes its own bound and limit)
CURSOR_PARAMS = frozenset({"id_lt", "id_lte", "id_gt", "id_gte", "limit", "api_key"})
BASE = "/api/v1.0/reaction"


def origin(req: Request) -> str:
    """``scheme://host`` of this request, what absolute reaction links start with (spec §1.4)."""
    h = req.headers
    host = h.get("host") or (req.event.get("requestContext") or {}).get("domainName") or "localhost"
    local = host.startswith(("localhost", "127.0.0.1", "[::1]"))
    proto = h.get("x-forwarded-proto") or ("http" if local else "https")
    return f"{proto}://{host}"


def next_link(req: Request, cursor: ReactionCursor | None) -> str:
    """An absolute ``next`` URL (Stream's reaction filters return one, spec §1.4): this request's
    URL with the cursor's bound and limit, other parameters kept."""
    if cursor is None:
        return ""
    query = [(k, v) for k, v in req.query.items() if k not in CURSOR_PARAMS]
    query += [(cursor.name, ids.key_to_uuid(cursor.after)), ("limit", str(cursor.limit))]
    return f"{origin(req)}{req.path}?{urlencode(query)}"


@write.post(f"{BASE}/")
def add_reaction(req: Request) -> responses.Reply:
    who = req.caller("reactions", "write")
    new = inputs.new_reaction(req.body(), who.user_id)
    authorize_targets(req.rt.settings.app, who, new.target_feeds)
    return responses.obj(req.rt.reactions.add(new), req.duration())


@read.get(f"{BASE}/get_many/")
def get_many(req: Request) -> responses.Reply:
    req.caller("reactions", "read")
    q = req.query
    values = params.listing(q, "ids")
    if not values:
        raise InputException.field("ids", "give the reaction ids, comma separated")
    if len(values) > inputs.MAX_GET_MANY:
        raise InputException.field("ids", f"at most {inputs.MAX_GET_MANY} ids")
    found = req.rt.reactions.get_many([model.parse_id(v, "ids") for v in values],
                                      params.boolean(q, "include_deleted"))
    return responses.members(req.duration(), reactions=responses.array(found))


@read.get(f"{BASE}/<reaction_id>/")
def get_reaction(req: Request, reaction_id: str) -> responses.Reply:
    req.caller("reactions", "read")
    return responses.obj(req.rt.reactions.get(model.parse_id(reaction_id)), req.duration())


@write.put(f"{BASE}/<reaction_id>/")
def update_reaction(req: Request, reaction_id: str) -> responses.Reply:
    who = req.caller("reactions", "write")
    change = inputs.reaction_change(req.body())
    if change.target_feeds:
        authorize_targets(req.rt.settings.app, who, change.target_feeds)
    body = req.rt.reactions.update(model.parse_id(reaction_id), change, who.user_id)
    return responses.obj(body, req.duration())


@write.delete(f"{BASE}/<reaction_id>/")
def delete_reaction(req: Request, reaction_id: str) -> responses.Reply:
    who = req.caller("reactions", "delete")
    req.rt.reactions.delete(model.parse_id(reaction_id), params.boolean(req.query, "soft"), who.user_id)
    return responses.obj(None, req.duration())


@write.put(f"{BASE}/<reaction_id>/restore/")
def restore_reaction(req: Request, reaction_id: str) -> responses.Reply:
    who = req.caller("reactions", "write")
    req.rt.reactions.restore(model.parse_id(reaction_id), who.user_id)
    return responses.obj(None, req.duration())


def _user(q: Mapping[str, str], name: str) -> str | None:
    value = q.get(name)
    if value is None or value == "":
        return None
    if not model.valid_user(value):
        raise InputException.field(name, f"invalid user id {value!r}")
    return value


def _filter(req: Request, lookup: str, value: str, kind: str | None) -> responses.Reply:
    req.caller("reactions", "read")
    q: Mapping[str, str] = req.query
    scope = inputs.scope(lookup, value, kind)
    own_user = None
    if params.boolean(q, "with_own_children"):
        own_user = q.get("children_user_id") or (q.get("user_id") if lookup != "user_id" else scope.value)
        if not model.valid_user(own_user):
            raise InputException.field("children_user_id", "with_own_children needs children_user_id (or user_id)")
    f = inputs.Filter(
        scope, params.integer(q, "limit", inputs.DEFAULT_LIMIT, 0, inputs.MAX_LIMIT, clamp=True),
        {name: q[name] for name in ("id_lt", "id_lte", "id_gt", "id_gte") if q.get(name)},
        params.boolean(q, "with_activity_data"), own_user,
        inputs.kinds(params.listing(q, "with_own_children_kinds"), "with_own_children_kinds"),
        _user(q, "filter_user_id"))
    page = req.rt.reactions.filter(f)
    results, nxt = responses.array(page.results), json_bytes(next_link(req, page.next))
    if page.activity is not None:
        return responses.members(req.duration(), results=results, next=nxt, activity=page.activity)
    return responses.members(req.duration(), results=results, next=nxt)


@read.get(f"{BASE}/<lookup>/<value>/")
def filter_reactions(req: Request, lookup: str, value: str) -> responses.Reply:
    return _filter(req, lookup, value, None)


@read.get(f"{BASE}/<lookup>/<value>/<kind>/")
def filter_reactions_of_kind(req: Request, lookup: str, value: str, kind: str) -> responses.Reply:
    return _filter(req, lookup, value, kind)
