"""Ranking config parsing: the issue's exact shape, defaults, externals, units, and every error."""

from __future__ import annotations

import math

import pytest

from feedline.ranking import RankingConfigError, RankingVarsError, parse_methods, parse_ranking_vars
from feedline.ranking.config import UNITS, number
from feedline.ranking.window import externals

from .ranking_helpers import evaluate, method
from .twins import twin_params

TWINS = twin_params("feedline.ranking._rank")

ISSUE = {"popular": {"score": "fresh(time) * (1 + ln(1 + popularity)) + 0.1 * likes",
                     "defaults": {"popularity": 0, "likes": 0},
                     "functions": {"fresh": {"base": "decay_gauss", "scale": "1d", "offset": "1h", "decay": "0.5"}}}}


@pytest.mark.parametrize("twin", TWINS)
def test_issue_example(twin):
    m = parse_methods("ranked", ISSUE)["popular"]
    assert (m.group, m.name) == ("ranked", "popular")
    assert m.fields == ("time", "popularity", "likes") and m.columns == m.fields and m.externals == ()
    now = 1.75e9
    times, pop, likes = [now - 7200, now - 86400 - 3600, now], [10.0, 500.0, math.nan], [3.0, math.nan, 100.0]
    got = evaluate(twin, m, {"time": times, "popularity": pop, "likes": likes}, now=now)

    def expected(t, p, lk):
        p = 0.0 if math.isnan(p) else p
        lk = 0.0 if math.isnan(lk) else lk
        d = max(0.0, abs(t - now) - 3600)
        return math.exp(-(d ** 2) / (2 * (-(86400 ** 2) / (2 * math.log(0.5))))) * (1 + math.log(1 + p)) + 0.1 * lk

    assert got == pytest.approx([expected(*r) for r in zip(times, pop, likes)], rel=1e-12)


@pytest.mark.parametrize("twin", TWINS)
def test_externals_defaults_and_types(twin):
    m = method("external.boost * 2 + external.deep.x + likes", {"likes": 1, "external": {"boost": 10, "deep.x": 0.5}})
    assert m.fields == ("external.boost", "external.deep.x", "likes") and m.externals == ("boost", "deep.x")
    assert m.columns == ("likes",)
    assert externals(m, None) == [10.0, 0.5]
    assert externals(m, {"boost": 3, "deep": {"x": 2}}) == [3.0, 2.0]
    # booleans, strings, objects and unknown keys count as missing: the default applies
    assert externals(m, {"boost": True, "deep": {"x": "7"}}) == [10.0, 0.5]
    assert externals(m, {"boost": {"a": 1}, "deep": 4}) == [10.0, 0.5]
    assert evaluate(twin, m, {"likes": [math.nan, 5.0]}, externals={"boost": 42}) == [85.5, 89.5]


def test_defaults_nested_and_dotted_paths():
    m = method("meta.score + meta.deep.v + other", {"meta": {"score": 1, "deep": {"v": 2}}, "other": "3"})
    assert m.defaults == {"meta.score": 1.0, "meta.deep.v": 2.0, "other": 3.0}
    assert m.columns == ("meta.score", "meta.deep.v", "other")
    m = method("meta.score", {"meta.score": 4})
    assert m.defaults == {"meta.score": 4.0}


@pytest.mark.parametrize("text,seconds", [("1s", 1), ("90s", 90), ("2m", 120), ("1.5h", 5400), ("1d", 86400),
                                          ("2w", 1209600), ("100", 100), (" 3d ", 259200), ("1e2s", 100),
                                          (7, 7), (0.25, 0.25)])
def test_time_units(text, seconds):
    assert number(text, "scale", units=True) == seconds
    assert set(UNITS) == set("smhdw")


@pytest.mark.parametrize("raw,match", [
    ([], "must be an object of named methods"),
    ({"m": "x"}, "must be an object with a score"),
    ({"m": {"defaults": {}}}, "score must be an expression"),
    ({"m": {"score": "1", "extra": 1}}, "unknown keys"),
    ({"m": {"score": "foo(1)"}}, "unknown function foo"),
    ({"m": {"score": "likes + 1"}}, "field 'likes'"),
    ({"m": {"score": "meta.likes"}}, "field 'meta.likes'"),
    ({"m": {"score": "external.x"}}, "defaults.external has no 'x'"),
    ({"m": {"score": "1", "defaults": {"x": "abc"}}}, "defaults: 'x'"),
    ({"m": {"score": "1", "defaults": {"x": True}}}, "defaults: 'x'"),
    ({"m": {"score": "1", "defaults": {"x": None}}}, "defaults: 'x'"),
    ({"m": {"score": "1", "defaults": {"bad key": 1}}}, "not a field name"),
    ({"m": {"score": "1", "defaults": []}}, "defaults must be an object"),
    ({"m": {"score": "f(time)", "functions": {"f": {"base": "decay_foo"}}}}, "base must be one of"),
    ({"m": {"score": "f(time)", "functions": {"f": {"base": "decay_exp", "scale": "1y"}}}}, "scale"),
    ({"m": {"score": "f(time)", "functions": {"f": {"base": "decay_exp", "scale": "0d"}}}}, "scale must be > 0"),
    ({"m": {"score": "f(time)", "functions": {"f": {"base": "decay_exp", "decay": "1"}}}}, "decay must be between"),
    ({"m": {"score": "f(time)", "functions": {"f": {"base": "decay_exp", "decay": 0}}}}, "decay must be between"),
    ({"m": {"score": "f(time)", "functions": {"f": {"base": "decay_exp", "offset": "-1h"}}}}, "offset must be >= 0"),
    ({"m": {"score": "f(time)", "functions": {"f": {"base": "decay_exp", "decay": "0.5d"}}}}, "no time unit"),
    ({"m": {"score": "f(time)", "functions": {"f": {"base": "decay_exp", "origin": "soon"}}}}, "origin"),
    ({"m": {"score": "f(time)", "functions": {"f": {"base": "decay_exp", "speed": 1}}}}, "unknown keys"),
    ({"m": {"score": "f(time)", "functions": {"f": "decay_exp"}}}, "must be an object"),
    ({"m": {"score": "ln(time)", "functions": {"ln": {"base": "decay_exp"}}}}, "hide the built-in ln"),
    ({"m": {"score": "1", "functions": {"F": {"base": "decay_exp"}, "f": {"base": "decay_exp"}}}}, "twice"),
    ({"m": {"score": "dist(1, 2, 3, 4, 'parsec')"}}, "unit must be"),
    ({"m": {"score": "'text' + 1"}}, "string"),
    ({"m": {"score": 'to_unix_timestamp("yesterday")'}}, "not an ISO-8601"),
    ({"m": {"score": ""}}, "empty"),
    ({"m": {"score": "x" * 5000}}, "longer than"),
])
def test_config_errors_name_group_and_method(raw, match):
    with pytest.raises(RankingConfigError, match=match) as exc:
        parse_methods("ranked", raw)
    assert isinstance(exc.value, ValueError)
    assert "feed group 'ranked'" in str(exc.value)
    if isinstance(raw, dict):
        assert "ranking method 'm'" in str(exc.value)


def test_time_needs_no_default_and_tuned_decays_may_override_bare_ones():
    m = method("time")
    assert m.fields == ("time",)
    m = method("decay_gauss(time)", {}, {"decay_gauss": {"base": "decay_gauss", "scale": "2d"}})
    from feedline.ranking import _rank_py

    assert evaluate(_rank_py, m, {"time": [0.0 - 2 * 86400]}, now=0.0) == pytest.approx([0.5])


def test_fields_drop_variables_folded_away_and_keep_first_use_order():
    m = method("b + a + b + external.z", {"a": 0, "b": 0, "external.z": 1})
    assert m.fields == ("b", "a", "external.z")


@pytest.mark.parametrize("text,expected", [('{"a": 1}', {"a": 1}), ("{}", {}), (None, {}),
                                           ('{"x": {"y": [1, 2]}, "s": "t", "b": true}',
                                            {"x": {"y": [1, 2]}, "s": "t", "b": True})])
def test_ranking_vars(text, expected):
    assert parse_ranking_vars(text) == expected


@pytest.mark.parametrize("text", ["", "[1, 2]", '"str"', "3", "null", "{", '{"a": NaN}', '{"a": Infinity}',
                                  "[" * 100000, "{'a': 1}"])
def test_ranking_vars_errors(text):
    with pytest.raises(RankingVarsError) as exc:
        parse_ranking_vars(text)
    assert isinstance(exc.value, ValueError)


def test_the_ranking_room_is_pure():
    import subprocess
    import sys

    code = ("import sys, feedline.ranking as r; r.parse_methods('g', {'m': {'score': 'time'}}); "
            "print([m for m in sys.modules if m.startswith(('feedline.storage', 'feedline.api', 'feedline.service'))])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stdout + out.stderr
