from __future__ import annotations

import json

import pytest

from feedline.activities.model import MAX_ACTIVITY_BYTES, build, key_for
from feedline.errors import InputException
from feedline.models.feeds import parse_target

NOW = 1_500_000_000_000_000


def test_defaults_and_stringification():
    a = build({"actor": 1, "verb": "v", "object": 2.5}, NOW)
    assert (a.actor, a.object, a.target, a.foreign_id) == ("1", "2.5", "", "")
    assert a.time == "2017-07-14T02:40:00.000000"
    body = json.loads(a.body)
    assert body["id"] == a.id and "to" not in body


def test_id_determinism():
    fid1 = build({"actor": "a", "verb": "v", "object": "o", "foreign_id": "f:1", "time": "2017-01-01T00:00:00"}, NOW)
    fid1b = build({"actor": "b", "verb": "w", "object": "p", "foreign_id": "f:1", "time": "2017-01-01T00:00:00"}, NOW)
    fid2 = build({"actor": "a", "verb": "v", "object": "o", "foreign_id": "f:2", "time": "2017-01-01T00:00:00"}, NOW)
    assert fid1.id == fid1b.id != fid2.id
    c1 = build({"actor": "a", "verb": "v", "object": "o", "x": [1]}, NOW)
    c2 = build({"actor": "a", "verb": "v", "object": "o", "x": [1], "to": ["user:1"]}, NOW)
    c3 = build({"actor": "a", "verb": "v", "object": "o", "x": [2]}, NOW)
    assert c1.id == c2.id != c3.id  # `to` is not part of the content identity


@pytest.mark.parametrize("payload,field", [
    ({"verb": "v", "object": "o"}, "actor"),
    ({"actor": "a", "object": "o"}, "verb"),
    ({"actor": "a", "verb": "v"}, "object"),
    ({"actor": {"x": 1}, "verb": "v", "object": "o"}, "actor"),
    ({"actor": "a", "verb": "v" * 256, "object": "o"}, "verb"),
    ({"actor": "a", "verb": "v", "object": "o", "time": "nope"}, "time"),
    ({"actor": "a", "verb": "v", "object": "o", "to": "user:1"}, "to"),
    ({"actor": "a", "verb": "v", "object": "o", "to": ["bad id"]}, "to"),
    ({"actor": "a", "verb": "v", "object": "o", "foreign_id": ["x"]}, "foreign_id"),
    ({"actor": "a", "verb": "v", "object": "o", "origin": "x"}, "origin"),
    ({"actor": "a", "verb": "v", "object": "o", "is_read": True}, "is_read"),
])
def test_rejections_name_the_field(payload, field):
    with pytest.raises(InputException) as err:
        build(payload, NOW)
    assert field in err.value.fields and err.value.code == 4


def test_size_limit():
    ok = build({"actor": "a", "verb": "v", "object": "o", "x": "y" * (MAX_ACTIVITY_BYTES - 200)}, NOW)
    assert len(ok.body) <= MAX_ACTIVITY_BYTES
    with pytest.raises(InputException):
        build({"actor": "a", "verb": "v", "object": "o", "x": "y" * MAX_ACTIVITY_BYTES}, NOW)


def test_to_targets_strip_tokens_and_dedupe():
    a = build({"actor": "a", "verb": "v", "object": "o", "to": ["user:1 eyJtoken", "user:1", ["topic:2", "tok"]]}, NOW)
    assert a.to == ("user:1", "topic:2")
    assert parse_target("notification:x-y token") == "notification:x-y"


def test_size_limit_counts_utf8_not_escapes():
    # 3,000 CJK characters: 9 KB in UTF-8 (allowed), 18 KB once \u-escaped for storage
    a = build({"actor": "a", "verb": "v", "object": "o", "text": "日" * 3000}, NOW)
    assert len(a.body) > MAX_ACTIVITY_BYTES and a.body.isascii()
    with pytest.raises(InputException):
        build({"actor": "a", "verb": "v", "object": "o", "text": "日" * 3500}, NOW)


# ---- issue 15: values no client could read back are refused before storage -----------------
BASE = {"actor": "a", "verb": "v", "object": "o"}


@pytest.mark.parametrize("extra,field", [
    ({"verb": "\ud800"}, "verb"),
    ({"actor": "x\udfff"}, "actor"),
    ({"foreign_id": "\ud800"}, "foreign_id"),
    ({"target": "\ud800"}, "target"),
    ({"custom": {"a": ["\ud800"]}}, "custom"),
    ({"custom": {"\ud800": 1}}, "custom"),
    ({"\ud800": 1}, "\\ud800"),
    ({"to": ["user:\ud800"]}, "to"),
    ({"actor": 1e999}, "actor"),  # would have been stored as the string "inf"
    ({"foreign_id": float("nan")}, "foreign_id"),
    ({"score_x": -1e999}, "score_x"),
    ({"custom": [1, {"n": float("inf")}]}, "custom"),
])
def test_unstorable_values_name_their_field(extra, field):
    with pytest.raises(InputException) as err:
        build({**BASE, **extra}, NOW)
    assert field in err.value.fields and err.value.code == 4
    json.dumps(err.value.payload(), ensure_ascii=False).encode("utf-8")  # the envelope encodes


def nest(depth: int) -> object:
    value: object = 1
    for _ in range(depth):
        value = {"n": value}
    return value


def test_nesting_depth_limit_counts_the_activity_as_level_one():
    from feedline.models.values import MAX_DEPTH

    ok = build({**BASE, "deep": nest(MAX_DEPTH - 1)}, NOW)  # activity (1) + 31 levels
    assert json.loads(ok.body)["deep"] == nest(MAX_DEPTH - 1)
    with pytest.raises(InputException) as err:
        build({**BASE, "deep": nest(MAX_DEPTH)}, NOW)
    assert "deeper than 32" in err.value.fields["deep"][0]
    with pytest.raises(InputException):  # as deep as the parser allows: no RecursionError
        build({**BASE, "deep": nest(1000)}, NOW)


def test_time_offset_out_of_datetime_range():
    for t in ("0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"):
        with pytest.raises(InputException) as err:
            build({**BASE, "time": t}, NOW)
        assert "time" in err.value.fields
        with pytest.raises(InputException) as err:
            key_for("f:1", t)
        assert "time" in err.value.fields


def test_key_for_refuses_a_surrogate_foreign_id():
    with pytest.raises(InputException) as err:
        key_for("f\ud800", "2017-01-01T00:00:00")
    assert "foreign_id" in err.value.fields


def test_deeply_nested_target_is_described_without_recursion():
    deep: object = "user:1"
    for _ in range(1000):
        deep = [deep]
    with pytest.raises(InputException) as err:
        parse_target(deep, "added_targets")
    assert len(err.value.detail) < 200 and len(err.value.fields["added_targets"][0]) < 200
    with pytest.raises(InputException):
        build({**BASE, "to": [deep[0]]}, NOW)


@pytest.mark.parametrize("fid", ["user:1\n", "user\n:1", "user:1\r", "user:1 ", "user:", ":1", "user:1:2"])
def test_feed_ids_match_whole_strings(fid):
    from feedline.models.feeds import check_slug_uid, parse_feed_id, valid_part

    with pytest.raises(InputException):
        parse_feed_id(fid)
    slug, _, uid = fid.partition(":")
    with pytest.raises(InputException):
        check_slug_uid(slug, uid)
    assert not valid_part("1\n") and valid_part("a-b_c9é")
