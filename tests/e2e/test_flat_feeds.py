"""Flat feeds end to end: stream-python client -> HTTP -> handlers -> core -> storage."""

from __future__ import annotations

import datetime as dt

import pytest

pytestmark = pytest.mark.e2e


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def ids_of(resp) -> list[str]:
    return [a["id"] for a in resp["results"]]


def test_add_and_read_back(client, uid):
    feed = client.feed("user", uid)
    now = utcnow()
    added = feed.add_activity({"actor": f"user:{uid}", "verb": "tweet", "object": 42, "foreign_id": "tweet:1",
                               "time": now, "message": "héllo / wörld", "nested": {"b": 1, "a": [1, 2]}})
    assert added["object"] == "42"  # actor/object/target are stored as strings
    assert added["time"].replace(tzinfo=None) == now
    read = feed.get(limit=5)
    assert set(read) == {"results", "next", "duration"}
    [act] = read["results"]
    assert act["id"] == added["id"]
    assert set(act) == {"id", "actor", "verb", "object", "target", "foreign_id", "time", "origin", "message", "nested"}
    assert act["origin"] is None and act["target"] == ""
    assert act["message"] == "héllo / wörld" and act["nested"] == {"a": [1, 2], "b": 1}
    assert read["next"] == ""
    assert read["duration"].endswith("ms")


def test_add_many_returns_input_order(client, uid):
    feed = client.feed("flat", uid)
    acts = [{"actor": "a", "verb": "v", "object": f"o{i}", "time": utcnow() - dt.timedelta(minutes=i)} for i in range(5)]
    resp = feed.add_activities(acts)
    assert [a["object"] for a in resp["activities"]] == [f"o{i}" for i in range(5)]
    assert ids_of(feed.get()) == [a["id"] for a in resp["activities"]]  # newest first


def test_time_ordering_not_insertion_order(client, uid):
    feed = client.feed("user", uid)
    base = utcnow()
    late = feed.add_activity({"actor": "a", "verb": "v", "object": "late", "time": base})
    early = feed.add_activity({"actor": "a", "verb": "v", "object": "early", "time": base - dt.timedelta(days=3)})
    assert ids_of(feed.get()) == [late["id"], early["id"]]


def test_pagination_limit_offset_and_id_filters(client, uid):
    feed = client.feed("user", uid)
    base = utcnow()
    acts = feed.add_activities([
        {"actor": "a", "verb": "v", "object": f"o{i}", "time": base - dt.timedelta(seconds=i)} for i in range(30)
    ])["activities"]
    all_ids = [a["id"] for a in acts]  # newest first by construction
    first = feed.get(limit=10)
    assert ids_of(first) == all_ids[:10]
    assert first["next"].startswith(f"/api/v1.0/feed/user/{uid}/?id_lt={all_ids[9]}")
    assert ids_of(feed.get(limit=10, offset=10)) == all_ids[10:20]
    assert ids_of(feed.get(limit=5, id_lt=all_ids[9])) == all_ids[10:15]
    assert ids_of(feed.get(limit=5, id_lte=all_ids[9])) == all_ids[9:14]
    assert ids_of(feed.get(limit=100, id_gt=all_ids[5])) == all_ids[:5]
    assert ids_of(feed.get(limit=100, id_gte=all_ids[5])) == all_ids[:6]
    # stream-js fetches one activity this way
    assert ids_of(feed.get(limit=1, id_lte=all_ids[7], id_gte=all_ids[7])) == [all_ids[7]]
    # following `next` links visits every activity exactly once
    seen, params = [], {"limit": 7}
    while True:
        page = feed.get(**params)
        seen += ids_of(page)
        if not page["next"]:
            break
        query = page["next"].split("?", 1)[1]
        params = dict(p.split("=", 1) for p in query.split("&"))
    assert seen == all_ids
    assert feed.get()["results"].__len__() == 25  # default limit


def test_remove_by_id_and_foreign_id_propagates(client, uid):
    user, timeline = client.feed("user", uid), client.feed("timeline", uid)
    timeline.follow("user", uid)
    a = user.add_activity({"actor": "a", "verb": "v", "object": "1", "foreign_id": "post:1", "time": utcnow()})
    b = user.add_activity({"actor": "a", "verb": "v", "object": "2", "foreign_id": "post:2", "time": utcnow()})
    assert set(ids_of(timeline.get())) == {a["id"], b["id"]}
    assert user.remove_activity(a["id"])["removed"] == a["id"]
    assert ids_of(timeline.get()) == [b["id"]]
    assert user.remove_activity(foreign_id="post:2")["removed"] == "post:2"
    assert ids_of(timeline.get()) == [] and ids_of(user.get()) == []
    # unknown ids and foreign ids are not an error
    user.remove_activity("6045bfa0-a467-11e7-8080-80005886bfee")
    user.remove_activity(foreign_id="never:was")


def test_to_targets_and_origin(client, uid):
    user, team = client.feed("user", uid), client.feed("topic", f"team{uid}")
    follower = client.feed("timeline", f"f{uid}")
    follower.follow("topic", f"team{uid}")
    act = user.add_activity({"actor": "a", "verb": "v", "object": "o", "time": utcnow(),
                             "to": [f"topic:team{uid}"]})
    assert act["to"] == [f"topic:team{uid}"]  # the legacy "fid token" suffix is stripped
    [in_team] = team.get()["results"]
    assert in_team["id"] == act["id"] and in_team["origin"] is None
    [in_follower] = follower.get()["results"]
    assert in_follower["origin"] == f"topic:team{uid}"
    # removing from the feed it was posted to removes it from targets and their followers
    user.remove_activity(act["id"])
    assert team.get()["results"] == [] and follower.get()["results"] == []


def test_follow_copy_limits(client, uid):
    user = client.feed("user", uid)
    base = utcnow()
    acts = user.add_activities([
        {"actor": "a", "verb": "v", "object": f"o{i}", "time": base - dt.timedelta(seconds=i)} for i in range(5)
    ])["activities"]
    t0, t1, tdef = (client.feed("timeline", f"{n}{uid}") for n in ("zero", "one", "def"))
    t0.follow("user", uid, activity_copy_limit=0)
    t1.follow("user", uid, activity_copy_limit=1)
    tdef.follow("user", uid)
    assert ids_of(t0.get()) == []
    assert ids_of(t1.get()) == [acts[0]["id"]]
    assert ids_of(tdef.get()) == [a["id"] for a in acts]
    assert all(a["origin"] == f"user:{uid}" for a in tdef.get()["results"])
    # new activities reach every follower, whatever the copy limit was
    new = user.add_activity({"actor": "a", "verb": "v", "object": "new", "time": base + dt.timedelta(seconds=1)})
    assert ids_of(t0.get()) == [new["id"]]


def test_unfollow_with_and_without_history(client, uid):
    user = client.feed("user", uid)
    act = user.add_activity({"actor": "a", "verb": "v", "object": "o", "time": utcnow()})
    keep, purge = client.feed("timeline", f"k{uid}"), client.feed("timeline", f"p{uid}")
    keep.follow("user", uid)
    purge.follow("user", uid)
    keep.unfollow("user", uid, keep_history=True)
    purge.unfollow("user", uid)
    assert ids_of(keep.get()) == [act["id"]]
    assert ids_of(purge.get()) == []
    # no longer following: new activities do not arrive
    user.add_activity({"actor": "a", "verb": "v", "object": "later", "time": utcnow()})
    assert ids_of(keep.get()) == [act["id"]]


def test_follow_many_and_unfollow_many(client, uid):
    users = [client.feed("user", f"{uid}u{i}") for i in range(3)]
    acts = [u.add_activity({"actor": "a", "verb": "v", "object": str(i), "time": utcnow()}) for i, u in enumerate(users)]
    client.follow_many([{"source": f"timeline:{uid}", "target": f"user:{uid}u{i}"} for i in range(3)],
                       activity_copy_limit=10)
    timeline = client.feed("timeline", uid)
    assert set(ids_of(timeline.get())) == {a["id"] for a in acts}
    client.unfollow_many([
        {"source": f"timeline:{uid}", "target": f"user:{uid}u0"},
        {"source": f"timeline:{uid}", "target": f"user:{uid}u1", "keep_history": True},
    ])
    assert set(ids_of(timeline.get())) == {acts[1]["id"], acts[2]["id"]}
    assert [f["target_id"] for f in timeline.following()["results"]] == [f"user:{uid}u2"]


def test_followers_and_following_listings(client, uid):
    target = client.feed("user", uid)
    for i in range(4):
        client.feed("timeline", f"{uid}f{i}").follow("user", uid)
    followers = target.followers()["results"]
    # newest follow first
    assert [f["feed_id"] for f in followers] == [f"timeline:{uid}f{i}" for i in (3, 2, 1, 0)]
    assert all(f["target_id"] == f"user:{uid}" for f in followers)
    assert [f["feed_id"] for f in target.followers(limit=2, offset=1)["results"]] == [
        f"timeline:{uid}f2", f"timeline:{uid}f1"]
    assert [f["feed_id"] for f in target.followers(feeds=[f"timeline:{uid}f1", "timeline:nobody"])["results"]] == [
        f"timeline:{uid}f1"]
    following = client.feed("timeline", f"{uid}f0").following(feeds=[f"user:{uid}"])["results"]
    assert [(f["feed_id"], f["target_id"]) for f in following] == [(f"timeline:{uid}f0", f"user:{uid}")]
    assert client.feed("timeline", f"{uid}f0").following(feeds=["user:other"])["results"] == []


def test_uniqueness_foreign_id_and_time_replaces(client, uid):
    feed = client.feed("user", uid)
    now = utcnow()
    first = feed.add_activity({"actor": "a", "verb": "v", "object": 1, "foreign_id": "x:1", "time": now})
    second = feed.add_activity({"actor": "a", "verb": "edited", "object": 2, "foreign_id": "x:1", "time": now})
    assert first["id"] == second["id"]
    [act] = feed.get()["results"]
    assert act["verb"] == "edited" and act["object"] == "2"
    # same foreign_id at another time is another activity
    feed.add_activity({"actor": "a", "verb": "v", "object": 1, "foreign_id": "x:1", "time": now - dt.timedelta(hours=1)})
    assert len(feed.get()["results"]) == 2


def test_uniqueness_identical_content_dedupes(client, uid):
    feed = client.feed("user", uid)
    now = utcnow()
    a = feed.add_activity({"actor": "a", "verb": "v", "object": "same", "time": now})
    b = feed.add_activity({"actor": "a", "verb": "v", "object": "same", "time": now})
    c = feed.add_activity({"actor": "a", "verb": "v", "object": "other", "time": now})
    assert a["id"] == b["id"] != c["id"]
    assert len(feed.get()["results"]) == 2
    # the same payload added to two feeds is one activity in a common follower
    timeline = client.feed("timeline", uid)
    timeline.follow("user", f"{uid}x")
    timeline.follow("topic", f"{uid}y")
    payload = {"actor": "a", "verb": "v", "object": "shared", "time": now}
    client.feed("user", f"{uid}x").add_activity(payload)
    client.feed("topic", f"{uid}y").add_activity(payload)
    assert len(timeline.get()["results"]) == 1


def test_batch_without_times_reads_last_first(client, uid):
    """stream-python's test_add_activities / test_add_activities_to and the JS SDK's `add
    activities`: one batch, no times: the last added reads first (strictly increasing times)."""
    feed = client.feed("user", uid)
    batch = [{"actor": "a", "verb": "v", "object": str(i)} for i in range(10)]
    added = feed.add_activities(batch)["activities"]
    assert [a["object"] for a in added] == [str(i) for i in range(10)]  # input order
    times = [a["time"] for a in added]
    assert times == sorted(times) and len(set(times)) == 10
    assert [a["id"] for a in feed.get(limit=10)["results"]] == [a["id"] for a in reversed(added)]
    to_feed = client.feed("flat", uid)
    added_to = feed.add_activities([{"actor": "a", "verb": "w", "object": str(i), "to": [to_feed.id]}
                                    for i in range(3)])["activities"]
    assert ids_of(to_feed.get(limit=3)) == [a["id"] for a in reversed(added_to)]


def test_batch_with_explicit_times_keeps_deterministic_ids(client, uid):
    now = utcnow()
    batch = [{"actor": "a", "verb": "v", "object": str(i), "time": now} for i in range(3)]
    first = client.feed("user", uid).add_activities(batch)["activities"]
    again = client.feed("user", uid).add_activities(batch)["activities"]
    assert [a["id"] for a in first] == [a["id"] for a in again]
    assert len({a["time"] for a in first}) == 1
