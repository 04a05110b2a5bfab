"""Aggregated and notification feeds through the stream-python client."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest

from tests.conftest import API_KEY, API_SECRET, FEED_GROUPS, ROOT

from .test_errors_and_auth import assert_error, raw
from .test_flat_feeds import utcnow

pytestmark = pytest.mark.e2e


def notify(client, feed, actor, verb, time, obj="photo:1", **extra):
    """Post from the actor's user feed with the aggregated/notification feed as a `to` target."""
    return client.feed("user", actor).add_activity({"actor": actor, "verb": verb, "object": obj, "time": time,
                                                    "to": [feed], **extra})


def test_default_format_groups_by_verb_and_day(client, uid):
    day1 = dt.datetime(2024, 5, 1, 10, 0)
    day2 = day1 + dt.timedelta(days=1)
    for i, (verb, t) in enumerate([("like", day1), ("like", day1 + dt.timedelta(hours=1)), ("like", day2),
                                   ("comment", day1)]):
        notify(client, f"aggregated:{uid}", f"a{i}{uid}", verb, t)
    groups = client.feed("aggregated", uid).get()["results"]
    assert [(g["group"], g["activity_count"]) for g in groups] == [
        ("like_2024-05-02", 1), ("like_2024-05-01", 2), ("comment_2024-05-01", 1)]  # by updated_at, newest first
    g = groups[1]
    assert set(g) == {"id", "group", "verb", "activity_count", "actor_count", "created_at", "updated_at", "activities"}
    assert g["verb"] == "like" and g["actor_count"] == 2
    assert g["created_at"].replace(tzinfo=None) == day1 and g["updated_at"].replace(tzinfo=None) == day1 + dt.timedelta(hours=1)
    assert [a["time"].replace(tzinfo=None) for a in g["activities"]] == [day1 + dt.timedelta(hours=1), day1]
    assert g["id"] == g["activities"][0]["id"]  # group id = newest activity's id
    assert groups[0]["id"] == groups[0]["activities"][0]["id"]  # single-activity group


def test_custom_format_with_if(client, uid):
    t = utcnow()
    for i, (actor, verb) in enumerate([("ann", "follow"), ("ann", "follow"), ("bob", "follow"), ("ann", "like"),
                                       ("bob", "like"), ("cy", "share")]):
        notify(client, f"byactor:{uid}", f"{actor}{uid}", verb, t - dt.timedelta(seconds=i), obj=f"o{i}")
    groups = {g["group"]: g["activity_count"] for g in client.feed("byactor", uid).get()["results"]}
    assert groups == {f"follow_ann{uid}": 2, f"follow_bob{uid}": 1, "like": 2, "share": 1}


def test_counts_beyond_the_cap(client, uid):
    t = utcnow()
    for i in range(7):
        notify(client, f"capped:{uid}", f"actor{i % 4}{uid}", "like", t - dt.timedelta(seconds=i), obj=f"o{i}")
    [g] = client.feed("capped", uid).get()["results"]
    assert g["activity_count"] == 7 and g["actor_count"] == 4
    assert len(g["activities"]) == 3  # the newest three
    assert [a["object"] for a in g["activities"]] == ["o0", "o1", "o2"]


def test_pagination_over_60_groups(client, uid):
    base = utcnow() - dt.timedelta(days=1)
    client.add_to_many({"actor": "x", "verb": "seed", "object": "o", "time": base - dt.timedelta(days=1)},
                       [f"aggregated:{uid}"])
    acts = [{"actor": f"a{i}", "verb": f"v{i:02d}", "object": "o", "time": base + dt.timedelta(minutes=i),
             "to": [f"aggregated:{uid}"]} for i in range(59)]
    client.feed("user", f"p{uid}").add_activities(acts)
    feed = client.feed("aggregated", uid)
    everything = [g["group"] for g in feed.get(limit=100)["results"]]
    assert len(everything) == 60 and len(set(everything)) == 60
    seen, params = [], {"limit": 7}
    while True:
        page = feed.get(**params)
        seen += [g["group"] for g in page["results"]]
        if not page["next"]:
            break
        assert page["next"].startswith(f"/api/v1.0/feed/aggregated/{uid}/?id_lt=")
        params = {"limit": 7, "id_lt": page["results"][-1]["id"]}
    assert seen == everything
    by_offset = []
    for off in range(0, 60, 9):
        by_offset += [g["group"] for g in feed.get(limit=9, offset=off)["results"]]
    assert by_offset == everything


def test_mark_seen_and_read_after_read_semantics(client, uid):
    t = utcnow()
    for i, verb in enumerate(["like", "comment", "share"]):
        notify(client, f"notification:{uid}", f"a{i}{uid}", verb, t - dt.timedelta(minutes=i))
    feed = client.feed("notification", uid)
    first = feed.get()
    assert (first["unseen"], first["unread"]) == (3, 3)
    assert all(not g["is_seen"] and not g["is_read"] for g in first["results"])
    like, comment, share = first["results"]
    # mark by ids: the response still shows the old state, the next read the new one
    marked = feed.get(mark_read=[like["id"], share["id"]])
    assert [g["is_read"] for g in marked["results"]] == [False, False, False] and marked["unread"] == 3
    after = feed.get()
    assert [g["is_read"] for g in after["results"]] == [True, False, True]
    assert [g["is_seen"] for g in after["results"]] == [False, False, False]  # read does not imply seen
    assert (after["unseen"], after["unread"]) == (3, 1)
    # mark all seen with limit=0: only the counters come back
    counters = feed.get(limit=0, mark_seen=True)
    assert counters["results"] == [] and (counters["unseen"], counters["unread"]) == (3, 1)
    again = feed.get()
    assert (again["unseen"], again["unread"]) == (0, 1) and all(g["is_seen"] for g in again["results"])


def test_new_activity_makes_a_group_unseen_again(client, uid):
    t = utcnow()
    notify(client, f"notification:{uid}", f"a{uid}", "like", t - dt.timedelta(seconds=10))
    notify(client, f"notification:{uid}", f"b{uid}", "comment", t - dt.timedelta(seconds=9))
    feed = client.feed("notification", uid)
    feed.get(mark_seen=True, mark_read=True)
    assert (feed.get()["unseen"], feed.get()["unread"]) == (0, 0)
    notify(client, f"notification:{uid}", f"c{uid}", "like", t)
    page = feed.get()
    like = next(g for g in page["results"] if g["verb"] == "like")
    assert like["activity_count"] == 2 and not like["is_seen"] and not like["is_read"]
    assert (page["unseen"], page["unread"]) == (1, 1)


def test_removal_updates_counts_and_drops_empty_groups(client, uid):
    t = utcnow()
    a = notify(client, f"notification:{uid}", f"a{uid}", "like", t - dt.timedelta(seconds=2))
    b = notify(client, f"notification:{uid}", f"b{uid}", "like", t - dt.timedelta(seconds=1))
    c = notify(client, f"notification:{uid}", f"c{uid}", "share", t)
    feed = client.feed("notification", uid)
    assert [g["activity_count"] for g in feed.get()["results"]] == [1, 2]
    client.feed("user", f"b{uid}").remove_activity(b["id"])
    [share, like] = feed.get()["results"]
    assert like["activity_count"] == 1 and like["actor_count"] == 1 and like["activities"][0]["id"] == a["id"]
    feed.remove_activity(c["id"])  # removed from the notification feed directly
    page = feed.get()
    assert [g["verb"] for g in page["results"]] == ["like"] and page["unseen"] == 1


def test_aggregated_feeds_cannot_be_followed(dev_server, uid):
    assert_error(raw(dev_server, "POST", f"feed/timeline/{uid}/follows/", body=json.dumps({"target": f"aggregated:{uid}"})),
                 400, 4)
    assert_error(raw(dev_server, "POST", f"feed/timeline/{uid}/follows/", body=json.dumps({"target": f"notification:{uid}"})),
                 400, 4)


def test_add_to_many_into_three_feed_types(client, uid):
    client.add_to_many({"actor": "a", "verb": "announce", "object": "o", "time": utcnow()},
                       [f"user:{uid}", f"aggregated:{uid}", f"notification:{uid}"])
    assert client.feed("user", uid).get()["results"][0]["verb"] == "announce"
    [g] = client.feed("aggregated", uid).get()["results"]
    assert g["verb"] == "announce" and g["activity_count"] == 1
    page = client.feed("notification", uid).get()
    assert page["unseen"] == 1 and page["results"][0]["activities"][0]["verb"] == "announce"


def test_extension_mark_endpoint_returns_new_state(dev_server, client, uid):
    t = utcnow()
    notify(client, f"notification:{uid}", f"a{uid}", "like", t - dt.timedelta(seconds=1))
    notify(client, f"notification:{uid}", f"b{uid}", "share", t)
    resp = raw(dev_server, "POST", f"feed/notification/{uid}/mark/", body=json.dumps({"mark_seen": True}))
    assert resp.status_code == 200
    body = resp.json()
    assert body["unseen"] == 0 and body["unread"] == 2 and all(g["is_seen"] for g in body["results"])
    gid = body["results"][0]["id"]
    body = raw(dev_server, "POST", f"feed/notification/{uid}/mark/", body=json.dumps({"mark_read": [gid]})).json()
    assert body["unread"] == 1 and body["results"][0]["is_read"] and not body["results"][1]["is_read"]
    assert_error(raw(dev_server, "POST", f"feed/aggregated/{uid}/mark/", body='{"mark_seen": true}'), 400, 4)
    assert_error(raw(dev_server, "POST", f"feed/notification/{uid}/mark/", body="{}"), 400, 4)


def test_invalid_format_is_a_start_up_error(tmp_path):
    config = tmp_path / "bad.json"
    config.write_text(json.dumps({"feed_groups": {**FEED_GROUPS, "broken": {
        "type": "aggregated", "aggregation_format": "{% for x in y %}{{ x }}{% endfor %}"}}}))
    proc = subprocess.run([sys.executable, "-m", "feedline.cli", "dev", "--port", "0"], cwd=ROOT, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "FEEDLINE_API_KEY": API_KEY, "FEEDLINE_API_SECRET": API_SECRET,
                               "FEEDLINE_CONFIG": str(config), "FEEDLINE_SQLITE_PATH": str(tmp_path / "x.db")},
                          capture_output=True, text=True)
    assert proc.returncode != 0
    assert "broken" in proc.stderr and "aggregation format" in proc.stderr


def test_aggregated_and_notification_feeds_can_follow_flat_feeds(client, uid):
    """Stream's usual set-up: `timeline_aggregated` follows `user` feeds and groups what arrives."""
    t = utcnow()
    early = client.feed("user", f"a{uid}").add_activity({"actor": f"a{uid}", "verb": "like", "object": "o1",
                                                         "time": t - dt.timedelta(minutes=5)})
    agg, notif = client.feed("aggregated", uid), client.feed("notification", uid)
    agg.follow("user", f"a{uid}")           # copies the existing activity, grouped
    notif.follow("user", f"b{uid}", activity_copy_limit=0)
    [g] = agg.get()["results"]
    assert g["activities"][0]["id"] == early["id"] and g["activities"][0]["origin"] == f"user:a{uid}"
    for who, verb in [("a", "like"), ("b", "like"), ("b", "share")]:
        client.feed("user", f"{who}{uid}").add_activity({"actor": f"{who}{uid}", "verb": verb, "object": "o",
                                                         "time": t})
    assert [(g["verb"], g["activity_count"]) for g in agg.get()["results"]] == [("like", 2)]
    page = notif.get()
    assert sorted((g["verb"], g["activity_count"]) for g in page["results"]) == [("like", 1), ("share", 1)]
    assert page["unseen"] == 2
    agg.unfollow("user", f"a{uid}")
    assert agg.get()["results"] == []


def test_one_fan_out_into_every_grouped_kind(client, uid):
    """One activity fanned out to followers of four grouped groups at once: the formats that do not
    name the feed are rendered once for all their followers, ``perfeed``'s once per follower."""
    t = utcnow()
    followers = [("aggregated", f"{uid}a1"), ("aggregated", f"{uid}a2"), ("notification", f"{uid}n1"),
                 ("byactor", f"{uid}b1"), ("perfeed", f"{uid}p1"), ("perfeed", f"{uid}p2"), ("timeline", f"{uid}t1")]
    for slug, user in followers:
        client.feed(slug, user).follow("user", f"src{uid}")
    act = client.feed("user", f"src{uid}").add_activity({"actor": f"src{uid}", "verb": "like", "object": "o",
                                                         "time": t})
    day = t.strftime("%Y-%m-%d")
    want = {"aggregated": f"like_{day}", "notification": f"like_{day}", "byactor": "like"}
    for slug, user in followers:
        results = client.feed(slug, user).get()["results"]
        if slug == "timeline":
            assert [a["id"] for a in results] == [act["id"]]
            continue
        [g] = results
        assert g["group"] == want.get(slug, f"like@perfeed:{user}"), (slug, user)
        assert g["activity_count"] == 1 and g["activities"][0]["id"] == act["id"]
        assert g["activities"][0]["origin"] == f"user:src{uid}"
