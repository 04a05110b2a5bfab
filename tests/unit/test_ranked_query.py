"""The ranked read's edges without a server: query parsing, next links, config checks, blobs."""

from __future__ import annotations

import pytest

from feedline.api.links import next_link
from feedline.config import AppConfig, FeedGroup
from feedline.errors import FeedConfigException, InputException
from feedline.feeds.ranked import Rankings
from feedline.feeds.routes import ranked_query
from feedline.models.cursors import OffsetCursor


def test_ranked_query_parses_and_checks():
    assert ranked_query({}) is None
    assert ranked_query({"ranking_vars": '{"a": 1}'}) is None  # checked, then unranked
    q = ranked_query({"ranking": "hot", "rankingVars": '{"boost": 2}', "session": "s", "withScoreVars": "True"})
    assert (q.method, dict(q.variables), q.variables_text, q.session, q.with_vars) == \
        ("hot", {"boost": 2}, '{"boost": 2}', "s", True)
    for bad in ({"ranking_vars": "[1]"}, {"rankingVars": "1"}, {"ranking": "hot", "id_lt": "x"},
                {"ranking": "hot", "actor": "a"}, {"ranking": "hot", "withScoreVars": "maybe"}):
        with pytest.raises(InputException):
            ranked_query(bad)


def test_offset_cursor_link_keeps_params_encoded():
    link = next_link("/api/v1.0/feed/r/u/", OffsetCursor(50, 25, (("ranking", "hot"), ("ranking_vars", '{"a": 1}'))))
    assert link == "/api/v1.0/feed/r/u/?limit=25&offset=50&ranking=hot&ranking_vars=%7B%22a%22%3A%201%7D"


def test_group_options_are_checked():
    with pytest.raises(FeedConfigException, match="flat"):
        FeedGroup.from_dict("g", {"type": "notification", "ranking": {}})
    with pytest.raises(FeedConfigException, match="rank_window"):
        FeedGroup.from_dict("g", {"rank_window": 10_001})
    assert FeedGroup.from_dict("g", {"ranking": {}, "rank_window": 10}).rank_window == 10


def test_rankings_name_group_and_method_and_share_one_layout():
    with pytest.raises(FeedConfigException, match="'g'.*'m'.*likes"):
        Rankings(AppConfig("k", "s", {"g": FeedGroup("g", ranking={"m": {"score": "likes"}})}))
    rk = Rankings(AppConfig("k", "s", {
        "a": FeedGroup("a", ranking={"m": {"score": "likes", "defaults": {"likes": 0}}}),
        "b": FeedGroup("b", ranking={"n": {"score": "time * views", "defaults": {"views": 1}}})}))
    assert rk.layout.fields == ("likes", "time", "views") and set(rk.methods("b")) == {"n"}
    blob = rk.extract(b'{"likes":3,"time":"2024-01-01T00:00:00"}')
    assert len(blob) == rk.layout.row_bytes and blob.startswith(rk.layout.tag)
    empty = Rankings(AppConfig("k", "s", {}))
    assert empty.extract(b'{"likes":3}') == empty.layout.tag  # nothing ranked: the tag alone
