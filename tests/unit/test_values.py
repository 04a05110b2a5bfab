"""models.values: what a stored JSON value may be (issue 15), and the error text built from values."""

from __future__ import annotations

import math

import pytest
import ujson
from hypothesis import given, settings
from hypothesis import strategies as st

from feedline.errors import InputException, StreamError
from feedline.models import values
from feedline.models.values import MAX_DEPTH, MAX_PATH_PARTS, check_path, check_value, describe, find_problem


def nested(depth: int, leaf: object = 1, kind: str = "list") -> object:
    """``depth`` containers around ``leaf``, built without recursion."""
    value = leaf
    for i in range(depth):
        value = [value] if kind == "list" or (kind == "mixed" and i % 2) else {"k": value}
    return value


@pytest.mark.parametrize("value", [
    None, True, 0, -5, 10**30, 1.5, -0.0, 1e308, "", "héllo ☃ 😀", [], {},
    {"a": [1, {"b": None, "c": "x"}], "é": {"ü": [True, 2.5]}},
    nested(MAX_DEPTH), nested(MAX_DEPTH, kind="dict"), nested(MAX_DEPTH, {"x": 1.0, "y": "é"}, "mixed")[0],
])
def test_storable_values_pass(value):
    assert find_problem(value) is None
    check_value(value, "field")


@pytest.mark.parametrize("value,location,reason", [
    (math.inf, "", "finite"),
    ({"a": [1, -math.inf]}, ".a[1]", "finite"),
    ({"a": {"b": math.nan}}, ".a.b", "finite"),
    ("\ud800", "", "surrogate"),
    (["ok", "x\udfffy"], "[1]", "surrogate"),
    ({"a": {"\ud800": 1}}, ".a.\\ud800", "key with a lone"),
    ({"a": {1, 2}}, ".a", "not a JSON value (set)"),
    ({"a": b"bytes"}, ".a", "not a JSON value (bytes)"),
    (nested(MAX_DEPTH + 1), "[0]" * MAX_DEPTH, "deeper than 32"),
    (nested(MAX_DEPTH + 1, kind="dict"), ".k" * MAX_DEPTH, "deeper than 32"),
])
def test_unstorable_values_are_located(value, location, reason):
    found = find_problem(value)
    assert found is not None and found.location == location and reason in found.reason
    with pytest.raises(InputException) as err:
        check_value(value, "data")
    assert set(err.value.fields) == {"data"} and err.value.code == 4
    # the message quotes the location but stays valid UTF-8 (no raw surrogate)
    err.value.payload()["detail"].encode("utf-8")


def test_walk_names_non_string_keys():
    assert "not a string" in values._walk({"a": {1: "x"}}, MAX_DEPTH).reason


def test_depth_bound_is_exact_and_configurable():
    assert find_problem(nested(5), max_depth=5) is None
    assert find_problem(nested(6), max_depth=5) is not None
    assert find_problem(nested(6, kind="dict"), max_depth=5).keys == ("k",) * 5


def test_parser_deep_values_never_recurse():
    """As deep as ujson parses (just under its 1024 levels): checked iteratively, no RecursionError,
    also when ujson's own encoder (the fast path) gives up on the depth."""
    deep = ujson.loads("[" * 1000 + "]" * 1000)
    assert find_problem(deep).reason.startswith("is nested deeper")
    assert find_problem(deep, max_depth=None) is None
    assert find_problem([[deep, math.inf]], max_depth=None).location == "[0][1]"
    assert len(describe(deep)) < 100


def test_json_parser_inputs_are_caught():
    """What ujson makes of the inputs clients actually send."""
    for text in ("1e999", "-1e999", "NaN", "-Infinity", '{"a":[1e400]}'):
        assert find_problem(ujson.loads(text)) is not None, text
    assert find_problem(ujson.loads('{"\\ud800": "x"}')) is not None
    assert find_problem(ujson.loads('["\\ud83d\\ude00"]')) is None  # a real pair is a real character


# ordinary characters plus lone surrogates (category Cs, which st.characters() leaves out by default)
chars = st.characters() | st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF, categories=["Cs"])
json_leaves = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True)
               | st.text(alphabet=chars, max_size=5) | st.sampled_from(["\ud800", "é\udfff", math.inf, math.nan]))
keys = st.text(alphabet=chars, max_size=3) | st.sampled_from(["k", "\udbff"])
json_trees = st.recursive(
    json_leaves, lambda kids: st.lists(kids, max_size=3) | st.dictionaries(keys, kids, max_size=3), max_leaves=20)


@settings(max_examples=400, deadline=None)
@given(json_trees, st.integers(1, 6))
def test_fast_path_agrees_with_the_walk(value, depth):
    """The ujson fast path only ever skips the walk when the walk would find nothing."""
    assert (find_problem(value, depth) is None) == (values._walk(value, depth) is None)


def test_describe_is_bounded_and_encodable():
    assert len(describe("x" * 1_000_000)) < 100
    assert len(describe(list(range(10_000)))) < 100
    text = describe({"\ud800": ["\udfff"]})
    text.encode("utf-8")
    assert "\\ud800" in text


def test_check_path():
    assert check_path("a.b.c", "set") == ["a", "b", "c"]
    assert len(check_path(".".join(["p"] * MAX_PATH_PARTS), "set")) == MAX_PATH_PARTS
    for bad in (".".join(["p"] * (MAX_PATH_PARTS + 1)), ".".join(["p"] * 1100), "a.\ud800", "", "a..b", ".a", 5):
        with pytest.raises(InputException) as err:
            check_path(bad, "set")
        err.value.payload()["detail"].encode("utf-8")


def test_error_payload_never_carries_a_surrogate():
    """Field names and messages quote client input; the envelope must still encode (issue 15: one
    such error escaped as {"message":"Internal Server Error"})."""
    err = InputException.field("a.\ud800", "path 'a.\ud800' cannot be changed")
    body = err.payload()
    text = ujson.dumps(body, ensure_ascii=False)
    assert "\\\\ud800" in text and ujson.loads(text)["exception_fields"] == {"a.\\ud800": ["path 'a.\\ud800' cannot be changed"]}
    assert StreamError("x\udfff", ["y\ud800"]).payload()["exception_fields"] == ["y\\ud800"]


def test_wide_values_take_the_depth_count_path():
    """More containers than MAX_DEPTH but shallow: no problem; deep below a wide top: located."""
    wide = {f"k{i}": {"x": [i, {"y": "é"}]} for i in range(50)}
    assert not values._deeper_than(wide, MAX_DEPTH) and find_problem(wide) is None
    wide["k7"]["x"][1]["y"] = nested(MAX_DEPTH)
    assert values._deeper_than(wide, MAX_DEPTH)
    assert find_problem(wide).location.startswith(".k7.x[1].y")
