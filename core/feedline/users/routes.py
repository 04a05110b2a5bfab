"""HTTP routes of the users room (spec §2.7)."""

from __future__ import annotations

from feedline.api import params, responses
from feedline.api.auth import Principal
from feedline.api.request import Request
from feedline.api.routes import Routes
from feedline.errors import NotAllowedException
from feedline.users.model import check_data, check_id

read = Routes()
write = Routes()


def _own(who: Principal, user_id: str, action: str) -> None:
    """A user token may create, change and delete only its own user (spec §4)."""
    if who.is_user and who.user_id != user_id:
        raise NotAllowedException(f"user {who.user_id!r} may not {action} user {user_id!r}")


@write.post("/api/v1.0/user/")
def add_user(req: Request) -> responses.Reply:
    who = req.caller("users", "write")
    data = req.object_body("{id, data}")
    user_id = check_id(data.get("id"))
    _own(who, user_id, "create")
    body, _created = req.rt.users.create(user_id, check_data(data.get("data"), required=False),
                                        params.boolean(req.query, "get_or_create"))
    return responses.obj(body, req.duration())


@read.get("/api/v1.0/user/<user_id>/")
def get_user(req: Request, user_id: str) -> responses.Reply:
    req.caller("users", "read")
    body = req.rt.users.get(check_id(user_id), params.boolean(req.query, "with_follow_counts"))
    return responses.obj(body, req.duration())


@write.put("/api/v1.0/user/<user_id>/")
def update_user(req: Request, user_id: str) -> responses.Reply:
    who = req.caller("users", "write")
    check_id(user_id)
    _own(who, user_id, "update")
    data = req.object_body("{data}")
    body = req.rt.users.update(user_id, check_data(data.get("data"), required=True))
    return responses.obj(body, req.duration())


@write.delete("/api/v1.0/user/<user_id>/")
def delete_user(req: Request, user_id: str) -> responses.Reply:
    who = req.caller("users", "delete")
    check_id(user_id)
    _own(who, user_id, "delete")
    req.rt.users.delete(user_id)
    return responses.obj(None, req.duration())
