"""Enrichment (docs/api.md §13) through stream-python: ``feed.get(enrich=True, reactions={...})``
and ``client.get_activities(..., enrich=True)``, on every backend."""

from __future__ import annotations

import datetime
import uuid

import pytest

from .test_errors_and_auth import raw

pytestmark = pytest.mark.e2e


def bare(obj: dict) -> dict:
    obj = dict(obj)
    obj.pop("duration", None)
    return obj


def test_feed_enrichment_user_and_object(client, uid):
    user = bare(client.users.add(f"u{uid}", {"name": "Jane", "langs": ["ro", "日本"]}))
    item = bare(client.collections.add("food", {"name": "Plăcintă", "rating": 5}, id=f"pie{uid}"))
    feed = client.feed("user", uid)
    ref_user = client.users.create_reference(user["id"])
    ref_item = client.collections.create_reference("food", item["id"])
    act = feed.add_activity({"actor": ref_user, "verb": "eat", "object": ref_item, "with": ref_user,
                             "nested": {"who": ref_user}})
    # plain reads keep the raw strings
    plain = feed.get()["results"][0]
    assert plain["actor"] == ref_user and plain["object"] == ref_item and plain["with"] == ref_user
    enriched = feed.get(enrich=True)["results"][0]
    assert enriched["actor"] == user and enriched["with"] == user
    assert enriched["object"] == item
    assert enriched["nested"] == {"who": ref_user}  # only top-level fields are references
    assert enriched["id"] == act["id"] and enriched["origin"] is None and enriched["verb"] == "eat"
    # the same through GET /enrich/activities/ (ids, and foreign_ids + timestamps)
    got = client.get_activities(ids=[act["id"]], enrich=True)["results"]
    assert got[0]["actor"] == user and got[0]["object"] == item
    assert client.get_activities(ids=[act["id"]])["results"][0]["actor"] == ref_user


def test_missing_references(client, uid):
    feed = client.feed("user", uid)
    missing_activity = str(uuid.uuid1())
    feed.add_activity({"actor": "SU:nobody-" + uid, "verb": "post", "object": f"SO:food:none{uid}",
                       "target": "SA:" + missing_activity, "reaction": "SR:" + str(uuid.uuid4()),
                       "plain": "SU:"})
    enriched = feed.get(enrich=True)["results"][0]
    assert enriched["actor"] == {"error": "ReferenceNotFound", "reference": "SU:nobody-" + uid,
                                 "reference_type": "user", "id": "nobody-" + uid}
    assert enriched["object"] == {"error": "ReferenceNotFound", "reference": f"SO:food:none{uid}",
                                  "reference_type": "object", "id": f"none{uid}", "collection": "food"}
    assert enriched["target"]["reference_type"] == "activity" and enriched["target"]["id"] == missing_activity
    assert enriched["reaction"]["error"] == "ReferenceNotFound" and enriched["reaction"]["reference_type"] == "reaction"
    assert enriched["plain"] == "SU:"  # not a reference: no id


def test_activity_reference_is_the_activity(client, uid):
    feed = client.feed("user", uid)
    first = feed.add_activity({"actor": "bob", "verb": "post", "object": "photo:1"})
    feed.add_activity({"actor": "ann", "verb": "share", "object": "SA:" + first["id"], "time": "2030-01-01T00:00:00"})
    shared = feed.get(enrich=True, limit=1)["results"][0]
    assert shared["object"] == client.get_activities(ids=[first["id"]])["results"][0]


def test_reactions_counts_recent_own(client, dev_server, uid):
    me, other = f"me{uid}", f"other{uid}"
    client.users.add(me, {"name": "Me"})
    client.users.add(other, {"name": "Other"})
    feed = client.feed("user", uid)
    act = feed.add_activity({"actor": "SU:" + me, "verb": "post", "object": "photo:1"})
    quiet = feed.add_activity({"actor": "SU:" + me, "verb": "post", "object": "photo:2", "time": "2001-01-01T00:00:00"})
    likes = [client.reactions.add("like", act["id"], u) for u in (me, other, other)]
    comment = client.reactions.add("comment", act["id"], other, data={"text": "nice"})
    resp = feed.get(enrich=True, reactions={"own": True, "recent": True, "counts": True}, user_id=me)
    by_id = {a["id"]: a for a in resp["results"]}
    a = by_id[act["id"]]
    assert a["reaction_counts"] == {"like": 3, "comment": 1}
    assert [r["id"] for r in a["latest_reactions"]["like"]] == [likes[2]["id"], likes[1]["id"], likes[0]["id"]]
    assert a["latest_reactions"]["comment"][0]["data"] == {"text": "nice"}
    assert a["latest_reactions"]["comment"][0]["id"] == comment["id"]
    assert a["latest_reactions"]["comment"][0]["user"] == bare(client.users.get(other))
    assert [r["id"] for r in a["own_reactions"]["like"]] == [likes[0]["id"]]
    assert a["own_reactions"]["like"][0]["user"]["data"] == {"name": "Me"}
    assert set(a["own_reactions"]) == {"like"}
    assert a["latest_reactions_extra"] == {"like": {"next": ""}, "comment": {"next": ""}}
    assert a["actor"]["id"] == me
    # an activity without reactions: empty maps
    q = by_id[quiet["id"]]
    assert q["reaction_counts"] == {} and q["latest_reactions"] == {} and q["own_reactions"] == {}
    assert q["latest_reactions_extra"] == {}
    # the reaction as its own GET answers it (plus its user)
    got = bare(client.reactions.get(likes[0]["id"]))
    assert {k: v for k, v in a["own_reactions"]["like"][0].items() if k != "user"} == {
        k: v for k, v in got.items() if k != "user"}
    # recentReactionsLimit: fewer shown, a next link to the rest
    short = feed.get(enrich=True, reactions={"recent": True}, recentReactionsLimit=2)["results"]
    s = {x["id"]: x for x in short}[act["id"]]
    assert [r["id"] for r in s["latest_reactions"]["like"]] == [likes[2]["id"], likes[1]["id"]]
    link = s["latest_reactions_extra"]["like"]["next"]
    # absolute, as Stream's are (stream-js checks they start with "http") and as §9.3's next links
    assert link.startswith(f"{dev_server.base_url}/api/v1.0/reaction/activity_id/{act['id']}/like/"
                           f"?id_lt={likes[1]['id']}")
    assert "reaction_counts" not in s and "own_reactions" not in s
    # no reaction options: no reaction members at all
    assert "latest_reactions" not in feed.get(enrich=True)["results"][0]


def test_reaction_kinds_filter_and_get_activities(client, uid):
    feed = client.feed("user", uid)
    act = feed.add_activity({"actor": "bob", "verb": "post", "object": "photo:1"})
    client.reactions.add("like", act["id"], "bob")
    client.reactions.add("comment", act["id"], "bob", data={"text": "x"})
    got = client.get_activities(ids=[act["id"]], enrich=True,
                                reactions={"recent": True, "counts": True, "kinds": ["like"]})["results"][0]
    assert got["reaction_counts"] == {"like": 1} and list(got["latest_reactions"]) == ["like"]
    # a reaction by a user with no user record: the not-found object as its user
    assert got["latest_reactions"]["like"][0]["user"]["error"] == "ReferenceNotFound"
    resp = feed.get(enrich=True, reactions={"counts": True, "kinds": ["comment", "vote"]})
    assert resp["results"][0]["reaction_counts"] == {"comment": 1}


def test_aggregated_and_notification_feeds(client, uid):
    user = bare(client.users.add(f"agg{uid}", {"n": 1}))
    ref = "SU:" + user["id"]
    agg = client.feed("aggregated", uid)
    act = agg.add_activity({"actor": ref, "verb": "like", "object": "photo:1"})
    client.reactions.add("like", act["id"], user["id"])
    groups = agg.get(enrich=True, reactions={"counts": True})["results"]
    member = groups[0]["activities"][0]
    assert member["actor"] == user and member["reaction_counts"] == {"like": 1}
    assert groups[0]["activity_count"] == 1
    note = client.feed("notification", uid)
    note.add_activity({"actor": ref, "verb": "follow", "object": "SU:" + user["id"]})
    page = note.get(enrich=True)
    assert page["unseen"] == 1 and page["unread"] == 1
    assert page["results"][0]["activities"][0]["object"] == user
    counters = raw_enriched(client, note, limit=0, mark_seen="true")
    assert counters["results"] == [] and counters["unseen"] == 1
    assert note.get(enrich=True)["unseen"] == 0


def raw_enriched(client, feed, **params):
    return client.get(feed.enriched_feed_url, signature=feed.token, params=params)


def test_user_token_policy_and_paging(client, dev_server, uid):
    feed = client.feed("user", uid)
    for i in range(3):
        feed.add_activity({"actor": "bob", "verb": "post", "object": f"photo:{i}", "time": f"2020-01-0{i + 1}T00:00:00"})
    first = feed.get(enrich=True, limit=2)
    assert len(first["results"]) == 2 and first["next"].startswith(f"/api/v1.0/enrich/feed/user/{uid}/?id_lt=")
    rest = feed.get(enrich=True, limit=2, id_lt=first["results"][-1]["id"])
    assert [a["object"] for a in rest["results"]] == ["photo:0"]
    import jwt

    from tests.conftest import API_SECRET

    other = jwt.encode({"user_id": "someone-else"}, API_SECRET, algorithm="HS256")
    resp = raw(dev_server, "GET", f"enrich/feed/timeline/{uid}/", token=other)
    assert resp.status_code == 403
    mine = jwt.encode({"user_id": uid}, API_SECRET, algorithm="HS256")
    assert raw(dev_server, "GET", f"enrich/feed/user/{uid}/", token=mine).status_code == 200


def test_with_own_children(client, uid):
    me = f"kid{uid}"
    feed = client.feed("user", uid)
    act = feed.add_activity({"actor": "bob", "verb": "post", "object": "photo:1"})
    comment = client.reactions.add("comment", act["id"], "bob", data={"text": "hi"})
    mine = client.reactions.add_child("like", comment["id"], me)
    client.reactions.add_child("like", comment["id"], "someone-else")
    client.reactions.add_child("reply", comment["id"], me, data={"text": "yo"})
    got = feed.get(enrich=True, reactions={"recent": True}, withOwnChildren=True, user_id=me)["results"][0]
    shown = got["latest_reactions"]["comment"][0]
    assert set(shown["own_children"]) == {"like", "reply"}
    assert [c["id"] for c in shown["own_children"]["like"]] == [mine["id"]]
    assert shown["children_counts"] == {"like": 2, "reply": 1}
    only = feed.get(enrich=True, reactions={"recent": True}, withOwnChildren=True, withOwnChildrenKinds="reply",
                    user_id=me)["results"][0]
    assert set(only["latest_reactions"]["comment"][0]["own_children"]) == {"reply"}
    assert "own_children" not in feed.get(enrich=True, reactions={"recent": True})["results"][0][
        "latest_reactions"]["comment"][0]


def test_reaction_target_feed_activity_is_fully_enriched(client, uid):
    """A reaction's target-feed activity (docs/api.md §9.1) holds SU:, SA: and SR: references."""
    user = bare(client.users.add(f"rx{uid}", {"name": "R"}))
    feed = client.feed("user", uid)
    act = feed.add_activity({"actor": "bob", "verb": "post", "object": "photo:1", "foreign_id": f"post:{uid}",
                             "time": "2024-01-02T03:04:05"})
    reaction = client.reactions.add("like", act["id"], user["id"], target_feeds=[f"notification:{uid}"])
    group = client.feed("notification", uid).get(enrich=True)["results"][0]
    copy = group["activities"][0]
    assert copy["actor"] == user
    assert copy["object"] == client.get_activities(ids=[act["id"]])["results"][0]
    got = bare(client.reactions.get(reaction["id"]))
    assert {k: v for k, v in copy["reaction"].items() if k != "user"} == {k: v for k, v in got.items() if k != "user"}
    # by foreign_id + time as well
    by_fid = client.get_activities(foreign_id_times=[(f"post:{uid}", datetime.datetime(2024, 1, 2, 3, 4, 5))],
                                   enrich=True,
                                   reactions={"counts": True})["results"]
    assert [a["id"] for a in by_fid] == [act["id"]] and by_fid[0]["reaction_counts"] == {"like": 1}


def test_user_token_reaction_links_page_as_the_react_kit_does(client, dev_server, uid):
    """react-activity-feed pages a long comment list by following ``latest_reactions_extra.<kind>.next``:
    it calls stream-js's ``reactions.filter({...the link's query, activity_id, kind})``, which refuses
    ``user_id`` beside ``activity_id``. A user token's link must not carry ``user_id`` (the token says who
    it is); a server token's link keeps the ``user_id`` it named (found by the browser test, issue 17)."""
    from urllib.parse import parse_qs, urlsplit

    import jwt

    from tests.conftest import API_SECRET

    me = f"reader{uid}"
    feed = client.feed("user", uid)
    act = feed.add_activity({"actor": "SU:" + me, "verb": "post", "object": "bread"})
    comments = [client.reactions.add("comment", act["id"], f"c{i}{uid}", data={"text": f"#{i}"}) for i in range(7)]
    token = jwt.encode({"user_id": me}, API_SECRET, algorithm="HS256")
    page = raw(dev_server, "GET", f"enrich/feed/user/{uid}/", token=token, withRecentReactions="true")
    assert page.status_code == 200, page.text
    shown = page.json()["results"][0]
    assert [r["id"] for r in shown["latest_reactions"]["comment"]] == [c["id"] for c in comments[::-1][:5]]
    link = urlsplit(shown["latest_reactions_extra"]["comment"]["next"])
    query = {k: v[0] for k, v in parse_qs(link.query).items()}
    assert f"{link.scheme}://{link.netloc}" == dev_server.base_url
    assert link.path == f"/api/v1.0/reaction/activity_id/{act['id']}/comment/"
    assert "user_id" not in query and query["id_lt"] == comments[2]["id"] and query["limit"] == "5"
    # what the kit then asks: the filter endpoint with the link's query, as the same user
    rest = raw(dev_server, "GET", f"reaction/activity_id/{act['id']}/comment/", token=token, **query)
    assert rest.status_code == 200, rest.text
    assert [r["id"] for r in rest.json()["results"]] == [comments[1]["id"], comments[0]["id"]]
    # a server token names the "own" user: its link keeps it (stream-python passes it back as a parameter)
    server = raw(dev_server, "GET", f"enrich/feed/user/{uid}/", withRecentReactions="true", user_id=me)
    server_link = server.json()["results"][0]["latest_reactions_extra"]["comment"]["next"]
    assert parse_qs(urlsplit(server_link).query)["user_id"] == [me]


def test_activity_reference_comes_with_its_own_references_one_level(client, uid):
    """An ``SA:`` activity comes with its own top-level ``SU:``/``SO:`` references resolved, one level deep,
    as Stream answers (stream-js's reaction test: the target-feed activity's ``object`` equals the post with
    its actor enriched). react-activity-feed shows the author of a liked or commented post in the
    notification dropdown from it: it showed "Unknown" (found by the browser test, issue 17)."""
    author = bare(client.users.add(f"author{uid}", {"name": "Author"}))
    fan = bare(client.users.add(f"fan{uid}", {"name": "Fan"}))
    item = bare(client.collections.add("food", {"name": "Rye"}, id=f"rye{uid}"))
    older = client.feed("user", f"o{uid}").add_activity({"actor": "SU:" + author["id"], "verb": "post", "object": "x"})
    post = client.feed("user", uid).add_activity({
        "actor": "SU:" + author["id"], "verb": "post", "object": f"SO:food:{item['id']}",
        "quote": "SA:" + older["id"], "ghost": f"SU:nobody{uid}"})
    client.reactions.add("like", post["id"], fan["id"], target_feeds=[f"notification:{uid}"])
    expected = dict(client.get_activities(ids=[post["id"]])["results"][0])
    expected.update(actor=author, object=item, ghost={"error": "ReferenceNotFound", "reference": f"SU:nobody{uid}",
                                                        "reference_type": "user", "id": f"nobody{uid}"})
    assert expected["quote"] == "SA:" + older["id"]  # one level: its own SA: stays a string
    # the kit's notification read: the reaction activity's object is the post, with its author
    note = client.feed("notification", uid).get(enrich=True)["results"][0]["activities"][0]
    assert note["actor"] == fan and note["object"] == expected
    # a flat feed and GET /enrich/activities/ the same way
    share = client.feed("user", f"s{uid}").add_activity({"actor": "SU:" + fan["id"], "verb": "repost",
                                                        "object": "SA:" + post["id"]})
    assert client.feed("user", f"s{uid}").get(enrich=True)["results"][0]["object"] == expected
    assert client.get_activities(ids=[share["id"]], enrich=True)["results"][0]["object"] == expected
    # plain reads keep the strings
    assert client.feed("user", f"s{uid}").get()["results"][0]["object"] == "SA:" + post["id"]
