"""Ranked feeds (docs/ranking.md, docs/api.md §8) through stream-python, on both backends.

The groups are ``ranked`` and ``ranked5`` of tests/conftest.py's FEED_GROUPS. Every expected order
and score here is computed by this file from the activities it posted (plain ``math``, written
from the formulas of docs/ranking.md), never read back from the server.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import math
import subprocess
import sys
import time
from urllib.parse import parse_qsl, urlsplit

import pytest
import stream.exceptions as exc

from feedline.activities.store import ActivityRecord
from feedline.config import Settings
from feedline.models import ids
from feedline.storage import open_stores
from tests.conftest import API_KEY, API_SECRET, FEED_GROUPS, ROOT

from .test_errors_and_auth import assert_error, raw
from .test_flat_feeds import utcnow

pytestmark = pytest.mark.e2e

DAY, HOUR = 86_400.0, 3_600.0


def unix(t: dt.datetime) -> float:
    return calendar.timegm(t.utctimetuple()) + t.microsecond / 1e6


def num(doc: dict, path: str, default: float) -> float:
    """A numeric field as ranking reads it: anything but a JSON number takes the default."""
    v = doc
    for part in path.split("."):
        v = v.get(part) if isinstance(v, dict) else None
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else default


def popular(doc: dict, t: dt.datetime, now: float, boost: float = 1.0) -> float:
    """``fresh(time) * (1 + ln(1 + popularity)) + 0.1 * likes + external.boost * promoted``,
    fresh = decay_gauss, scale 1d, offset 1h, decay 0.5, origin the request time."""
    d = max(0.0, abs(unix(t) - now) - HOUR)
    fresh = math.exp(d * d * math.log(0.5) / DAY ** 2)
    return (fresh * (1 + math.log(1 + num(doc, "popularity", 0))) + 0.1 * num(doc, "likes", 0)
            + boost * num(doc, "promoted", 0))


def weekly(doc: dict, t: dt.datetime, now: float) -> float:
    """``week(time) * 10 + (meta.score >= 5 ? meta.score : -1)``, week = decay_linear, 7d, 0.5."""
    s = 7 * DAY / (1 - 0.5)
    d = abs(unix(t) - now)
    m = num(doc, "meta.score", 0)
    return max(0.0, (s - d) / s) * 10 + (m if m >= 5 else -1)


#: (hours ago, custom fields): distinct scores under every method, some fields missing or not numbers
DATA = [
    (0.5, {}),
    (2, {"popularity": 10, "likes": 3}),
    (30, {"popularity": 100, "likes": 0, "meta": {"score": 9}}),
    (5, {"popularity": 1, "likes": "many"}),                   # a string: the default
    (50, {"popularity": 5, "likes": 40, "promoted": 1}),
    (10, {"meta": {"score": 7}}),
    (3, {"popularity": True, "likes": 12.5}),                  # a boolean: the default
    (100, {"likes": 7, "meta": {"score": 4}}),
    (20, {"popularity": 2.5, "likes": 1, "meta": "flat"}),     # meta not an object: the default
    (70, {"popularity": 1000, "promoted": 2}),
]


@pytest.fixture
def posted(client, uid):
    """The DATA activities in ``ranked:<uid>``: ``[(response, sent doc, time)]``."""
    now = utcnow()
    feed = client.feed("ranked", uid)
    out = []
    for i, (hours, extra) in enumerate(DATA):
        t = now - dt.timedelta(hours=hours)
        doc = {"actor": f"u{i}", "verb": "post", "object": f"o:{i}", "time": t, **extra}
        out.append((feed.add_activity(doc), doc, t))
    return out


def ranked_ids(posted, score) -> list[str]:
    """Ids best first; ties newest first (id descending)."""
    rows = sorted(((score(doc, t), resp["id"], t) for resp, doc, t in posted), key=lambda r: (r[0], r[2]), reverse=True)
    return [r[1] for r in rows]


class Clock(float):
    """The middle of a request's time window (the origin of the time decays is the server's
    request time, somewhere in it); ``.within(score, f)`` checks a score against ``f(now)`` at
    both ends (each expression here is monotonic in ``now`` over a request's duration)."""

    before: float
    after: float

    def within(self, score: float, f) -> bool:
        lo, hi = sorted((f(self.before), f(self.after)))
        return lo - 1e-9 * abs(lo) <= score <= hi + 1e-9 * abs(hi)


def read(feed, **params):
    """A read, and its request time window."""
    before = time.time()
    resp = feed.get(**params)
    after = time.time()
    now = Clock((before + after) / 2)
    now.before, now.after = before, after
    return resp, now


def test_popular_orders_by_the_expression(client, uid, posted):
    resp, now = read(client.feed("ranked", uid), ranking="popular", limit=25)
    by_id = {r["id"]: (doc, t) for r, doc, t in posted}
    assert [a["id"] for a in resp["results"]] == ranked_ids(posted, lambda d, t: popular(d, t, now))
    for a in resp["results"]:
        doc, t = by_id[a["id"]]
        assert now.within(a["score"], lambda n, d=doc, t=t: popular(d, t, n))
        assert "score_vars" not in a and a["origin"] is None
    assert resp["next"] == ""


def test_score_vars_show_defaults_and_external_vars(client, uid, posted):
    feed = client.feed("ranked", uid)
    resp, now = read(feed, ranking="popular", withScoreVars=True, ranking_vars=json.dumps({"boost": 3}))
    by_id = {r["id"]: (doc, t) for r, doc, t in posted}
    for a in resp["results"]:
        doc, t = by_id[a["id"]]
        sv = a["score_vars"]
        assert set(sv) == {"time", "popularity", "likes", "external", "promoted"}
        assert sv["time"] == pytest.approx(unix(t), abs=1e-3)
        assert sv["popularity"] == num(doc, "popularity", 0) and sv["likes"] == num(doc, "likes", 0)
        assert sv["promoted"] == num(doc, "promoted", 0) and sv["external"] == {"boost": 3.0}
        assert now.within(a["score"], lambda n, d=doc, t=t: popular(d, t, n, boost=3))
    string_likes = next(a for a in resp["results"] if a.get("likes") == "many")
    assert string_likes["score_vars"]["likes"] == 0.0


def test_external_vars_reorder(client, uid, posted):
    """``external.boost`` multiplies ``promoted``: a large boost lifts the promoted activities."""
    feed = client.feed("ranked", uid)
    plain, now1 = read(feed, ranking="popular")
    boosted, now2 = read(feed, ranking="popular", ranking_vars=json.dumps({"boost": 1000}))
    camel, now3 = read(feed, ranking="popular", rankingVars=json.dumps({"boost": 1000}))  # stream-js's spelling
    assert [a["id"] for a in plain["results"]] == ranked_ids(posted, lambda d, t: popular(d, t, now1))
    expected = ranked_ids(posted, lambda d, t: popular(d, t, now2, boost=1000))
    assert [a["id"] for a in boosted["results"]] == expected == [a["id"] for a in camel["results"]]
    promoted = [r["id"] for r, doc, _ in posted if doc.get("promoted")]
    assert set(expected[:2]) == set(promoted) and set(ranked_ids(posted, lambda d, t: popular(d, t, now1))[:2]) != set(promoted)
    # a var that is not a number takes the default (1)
    odd, now4 = read(feed, ranking="popular", ranking_vars=json.dumps({"boost": "high", "other": [1]}))
    assert [a["id"] for a in odd["results"]] == ranked_ids(posted, lambda d, t: popular(d, t, now4))


def test_linear_decay_nested_field_and_ternary(client, uid, posted):
    resp, now = read(client.feed("ranked", uid), ranking="weekly", withScoreVars=True)
    by_id = {r["id"]: (doc, t) for r, doc, t in posted}
    assert [a["id"] for a in resp["results"]] == ranked_ids(posted, lambda d, t: weekly(d, t, now))
    for a in resp["results"]:
        doc, t = by_id[a["id"]]
        assert now.within(a["score"], lambda n, d=doc, t=t: weekly(d, t, n))
        assert a["score_vars"]["meta"] == {"score": num(doc, "meta.score", 0)}


def test_paging_by_offset_follows_next(client, uid, posted):
    feed = client.feed("ranked", uid)
    vars_text = json.dumps({"boost": 50})
    first, now = read(feed, ranking="popular", limit=4, ranking_vars=vars_text, session="s1")
    expected = ranked_ids(posted, lambda d, t: popular(d, t, now, boost=50))
    seen = [a["id"] for a in first["results"]]
    nxt = first["next"]
    pages = 1
    while nxt:
        url = urlsplit(nxt)
        assert url.path == f"/api/v1.0/feed/ranked/{uid}/"
        query = dict(parse_qsl(url.query))
        assert query["ranking"] == "popular" and query["ranking_vars"] == vars_text and query["session"] == "s1"
        assert query["limit"] == "4" and query["offset"] == str(4 * pages) and "id_lt" not in query
        page = feed.get(**query)
        seen += [a["id"] for a in page["results"]]
        nxt, pages = page["next"], pages + 1
    assert pages == 3 and seen == expected
    # an offset at or past the window: an empty page
    assert feed.get(ranking="popular", offset=len(DATA))["results"] == []
    assert [a["id"] for a in feed.get(ranking="likes", limit=2, offset=1)["results"]] == \
        ranked_ids(posted, lambda d, t: num(d, "likes", 0))[1:3]


def test_rand_is_stable_within_a_session(client, uid, posted):
    feed = client.feed("ranked", uid)
    a = feed.get(ranking="shuffle", session="abc")["results"]
    b = feed.get(ranking="shuffle", session="abc", limit=3, offset=2)["results"]
    assert [x["id"] for x in a[2:5]] == [x["id"] for x in b]
    scores = [x["score"] for x in a]
    assert scores == sorted(scores, reverse=True) and all(0 <= s < 1 for s in scores)
    assert [x["score"] for x in a[2:5]] == [x["score"] for x in b]
    orders = {tuple(x["id"] for x in feed.get(ranking="shuffle", session=f"s{i}")["results"]) for i in range(4)}
    assert len(orders) > 1  # 10! orders: four sessions agreeing would be a broken seed


def test_updates_rerank(client, uid, posted):
    """The field blob is rewritten with the activity: a partial update moves it at once."""
    feed = client.feed("ranked", uid)
    last = ranked_ids(posted, lambda d, t: num(d, "likes", 0))[-1]
    client.activity_partial_update(id=last, set={"likes": 1000})
    assert feed.get(ranking="likes", limit=1)["results"][0]["id"] == last
    client.activity_partial_update(id=last, unset=["likes"])
    assert feed.get(ranking="likes")["results"][-1]["id"] == last


def test_followers_copies_rank_with_origin(client, uid):
    """Fan-out copies carry no body: their blob is the activity's, read the same way."""
    ranked = client.feed("ranked", uid)
    ranked.follow("user", f"src{uid}")
    src = client.feed("user", f"src{uid}")
    sent = [src.add_activity({"actor": "a", "verb": "v", "object": f"o{i}", "likes": i * 3 % 7}) for i in range(5)]
    results = ranked.get(ranking="likes")["results"]
    expected = sorted(sent, key=lambda r: (r["likes"], r["id"]), reverse=True)
    assert [a["id"] for a in results] == [r["id"] for r in expected]
    assert {a["origin"] for a in results} == {f"user:src{uid}"}
    assert [a["score"] for a in results] == [float(r["likes"]) for r in expected]


def test_window_is_the_newest_entries(client, uid):
    feed = client.feed("ranked5", uid)
    now = utcnow()
    sent = [feed.add_activity({"actor": "a", "verb": "v", "object": f"o{i}", "likes": 100 - i,
                               "time": now - dt.timedelta(minutes=10 - i)}) for i in range(8)]
    newest = sent[3:]  # the window: the 5 newest entries (the oldest have the most likes)
    assert [a["id"] for a in feed.get(ranking="likes")["results"]] == [r["id"] for r in newest]
    assert feed.get(ranking="likes", offset=5)["results"] == []
    assert [a["id"] for a in feed.get()["results"]] == [r["id"] for r in sent[::-1]]  # unranked: everything


def test_blobs_missing_or_stale_fall_back_to_the_bodies(dev_server, client, uid, posted):
    """A method added after the data was written: no blob (or another layout's) on some rows."""
    stores = open_stores(Settings.from_env(dev_server.env))
    try:
        keys = [ids.uuid_to_key(p[0]["id"]) for p in posted]
        recs = stores.activities.get_activities(keys)
        rewritten = []
        for i, k in enumerate(keys):
            r = recs[k]
            rank = None if i % 3 == 0 else (b"\x00" * 8 + r.rank[8:] if i % 3 == 1 else r.rank)
            rewritten.append(ActivityRecord(r.key, r.body, r.foreign_id, r.feed, r.actor, r.verb, r.refs, rank))
        stores.activities.put_activities(rewritten)
        assert sum(r.rank is None for r in stores.activities.get_activities(keys).values()) == 4
    finally:
        stores.close()
    feed = client.feed("ranked", uid)
    resp, now = read(feed, ranking="popular", withScoreVars=True)
    assert [a["id"] for a in resp["results"]] == ranked_ids(posted, lambda d, t: popular(d, t, now))
    by_id = {r["id"]: (doc, t) for r, doc, t in posted}
    for a in resp["results"]:
        doc, t = by_id[a["id"]]
        assert now.within(a["score"], lambda n, d=doc, t=t: popular(d, t, n))


def test_errors(dev_server, client, uid, posted):
    feed = client.feed("ranked", uid)
    some_id = posted[0][0]["id"]
    with pytest.raises(exc.InputException):
        feed.get(ranking="popular", id_lt=some_id)
    for cursor in ("id_lt", "id_lte", "id_gt", "id_gte"):
        assert_error(raw(dev_server, "GET", f"feed/ranked/{uid}/", ranking="popular", **{cursor: some_id}), 400, 4)
    assert_error(raw(dev_server, "GET", f"feed/ranked/{uid}/", ranking="popular", verb="post"), 400, 4)
    with pytest.raises(exc.MissingRankingException):
        feed.get(ranking="nosuch")
    with pytest.raises(exc.MissingRankingException):
        client.feed("aggregated", uid).get(ranking="popular")
    with pytest.raises(exc.MissingRankingException):
        client.feed("user", uid).get(ranking="popular")  # a flat group without methods
    # ranking_vars must be a JSON object, with or without ranking=, in both spellings
    for bad in ("[1, 2]", "42", '"text"', "nope", "{bad json", "NaN", '{"x": NaN}'):
        for name in ("ranking_vars", "rankingVars"):
            body = assert_error(raw(dev_server, "GET", f"feed/ranked/{uid}/", **{name: bad}), 400, 4)
            assert name in json.dumps(body.get("exception_fields", body["detail"]))
            assert_error(raw(dev_server, "GET", f"feed/ranked/{uid}/", ranking="popular", **{name: bad}), 400, 4)
    with pytest.raises(exc.InputException):
        feed.get(ranking_vars="[1]")
    # an object without ranking= is accepted (and ignored)
    assert len(feed.get(ranking_vars=json.dumps({"boost": 2}))["results"]) == len(DATA)
    assert_error(raw(dev_server, "GET", f"feed/ranked/{uid}/", ranking="popular", withScoreVars="maybe"), 400, 4)


def _dev(tmp_path, groups) -> subprocess.CompletedProcess:
    config = tmp_path / "bad.json"
    config.write_text(json.dumps({"feed_groups": {**FEED_GROUPS, **groups}}))
    return subprocess.run([sys.executable, "-m", "feedline.cli", "dev", "--port", "0"], cwd=ROOT, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "FEEDLINE_API_KEY": API_KEY, "FEEDLINE_API_SECRET": API_SECRET,
                               "FEEDLINE_CONFIG": str(config), "FEEDLINE_SQLITE_PATH": str(tmp_path / "x.db")},
                          capture_output=True, text=True)


@pytest.mark.parametrize(("method", "says"), [
    ({"score": "likes * 2"}, "likes"),                                       # a field without a default
    ({"score": "shout(time)", "defaults": {}}, "shout"),                     # an unknown function
    ({"score": "1 + * 2"}, "unexpected"),                                    # does not parse
    ({"score": "fresh(time)", "functions": {"fresh": {"base": "decay_gauss", "scale": "-1d"}}}, "scale"),
])
def test_bad_ranking_config_stops_the_stack(tmp_path, method, says):
    proc = _dev(tmp_path, {"broken": {"type": "flat", "ranking": {"hot": method}}})
    assert proc.returncode != 0
    assert "'broken'" in proc.stderr and "'hot'" in proc.stderr and says in proc.stderr, proc.stderr[-2000:]


def test_ranking_on_a_grouped_feed_or_a_bad_window_stops_the_stack(tmp_path):
    proc = _dev(tmp_path, {"broken": {"type": "aggregated", "ranking": {"hot": {"score": "time"}}}})
    assert proc.returncode != 0 and "'broken'" in proc.stderr and "flat" in proc.stderr
    proc = _dev(tmp_path, {"broken": {"type": "flat", "rank_window": 0, "ranking": {"hot": {"score": "time"}}}})
    assert proc.returncode != 0 and "'broken'" in proc.stderr and "rank_window" in proc.stderr


def test_ranked_enriched_read_resolves_references_and_reactions(client, uid, posted):
    """``/enrich/feed/...?ranking=`` (stream-js: FlatFeed with ``options.ranking``): the ranked order
    and scores, with ``SU:`` actors resolved and reaction counts, and a next link that keeps both."""
    user = client.users.add(f"r{uid}", {"name": "Ranker"})
    feed = client.feed("ranked", uid)
    now_t = utcnow()
    extra = feed.add_activity({"actor": f"SU:r{uid}", "verb": "post", "object": "o:x", "time": now_t,
                               "popularity": 10_000, "likes": 1})
    client.reactions.add("like", extra["id"], user_id=f"r{uid}")
    docs = posted + [(extra, {"popularity": 10_000, "likes": 1}, now_t)]
    before = time.time()
    resp = feed.get(ranking="popular", limit=4, enrich=True, reactions={"counts": True, "recent": True})
    after = time.time()
    order = ranked_ids(docs, lambda d, t: popular(d, t, (before + after) / 2))
    assert [a["id"] for a in resp["results"]] == order[:4]
    top = resp["results"][0]
    assert top["id"] == extra["id"]
    assert top["actor"]["id"] == user["id"] == f"r{uid}" and top["actor"]["data"] == {"name": "Ranker"}
    assert top["reaction_counts"] == {"like": 1} and len(top["latest_reactions"]["like"]) == 1
    assert all(isinstance(a["score"], float) for a in resp["results"])
    nxt = dict(parse_qsl(urlsplit(resp["next"]).query))
    assert urlsplit(resp["next"]).path.startswith("/api/v1.0/enrich/feed/ranked/")
    assert nxt["ranking"] == "popular" and nxt["offset"] == "4"
    rest = feed.get(ranking="popular", limit=25, offset=4, enrich=True)
    assert [a["id"] for a in rest["results"]] == order[4:]
