"""Every write path publishes through the feeds service (realtime.publisher): direct adds, ``to``,
fan-out (queued chunks and inline), removals, ``to`` changes, delete-everywhere; aggregated feeds
carry their group; add_to_many does not publish (as Stream). The hub is the publisher here."""

from __future__ import annotations

import pytest
import ujson

from feedline.activities.inputs import TargetsChange
from feedline.config import AppConfig, Settings
from feedline.models import ids
from feedline.realtime.hub import Hub
from feedline.runtime import build
from feedline.storage.sqlite import open_stores


@pytest.fixture(params=[0, 10], ids=["queued-fanout", "inline-fanout"])
def env(tmp_path, request):
    hub = Hub("local")
    stores = open_stores(tmp_path / "f.db")
    settings = Settings(app=AppConfig("k", "s"), fanout_chunk_size=2, inline_fanout=request.param)
    rt = build(settings, stores=stores, publisher=hub)
    yield rt, hub
    rt.close()


def watch(hub: Hub, *feeds: str) -> str:
    cid = f"c{len(hub.clients)}"
    hub.open(cid, None)
    for fid in feeds:
        hub.subscribe(cid, "/site-local-feed-" + fid.replace(":", ""), None)
    return cid


def received(hub: Hub, cid: str) -> list[dict]:
    return [ujson.loads(m)["data"] for m in hub.drain(cid)]


def add(rt, fid: str, **fields) -> str:
    [act] = rt.activities.validate([{"actor": "a", "verb": "post", "object": "o", **fields}])
    rt.activities.add(fid, [act])
    return act.id


def test_adds_through_to_and_followers_and_their_removal(env):
    rt, hub = env
    for i in range(5):  # 5 followers, chunks of 2: a plan and chunk messages when queued
        rt.follows.follow(f"timeline:f{i}", "user:1", 0)
    cid = watch(hub, "user:1", "timeline:f4", "notification:n1", "aggregated:g1")
    other = watch(hub, "user:2")
    aid = add(rt, "user:1", to=["notification:n1", "aggregated:g1"], foreign_id="post:1")
    got = {m["feed"]: m for m in received(hub, cid)}
    assert set(got) == {"user:1", "timeline:f4", "notification:n1", "aggregated:g1"}
    assert [a["id"] for a in got["user:1"]["new"]] == [aid] and got["user:1"]["new"][0]["origin"] is None
    assert got["timeline:f4"]["new"][0]["origin"] == "user:1"
    assert got["notification:n1"]["new"][0]["group"] and got["aggregated:g1"]["new"][0]["group"]
    assert "group" not in got["user:1"]["new"][0]
    assert received(hub, other) == []

    rt.activities.remove("user:1", aid, False)
    gone = {m["feed"]: m for m in received(hub, cid)}
    assert set(gone) == {"user:1", "timeline:f4", "notification:n1", "aggregated:g1"}
    assert all(m["deleted"] == [aid] and m["deleted_foreign_ids"][0][0] == "post:1" for m in gone.values())


def test_batches_to_changes_delete_everywhere_and_add_to_many(env):
    rt, hub = env
    cid = watch(hub, "user:1", "notification:n2", "flat:x")
    acts = rt.activities.validate([{"actor": "a", "verb": "post", "object": f"o{i}"} for i in range(3)])
    rt.activities.add("user:1", acts)
    [batch] = received(hub, cid)  # one message for the batch
    assert [a["id"] for a in batch["new"]] == [a.id for a in acts]

    key = acts[0].key
    rt.activities.change_targets("user:1", TargetsChange(key, None, ["notification:n2"], []))
    [m] = received(hub, cid)
    assert m["feed"] == "notification:n2" and [a["id"] for a in m["new"]] == [acts[0].id]
    rt.activities.change_targets("user:1", TargetsChange(key, None, [], ["notification:n2"]))
    [m] = received(hub, cid)
    assert m["feed"] == "notification:n2" and m["deleted"] == [acts[0].id]

    rt.activities.delete_everywhere([acts[1].key])
    [m] = received(hub, cid)
    assert m["feed"] == "user:1" and m["deleted"] == [acts[1].id] and m["deleted_foreign_ids"] == []

    rt.activities.add_to_many({"actor": "a", "verb": "post", "object": "many"}, ["flat:x", "user:1"])
    assert received(hub, cid) == []  # Stream's add_to_many sends no realtime messages
    assert ids.key_to_uuid(key) == acts[0].id


def test_unwatched_feeds_cost_no_body_look_up(env, monkeypatch):
    rt, hub = env
    calls = []
    real = rt.stores.activities.get_bodies
    monkeypatch.setattr(rt.stores.activities, "get_bodies", lambda keys: calls.append(keys) or real(keys))
    rt.follows.follow("timeline:t", "user:1", 0)
    aid = add(rt, "user:1")
    rt.activities.remove("user:1", aid, False)
    assert calls == []


def test_a_failing_publisher_never_fails_the_write(env, monkeypatch):
    rt, hub = env
    watch(hub, "user:1")
    monkeypatch.setattr(hub, "publish", lambda changes: 1 / 0)
    aid = add(rt, "user:1")
    rt.activities.remove("user:1", aid, False)
    assert rt.stores.timelines.feeds_of_activity(ids.uuid_to_key(aid)) == []


def test_marks_of_notification_feeds_are_pushed(env):
    from feedline.feeds.base import ReadQuery

    rt, hub = env
    cid = watch(hub, "notification:n3", "user:1")
    add(rt, "user:1", to=["notification:n3"])
    received(hub, cid)
    rt.feeds.read("notification:n3", ReadQuery(mark_seen=True))
    [m] = received(hub, cid)
    assert m["feed"] == "notification:n3" and m["mark_seen"] == "all" and "mark_read" not in m
    assert m["new"] == [] and m["deleted"] == []
    rt.feeds.mark("notification:n3", None, ["g1", "g2"])
    [m] = received(hub, cid)
    assert m["mark_read"] == ["g1", "g2"] and "mark_seen" not in m
    rt.feeds.read("notification:n3", ReadQuery())  # a plain read marks nothing
    rt.feeds.read("user:1", ReadQuery(mark_seen=True))  # flat feeds have no marks
    assert received(hub, cid) == []


def test_reactions_reach_their_target_feeds(env):
    from feedline.reactions.inputs import NewReaction

    rt, hub = env
    aid = add(rt, "user:1")
    cid = watch(hub, "notification:owner")
    body = ujson.loads(rt.reactions.add(NewReaction("like", "u2", aid, "", {}, target_feeds=("notification:owner",))))
    [m] = received(hub, cid)
    assert m["feed"] == "notification:owner" and m["new"][0]["verb"] == "like" and m["new"][0]["group"]
    pushed = m["new"][0]["id"]
    rt.reactions.delete(body["id"], False, None)
    [m] = received(hub, cid)
    assert m["feed"] == "notification:owner" and m["deleted"] == [pushed]
