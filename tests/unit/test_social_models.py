"""The pure parts of the users, collections and analytics rooms: stored bytes, value checks,
event validation; and the batch clock of ActivityService.validate."""

from __future__ import annotations

import json

import pytest

from feedline.activities.service import ActivityService
from feedline.analytics import model as events
from feedline.collections import inputs
from feedline.collections import model as items
from feedline.config import AppConfig
from feedline.errors import InputException
from feedline.models import ids
from feedline.models.plain import check_plain
from feedline.users import model as users

T = 1_500_000_000_123_456


def test_user_bytes_are_canonical_ascii_and_ordered():
    body = users.encode("u1", {"b": 1, "a": "☃/"}, T, T + 1)
    assert body == (b'{"id":"u1","data":{"a":"\\u2603/","b":1},"created_at":"2017-07-14T02:40:00.123456Z",'
                    b'"updated_at":"2017-07-14T02:40:00.123457Z"}')
    assert body.isascii() and json.loads(body)["data"] == {"a": "☃/", "b": 1}
    counted = users.with_counts(body, 3, 0)
    assert json.loads(counted)["followers_count"] == 3 and json.loads(counted)["following_count"] == 0
    with pytest.raises(InputException):
        users.encode("u1", {"x": "y" * 11000}, T, T)


def test_item_bytes():
    body = items.encode("food", "a:b", {"n": 1}, T, T)
    assert json.loads(body) == {"id": "a:b", "collection": "food", "foreign_id": "food:a:b", "data": {"n": 1},
                                "created_at": "2017-07-14T02:40:00.123456Z", "updated_at": "2017-07-14T02:40:00.123456Z"}
    assert list(json.loads(body)) == ["id", "collection", "foreign_id", "data", "created_at", "updated_at"]
    owned = items.encode("food", "a:b", {"n": 1}, T, T, "ann")
    assert owned == body[:-1] + b',"user_id":"ann"}'
    assert items.parse_foreign_id("food:a:b") == ("food", "a:b")
    for bad in ("nocolon", "bad$:1", "food:", "food:a,b"):
        with pytest.raises(InputException):
            items.parse_foreign_id(bad)


@pytest.mark.parametrize("value", [float("nan"), [float("inf")], {"a": 2**64}, "\ud800", {"k\udfff": 1},
                                   {1: "non-string key"}, b"bytes", {"s": {1, 2}}])
def test_check_plain_rejects(value):
    with pytest.raises(InputException):
        check_plain(value, "data")


def test_check_plain_depth():
    ok: object = 1
    for _ in range(32):
        ok = [ok]
    check_plain(ok, "data")
    with pytest.raises(InputException) as err:
        check_plain([ok], "data")
    assert "deeper than 32" in err.value.fields["data"][0]
    check_plain({"a": [1, 2.5, None, True, "☃", -(2**63), 2**64 - 1]}, "data")


def test_ids_and_names():
    for good in ("a", "user-1_x", "mail@x.org", "a+b", "6045bfa0-a467-11e7-8080-80005886bfee"):
        assert users.check_id(good) == good
    for bad in ("", "a/b", "a b", "x" * 256, 5, None, "a\n"):
        with pytest.raises(InputException):
            users.check_id(bad)
    with pytest.raises(InputException):
        items.check_id("a,b")
    with pytest.raises(InputException):
        items.check_name("a:b")


def test_upsert_batch_shape():
    got = inputs.upsert_batch({"data": {"c": [{"id": "1", "name": "J", "user_id": "ann"}, {"id": "2"},
                                               {"id": "1", "name": "K"}]}})
    assert got == {"c": [("1", {"name": "K"}, ""), ("2", {}, "")]}  # the last of a repeated id wins


def test_events():
    [e] = events.engagements({"content_list": [{"content": "c", "label": "l", "user_data": {"id": 7}}]}, T)
    assert (e.kind, e.user_id, e.feed_id) == ("engagement", "7", "") and ids.key_time_us(e.key) == T
    assert json.loads(e.body) == {"kind": "engagement", "content": "c", "label": "l", "user_data": {"id": 7},
                                  "time": "2017-07-14T02:40:00.123456"}
    assert events.impressions({}, T) == []
    [future] = events.impressions({"content_list": ["a"], "user_data": "u", "time": "2999-01-01T00:00:00"}, T)
    assert ids.key_time_us(future.key) == T  # a client time is never later than the server's
    two = events.impressions([{"content_list": ["a"], "user_data": "u", "feed_id": "user:1"}] * 2, T)
    assert len({e.key for e in two}) == 1  # the same event twice is one key (stored once)
    with pytest.raises(InputException):
        events.engagements({"content_list": [{"content": "c", "label": "l", "user_data": True}]}, T)


def test_batch_times_increase_in_batch_order():
    svc = ActivityService(AppConfig("k", "s"), None, None, None, clock=lambda: T)  # type: ignore[arg-type]
    acts = svc.validate([{"actor": "a", "verb": "v", "object": str(i)} for i in range(5)]
                        + [{"actor": "a", "verb": "v", "object": "x", "time": "2017-01-01T00:00:00"}])
    assert [a.time_us for a in acts[:5]] == [T + i for i in range(5)]
    assert acts[5].time == "2017-01-01T00:00:00.000000"
    keys = [a.key for a in acts[:5]]
    assert keys == sorted(keys)


def test_event_reads_are_bounded():
    from feedline.analytics.service import DAY_US, MAX_WINDOW_DAYS, AnalyticsService

    asked = []

    class Events:
        def user_events(self, *args):
            asked.append(args)
            return []

    class Stores:
        events = Events()

    AnalyticsService(Stores()).user_events("u", 0, T, 10**6)  # type: ignore[arg-type]
    assert asked == [("u", T - MAX_WINDOW_DAYS * DAY_US, T, 1000)]
