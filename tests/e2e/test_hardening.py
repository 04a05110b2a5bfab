"""Issue 15, input validation: bad input is a Stream-style 400 through the real HTTP path (`feedline
dev` on each backend), never a 500, and nothing a strict JSON parser rejects is ever stored or served.

Bodies are written as raw JSON text on purpose: ``"\\ud800"``, ``1e999`` and ``NaN`` are what a
careless (or hostile) client sends, and the point is what the server's parser makes of them.
"""

from __future__ import annotations

import json

import pytest

from .test_errors_and_auth import assert_error, raw
from .test_flat_feeds import utcnow

pytestmark = pytest.mark.e2e

OUT_OF_RANGE_TIMES = ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"]
LONE = "\\ud800"  # a lone UTF-16 surrogate, as JSON text


def strict(resp) -> dict:
    """The body as a strict parser reads it: no NaN/Infinity, no raw control characters."""
    def refuse(name):
        raise AssertionError(f"non-JSON constant {name} in {resp.text[:200]}")
    return json.loads(resp.text, parse_constant=refuse)


def bad(resp) -> dict:
    """A 400 InputException in Stream's envelope, readable by a strict parser."""
    body = assert_error(resp, 400, 4)
    strict(resp)
    return body


def add(dev_server, uid, **fields):
    act = {"actor": "a", "verb": "v", "object": "o", "time": utcnow().isoformat(), **fields}
    resp = raw(dev_server, "POST", f"feed/user/{uid}/", body=json.dumps(act))
    assert resp.status_code == 200, resp.text
    return strict(resp)


def feed_is(dev_server, fid: str, ids: list[str]) -> None:
    """The feed holds exactly ``ids`` and is strict JSON: nothing of a refused request was stored."""
    slug, uid = fid.split(":")
    resp = raw(dev_server, "GET", f"feed/{slug}/{uid}/")
    assert resp.status_code == 200, resp.text
    assert [a["id"] for a in strict(resp)["results"]] == ids


# ---- 1. times whose UTC offset leaves years 1-9999 ---------------------------------------------
@pytest.mark.parametrize("when", OUT_OF_RANGE_TIMES)
def test_out_of_range_offset_times(dev_server, uid, when):
    body = bad(raw(dev_server, "POST", f"feed/user/{uid}/",
                   body=json.dumps({"actor": "a", "verb": "v", "object": "o", "time": when})))
    assert "time" in body["exception_fields"]
    bad(raw(dev_server, "POST", "activities/", body=json.dumps(
        {"activities": [{"actor": "a", "verb": "v", "object": "o", "foreign_id": "f:1", "time": when}]})))
    bad(raw(dev_server, "POST", f"feed_targets/user/{uid}/activity_to_targets/",
            body=json.dumps({"foreign_id": "f:1", "time": when, "added_targets": ["flat:1"]})))
    bad(raw(dev_server, "POST", "activity/", body=json.dumps(
        {"changes": [{"foreign_id": "f:1", "time": when, "set": {"x": 1}}]})))
    bad(raw(dev_server, "POST", "activity/", body=json.dumps({"foreign_id": "f:1", "time": when, "set": {"x": 1}})))
    bad(raw(dev_server, "GET", "activities/", foreign_ids="f:1", timestamps=when))
    feed_is(dev_server, f"user:{uid}", [])


# ---- 2. lone UTF-16 surrogates -----------------------------------------------------------------
@pytest.mark.parametrize("fields", [
    f'"actor": "a", "verb": "{LONE}", "object": "o"',
    f'"actor": "a{LONE}", "verb": "v", "object": "o"',
    f'"actor": "a", "verb": "v", "object": "{LONE}"',
    f'"actor": "a", "verb": "v", "object": "o", "foreign_id": "f{LONE}"',
    f'"actor": "a", "verb": "v", "object": "o", "custom": "{LONE}"',
    f'"actor": "a", "verb": "v", "object": "o", "custom": {{"deep": ["{LONE}"]}}',
    f'"actor": "a", "verb": "v", "object": "o", "custom": {{"{LONE}": 1}}',
    f'"actor": "a", "verb": "v", "object": "o", "{LONE}": 1',
    f'"actor": "a", "verb": "v", "object": "o", "to": ["user:{LONE}"]',
])
def test_lone_surrogates_in_activities(dev_server, uid, fields):
    bad(raw(dev_server, "POST", f"feed/user/{uid}/", body="{" + fields + "}"))
    bad(raw(dev_server, "POST", f"feed/user/{uid}/", body='{"activities": [{' + fields + "}]}"))
    bad(raw(dev_server, "POST", "feed/add_to_many/", body='{"activity": {' + fields + '}, "feeds": ["flat:1"]}'))
    feed_is(dev_server, f"user:{uid}", [])


def test_lone_surrogates_in_updates_and_follows(dev_server, uid):
    when = utcnow().isoformat()
    act = add(dev_server, uid, foreign_id=f"s:{uid}", time=when)
    ident = f'"foreign_id": "s:{uid}", "time": "{when}"'
    # full update: a field value, a key; the foreign_id itself
    bad(raw(dev_server, "POST", "activities/",
            body=f'{{"activities": [{{"actor": "a", "verb": "{LONE}", "object": "o", {ident}}}]}}'))
    bad(raw(dev_server, "POST", "activities/",
            body=f'{{"activities": [{{"actor": "a", "verb": "v", "object": "o", "foreign_id": "s{LONE}", '
                 f'"time": "{when}"}}]}}'))
    # partial update: dotted set path, unset path, value, nested key; by id and by foreign_id + time
    for change in (f'"set": {{"a.{LONE}.b": 1}}', f'"unset": ["x.{LONE}"]', f'"set": {{"x": "{LONE}"}}',
                   f'"set": {{"x": {{"{LONE}": 1}}}}', f'"set": {{"{LONE}": 1}}'):
        bad(raw(dev_server, "POST", "activity/", body=f'{{"changes": [{{"id": "{act["id"]}", {change}}}]}}'))
        bad(raw(dev_server, "POST", "activity/", body=f'{{{ident}, {change}}}'))
    bad(raw(dev_server, "POST", "activity/", body=f'{{"foreign_id": "s:{uid}{LONE}", "time": "{when}", "set": {{"x": 1}}}}'))
    # to-targets, follows, follow_many, mark
    bad(raw(dev_server, "POST", f"feed_targets/user/{uid}/activity_to_targets/",
            body=f'{{{ident}, "added_targets": ["flat:{LONE}"]}}'))
    bad(raw(dev_server, "POST", f"feed/timeline/{uid}/follows/", body=f'{{"target": "user:{LONE}"}}'))
    bad(raw(dev_server, "POST", "follow_many/", body=f'[{{"source": "timeline:{uid}", "target": "user:{LONE}"}}]'))
    bad(raw(dev_server, "POST", f"feed/notification/{uid}/mark/", body=f'{{"mark_seen": ["{LONE}"]}}'))
    # nothing changed: the stored activity is the one added, served as strict JSON
    [got] = strict(raw(dev_server, "GET", "activities/", ids=act["id"]))["results"]
    assert got == {**{k: v for k, v in act.items() if k != "duration"}, "origin": None}


# ---- 3. non-finite numbers ---------------------------------------------------------------------
@pytest.mark.parametrize("number", ["1e999", "-1e999", "NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_are_never_stored(dev_server, uid, number):
    when = utcnow().isoformat()
    act = add(dev_server, uid, foreign_id=f"n:{uid}", time=when, n=1)
    for fields in (f'"actor": {number}, "verb": "v", "object": "o"',
                   f'"actor": "a", "verb": "v", "object": "o", "n": {number}',
                   f'"actor": "a", "verb": "v", "object": "o", "n": {{"x": [1, {number}]}}',
                   f'"actor": "a", "verb": "v", "object": "o", "foreign_id": {number}'):
        bad(raw(dev_server, "POST", f"feed/user/{uid}/", body="{" + fields + "}"))
        bad(raw(dev_server, "POST", "feed/add_to_many/", body='{"activity": {' + fields + '}, "feeds": ["flat:1"]}'))
    bad(raw(dev_server, "POST", "activities/", body=f'{{"activities": [{{"actor": "a", "verb": "v", "object": "o", '
                                                    f'"foreign_id": "n:{uid}", "time": "{when}", "n": {number}}}]}}'))
    bad(raw(dev_server, "POST", "activity/", body=f'{{"id": "{act["id"]}", "set": {{"n": {number}}}}}'))
    bad(raw(dev_server, "POST", "activity/", body=f'{{"id": "{act["id"]}", "set": {{"a.b": [{number}]}}}}'))
    bad(raw(dev_server, "POST", f"feed/timeline/{uid}/follows/",
            body=f'{{"target": "user:{uid}", "activity_copy_limit": {number}}}'))
    bad(raw(dev_server, "POST", f"feed/notification/{uid}/mark/", body=f'{{"mark_seen": true, "limit": {number}}}'))
    feed_is(dev_server, f"user:{uid}", [act["id"]])
    [got] = strict(raw(dev_server, "GET", "activities/", ids=act["id"]))["results"]
    assert got["n"] == 1


# ---- 4. feed ids are whole matches -------------------------------------------------------------
@pytest.mark.parametrize("tail", ["%0A", "%0D", "%0A%0A", "%09"])
def test_feed_ids_with_trailing_control_characters(dev_server, client, uid, tail):
    text = {"%0A": "\n", "%0D": "\r", "%0A%0A": "\n\n", "%09": "\t"}[tail]
    bad(raw(dev_server, "GET", f"feed/user/{uid}{tail}/"))
    bad(raw(dev_server, "GET", f"feed/user{tail}/{uid}/"))
    bad(raw(dev_server, "POST", f"feed/user/{uid}{tail}/", body='{"actor": "a", "verb": "v", "object": "o"}'))
    bad(raw(dev_server, "POST", f"feed/timeline/{uid}{tail}/follows/", body=json.dumps({"target": f"user:{uid}"})))
    bad(raw(dev_server, "POST", f"feed/timeline/{uid}/follows/", body=json.dumps({"target": f"user:{uid}{text}"})))
    bad(raw(dev_server, "POST", f"feed/timeline/{uid}/follows/", body=json.dumps({"target": f"user{text}:{uid}"})))
    bad(raw(dev_server, "DELETE", f"feed/timeline/{uid}/follows/user:{uid}{tail}/"))
    bad(raw(dev_server, "POST", "follow_many/", body=json.dumps([{"source": f"timeline:{uid}{text}",
                                                                   "target": f"user:{uid}"}])))
    bad(raw(dev_server, "POST", "unfollow_many/", body=json.dumps([{"source": f"timeline:{uid}",
                                                                     "target": f"user:{uid}{text}"}])))
    bad(raw(dev_server, "POST", f"feed/user/{uid}/", body=json.dumps(
        {"actor": "a", "verb": "v", "object": "o", "to": [f"flat:{uid}{text}"]})))
    bad(raw(dev_server, "POST", "feed/add_to_many/", body=json.dumps(
        {"activity": {"actor": "a", "verb": "v", "object": "o"}, "feeds": [f"flat:{uid}{text}"]})))
    bad(raw(dev_server, "GET", "stats/follow/", followers=f"user:{uid}{text}"))
    bad(raw(dev_server, "GET", "stats/follow/", following=f"timeline:{uid}{text}"))
    bad(raw(dev_server, "GET", f"feed/user/{uid}{tail}/followers/"))
    # nothing was followed or written: followers' pages stay strict JSON
    assert strict(raw(dev_server, "GET", f"feed/user/{uid}/followers/"))["results"] == []
    assert client.follow_stats(f"user:{uid}")["results"]["followers"]["count"] == 0
    feed_is(dev_server, f"user:{uid}", [])
    feed_is(dev_server, f"flat:{uid}", [])


# ---- 5./6. depth and size bounds ----------------------------------------------------------------
def nest(depth: int) -> str:
    """JSON text of ``depth`` nested objects around 1."""
    return '{"n":' * depth + "1" + "}" * depth


def test_nesting_depth_limit(dev_server, uid):
    ok = add(dev_server, uid, deep=json.loads(nest(31)))  # the activity object is level 1
    assert json.dumps(ok["deep"]) == json.dumps(json.loads(nest(31)))
    body = bad(raw(dev_server, "POST", f"feed/user/{uid}/",
                   body='{"actor": "a", "verb": "v", "object": "o", "deep": ' + nest(32) + "}"))
    assert "deep" in body["exception_fields"]
    bad(raw(dev_server, "POST", f"feed/user/{uid}/", body='{"actor": "a", "verb": "v", "object": "o", "deep": '
                                                         + "[" * 1000 + "]" * 1000 + "}"))
    # a partial update may not push an activity past the limit either, by value or by path
    bad(raw(dev_server, "POST", "activity/", body=f'{{"id": "{ok["id"]}", "set": {{"deep.n": {nest(31)}}}}}'))
    bad(raw(dev_server, "POST", "activity/", body=f'{{"id": "{ok["id"]}", "set": {{"{".".join(["p"] * 32)}": 1}}}}'))
    bad(raw(dev_server, "POST", "activity/", body=f'{{"id": "{ok["id"]}", "set": {{"{".".join(["p"] * 1100)}": 1}}}}'))
    bad(raw(dev_server, "POST", "activity/", body=f'{{"id": "{ok["id"]}", "unset": ["{".".join(["p"] * 1100)}"]}}'))
    fine = raw(dev_server, "POST", "activity/", body=f'{{"id": "{ok["id"]}", "set": {{"{".".join(["p"] * 31)}": 1}}}}')
    assert fine.status_code == 200, fine.text
    [got] = strict(raw(dev_server, "GET", "activities/", ids=ok["id"]))["results"]
    assert got["deep"] == json.loads(nest(31)) and "p" in got


def test_deeply_nested_targets(dev_server, uid):
    when = utcnow().isoformat()
    add(dev_server, uid, foreign_id=f"d:{uid}", time=when)
    deep = "[" * 1000 + '"flat:1"' + "]" * 1000
    for name in ("added_targets", "new_targets", "removed_targets"):
        body = bad(raw(dev_server, "POST", f"feed_targets/user/{uid}/activity_to_targets/",
                       body=f'{{"foreign_id": "d:{uid}", "time": "{when}", "{name}": [{deep}]}}'))
        assert len(body["detail"]) < 500
    bad(raw(dev_server, "POST", f"feed/user/{uid}/", body=f'{{"actor": "a", "verb": "v", "object": "o", "to": {deep}}}'))
    bad(raw(dev_server, "POST", f"feed/timeline/{uid}/follows/", body=f'{{"target": {deep}}}'))
    bad(raw(dev_server, "POST", "follow_many/", body=f'[{{"source": "timeline:{uid}", "target": {deep}}}]'))


def test_follow_stats_with_many_slugs(dev_server, client, uid):
    client.feed("timeline", uid).follow("user", uid)
    client.feed("flat", uid).follow("user", uid)
    many = [f"g{i}" for i in range(1000)]
    bad(raw(dev_server, "GET", "stats/follow/", followers=f"user:{uid}", followers_slugs=",".join(many)))
    bad(raw(dev_server, "GET", "stats/follow/", following=f"timeline:{uid}", following_slugs=",".join(many)))
    bad(raw(dev_server, "GET", "stats/follow/", followers=f"user:{uid}", followers_slugs="time%,flat"))
    # at the bound the answer is exact
    slugs = [*many[:98], "timeline", "flat"]
    stats = strict(raw(dev_server, "GET", "stats/follow/", followers=f"user:{uid}", followers_slugs=",".join(slugs)))
    assert stats["results"]["followers"]["count"] == 2
    assert client.follow_stats(f"user:{uid}", followers_slugs=["TIMELINE"])["results"]["followers"]["count"] == 0
