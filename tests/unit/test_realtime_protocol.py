"""Realtime, pure parts: channel names, the pushed message, the Bayeux server over the local hub."""

from __future__ import annotations

import jwt
import pytest
import ujson

from feedline.config import AppConfig, FeedGroup
from feedline.models import ids
from feedline.realtime.access import Access
from feedline.realtime.channels import ChannelError, channel_of, feeds_of
from feedline.realtime.hub import Hub
from feedline.realtime.messages import Added, FeedChange, Removed, encode, frame
from feedline.realtime.protocol import Bayeux

SECRET = "unit-secret-0123456789-0123456789"
APP = AppConfig("key", SECRET, app_id="42")


def token(**claims) -> str:
    return jwt.encode(claims, SECRET, algorithm="HS256")


def ext(channel: str, signature: str, api_key: str = "key") -> dict:
    return {"user_id": channel[1:], "api_key": api_key, "signature": signature}


@pytest.fixture
def hub():
    return Hub("42")


@pytest.fixture
def bayeux(hub):
    n = iter(range(1000))
    return Bayeux(Access(APP), hub, timeout_s=5, new_id=lambda: f"c{next(n)}")


def handshake(bayeux) -> str:
    out = bayeux.process([{"channel": "/meta/handshake", "version": "1.0", "id": "1",
                           "supportedConnectionTypes": ["websocket", "long-polling"]}])
    [reply] = out.replies
    assert reply["successful"] is True and reply["id"] == "1" and reply["version"] == "1.0"
    assert set(reply["supportedConnectionTypes"]) == {"websocket", "long-polling"}
    assert reply["advice"] == {"reconnect": "retry", "interval": 0, "timeout": 5000}
    return reply["clientId"]


# ---- channels ------------------------------------------------------------------------------------
def test_channel_names_round_trip():
    assert channel_of("42", "user:1") == "/site-42-feed-user1"
    assert feeds_of(APP, "/site-42-feed-user1") == ["user:1"]
    assert feeds_of(APP, "/site-42-feed-timelineab-c_d") == ["timeline:ab-c_d"]


def test_an_ambiguous_channel_names_every_feed_it_fits():
    app = AppConfig("key", SECRET, {"user": FeedGroup("user", "flat"), "users": FeedGroup("users", "flat")}, "42")
    assert feeds_of(app, "/site-42-feed-users1") == ["user:s1", "users:1"]


@pytest.mark.parametrize("bad", ["/site-43-feed-user1", "/site-42-feed-user", "/site-42-feed-nogroup1", "site-42-feed-user1",
                                 "/site-42-feed-user1/x", "/site-42-feed-user1\n", "/**", 7, None])
def test_other_channels_are_refused(bad):
    with pytest.raises(ChannelError):
        feeds_of(APP, bad)


# ---- the message ---------------------------------------------------------------------------------
def test_a_change_is_the_message_stream_js_reads():
    key = ids.uuid_to_key("6045bfa0-a467-11e7-8080-80005886bfee")
    body = b'{"actor":"a","foreign_id":"f:1","id":"6045bfa0-a467-11e7-8080-80005886bfee","verb":"post"}'
    channel, raw = encode("42", FeedChange("aggregated:1", [Added(key, body, "user:2", "post_2017-09-26")],
                                           [Removed(key, "f:1"), Removed(key, None)]), now_us=1_500_000_000_000_000)
    msg = ujson.loads(raw)
    assert channel == msg["channel"] == "/site-42-feed-aggregated1"
    data = msg["data"]
    assert data["feed"] == "aggregated:1" and data["app_id"] == "42"
    assert data["published_at"] == "2017-07-14T02:40:00.000000"
    assert data["new"] == [{**ujson.loads(body), "origin": "user:2", "group": "post_2017-09-26"}]
    assert data["deleted"] == [ids.key_to_uuid(key)] * 2
    assert data["deleted_foreign_ids"] == [["f:1", ids.format_time(ids.key_time_us(key))]]
    assert ujson.loads(frame([raw, raw])) == [msg, msg]


def test_a_body_that_is_not_an_object_is_refused():
    with pytest.raises(ValueError):
        encode("42", FeedChange("user:1", [Added(b"k" * 16, b"[1]")]))


# ---- the protocol --------------------------------------------------------------------------------
def test_subscribe_with_a_token_that_may_read_the_feed(bayeux, hub):
    cid = handshake(bayeux)
    ch = "/site-42-feed-user1"
    for sig in (token(resource="*", action="*", feed_id="user1"), token(resource="feed", action="read", feed_id="*"),
                token(user_id="1")):
        out = bayeux.process([{"channel": "/meta/subscribe", "clientId": cid, "subscription": ch, "id": "2",
                               "ext": ext(ch, sig)}])
        assert out.replies == [{"channel": "/meta/subscribe", "id": "2", "clientId": cid, "subscription": ch,
                                "successful": True}]
    assert hub.subscribers(ch) == 1


@pytest.mark.parametrize("sig,api_key,code", [
    (jwt.encode({"user_id": "1"}, "another-secret-0123456789-0123456789", algorithm="HS256"), "key", "403"),
    ("not.a.jwt", "key", "403"),
    (token(user_id="2"), "key", "403"),                                   # another user's (non-public) timeline
    (token(resource="*", action="*", feed_id="timeline2"), "key", "403"),  # a token for another feed
    (token(resource="feed", action="write", feed_id="*"), "key", "403"),   # write but not read
    (token(user_id="1"), "other-key", "403"),
])
def test_a_bad_signature_is_a_bayeux_error_not_a_subscription(bayeux, hub, sig, api_key, code):
    cid = handshake(bayeux)
    ch = "/site-42-feed-timeline1"
    out = bayeux.process([{"channel": "/meta/subscribe", "clientId": cid, "subscription": ch, "id": "3",
                           "ext": ext(ch, sig, api_key)}])
    [reply] = out.replies
    assert reply["successful"] is False and reply["subscription"] == ch
    assert reply["error"].split(":", 2)[0] == code
    assert hub.subscribers(ch) == 0


def test_public_feeds_take_any_users_token(bayeux, hub):
    cid = handshake(bayeux)
    ch = "/site-42-feed-user1"  # `user` is public_read in Stream's default groups
    out = bayeux.process([{"channel": "/meta/subscribe", "clientId": cid, "subscription": ch,
                           "ext": ext(ch, token(user_id="2"))}])
    assert out.replies[0]["successful"] is True


def test_missing_or_mismatched_ext_and_bad_channels(bayeux):
    cid = handshake(bayeux)
    ch = "/site-42-feed-user1"
    for message, code in [({"subscription": ch}, "403"),
                          ({"subscription": ch, "ext": {**ext(ch, token(user_id="1")), "user_id": "x"}}, "403"),
                          ({"subscription": "/site-7-feed-user1", "ext": ext(ch, token(user_id="1"))}, "405"),
                          ({"subscription": 5}, "405")]:
        out = bayeux.process([{"channel": "/meta/subscribe", "clientId": cid, **message}])
        assert out.replies[0]["successful"] is False and out.replies[0]["error"].startswith(code + ":")


def test_connect_is_held_unless_batched_and_unknown_clients_rehandshake(bayeux):
    cid = handshake(bayeux)
    out = bayeux.process([{"channel": "/meta/connect", "clientId": cid, "connectionType": "long-polling", "id": "4"}])
    assert out.replies == [] and out.hold_s == 5 and out.connect["successful"] is True and out.client_id == cid
    out = bayeux.process([{"channel": "/meta/connect", "clientId": cid, "connectionType": "long-polling",
                           "advice": {"timeout": 0}}])
    assert out.hold_s == 0
    out = bayeux.process({"channel": "/meta/connect", "clientId": "nobody", "id": "5"})
    [reply] = out.replies
    assert reply["successful"] is False and reply["error"].startswith("401:")
    assert reply["advice"]["reconnect"] == "handshake" and out.connect is None


def test_clients_cannot_publish_and_bad_frames_are_answered(bayeux):
    cid = handshake(bayeux)
    out = bayeux.process([{"channel": "/site-42-feed-user1", "clientId": cid, "data": {"new": []}}, "junk", {"x": 1}])
    assert [r["successful"] for r in out.replies] == [False, False, False]
    assert out.replies[0]["error"].startswith("403:")
    assert bayeux.process("nope").replies[0]["error"].startswith("400:")
    assert bayeux.process([{}] * 101).replies[0]["error"].startswith("400:")
    bad = bayeux.process([{"channel": "/meta/handshake", "supportedConnectionTypes": ["flash"]}]).replies[0]
    assert bad["successful"] is False and bad["error"].startswith("301:")


def test_unsubscribe_and_disconnect_forget(bayeux, hub):
    cid = handshake(bayeux)
    ch = "/site-42-feed-user1"
    bayeux.process([{"channel": "/meta/subscribe", "clientId": cid, "subscription": ch, "ext": ext(ch, token(user_id="1"))}])
    assert hub.watched(["user:1", "user:2"]) == {"user:1"}
    out = bayeux.process([{"channel": "/meta/unsubscribe", "clientId": cid, "subscription": ch}])
    assert out.replies[0]["successful"] is True and hub.watched(["user:1"]) == set()
    bayeux.process([{"channel": "/meta/subscribe", "clientId": cid, "subscription": ch, "ext": ext(ch, token(user_id="1"))}])
    assert bayeux.process([{"channel": "/meta/disconnect", "clientId": cid}]).replies[0]["successful"] is True
    assert hub.watched(["user:1"]) == set() and not hub.known(cid, None)


# ---- the hub ---------------------------------------------------------------------------------------
def test_one_publish_is_one_build_for_every_subscriber(bayeux, hub, monkeypatch):
    import feedline.realtime.hub as hub_module

    ch = "/site-42-feed-user1"
    clients = []
    for _ in range(50):
        cid = handshake(bayeux)
        bayeux.process([{"channel": "/meta/subscribe", "clientId": cid, "subscription": ch,
                         "ext": ext(ch, token(user_id="1"))}])
        clients.append(cid)
    woken = []
    hub.attach(clients[0], lambda: woken.append(1))
    builds = []
    real = hub_module.encode
    monkeypatch.setattr(hub_module, "encode", lambda *a: builds.append(1) or real(*a))
    body = b'{"id":"6045bfa0-a467-11e7-8080-80005886bfee","verb":"post"}'
    hub.publish([FeedChange("user:1", [Added(ids.uuid_to_key("6045bfa0-a467-11e7-8080-80005886bfee"), body)]),
                 FeedChange("user:2", [Added(b"\0" * 16, body)])])  # nobody watches user:2: built, sent to none
    assert len(builds) == 2 and woken == [1]
    drained = [hub.drain(c) for c in clients]
    assert all(len(d) == 1 for d in drained) and len({id(d[0]) for d in drained}) == 1  # the same bytes object
    assert ujson.loads(drained[0][0])["data"]["new"][0]["verb"] == "post"
    assert hub.drain(clients[0]) == []


def test_idle_clients_expire_and_slow_ones_keep_the_newest_messages():
    now = [0.0]
    hub = Hub("42", expire_s=10, max_outbox=2, clock=lambda: now[0])
    hub.open("a", None)
    hub.subscribe("a", "/site-42-feed-user1", None)
    for verb in ("x", "y", "z"):
        hub.publish([FeedChange("user:1", [Added(b"\0" * 16, b'{"verb":"%s"}' % verb.encode())])])
    assert [ujson.loads(m)["data"]["new"][0]["verb"] for m in hub.drain("a")] == ["y", "z"]
    now[0] = 11.0
    hub.open("b", None)  # a handshake sweeps
    assert not hub.known("a", None) and hub.watched(["user:1"]) == set()


def test_errors_fit_the_grammar_faye_parses():
    import re

    # faye's protocol/grammar.js ERROR: code, params and message in a restricted alphabet
    grammar = re.compile(r"[0-9]{3}:[A-Za-z0-9\-_!~()$@ /*.]*(,[A-Za-z0-9\-_!~()$@ /*.]*)*:[A-Za-z0-9\-_!~()$@ /*.]*")
    from feedline.realtime.protocol import error

    text = error(403, "/site-42-feed-user1", "SignatureException: signature is invalid: 'x' = \"y\"")
    assert grammar.fullmatch(text) and text.startswith("403:/site-42-feed-user1:SignatureException - ")
