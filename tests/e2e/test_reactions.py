"""Reactions end to end (spec §2.6, §3.11): stream-python's ``client.reactions`` (raw HTTP where it has
no method) -> HTTP -> handlers -> core -> storage, on every backend."""

from __future__ import annotations

import json
import threading
import uuid
from urllib.parse import parse_qs, urlparse

import jwt
import pytest
import requests
from stream import exceptions as exc

from tests.conftest import API_KEY, API_SECRET

from .test_errors_and_auth import assert_error, raw

pytestmark = pytest.mark.e2e

FIELDS = {"id", "kind", "activity_id", "user_id", "data", "parent", "created_at", "updated_at", "latest_children",
          "children_counts", "user"}
#: the activity id stream-python's own tests react to (it does not exist: Stream does not check)
ACTIVITY = "54a60c1e-4ee3-494b-a1e3-50c06acb5ed4"


def without_duration(doc: dict) -> dict:
    doc = dict(doc)
    doc.pop("duration")
    return doc


def nested(reaction: dict) -> dict:
    """A reaction as ``latest_children`` / ``own_children`` list it: top-level reactions carry their
    ``user``, nested children do not (yet)."""
    return {k: v for k, v in without_duration(reaction).items() if k != "user"}


def user_token(user: str) -> str:
    return jwt.encode({"user_id": user}, API_SECRET, algorithm="HS256")


def follow_next(dev_server, url: str) -> dict:
    """Follow an absolute ``next`` link as a client would (adding its api_key)."""
    parsed = urlparse(url)
    assert parsed.scheme == "http" and parsed.path.startswith("/api/v1.0/reaction/")
    token = jwt.encode({"resource": "*", "action": "*", "feed_id": "*"}, API_SECRET, algorithm="HS256")
    resp = requests.get(f"{dev_server.base_url}{parsed.path}",
                        params={**{k: v[0] for k, v in parse_qs(parsed.query).items()}, "api_key": API_KEY},
                        headers={"Authorization": token, "stream-auth-type": "jwt"}, timeout=10)
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_add_and_get_have_stream_shape(client, uid):
    added = client.reactions.add("like", ACTIVITY, uid)
    got = client.reactions.get(added["id"])
    assert set(got) == FIELDS | {"duration"}
    assert without_duration(got) == without_duration(added)
    assert got["parent"] == "" and got["data"] == {} and got["latest_children"] == {} and got["children_counts"] == {}
    assert got["activity_id"] == ACTIVITY and got["kind"] == "like" and got["user_id"] == uid
    assert got["created_at"].endswith("Z") and got["created_at"] == got["updated_at"]
    assert uuid.UUID(got["id"]).version == 1


def test_target_feeds_get_the_reaction_activity_and_lose_it_on_delete(client, uid):
    """stream-python's test_reaction_add_to_target_feeds, plus followers, update, soft delete, restore."""
    michelle = f"michelle{uid}"
    client.feed("timeline", uid).follow("user", michelle)
    r = client.reactions.add("superlike", ACTIVITY, "mike", data={"popularity": 50},
                             target_feeds=[f"user:{michelle}"], target_feeds_extra_data={"popularity": 100})
    assert r["data"]["popularity"] == 50 and r["target_feeds"] == [f"user:{michelle}"]
    a = client.feed("user", michelle).get(limit=1)["results"][0]
    assert r["id"] in a["reaction"] and a["verb"] == "superlike" and a["popularity"] == 100
    assert a["actor"] == "SU:mike" and a["object"] == f"SA:{ACTIVITY}" and a["reaction"] == f"SR:{r['id']}"
    assert a["foreign_id"] == f"reaction:{r['id']}" and a["target"] == "" and a["origin"] is None
    assert a["time"].replace(tzinfo=None).isoformat(timespec="microseconds") == r["created_at"][:-1]
    [copy] = client.feed("timeline", uid).get()["results"]  # the follower got it through the fan-out
    assert copy["id"] == a["id"] and copy["origin"] == f"user:{michelle}"

    child = client.reactions.add_child("superlike", r["id"], "rob", data={"popularity": 60},
                                       target_feeds=[f"user:{michelle}"], target_feeds_extra_data={"popularity": 200})
    a = client.feed("user", michelle).get(limit=1)["results"][0]
    assert child["id"] in a["reaction"] and a["popularity"] == 200 and a["object"] == f"SA:{ACTIVITY}"
    assert child["activity_id"] == ACTIVITY and child["parent"] == r["id"]

    # changing target_feeds adds and removes copies
    other = f"other{uid}"
    client.reactions.update(r["id"], target_feeds=[f"user:{other}"])
    assert [x["reaction"] for x in client.feed("user", other).get()["results"]] == [f"SR:{r['id']}"]
    assert [x["reaction"] for x in client.feed("user", michelle).get()["results"]] == [f"SR:{child['id']}"]
    assert client.reactions.get(r["id"])["data"] == {"popularity": 50}  # data kept when not given

    client.reactions.delete(r["id"], soft=True)
    assert client.feed("user", other).get()["results"] == []
    client.reactions.restore(r["id"])
    assert [x["reaction"] for x in client.feed("user", other).get()["results"]] == [f"SR:{r['id']}"]
    client.reactions.delete(r["id"])  # hard: the child and its activity go too
    assert client.feed("user", other).get()["results"] == []
    assert client.feed("user", michelle).get()["results"] == []
    assert client.feed("timeline", uid).get()["results"] == []
    for gone in (r["id"], child["id"]):
        with pytest.raises(exc.DoesNotExistException):
            client.reactions.get(gone)


def test_reaction_filter_as_stream_python_tests_it(client):
    """stream-python's test_reaction_filter and test_reaction_filter_random, verbatim in substance."""
    activity_id, user = str(uuid.uuid1()), str(uuid.uuid1())
    response = client.reactions.add("like", activity_id, user)
    child = client.reactions.add_child("like", response["id"], user)
    reaction = client.reactions.get(response["id"])
    response = client.reactions.add("comment", activity_id, user)
    reaction_comment = client.reactions.get(response["id"])

    def first_should_be(r, element):
        assert len(r["results"]) == 1 and r["results"][0] == without_duration(element)

    first_should_be(client.reactions.filter(reaction_id=reaction["id"]), child)
    first_should_be(client.reactions.filter(kind="like", activity_id=activity_id, id_lte=reaction["id"]), reaction)
    first_should_be(client.reactions.filter(kind="like", user_id=user, id_lte=reaction["id"]), reaction)
    first_should_be(client.reactions.filter(kind="comment", activity_id=activity_id), reaction_comment)
    assert reaction["children_counts"] == {"like": 1}
    # children inside latest_children carry no ``user`` yet (top-level reactions do: issue 17)
    assert reaction["latest_children"] == {"like": [nested(child)]}

    rid = "87a9eec0-fd5f-11e8-8080-80013fed2f5b"
    for found in (client.reactions.filter(kind="like", reaction_id=rid, id_lte=rid),
                  client.reactions.filter(activity_id=rid, id_lte=rid),
                  client.reactions.filter(user_id="mike", id_lte=rid)):
        assert set(found) >= {"results", "next", "duration"} and found["next"] == ""


@pytest.mark.parametrize("ascending", [False, True])
def test_paging_never_loses_or_repeats(client, dev_server, uid, ascending):
    activity_id = str(uuid.uuid1())
    made = [client.reactions.add("like" if i % 3 else "comment", activity_id, f"u{i % 4}")["id"] for i in range(32)]
    first = {"id_gt": "00000000-0000-1000-8080-000000000000"} if ascending else {}
    page = client.reactions.filter(activity_id=activity_id, limit=7, **first)
    seen = []
    while True:
        assert len(page["results"]) <= 7
        seen += [r["id"] for r in page["results"]]
        if not page["next"]:
            break
        assert ("id_gt=" if ascending else "id_lt=") in page["next"] and "limit=7" in page["next"]
        page = follow_next(dev_server, page["next"])
    assert seen == (made if ascending else made[::-1])
    # one kind, default limit (10) and the maximum (25)
    likes = [m for i, m in enumerate(made) if i % 3]
    assert [r["id"] for r in client.reactions.filter(activity_id=activity_id, kind="like")["results"]] == likes[::-1][:10]
    assert len(client.reactions.filter(activity_id=activity_id, limit=100)["results"]) == 25
    by_u1 = client.reactions.filter(activity_id=activity_id, filter_user_id="u1", limit=25)["results"]
    assert [r["id"] for r in by_u1] == [m for i, m in enumerate(made) if i % 4 == 1][::-1]


def test_update_soft_delete_restore_and_hard_delete(client, uid):
    r = client.reactions.add("comment", ACTIVITY, uid, data={"text": "first"})
    updated = client.reactions.update(r["id"], {"text": "edited"})
    assert updated["data"] == {"text": "edited"} and updated["updated_at"] >= r["updated_at"]
    assert client.reactions.get(r["id"])["data"] == {"text": "edited"}
    client.reactions.delete(r["id"], soft=True)
    got = client.reactions.get(r["id"])
    assert got["deleted_at"].endswith("Z")
    assert r["id"] not in [x["id"] for x in client.reactions.filter(user_id=uid)["results"]]
    client.reactions.restore(r["id"])
    assert "deleted_at" not in client.reactions.get(r["id"])
    assert r["id"] in [x["id"] for x in client.reactions.filter(user_id=uid)["results"]]
    with pytest.raises(exc.DoesNotExistException):
        client.reactions.restore(r["id"])  # not soft-deleted: 404 (stream-python's test)
    client.reactions.delete(r["id"])
    with pytest.raises(exc.DoesNotExistException):
        client.reactions.get(r["id"])
    with pytest.raises(exc.DoesNotExistException):
        client.reactions.update(r["id"], {"x": 1})
    # a soft-deleted child of a hard-deleted parent stays deleted: it cannot be restored
    p = client.reactions.add("comment", ACTIVITY, uid)
    c = client.reactions.add_child("like", p["id"], uid)
    client.reactions.delete(c["id"], soft=True)
    assert client.reactions.get(p["id"])["children_counts"] == {}
    client.reactions.delete(p["id"])
    with pytest.raises(exc.DoesNotExistException):
        client.reactions.restore(c["id"])


def test_get_many_and_with_activity_data_and_own_children(client, dev_server, uid):
    act = client.feed("user", uid).add_activity({"actor": uid, "verb": "post", "object": "o"})
    a = client.reactions.add("comment", act["id"], uid)
    b = client.reactions.add("comment", act["id"], "someone")
    mine = client.reactions.add_child("like", a["id"], "me")
    client.reactions.add_child("like", a["id"], "you")
    client.reactions.delete(b["id"], soft=True)
    resp = raw(dev_server, "GET", "reaction/get_many/", ids=f"{b['id']},{a['id']},{uuid.uuid4()}")
    assert [x["id"] for x in resp.json()["reactions"]] == [a["id"]]
    resp = raw(dev_server, "GET", "reaction/get_many/", ids=f"{b['id']},{a['id']}", include_deleted="true")
    assert [x["id"] for x in resp.json()["reactions"]] == [b["id"], a["id"]]

    page = client.reactions.filter(activity_id=act["id"], with_activity_data=True, with_own_children=True,
                                   children_user_id="me")
    assert without_duration(act) == {k: v for k, v in page["activity"].items() if k != "origin"}
    [result] = page["results"]
    assert result["own_children"] == {"like": [nested(mine)]}
    assert result["children_counts"] == {"like": 2}


def test_counts_exact_under_concurrent_and_repeated_writes(client, dev_server, uid):
    parent = client.reactions.add("comment", ACTIVITY, uid)
    errors = []
    token = jwt.encode({"resource": "reactions", "action": "*", "feed_id": "*"}, API_SECRET, algorithm="HS256")
    # one kept-alive connection per writer, opened one by one (the dev server's listen backlog is
    # small), then all 20 writers released at once
    sessions = [requests.Session() for _ in range(20)]
    for sess in sessions:
        sess.headers.update({"Authorization": token, "stream-auth-type": "jwt"})
        assert sess.get(f"{dev_server.base_url}/api/v1.0/reaction/{parent['id']}/", params={"api_key": API_KEY},
                        timeout=10).status_code == 200
    start = threading.Barrier(20)

    def writer(n: int) -> None:
        start.wait()
        try:
            for _ in range(2):
                body = {"kind": "like" if n % 2 else "heart", "parent": parent["id"], "user_id": f"u{n}"}
                resp = sessions[n].post(f"{dev_server.base_url}/api/v1.0/reaction/", params={"api_key": API_KEY},
                                        data=json.dumps(body), timeout=30)
                assert resp.status_code == 200, resp.text
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert client.reactions.get(parent["id"])["children_counts"] == {"like": 20, "heart": 20}
    # the same write twice (a retried request): answered alike, counted once; a different one is a conflict
    rid = str(uuid.uuid1())
    body = json.dumps({"kind": "like", "parent": parent["id"], "user_id": "again", "id": rid, "data": {"n": 1}})
    first, second = raw(dev_server, "POST", "reaction/", body=body), raw(dev_server, "POST", "reaction/", body=body)
    assert first.status_code == second.status_code == 200
    assert without_duration(first.json()) == without_duration(second.json()) and first.json()["id"] == rid
    clash = json.dumps({"kind": "like", "parent": parent["id"], "user_id": "again", "id": rid, "data": {"n": 2}})
    assert_error(raw(dev_server, "POST", "reaction/", body=clash), 409, 1)
    assert client.reactions.get(parent["id"])["children_counts"] == {"like": 21, "heart": 20}
    assert len(client.reactions.filter(reaction_id=parent["id"], kind="like", limit=25)["results"]) == 21


def test_bad_input_gets_stream_errors(client, dev_server, uid):
    def post(**fields):
        return raw(dev_server, "POST", "reaction/", body=json.dumps(fields))

    assert_error(post(kind="li ke", activity_id=ACTIVITY, user_id=uid), 400, 4)
    assert_error(post(kind="like\n", activity_id=ACTIVITY, user_id=uid), 400, 4)  # fullmatch, not $
    body = assert_error(post(kind="like", user_id=uid), 400, 4)
    assert set(body["exception_fields"]) == {"activity_id", "parent"}
    assert_error(post(kind="like", activity_id=ACTIVITY, user_id=uid, data="x"), 400, 4)
    assert_error(post(kind="like", activity_id=ACTIVITY, user_id=uid, data={"t": "x" * 11000}), 400, 4)
    assert_error(post(kind="like", activity_id=ACTIVITY, user_id=uid,
                      target_feeds=[f"user:{i}" for i in range(21)]), 400, 4)
    assert_error(post(kind="like", activity_id=ACTIVITY, user_id=uid, target_feeds=["nogroup:1"]), 400, 6)
    assert_error(post(kind="like", activity_id=ACTIVITY, user_id=uid, target_feeds=["user:x\n"]), 400, 4)
    assert_error(post(kind="like", activity_id=ACTIVITY, user_id="u\n"), 400, 4)
    assert_error(post(kind="like", activity_id=ACTIVITY, user_id=uid, id="not-a-uuid"), 400, 4)
    assert_error(post(kind="like", parent=str(uuid.uuid1()), user_id=uid), 404, 16)
    deep: dict = {}
    for _ in range(40):
        deep = {"d": deep}
    assert_error(post(kind="like", activity_id=ACTIVITY, user_id=uid, data=deep), 400, 4)
    nan = '{"kind": "like", "activity_id": "%s", "user_id": "%s", "data": {"x": NaN}}' % (ACTIVITY, uid)
    assert_error(raw(dev_server, "POST", "reaction/", body=nan), 400, 4)
    assert_error(raw(dev_server, "GET", "reaction/nosuch/x/"), 400, 4)
    assert_error(raw(dev_server, "GET", f"reaction/activity_id/{ACTIVITY}/", id_lt="nope"), 400, 4)
    assert_error(raw(dev_server, "GET", "reaction/get_many/"), 400, 4)
    with pytest.raises(exc.DoesNotExistException):
        client.reactions.get(str(uuid.uuid1()))
    assert_error(raw(dev_server, "PUT", f"reaction/{uuid.uuid1()}/restore/"), 404, 16)
    assert_error(raw(dev_server, "DELETE", f"reaction/{uuid.uuid1()}/"), 404, 16)


def test_user_tokens_react_only_as_themselves(client, dev_server, uid):
    alice, bob = f"alice{uid}", f"bob{uid}"
    token = user_token(alice)

    def post(**fields):
        return raw(dev_server, "POST", "reaction/", token=token, body=json.dumps(fields))

    assert_error(post(kind="like", activity_id=ACTIVITY, user_id=bob), 400, 4)
    assert_error(post(kind="like", activity_id=ACTIVITY, user_id=alice, target_feeds=[f"timeline:{bob}"]), 403, 17)
    ok = post(kind="like", activity_id=ACTIVITY, target_feeds=[f"user:{alice}", f"notification:{bob}"])
    assert ok.status_code == 200, ok.text
    mine = ok.json()
    assert mine["user_id"] == alice
    assert [x["reaction"] for x in client.feed("notification", bob).get()["results"][0]["activities"]] == [
        f"SR:{mine['id']}"]
    theirs = client.reactions.add("like", ACTIVITY, bob)
    assert_error(raw(dev_server, "PUT", f"reaction/{theirs['id']}/", token=token, body='{"data": {"x": 1}}'), 403, 17)
    assert_error(raw(dev_server, "DELETE", f"reaction/{theirs['id']}/", token=token), 403, 17)
    assert raw(dev_server, "GET", f"reaction/{theirs['id']}/", token=token).status_code == 200
    resp = raw(dev_server, "PUT", f"reaction/{mine['id']}/", token=token, body='{"data": {"x": 1}}')
    assert resp.status_code == 200 and resp.json()["data"] == {"x": 1}
    assert raw(dev_server, "DELETE", f"reaction/{mine['id']}/", token=token).status_code == 200
    assert client.feed("user", alice).get()["results"] == []
    # a server token without the reactions scope
    feed_only = jwt.encode({"resource": "feed", "action": "*", "feed_id": "*"}, API_SECRET, algorithm="HS256")
    assert_error(raw(dev_server, "GET", f"reaction/{theirs['id']}/", token=feed_only), 403, 17)


def test_filtered_reactions_carry_their_user(client, dev_server, uid):
    """Stream's filters answer each reaction with its ``user`` (stream-js: "reactions should be enriched
    when filtering"); react-activity-feed names the author of a comment it pages in from it. A user
    without a record gets the not-found object (found by the browser test, issue 17)."""
    named, anonymous = f"named{uid}", f"anon{uid}"
    record = without_duration(client.users.add(named, {"name": "Named"}))
    activity = str(uuid.uuid1())
    mine = client.reactions.add("comment", activity, named, data={"text": "hi"})
    theirs = client.reactions.add("comment", activity, anonymous, data={"text": "yo"})
    got = client.reactions.filter(activity_id=activity, kind="comment", limit=10)["results"]
    assert [r["id"] for r in got] == [theirs["id"], mine["id"]]
    assert got[1]["user"] == record
    assert got[0]["user"] == {"error": "ReferenceNotFound", "reference": f"SU:{anonymous}", "reference_type": "user",
                              "id": anonymous}
    # the add answers with the user too, and a GET / get_many the same way (stream-js: "response should
    # include bob user data"), so a listed reaction equals its create response (stream-python compares them)
    assert got[1] == without_duration(mine) and mine["user"] == record
    assert without_duration(client.reactions.get(theirs["id"])) == got[0]
    # the same as a user token reads it (the kit's request), and on the next page of a paged listing
    resp = raw(dev_server, "GET", f"reaction/activity_id/{activity}/comment/", token=user_token(named), limit="1")
    assert resp.status_code == 200, resp.text
    assert resp.json()["results"][0]["user"]["id"] == anonymous
    rest = follow_next(dev_server, resp.json()["next"])
    assert rest["results"][0]["user"] == record
