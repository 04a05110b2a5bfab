"""The reactions room's pure functions: canonical bytes, ids and keys, the data validator."""

from __future__ import annotations

import json
import math
import uuid

import pytest

from feedline.errors import InputException
from feedline.models import ids
from feedline.reactions import model

T = 1_700_000_000_123_456


def test_body_bytes_are_canonical_ascii_in_spec_order():
    body = model.encode_body("r1", "like", "act", "u1", {"z": 1, "a": "é/"}, "", T, T + 1, ["user:x"], None)
    assert body == (b'{"id":"r1","kind":"like","activity_id":"act","user_id":"u1","data":{"a":"\\u00e9/","z":1},'
                    b'"parent":"","created_at":"2023-11-14T22:13:20.123456Z","updated_at":"2023-11-14T22:13:20.123457Z",'
                    b'"target_feeds":["user:x"]}')
    deleted = json.loads(model.encode_body("r1", "like", "act", "u1", {}, "p", T, T, (), T + 5))
    assert deleted["deleted_at"] == "2023-11-14T22:13:20.123461Z" and "target_feeds" not in deleted


def test_children_members_and_splicing():
    child = model.reaction_bytes(model.encode_body("c1", "like", "a", "u", {}, "p", T, T), None)
    members = model.encode_children({"like": [child], "reply": []}, {"like": 3, "reply": 0})
    full = model.reaction_bytes(model.encode_body("p", "comment", "a", "u", {}, "", T, T), members)
    doc = json.loads(full)
    assert doc["children_counts"] == {"like": 3} and doc["latest_children"] == {"like": [json.loads(child)]}
    assert json.loads(model.reaction_bytes(b'{"id":"x"}', None)) == {"id": "x", "latest_children": {},
                                                                     "children_counts": {}}
    assert json.loads(model.with_member(full, "own_children", b"{}"))["own_children"] == {}


def test_ids_and_keys():
    u1 = uuid.uuid1()
    assert model.parse_id(str(u1).upper()) == str(u1) and model.parse_id(u1.hex) == str(u1)
    for bad in ("x", 5, None, "", str(u1) + "0", "{" + str(u1)[:-2] + "}"):
        with pytest.raises(InputException):
            model.parse_id(bad)
    assert model.key_of(str(u1), T) == ids.uuid_to_key(str(u1))  # a time-based id is its own key
    v4 = str(uuid.uuid4())
    assert ids.key_time_us(model.key_of(v4, T)) == T and model.key_of(v4, T) == model.key_of(v4, T)
    k = model.new_key(T)
    assert ids.key_time_us(k) == T and k != model.new_key(T)


def test_kinds_follow_the_slug_rule():
    assert model.valid_kind("like") and model.valid_kind("super-like_2")
    for bad in ("", "li ke", "like\n", "a:b", "x" * 256, 3, None):
        assert not model.valid_kind(bad)


@pytest.mark.parametrize("value", [math.nan, math.inf, {"a": [-math.inf]}, "\ud800", {"\udfff": 1}, {1: 2},
                                   b"bytes", object()])
def test_check_data_rejects(value):
    with pytest.raises(InputException):
        model.check_data(value, "data")


def test_check_data_depth_limit():
    ok: dict = {}
    for _ in range(model.MAX_DEPTH):
        ok = {"d": ok}
    model.check_data(ok, "data")
    with pytest.raises(InputException):
        model.check_data({"d": ok}, "data")
    model.check_data({"n": 1.5, "b": True, "s": "日本", "l": [None, 1]}, "data")
