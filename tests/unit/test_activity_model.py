from __future__ import annotations

import json

import pytest

from feedline.activities.model import MAX_ACTIVITY_BYTES, build
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
