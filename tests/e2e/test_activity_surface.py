"""Get, update, partial update, add_to_many, to-targets, follow stats and the two extensions."""

from __future__ import annotations

import datetime as dt

import pytest
from stream import exceptions as exc

from .test_errors_and_auth import assert_error, raw
from .test_flat_feeds import ids_of, utcnow

pytestmark = pytest.mark.e2e


def post(client, feed, **fields):
    base = {"actor": "a", "verb": "v", "object": "o", "time": utcnow()}
    base.update(fields)
    return client.feed(*feed.split(":")).add_activity(base)


def test_get_activities_by_ids_and_foreign_id_times(client, uid):
    now = utcnow()
    a = post(client, f"user:{uid}", foreign_id=f"a:{uid}", time=now, object="1")
    b = post(client, f"user:{uid}", foreign_id=f"b:{uid}", time=now - dt.timedelta(hours=1), object="2")
    got = client.get_activities(ids=[b["id"], a["id"], "6045bfa0-a467-11e7-8080-80005886bfee"])["results"]
    assert [g["id"] for g in got] == [b["id"], a["id"]]  # asked order; unknown ids left out
    assert got[0]["origin"] is None and got[1]["origin"] is None  # the shape of a feed read
    assert got[1] == client.feed("user", uid).get(id_lte=a["id"], limit=1)["results"][0]
    by_fid = client.get_activities(foreign_id_times=[(f"a:{uid}", now), (f"b:{uid}", b["time"])])["results"]
    assert [g["id"] for g in by_fid] == [a["id"], b["id"]]
    assert client.get_activities(ids=["6045bfa0-a467-11e7-8080-80005886bfee"])["results"] == []


def test_get_activities_bad_input(dev_server):
    assert_error(raw(dev_server, "GET", "activities/", ids="x"), 400, 4)
    assert_error(raw(dev_server, "GET", "activities/", ids=",".join(["6045bfa0-a467-11e7-8080-80005886bfee"] * 101)), 400, 4)
    body = assert_error(raw(dev_server, "GET", "activities/", ids="6045bfa0-a467-11e7-8080-80005886bfee",
                            foreign_ids="a", timestamps="2017-01-01T00:00:00"), 400, 4)
    assert body["exception_fields"]
    assert_error(raw(dev_server, "GET", "activities/", foreign_ids="a,b", timestamps="2017-01-01T00:00:00"), 400, 4)
    assert_error(raw(dev_server, "GET", "activities/"), 400, 4)


def test_full_update_keeps_id_and_reaches_followers(client, uid):
    timeline = client.feed("timeline", uid)
    timeline.follow("user", uid)
    now = utcnow()
    act = post(client, f"user:{uid}", foreign_id=f"post:{uid}", time=now, likes=1, keepme="x")
    client.update_activities([{"actor": "a", "verb": "edit", "object": "o2", "foreign_id": f"post:{uid}",
                               "time": now, "likes": 2}])
    [seen] = timeline.get()["results"]
    assert seen["id"] == act["id"] and seen["verb"] == "edit" and seen["likes"] == 2
    assert "keepme" not in seen  # custom fields are replaced, not merged
    assert seen["origin"] == f"user:{uid}"


def test_full_update_bad_input(dev_server, client):
    with pytest.raises(exc.InputException) as err:
        client.update_activities([{"actor": "a", "verb": "v", "object": "o", "foreign_id": "x"}])  # no time
    assert "time" in str(err.value)
    assert_error(raw(dev_server, "POST", "activities/", body='{"activities": "nope"}'), 400, 4)
    too_many = [{"actor": "a", "verb": "v", "object": "o", "foreign_id": f"f{i}", "time": "2017-01-01T00:00:00"}
                for i in range(101)]
    import json
    assert_error(raw(dev_server, "POST", "activities/", body=json.dumps({"activities": too_many})), 400, 4)


def test_partial_update_nested_set_and_unset(client, uid):
    timeline = client.feed("timeline", uid)
    timeline.follow("user", uid)
    now = utcnow()
    act = post(client, f"user:{uid}", foreign_id=f"p:{uid}", time=now,
               product={"price": 10, "meta": {"color": "red"}}, tag="old", note="drop me")
    resp = client.activity_partial_update(id=act["id"], set={"product.price": 19, "product.meta.size": "L",
                                                             "tag": "new"}, unset=["note", "product.meta.color"])
    [updated] = resp["activities"]
    assert updated["product"] == {"price": 19, "meta": {"size": "L"}} and updated["tag"] == "new"
    assert "note" not in updated and "origin" not in updated and "duration" not in updated
    assert updated["id"] == act["id"]
    [seen] = timeline.get()["results"]
    assert seen["product"]["price"] == 19 and seen["id"] == act["id"]
    by_fid = client.activity_partial_update(foreign_id=f"p:{uid}", time=now, set={"tag": "fid"})
    assert by_fid["activities"][0]["tag"] == "fid"


def test_partial_update_bad_input(dev_server, client, uid):
    act = post(client, f"user:{uid}")
    for change in [{"id": act["id"], "set": {"id": "x"}}, {"id": act["id"], "set": {"time": "x"}},
                   {"id": act["id"], "unset": ["actor"]}, {"id": act["id"], "set": "x"},
                   {"id": act["id"], "set": {"a": 1}, "unset": ["a"]}, {"id": "nope", "set": {"a": 1}},
                   {"foreign_id": "x", "set": {"a": 1}}, {"id": act["id"]}]:
        import json
        body = assert_error(raw(dev_server, "POST", "activity/", body=json.dumps({"changes": [change]})), 400, 4)
        assert body["exception_fields"], change
    missing = raw(dev_server, "POST", "activity/", body='{"changes": [{"id": "6045bfa0-a467-11e7-8080-80005886bfee", '
                                                         '"set": {"a": 1}}]}')
    assert_error(missing, 404, 16)
    # the single (stream-go2) form
    single = raw(dev_server, "POST", "activity/", body='{"id": "%s", "set": {"x": 1}}' % act["id"])
    assert single.status_code == 200 and single.json()["x"] == 1


def test_add_to_many_into_three_feed_types(client, uid):
    follower = client.feed("timeline", f"f{uid}")
    follower.follow("user", uid)
    feeds = [f"user:{uid}", f"topic:{uid}", f"flat:{uid}"]
    client.add_to_many({"actor": "a", "verb": "announce", "object": "o", "time": utcnow(), "foreign_id": f"m:{uid}"},
                       feeds)
    for fid in feeds:
        [act] = client.feed(*fid.split(":")).get()["results"]
        assert act["verb"] == "announce" and act["origin"] is None
    assert follower.get()["results"] == []  # no follower propagation


def test_add_to_many_bad_input(dev_server):
    import json
    act = {"actor": "a", "verb": "v", "object": "o"}
    assert_error(raw(dev_server, "POST", "feed/add_to_many/", body=json.dumps({"activity": {**act, "to": ["user:1"]},
                                                                               "feeds": ["user:1"]})), 400, 4)
    assert_error(raw(dev_server, "POST", "feed/add_to_many/", body=json.dumps({"activity": act, "feeds": "user:1"})), 400, 4)
    assert_error(raw(dev_server, "POST", "feed/add_to_many/",
                     body=json.dumps({"activity": act, "feeds": [f"user:{i}" for i in range(5001)]})), 400, 4)
    assert_error(raw(dev_server, "POST", "feed/add_to_many/", body=json.dumps({"activity": act, "feeds": ["bad"]})), 400, 4)


def test_activity_to_targets(client, uid):
    user = client.feed("user", uid)
    follower = client.feed("timeline", f"f{uid}")
    follower.follow("topic", f"t1{uid}")
    now = utcnow()
    act = post(client, f"user:{uid}", foreign_id=f"tt:{uid}", time=now, to=[f"topic:t0{uid}"])
    resp = user.update_activity_to_targets(f"tt:{uid}", now, added_targets=[f"topic:t1{uid}"])
    assert sorted(resp["activity"]["to"]) == sorted([f"topic:t0{uid}", f"topic:t1{uid}"])
    assert resp["added"] == [f"topic:t1{uid}"] and resp["removed"] == []
    assert ids_of(client.feed("topic", f"t1{uid}").get()) == [act["id"]]
    [copy] = follower.get()["results"]
    assert copy["origin"] == f"topic:t1{uid}"
    resp = user.update_activity_to_targets(f"tt:{uid}", now, removed_targets=[f"topic:t1{uid}"])
    assert resp["activity"]["to"] == [f"topic:t0{uid}"] and resp["removed"] == [f"topic:t1{uid}"]
    assert client.feed("topic", f"t1{uid}").get()["results"] == [] and follower.get()["results"] == []
    resp = user.update_activity_to_targets(f"tt:{uid}", now, new_targets=[f"flat:n{uid}"])
    assert resp["activity"]["to"] == [f"flat:n{uid}"]
    assert client.feed("topic", f"t0{uid}").get()["results"] == []
    assert ids_of(client.feed("flat", f"n{uid}").get()) == [act["id"]]


def test_activity_to_targets_bad_input(client, uid):
    user = client.feed("user", uid)
    now = utcnow()
    post(client, f"user:{uid}", foreign_id=f"tt:{uid}", time=now)
    with pytest.raises(exc.InputException):
        user.update_activity_to_targets(f"tt:{uid}", now, new_targets=["flat:1"], added_targets=["flat:2"])
    with pytest.raises(exc.InputException):
        user.update_activity_to_targets(f"tt:{uid}", now, added_targets=["flat:1"], removed_targets=["flat:1"])
    with pytest.raises(exc.InputException):
        user.update_activity_to_targets(f"tt:{uid}", now)
    with pytest.raises(exc.DoesNotExistException):
        user.update_activity_to_targets(f"nope:{uid}", now, added_targets=["flat:1"])


def test_follow_stats(client, uid):
    for i in range(3):
        client.feed("timeline", f"{uid}{i}").follow("user", uid)
    client.feed("flat", uid).follow("user", uid)
    client.feed("timeline", f"{uid}0").follow("topic", uid)
    stats = client.follow_stats(f"user:{uid}")["results"]
    assert stats["followers"] == {"feed": f"user:{uid}", "count": 4}
    assert stats["following"] == {"feed": f"user:{uid}", "count": 0}
    assert client.follow_stats(f"user:{uid}", followers_slugs=["timeline"])["results"]["followers"]["count"] == 3
    assert client.follow_stats(f"timeline:{uid}0", following_slugs=["topic"])["results"]["following"]["count"] == 1


def test_extension_delete_everywhere_by_foreign_id(dev_server, client, uid):
    follower = client.feed("timeline", f"f{uid}")
    follower.follow("user", uid)
    now = utcnow()
    post(client, f"user:{uid}", foreign_id=f"gone:{uid}", time=now, to=[f"topic:{uid}"])
    client.add_to_many({"actor": "a", "verb": "v", "object": "o", "foreign_id": f"gone:{uid}",
                        "time": now - dt.timedelta(days=1)}, [f"flat:{uid}", f"flat:x{uid}"])
    resp = raw(dev_server, "DELETE", "activities/", foreign_ids=f"gone:{uid}")
    assert resp.status_code == 200 and len(resp.json()["removed"]) == 2 and resp.json()["entries"] == 5
    for fid in (f"user:{uid}", f"topic:{uid}", f"flat:{uid}", f"flat:x{uid}", f"timeline:f{uid}"):
        assert client.feed(*fid.split(":")).get()["results"] == [], fid
    assert client.get_activities(foreign_id_times=[(f"gone:{uid}", now)])["results"] == []


def test_extension_filter_by_verb_and_actor(dev_server, client, uid):
    base = utcnow()
    for i in range(12):
        post(client, f"user:{uid}", verb="like" if i % 3 == 0 else "post", actor=f"u{i % 2}",
             time=base - dt.timedelta(seconds=i), object=str(i))
    likes = client.feed("user", uid).get(verb="like")["results"]
    assert [a["object"] for a in likes] == ["0", "3", "6", "9"]
    u1 = client.feed("user", uid).get(actor="u1", limit=3)
    assert [a["object"] for a in u1["results"]] == ["1", "3", "5"]
    assert "actor=u1" in u1["next"]
    rest = client.feed("user", uid).get(actor="u1", limit=3, id_lt=u1["results"][-1]["id"])["results"]
    assert [a["object"] for a in rest] == ["7", "9", "11"]
