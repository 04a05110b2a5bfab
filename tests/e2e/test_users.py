"""Users (spec §2.7) through stream-python's ``client.users`` and raw HTTP, on every backend."""

from __future__ import annotations

import json
import re
import uuid

import jwt
import pytest
from stream import exceptions as exc

from tests.conftest import API_SECRET

from .test_errors_and_auth import assert_error, raw

pytestmark = pytest.mark.e2e


def user_token(user_id: str) -> str:
    return jwt.encode({"user_id": user_id}, API_SECRET, algorithm="HS256")


def test_add_get_update_delete(client):
    uid = str(uuid.uuid1())
    created = client.users.add(uid, {"name": "Mike", "nested": {"a": [1, 2.5, None]}})
    assert set(created) == {"id", "data", "created_at", "updated_at", "duration"}
    assert created["id"] == uid and created["data"] == {"name": "Mike", "nested": {"a": [1, 2.5, None]}}
    assert created["created_at"] == created["updated_at"] and created["created_at"].endswith("Z")
    got = client.users.get(uid)
    got.pop("duration"), created.pop("duration")
    assert got == created
    updated = client.users.update(uid, {"changed": True})
    assert updated["data"] == {"changed": True} and updated["created_at"] == created["created_at"]
    assert updated["updated_at"] >= created["updated_at"]
    assert client.users.get(uid)["data"] == {"changed": True}
    client.users.delete(uid)
    with pytest.raises(exc.DoesNotExistException) as err:
        client.users.get(uid)
    assert err.value.status_code == 404


def test_add_without_data_and_get_or_create(client):
    uid = str(uuid.uuid1())
    r1 = client.users.add(uid)
    assert r1["data"] == {}
    r2 = client.users.add(uid, {"ignored": 1}, get_or_create=True)
    for k in ("id", "data", "created_at", "updated_at"):
        assert r1[k] == r2[k]  # the stored user, unchanged
    with pytest.raises(exc.StreamApiException) as err:
        client.users.add(uid, {"x": 1})
    assert err.value.status_code == 409
    assert client.users.get(uid)["data"] == {}


def test_stored_bytes_are_the_create_response(dev_server):
    """Enrichment will embed the stored bytes: the create, get and get_or_create answers are the
    same bytes, duration aside."""
    uid = uuid.uuid4().hex
    body = json.dumps({"id": uid, "data": {"name": "Zoë", "n": [1, 2.5], "o": {"b": 1, "a": None}}})
    created = raw(dev_server, "POST", "user/", body=body)
    assert created.status_code == 200
    again = raw(dev_server, "POST", "user/", body=body, get_or_create="true")
    got = raw(dev_server, "GET", f"user/{uid}/")
    assert again.status_code == 200 and got.status_code == 200
    texts = {re.sub(r',"duration":"[^"]*"}$', "}", r.text) for r in (created, again, got)}
    assert len(texts) == 1 and texts.pop().isascii()


def test_get_or_create_creates_a_new_user(client):
    uid = str(uuid.uuid1())
    assert client.users.add(uid, {"a": 1}, get_or_create=True)["data"] == {"a": 1}
    assert client.users.get(uid)["data"] == {"a": 1}


def test_with_follow_counts(client):
    uid = uuid.uuid4().hex[:12]
    client.users.add(uid)
    plain = client.users.get(uid)
    assert "followers_count" not in plain
    for i in range(3):
        client.feed("timeline", f"{uid}f{i}").follow("user", uid)
    client.feed("user", uid).follow("flat", f"{uid}x")
    got = client.users.get(uid, with_follow_counts=True)
    assert got["followers_count"] == 3 and got["following_count"] == 1
    assert got["data"] == {} and got["id"] == uid


def test_missing_user_is_404_everywhere(client, dev_server):
    uid = str(uuid.uuid1())
    for call in (lambda: client.users.get(uid), lambda: client.users.update(uid, {"a": 1}),
                 lambda: client.users.delete(uid)):
        with pytest.raises(exc.DoesNotExistException) as err:
            call()
        assert err.value.status_code == 404
    assert_error(raw(dev_server, "GET", f"user/{uid}/"), 404, 16)


def test_bad_input(client, dev_server):
    uid = str(uuid.uuid1())
    client.users.add(uid)
    for body in ('{"data": "nope"}', '{"data": [1]}', "{}", "[]", "{not json"):
        assert_error(raw(dev_server, "PUT", f"user/{uid}/", body=body), 400, 4)
    for body in ('{"id": 5}', '{"data": {}}', '{"id": "a/b"}', '{"id": "ok", "data": 3}',
                 '{"id": "ok", "data": {"n": NaN}}', json.dumps({"id": "ok", "data": {"x": "y" * 11000}})):
        assert_error(raw(dev_server, "POST", "user/", body=body), 400, 4)
    deep: dict = {}
    for _ in range(40):
        deep = {"d": deep}
    assert_error(raw(dev_server, "POST", "user/", body=json.dumps({"id": "deep", "data": deep})), 400, 4)
    assert_error(raw(dev_server, "POST", "user/", body='{"id": "sur", "data": {"s": "\\ud800"}}'), 400, 4)
    assert_error(raw(dev_server, "GET", "user/a%20b/"), 400, 4)
    with pytest.raises(exc.InputException):
        client.users.update(uid, None)


def test_user_tokens_touch_only_their_own_user(dev_server):
    me, other = uuid.uuid4().hex, uuid.uuid4().hex
    tok = user_token(me)
    resp = raw(dev_server, "POST", "user/", token=tok, body=json.dumps({"id": me, "data": {"a": 1}}))
    assert resp.status_code == 200 and resp.json()["data"] == {"a": 1}
    assert_error(raw(dev_server, "POST", "user/", token=tok, body=json.dumps({"id": other})), 403, 17)
    assert raw(dev_server, "POST", "user/", body=json.dumps({"id": other})).status_code == 200
    assert raw(dev_server, "GET", f"user/{other}/", token=tok).status_code == 200  # profiles are readable
    assert_error(raw(dev_server, "PUT", f"user/{other}/", token=tok, body='{"data": {}}'), 403, 17)
    assert_error(raw(dev_server, "DELETE", f"user/{other}/", token=tok), 403, 17)
    assert raw(dev_server, "PUT", f"user/{me}/", token=tok, body='{"data": {"b": 2}}').json()["data"] == {"b": 2}
    assert raw(dev_server, "DELETE", f"user/{me}/", token=tok).status_code == 200
    scoped = jwt.encode({"resource": "feed", "action": "*", "feed_id": "*"}, API_SECRET, algorithm="HS256")
    assert_error(raw(dev_server, "GET", f"user/{other}/", token=scoped), 403, 17)
