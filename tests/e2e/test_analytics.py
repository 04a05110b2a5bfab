"""Analytics events (spec §2.10) through stream-python's ``track_engagements`` / ``track_impressions``:
the client's own URL (``/analytics/v1.0/…`` on the base_url host) reaches the Write function
through template.yaml, and the events are stored on every backend."""

from __future__ import annotations

import json
import time
import uuid

import jwt
import pytest
import requests
from stream import exceptions as exc

from feedline.config import Settings
from feedline.storage import open_stores
from tests.conftest import API_KEY, API_SECRET

from .test_errors_and_auth import assert_error
from .test_users import user_token

pytestmark = pytest.mark.e2e


def post(dev_server, kind, body, token=None):
    token = token or jwt.encode({"resource": "*", "action": "*", "feed_id": "*"}, API_SECRET, algorithm="HS256")
    return requests.post(f"{dev_server.base_url}/analytics/v1.0/{kind}/", params={"api_key": API_KEY},
                         headers={"Authorization": token, "stream-auth-type": "jwt"}, data=body, timeout=10)


@pytest.fixture
def stored(dev_server):
    """``stored(user_id)``: the server's stored events of a user (read through its own stores)."""
    stores = open_stores(Settings.from_env(dev_server.env))

    def read(user_id):
        now = time.time_ns() // 1000
        return [json.loads(e.body) for e in stores.events.user_events(user_id, now - 3_600_000_000, now + 1, 100)]
    yield read
    stores.close()


def test_track_engagements_and_impressions(client, stored):
    user = uuid.uuid4().hex
    assert client.get_full_url("analytics", "engagement/").endswith("/analytics/v1.0/engagement/")
    client.track_engagements([
        {"content": "1", "label": "click", "features": [{"group": "topic", "value": "js"}],
         "user_data": "tommaso", "position": 3, "feed_id": "user:thierry"},
        {"content": {"foreign_id": "tweet:34349698"}, "label": "share", "boost": 2,
         "user_data": {"id": user, "alias": "tom"}, "location": "profile_page"},
    ])
    client.track_impressions([
        {"content_list": ["tweet:34349698", "tweet:34349699"], "user_data": user, "feed_id": "flat:tommaso"},
    ])
    client.track_impressions([])  # stream-python sends {} for an empty list: nothing to store
    events = stored(user)
    assert [e["kind"] for e in events] == ["impression", "engagement"]  # newest first
    impression, engagement = events
    assert impression["content_list"] == ["tweet:34349698", "tweet:34349699"]
    assert impression["feed_id"] == "flat:tommaso" and impression["user_data"] == user
    assert engagement == {"kind": "engagement", "content": {"foreign_id": "tweet:34349698"}, "label": "share",
                          "boost": 2, "user_data": {"id": user, "alias": "tom"}, "location": "profile_page",
                          "time": engagement["time"]}
    [click] = stored("tommaso")[-1:]
    assert (click["label"], click["position"], click["feed_id"]) == ("click", 3, "user:thierry")
    assert click["features"] == [{"group": "topic", "value": "js"}]


def test_answers_duration_and_keeps_client_time(dev_server, stored):
    user = uuid.uuid4().hex
    when = time.strftime("%Y-%m-%dT%H:%M:%S.123456", time.gmtime(time.time() - 60))
    resp = post(dev_server, "engagement", json.dumps({"content_list": [
        {"content": "x", "label": "like", "user_data": user, "time": when}]}))
    assert resp.status_code == 200 and set(resp.json()) == {"duration"}
    one = post(dev_server, "impression", json.dumps({"content_list": ["a"], "user_data": user}))  # stream-js: one object
    assert one.status_code == 200
    [imp, eng] = stored(user)
    assert eng["time"] == when and imp["kind"] == "impression"


def test_bad_events_are_input_errors_and_store_nothing(client, dev_server, stored):
    user = uuid.uuid4().hex
    with pytest.raises(exc.InputException):
        client.track_engagements([{"content": "1", "user_data": user}])  # no label
    bad = [
        ("engagement", {"content_list": "x"}),
        ("engagement", {"content_list": [{"content": "1", "label": "l"}]}),  # no user_data
        ("engagement", {"content_list": [{"content": "1", "label": "l", "user_data": user, "position": -1}]}),
        ("engagement", {"content_list": [{"content": "1", "label": "l", "user_data": user, "feed_id": "nocolon"}]}),
        ("engagement", {"content_list": [{"content": "1", "label": "l", "user_data": user, "features": [{"g": 1}]}]}),
        ("engagement", {"content_list": [{"content": "1", "label": "l", "user_data": user}] * 101}),
        ("impression", [{"content_list": [], "user_data": user}]),
        ("impression", [{"content_list": ["a"], "user_data": user}, "not an object"]),
        ("impression", [{"content_list": ["x" * 11000], "user_data": user}]),
    ]
    for kind, body in bad:
        assert_error(post(dev_server, kind, json.dumps(body)), 400, 4)
    assert_error(post(dev_server, "impression", '[{"content_list": [NaN], "user_data": "u"}]'), 400, 4)
    assert_error(post(dev_server, "engagement", "{not json"), 400, 4)
    assert stored(user) == []


def test_tokens(dev_server, stored):
    me = uuid.uuid4().hex
    body = {"content_list": [{"content": "1", "label": "click", "user_data": me}]}
    assert post(dev_server, "engagement", json.dumps(body), token=user_token(me)).status_code == 200
    assert_error(post(dev_server, "engagement", json.dumps(body), token=user_token("someone")), 403, 17)
    feed_only = jwt.encode({"resource": "feed", "action": "*", "feed_id": "*"}, API_SECRET, algorithm="HS256")
    assert_error(post(dev_server, "engagement", json.dumps(body), token=feed_only), 403, 17)
    assert_error(post(dev_server, "engagement", json.dumps(body), token="garbage"), 401, 3)
    assert len(stored(me)) == 1
