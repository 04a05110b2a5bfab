from __future__ import annotations

import time

import jwt
import pytest

from feedline.api.auth import Authenticator, Principal, authorize, authorize_actor, authorize_targets
from feedline.config import AppConfig
from feedline.errors import ApiKeyException, NotAllowedException, SignatureException

APP = AppConfig("key", "secret-0123456789-0123456789-0123456789")


def tok(**claims):
    return jwt.encode(claims, APP.api_secret, algorithm="HS256")


def test_authenticate_errors():
    auth = Authenticator(APP)
    with pytest.raises(ApiKeyException):
        auth.authenticate("wrong", tok(resource="*"), "jwt")
    with pytest.raises(ApiKeyException):
        auth.authenticate(None, tok(resource="*"), "jwt")
    with pytest.raises(SignatureException):
        auth.authenticate("key", jwt.encode({"resource": "*"}, "other-secret-0123456789-0123456789", algorithm="HS256"), "jwt")
    with pytest.raises(SignatureException):
        auth.authenticate("key", None, "jwt")
    with pytest.raises(SignatureException):
        auth.authenticate("key", tok(foo="bar"), "jwt")  # neither scope nor user


def test_cache_honours_exp():
    auth = Authenticator(APP)
    t = tok(resource="*", action="*", feed_id="*", exp=int(time.time()) + 1)
    assert auth.authenticate("key", t, "jwt").claims["resource"] == "*"
    time.sleep(max(0.0, auth._cache[t][1] - time.time()) + 0.05)  # the cached token expires
    with pytest.raises(SignatureException):
        auth.authenticate("key", t, "jwt")


@pytest.mark.parametrize("claims,request_,allowed", [
    ({"resource": "*", "action": "*", "feed_id": "*"}, ("feed", "read", "user:1"), True),
    ({"resource": "feed", "action": "read", "feed_id": "user1"}, ("feed", "read", "user:1"), True),
    ({"resource": "feed", "action": "read", "feed_id": "user1"}, ("feed", "write", "user:1"), False),
    ({"resource": "feed", "action": "read", "feed_id": "user1"}, ("feed", "read", "user:2"), False),
    ({"resource": "feed", "action": "*", "feed_id": "*"}, ("follower", "read", "user:1"), False),
    ({"resource": "feed,follower", "action": "read,write", "feed_id": "*"}, ("follower", "write", "user:1"), True),
    ({"resource": "follower", "action": "*", "feed_id": "user1"}, ("follower", "write", None), False),
])
def test_scope_tokens(claims, request_, allowed):
    who = Principal(claims, None)
    if allowed:
        authorize(APP, who, *request_)
    else:
        with pytest.raises(NotAllowedException):
            authorize(APP, who, *request_)


def test_user_policy():
    bob = Principal({"user_id": "bob"}, "bob")
    authorize(APP, bob, "feed", "write", "timeline:bob")
    authorize(APP, bob, "feed", "read", "user:alice")
    for args in [("feed", "read", "timeline:alice"), ("feed", "write", "user:alice"),
                 ("follower", "read", "user:alice"), ("activities", "write", None)]:
        with pytest.raises(NotAllowedException):
            authorize(APP, bob, *args)
    authorize_targets(APP, bob, ("notification:alice", "user:bob"))
    with pytest.raises(NotAllowedException):
        authorize_targets(APP, bob, ("timeline:alice",))
    authorize_actor(bob, "SU:bob")
    authorize_actor(bob, "bob")
    with pytest.raises(NotAllowedException):
        authorize_actor(bob, "SU:alice")
