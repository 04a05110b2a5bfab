"""Hypothesis: random expressions over random data score alike in both twins, to the last bit or
both NaN; the byte scanner reads what the reference decoder reads from canonical bodies; rank()
returns the same page."""

from __future__ import annotations

import math
import struct
from array import array

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedline import _ext
from feedline.serialization import json_bytes

from .ranking_helpers import method

found = _ext.twins("feedline.ranking._rank")
scan_found = _ext.twins("feedline.ranking._scan")
pytestmark = pytest.mark.skipif("c" not in found or "c" not in scan_found or _ext.NO_EXTENSIONS,
                                reason="compiled twins not built/disabled")
PY, C = found["py"], found.get("c")
SPY, SC = scan_found["py"], scan_found.get("c")

VARS = ["a", "b", "c", "time", "external.e", "external.f", "m.x"]
DEFAULTS = {"a": 1, "b": -2.5, "c": 0, "m": {"x": 3}, "external": {"e": 2, "f": -1}}
FUNCTIONS = {"fg": {"base": "decay_gauss", "scale": "2h", "offset": "10m", "decay": "0.3"},
             "fl": {"base": "decay_linear", "scale": "5", "decay": 0.5, "origin": 1},
             "fe": {"base": "decay_exp", "scale": 3, "offset": "1"}}

numbers = st.one_of(st.sampled_from(["0", "1", "0.5", "2", "10", "1e308", "1e-320", "3.14159", "1000000"]),
                    st.floats(0, 1e6, allow_nan=False).map(repr))
UNARY = ["ln", "log", "sin", "cos", "tan", "abs", "trunc", "round", "to_unix_timestamp", "decay_gauss", "decay_exp",
         "decay_linear", "fg", "fl", "fe"]
BINOPS = ["+", "-", "*", "/", "^", "==", "!=", "<", "<=", ">", ">=", "&&", "||"]


def expr_strategy():
    leaf = st.one_of(numbers, st.sampled_from(VARS))

    def extend(inner):
        return st.one_of(
            st.tuples(inner, st.sampled_from(BINOPS), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            st.tuples(st.sampled_from(["-", "!", ""]), inner).map(lambda t: f"{t[0]}({t[1]})"),
            st.tuples(st.sampled_from(UNARY), inner).map(lambda t: f"{t[0]}({t[1]})"),
            st.tuples(st.sampled_from(["min", "max"]), inner, inner).map(lambda t: f"{t[0]}({t[1]}, {t[2]})"),
            st.tuples(inner, inner, inner).map(lambda t: f"({t[0]} ? {t[1]} : {t[2]})"),
            st.tuples(inner, inner, inner, inner).map(lambda t: f"dist({t[0]}, {t[1]}, {t[2]}, {t[3]}, 'N')"),
            st.just("rand()"),
            st.just("rand_normal()"),
            st.tuples(inner, inner).map(lambda t: f"rand({t[0]}, {t[1]})"),
            st.tuples(inner, inner, inner, inner).map(lambda t: f"rand_normal({t[0]}, {t[1]}, {t[2]}, {t[3]})"),
        )

    return st.recursive(leaf, extend, max_leaves=12)


SPECIALS = [math.nan, math.inf, -math.inf, 0.0, -0.0, 5e-324, 1e308, -1e308, 1.0, -1.0, 0.5, -0.5, 2.5,
            -2.5, 0.49999999999999994, 4503599627370497.0, 3.0, -8.0, 1.7e9]
special = st.sampled_from(SPECIALS)
#: every special value in every variable, whatever the random rows are
SPECIAL_ROWS = [tuple(SPECIALS[(i + 3 * j) % len(SPECIALS)] for j in range(5)) for i in range(len(SPECIALS))]
value = st.one_of(special, st.floats(allow_nan=True, allow_infinity=True), st.floats(-1e4, 1e4), st.integers(-10, 10).map(float))


def bits(x: float) -> bytes:
    return b"nan" if math.isnan(x) else struct.pack("<d", x)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expr=expr_strategy(), rows=st.lists(st.tuples(value, value, value, value, value), min_size=1, max_size=40),
       ext=st.tuples(value, value), seed=st.integers(0, 2**64 - 1), now=value, keyed=st.booleans())
@pytest.mark.slow  # hypothesis parity, seconds: `make test` runs it, `make check` does not
def test_random_expressions_score_alike(expr, rows, ext, seed, now, keyed):
    m = method(expr, DEFAULTS, FUNCTIONS)
    p = m.program
    rows = rows + SPECIAL_ROWS
    n = len(rows)
    cols = list(zip(*rows))  # a, b, c, time, m.x
    names = ["a", "b", "c", "time", "m.x"]
    data = array("d")
    for f in p.fields:
        data.extend(cols[names.index(f)])
    if not p.fields:
        data.extend([0.0] * n)
    colmap = list(range(len(p.fields)))
    scalars = p.scalars([1.0 if math.isnan(e) else e for e in ext][: len(p.externals)], now)
    rowids = bytes(range(16)) * n if keyed else None
    outs = [twin.Program(p.code, p.nregs, p.result).evaluate(scalars, memoryview(data), n, colmap, 1, n, seed, rowids)
            for twin in (PY, C)]
    assert [bits(x) for x in outs[0]] == [bits(x) for x in outs[1]], expr
    k = min(n, 7)
    ranks = [twin.Program(p.code, p.nregs, p.result).rank(scalars, data, n, colmap, 1, n, seed, rowids, k)
             for twin in (PY, C)]
    assert ranks[0][0] == ranks[1][0]
    assert [bits(x) for x in ranks[0][1]] == [bits(x) for x in ranks[1][1]]


@settings(max_examples=300, deadline=None)
@given(scores=st.lists(value, max_size=300), k=st.integers(0, 320))
def test_top_k_alike(scores, k):
    a = array("d", scores)
    assert PY.top_k(a, k) == C.top_k(a, k)


keys = st.sampled_from(["a", "b", "time", "m", "x", "deep", "a_1", "ü", 'q"uote', "back\\slash"])
leaf_values = st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1),
                        st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=8),
                        st.sampled_from(["2020-01-01T00:00:00.000000", "1999-12-31T23:59:59.999999", "bad"]))
json_values = st.recursive(leaf_values, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                                st.dictionaries(keys, inner, max_size=4)), max_leaves=10)
PATHS = ("a", "b", "time", "m.x", "m.deep.a", "deep.time", "a_1", "x.a")


@pytest.mark.slow  # hypothesis parity, seconds: `make test` runs it, `make check` does not
@settings(max_examples=400, deadline=None)
@given(docs=st.lists(st.dictionaries(keys, json_values, max_size=6), min_size=1, max_size=8))
def test_scanner_reads_canonical_bodies_like_the_decoder(docs):
    bodies = [json_bytes(d) for d in docs]
    outs = [twin.Scanner(PATHS).scan(bodies) for twin in (SPY, SC)]
    assert [bits(x) for x in outs[0]] == [bits(x) for x in outs[1]]
    for b in bodies:
        assert [bits(x) for x in SPY.Scanner(PATHS).scan_one(b)] == [bits(x) for x in SC.Scanner(PATHS).scan_one(b)]


@settings(max_examples=200, deadline=None)
@given(raw=st.binary(max_size=200))
def test_scanner_survives_any_bytes(raw):
    out = SC.Scanner(PATHS).scan([raw, b"{" + raw, b'{"a":' + raw, b'{"m":{"x":' + raw])
    assert len(out) == 4 * len(PATHS)
