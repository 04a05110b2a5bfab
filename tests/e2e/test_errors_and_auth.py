"""Bad input and authentication give Stream-style errors (never a 500), through the real HTTP path."""

from __future__ import annotations

import jwt
import pytest
import requests
import stream
from stream import exceptions as exc

from tests.conftest import API_KEY, API_SECRET

pytestmark = pytest.mark.e2e


def raw(dev_server, method, path, token=None, body=None, key=API_KEY, **params):
    token = token or jwt.encode({"resource": "*", "action": "*", "feed_id": "*"}, API_SECRET, algorithm="HS256")
    return requests.request(method, f"{dev_server.base_url}/api/v1.0/{path}", params={"api_key": key, **params},
                            headers={"Authorization": token, "stream-auth-type": "jwt"},
                            data=body, timeout=10)


def assert_error(resp, status, code):
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["code"] == code and body["status_code"] == status
    assert body["exception"] and body["detail"] and body["duration"].endswith("ms")
    return body


def test_missing_actor_is_input_exception(client, uid):
    with pytest.raises(exc.InputException) as err:
        client.feed("user", uid).add_activity({"verb": "v", "object": "o"})
    assert err.value.status_code == 400
    assert "actor" in str(err.value)


def test_input_errors_carry_exception_fields(dev_server, uid):
    resp = raw(dev_server, "POST", f"feed/user/{uid}/", body='{"verb": "v", "object": "o", "id": "x", "to": "abc"}')
    body = assert_error(resp, 400, 4)
    assert set(body["exception_fields"]) == {"actor", "id", "to"}


def test_oversized_activity(client, uid):
    with pytest.raises(exc.InputException) as err:
        client.feed("user", uid).add_activity({"actor": "a", "verb": "v", "object": "o", "blob": "x" * 11000})
    assert "10240" in str(err.value)
    assert client.feed("user", uid).get()["results"] == []  # nothing half-stored


def test_reserved_field_rejected(client, uid):
    with pytest.raises(exc.InputException):
        client.feed("user", uid).add_activity({"actor": "a", "verb": "v", "object": "o", "score": 3})


def test_bad_feed_id(dev_server):
    assert_error(raw(dev_server, "GET", "feed/us$er/1/"), 400, 4)
    assert_error(raw(dev_server, "GET", "feed/user/a%20b/"), 400, 4)
    assert_error(raw(dev_server, "POST", "follow_many/", body='[{"source": "timeline:1", "target": 5}]'), 400, 4)


def test_unknown_feed_group(dev_server):
    assert_error(raw(dev_server, "GET", "feed/nosuchgroup/1/"), 400, 6)


def test_bad_json_and_bad_params(dev_server, uid):
    assert_error(raw(dev_server, "POST", f"feed/user/{uid}/", body="{not json"), 400, 4)
    assert_error(raw(dev_server, "GET", f"feed/user/{uid}/", id_lt="not-a-uuid"), 400, 4)
    assert_error(raw(dev_server, "GET", f"feed/user/{uid}/", limit="ten"), 400, 4)
    assert_error(raw(dev_server, "POST", f"feed/timeline/{uid}/follows/", body='{"target": "timeline:' + uid + '"}'), 400, 4)
    assert_error(raw(dev_server, "POST", f"feed/timeline/{uid}/follows/", body='{"target": "user:x", '
                                                                            '"activity_copy_limit": 5000}'), 400, 4)


def test_unknown_endpoint_is_stream_error(dev_server):
    body = assert_error(raw(dev_server, "GET", "no/such/thing/"), 404, 1)
    assert body["exception"]


def test_wrong_secret_is_signature_exception(dev_server, uid):
    bad = stream.connect(API_KEY, "not-the-secret-0123456789-0123456789", base_url=dev_server.base_url)
    with pytest.raises(exc.SignatureException) as err:
        bad.feed("user", uid).get()
    assert err.value.status_code == 401


def test_unknown_key_is_api_key_exception(dev_server, uid):
    bad = stream.connect("unknown-key", API_SECRET, base_url=dev_server.base_url)
    with pytest.raises(exc.ApiKeyException) as err:
        bad.feed("user", uid).get()
    assert err.value.status_code == 401


def test_missing_token(dev_server, uid):
    resp = requests.get(f"{dev_server.base_url}/api/v1.0/feed/user/{uid}/", params={"api_key": API_KEY}, timeout=10)
    assert_error(resp, 401, 3)


def test_scope_token_out_of_scope_is_403(dev_server, uid):
    token = jwt.encode({"resource": "feed", "action": "read", "feed_id": f"user{uid}"}, API_SECRET, algorithm="HS256")
    assert raw(dev_server, "GET", f"feed/user/{uid}/", token=token).status_code == 200
    assert_error(raw(dev_server, "GET", f"feed/user/other{uid}/", token=token), 403, 17)
    assert_error(raw(dev_server, "POST", f"feed/user/{uid}/", token=token,
                     body='{"actor": "a", "verb": "v", "object": "o"}'), 403, 17)


def test_expired_token(dev_server, uid):
    token = jwt.encode({"resource": "*", "action": "*", "feed_id": "*", "exp": 1000}, API_SECRET, algorithm="HS256")
    assert_error(raw(dev_server, "GET", f"feed/user/{uid}/", token=token), 401, 3)


class TestUserTokens:
    """The default user-token policy of docs/api.md §2.3."""

    def user_client(self, dev_server, user_id):
        return stream.connect(API_KEY, API_SECRET, base_url=dev_server.base_url)

    def token(self, user_id):
        return jwt.encode({"user_id": user_id}, API_SECRET, algorithm="HS256")

    def test_user_token_reads_own_and_public_feeds_only(self, dev_server, client, uid):
        alice, bob = f"alice{uid}", f"bob{uid}"
        client.feed("user", alice).add_activity({"actor": alice, "verb": "v", "object": "o"})
        t = self.token(bob)
        assert raw(dev_server, "GET", f"feed/timeline/{bob}/", token=t).status_code == 200
        assert raw(dev_server, "GET", f"feed/user/{alice}/", token=t).status_code == 200  # bob reads alice's user feed
        assert_error(raw(dev_server, "GET", f"feed/timeline/{alice}/", token=t), 403, 17)  # not her timeline

    def test_user_token_writes(self, dev_server, uid):
        bob = f"bob{uid}"
        t = self.token(bob)
        ok = raw(dev_server, "POST", f"feed/user/{bob}/", token=t, body=f'{{"actor": "SU:{bob}", "verb": "v", "object": "o"}}')
        assert ok.status_code == 200, ok.text
        # impersonation, posting to someone else's feed directly or via `to`
        assert_error(raw(dev_server, "POST", f"feed/user/{bob}/", token=t,
                         body='{"actor": "SU:eve", "verb": "v", "object": "o"}'), 403, 17)
        assert_error(raw(dev_server, "POST", f"feed/timeline/eve{uid}/", token=t,
                         body=f'{{"actor": "{bob}", "verb": "v", "object": "o"}}'), 403, 17)
        assert_error(raw(dev_server, "POST", f"feed/user/{bob}/", token=t,
                         body=f'{{"actor": "{bob}", "verb": "v", "object": "o", "to": ["timeline:eve{uid}"]}}'), 403, 17)
        # following on behalf of others, or listing their followers
        assert_error(raw(dev_server, "POST", f"feed/timeline/eve{uid}/follows/", token=t,
                         body=f'{{"target": "user:{bob}"}}'), 403, 17)
        assert_error(raw(dev_server, "GET", f"feed/user/eve{uid}/followers/", token=t), 403, 17)
        # app-level endpoints need a server token
        assert_error(raw(dev_server, "POST", "follow_many/", token=t, body="[]"), 403, 17)


def test_user_token_may_notify_others_through_to(dev_server, client, uid):
    """Spec §4: a user may not post to others' timelines via `to`, but may target their notification feed."""
    bob, alice = f"bob{uid}", f"alice{uid}"
    t = jwt.encode({"user_id": bob}, API_SECRET, algorithm="HS256")
    ok = raw(dev_server, "POST", f"feed/user/{bob}/", token=t,
             body=f'{{"actor": "SU:{bob}", "verb": "follow", "object": "SU:{alice}", "to": ["notification:{alice}"]}}')
    assert ok.status_code == 200, ok.text
    [group] = client.feed("notification", alice).get()["results"]
    assert group["verb"] == "follow" and group["activities"][0]["actor"] == f"SU:{bob}"


def test_unknown_ranking_is_missing_ranking_exception(client, uid):
    with pytest.raises(exc.MissingRankingException) as err:
        client.feed("user", uid).get(ranking="popularity")
    assert err.value.status_code == 400
