"""HTTP routes of the collections room (spec §2.8)."""

from __future__ import annotations

from feedline.api import params, responses
from feedline.api.request import Request
from feedline.api.routes import Routes
from feedline.collections import inputs
from feedline.collections.model import check_data, check_id, check_name, check_user_id
from feedline.serialization import json_bytes

read = Routes()
write = Routes()

BASE = "/api/v1.0/collections/"


@write.post(BASE + "<name>/")
def add_item(req: Request, name: str) -> responses.Reply:
    who = req.caller("collections", "write")
    check_name(name)
    data = req.object_body("{id?, data, user_id?}")
    raw_id = data.get("id")
    item_id = None if raw_id is None or raw_id == "" else check_id(raw_id)
    body = req.rt.collections.add(name, item_id, check_data(data.get("data"), required=False),
                                  check_user_id(data.get("user_id")), who.user_id)
    return responses.obj(body, req.duration())


@read.get(BASE + "<name>/<item_id>/")
def get_item(req: Request, name: str, item_id: str) -> responses.Reply:
    req.caller("collections", "read")
    return responses.obj(req.rt.collections.get(check_name(name), check_id(item_id)), req.duration())


@write.put(BASE + "<name>/<item_id>/")
def update_item(req: Request, name: str, item_id: str) -> responses.Reply:
    who = req.caller("collections", "write")
    check_name(name)
    check_id(item_id)
    data = check_data(req.object_body("{data}").get("data"), required=True)
    return responses.obj(req.rt.collections.update(name, item_id, data, who.user_id), req.duration())


@write.delete(BASE + "<name>/<item_id>/")
def delete_item(req: Request, name: str, item_id: str) -> responses.Reply:
    who = req.caller("collections", "delete")
    req.rt.collections.delete(check_name(name), check_id(item_id), who.user_id)
    return responses.obj(None, req.duration())


@write.post(BASE)
def upsert(req: Request) -> responses.Reply:
    who = req.caller("collections", "write")
    body = req.object_body('{"data": {collection_name: [items]}}')
    req.rt.collections.upsert(inputs.upsert_batch(body), who.user_id)
    return responses.members(req.duration(), data=json_bytes(body["data"]))


@read.get(BASE)
def select(req: Request) -> responses.Reply:
    req.caller("collections", "read")
    refs = inputs.foreign_ids(params.listing(req.query, "foreign_ids"))
    found = responses.array(req.rt.collections.select(refs))
    return responses.members(req.duration(), response=b'{"data":' + found + b"}")


@write.delete(BASE)
def delete_many(req: Request) -> responses.Reply:
    who = req.caller("collections", "delete")
    name = check_name(req.query.get("collection_name"))
    req.rt.collections.delete_many(name, inputs.delete_ids(params.listing(req.query, "ids")), who.user_id)
    return responses.obj(None, req.duration())
