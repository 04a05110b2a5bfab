"""Shapes of the collection endpoints' bodies and queries, checked before the service sees them."""

from __future__ import annotations

from typing import Any

from feedline.collections.model import check_data, check_id, check_name, check_user_id, parse_foreign_id
from feedline.errors import InputException

#: items per batch upsert, select or batch delete
MAX_BATCH = 1000


def upsert_batch(body: dict) -> dict[str, list[tuple[str, dict[str, Any], str]]]:
    """``{"data": {name: [{"id", "user_id"?, ...fields}]}}`` -> ``{name: [(id, fields, user_id)]}``.

    An item's fields other than ``id`` and ``user_id`` are its ``data`` (stream-python and
    stream-js send items flat: ``{"id": "1", "name": "Juniper"}``).
    """
    data = body.get("data")
    if not isinstance(data, dict) or not data:
        raise InputException.field("data", "expected {collection_name: [items]}")
    out: dict[str, list[tuple[str, dict[str, Any], str]]] = {}
    count = 0
    for name, items in data.items():
        check_name(name, "data")
        if not isinstance(items, list):
            raise InputException.field("data", f"{name}: expected a list of items")
        count += len(items)
        if count > MAX_BATCH:
            raise InputException.field("data", f"at most {MAX_BATCH} items per upsert")
        parsed: dict[str, tuple[str, dict[str, Any], str]] = {}
        for item in items:
            if not isinstance(item, dict):
                raise InputException.field("data", f"{name}: every item must be an object")
            item_id = check_id(item.get("id"))
            fields = {k: v for k, v in item.items() if k not in ("id", "user_id")}
            parsed[item_id] = (item_id, check_data(fields, required=True), check_user_id(item.get("user_id")))
        out[name] = list(parsed.values())  # the last of a repeated id wins, once
    return out


def foreign_ids(values: list[str]) -> list[tuple[str, str]]:
    if not values:
        raise InputException.field("foreign_ids", "give collection_name:id values, comma-separated")
    if len(values) > MAX_BATCH:
        raise InputException.field("foreign_ids", f"at most {MAX_BATCH} values")
    return [parse_foreign_id(v) for v in values]


def delete_ids(values: list[str]) -> list[str]:
    if not values:
        raise InputException.field("ids", "give the ids to delete, comma-separated")
    if len(values) > MAX_BATCH:
        raise InputException.field("ids", f"at most {MAX_BATCH} ids")
    return [check_id(v, "ids") for v in values]
