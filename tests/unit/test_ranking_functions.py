"""Every built-in function and decay against formulas written independently of the implementation
(Elasticsearch's decay definitions, the haversine with asin, IEEE special values), on both twins."""

from __future__ import annotations

import math
import re
import statistics

import pytest

from .ranking_helpers import evaluate, method, value
from .twins import twin_params

TWINS = twin_params("feedline.ranking._rank")
DAY = 86_400.0


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))


@pytest.mark.parametrize("twin", TWINS)
@pytest.mark.parametrize("expr,x,expected", [
    ("ln(x)", math.e ** 3, 3.0),
    ("ln(x)", 0.0, -math.inf),
    ("ln(x)", -1.0, math.nan),
    ("log(x)", 1000.0, 3.0),
    ("log(x)", 0.0, -math.inf),
    ("sin(x)", math.pi / 2, 1.0),
    ("sin(x)", math.inf, math.nan),
    ("cos(x)", 0.0, 1.0),
    ("cos(x)", -math.inf, math.nan),
    ("tan(x)", math.pi / 4, 1.0),
    ("tan(x)", math.inf, math.nan),
    ("abs(x)", -3.5, 3.5),
    ("abs(x)", -0.0, 0.0),
    ("trunc(x)", -1.7, -1.0),
    ("trunc(x)", 1.7, 1.0),
    ("trunc(x)", -0.5, -0.0),
    ("trunc(x)", math.inf, math.inf),
    ("round(x)", 2.5, 3.0),  # half away from zero
    ("round(x)", -2.5, -3.0),
    ("round(x)", 0.49999999999999994, 0.0),
    ("round(x)", -0.4, -0.0),
    ("round(x)", 1e300, 1e300),
    ("round(x)", math.nan, math.nan),
    ("x / 0", 1.0, math.inf),
    ("x / 0", -1.0, -math.inf),
    ("x / 0", 0.0, math.nan),
    ("x / (0 * -1)", 1.0, -math.inf),
    ("x ^ 0.5", 16.0, 4.0),
    ("x ^ (1/3)", -8.0, math.nan),
    ("x ^ -1", 0.0, math.inf),
    ("x ^ -1", -0.0, -math.inf),
    ("x ^ -2", -0.0, math.inf),
    ("x ^ 1000", 10.0, math.inf),
    ("x ^ 1001", -10.0, -math.inf),
    ("x ^ 0", math.nan, 1.0),
    ("min(x, 1)", math.nan, math.nan),
    ("max(1, x)", math.nan, math.nan),
    ("min(x, 0)", -0.0, -0.0),
    ("max(x, 0)", -0.0, 0.0),
    ("min(x, 5)", 3.0, 3.0),
    ("max(x, 5)", 3.0, 5.0),
    ("x > 1", math.nan, 0.0),
    ("x != x", math.nan, 1.0),
    ("x ? 1 : 2", math.nan, 1.0),  # NaN is true, as in C
    ("!x", math.nan, 0.0),
    ("x && 1", math.nan, 1.0),
    ("to_unix_timestamp(x)", 1234.5, 1234.5),
    ("-x", 0.0, -0.0),
])
def test_functions_and_ieee(twin, expr, x, expected):
    # a NaN column value means "missing" (the default applies): make NaN at run time instead
    got = value(twin, re.sub(r"\bx\b", "(y / y)", expr), y=0.0) if math.isnan(x) else value(twin, expr, x=x)
    literal = "(0 / 0)" if math.isnan(x) else f"({x!r})".replace("inf", "(1 / 0)")
    folded = value(twin, re.sub(r"\bx\b", literal, expr))
    if math.isnan(expected) or expected == 0.0 or math.isinf(expected):
        assert same(got, expected), (got, expected)
        assert same(folded, expected), (folded, expected)
    else:
        assert got == pytest.approx(expected, rel=1e-15)
        assert folded == pytest.approx(expected, rel=1e-15)


def test_to_unix_timestamp_of_a_time_literal():
    from feedline.ranking import _rank_py

    assert value(_rank_py, 'to_unix_timestamp("2020-01-01T00:00:00")') == 1577836800.0
    assert value(_rank_py, "to_unix_timestamp('2020-01-02')") == 1577836800.0 + DAY


def es_gauss(x, origin, scale, offset, decay):
    sigma2 = -scale ** 2 / (2 * math.log(decay))
    return math.exp(-max(0.0, abs(x - origin) - offset) ** 2 / (2 * sigma2))


def es_exp(x, origin, scale, offset, decay):
    lam = math.log(decay) / scale
    return math.exp(lam * max(0.0, abs(x - origin) - offset))


def es_linear(x, origin, scale, offset, decay):
    s = scale / (1 - decay)
    return max(0.0, (s - max(0.0, abs(x - origin) - offset)) / s)


ES = {"decay_gauss": es_gauss, "decay_exp": es_exp, "decay_linear": es_linear}


@pytest.mark.parametrize("twin", TWINS)
@pytest.mark.parametrize("base", sorted(ES))
@pytest.mark.parametrize("scale,offset,decay", [("1d", "1h", "0.5"), ("5d", "0", "0.3"), ("2w", "2d", 0.9),
                                                ("30m", "90s", "0.1")])
def test_tuned_time_decays_match_elasticsearch(twin, base, scale, offset, decay):
    units = {"s": 1, "m": 60, "h": 3600, "d": DAY, "w": 7 * DAY}
    sc = float(scale[:-1]) * units[scale[-1]]
    off = 0.0 if offset == "0" else float(offset[:-1]) * units[offset[-1]]
    dec = float(decay)
    m = method("f(time)", {}, {"f": {"base": base, "scale": scale, "offset": offset, "decay": decay}})
    now = 1.75e9
    times = [now - k * sc / 7 for k in range(40)] + [now + 3 * sc, now - off - sc]
    got = evaluate(twin, m, {"time": times}, now=now)
    for t, g in zip(times, got):
        assert g == pytest.approx(ES[base](t, now, sc, off, dec), rel=1e-12, abs=1e-300)
    # by definition the decay is reached at scale beyond the offset
    assert got[-1] == pytest.approx(dec, rel=1e-12)


@pytest.mark.parametrize("twin", TWINS)
@pytest.mark.parametrize("base", sorted(ES))
def test_bare_decay_defaults_and_numeric_decays(twin, base):
    # bare call: scale 1 day, offset 0, decay 0.5, origin = request time for time
    m = method(f"{base}(time)")
    now = 1.7e9
    got = evaluate(twin, m, {"time": [now, now - DAY, now + DAY / 2]}, now=now)
    assert got[0] == 1.0 and got[1] == pytest.approx(0.5) and got[2] == pytest.approx(ES[base](0.5 * DAY, 0, DAY, 0, 0.5))
    # non-time value: origin 0 unless given; plain numbers
    m = method("f(x)", {"x": 0}, {"f": {"base": base, "scale": "100", "offset": 5, "decay": "0.25"}})
    xs = [0.0, 50.0, -105.0, 300.0]
    got = evaluate(twin, m, {"x": xs})
    assert got == pytest.approx([ES[base](x, 0.0, 100.0, 5.0, 0.25) for x in xs], rel=1e-12)
    m = method("f(x)", {"x": 0}, {"f": {"base": base, "scale": 10, "origin": 100, "decay": 0.5}})
    assert evaluate(twin, m, {"x": [100.0, 90.0]}) == pytest.approx([1.0, 0.5])


@pytest.mark.parametrize("twin", TWINS)
def test_decay_of_nan_and_inf(twin):
    m = method("decay_gauss(x) + decay_linear(x) + decay_exp(x)", {"x": 0})
    p = m.program
    from array import array

    data = array("d", [math.inf, -math.inf])
    prog = twin.Program(p.code, p.nregs, p.result)
    assert list(prog.evaluate(p.scalars([], 0.0), memoryview(data), 2, [0], 1, 2, 0)) == [0.0, 0.0]
    # a NaN input takes the default (0): all three decays are 1 at their origin
    data = array("d", [math.nan])
    assert list(prog.evaluate(p.scalars([], 0.0), memoryview(data), 1, [0], 1, 1, 0)) == [3.0]


def haversine_asin(lat1, lng1, lat2, lng2, r):
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    return 2 * r * math.asin(math.sqrt(math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2))


@pytest.mark.parametrize("twin", TWINS)
def test_dist_units(twin):
    ams, paris = (52.3676, 4.9041), (48.8566, 2.3522)
    m = method("dist(lat, lng, external.lat, external.lng)", {"lat": 0, "lng": 0, "external": {"lat": 0, "lng": 0}})
    km = evaluate(twin, m, {"lat": [ams[0]], "lng": [ams[1]]}, externals={"lat": paris[0], "lng": paris[1]})[0]
    assert km == pytest.approx(haversine_asin(*ams, *paris, 6371.0), rel=1e-12)
    assert 425 < km < 435
    for unit, r in (('"M"', 3958.7613), ("'N'", 3440.0648), ("km", 6371.0), ("M", 3958.7613)):
        m = method(f"dist(lat, lng, 48.8566, 2.3522, {unit})", {"lat": 0, "lng": 0})
        got = evaluate(twin, m, {"lat": [ams[0]], "lng": [ams[1]]})[0]
        assert got == pytest.approx(haversine_asin(*ams, *paris, r), rel=1e-12)
    assert value(twin, "dist(0, 0, 0, 0)") == 0.0
    assert value(twin, "dist(0, 0, 0, 180)") == pytest.approx(math.pi * 6371.0)


@pytest.mark.parametrize("twin", TWINS)
def test_rand_ranges_and_distribution(twin):
    n = 4000
    m = method("rand() + x * 0", {"x": 0})
    u = evaluate(twin, m, {"x": [0.0] * n}, seed=12345)
    assert all(0.0 <= v < 1.0 for v in u) and 0.45 < statistics.fmean(u) < 0.55 and len(set(u)) == n
    m = method("rand(5, 10) + x * 0", {"x": 0})
    r = evaluate(twin, m, {"x": [0.0] * n}, seed=7)
    assert all(5.0 <= v < 10.0 for v in r)
    m = method("rand_normal() + x * 0", {"x": 0})
    z = evaluate(twin, m, {"x": [0.0] * n}, seed=99)
    assert abs(statistics.fmean(z)) < 0.08 and 0.9 < statistics.pstdev(z) < 1.1
    m = method("rand_normal(-1, 1, 5, 0) + x * 0", {"x": 0})
    c = evaluate(twin, m, {"x": [0.0] * n}, seed=99)
    assert all(-1.0 <= v <= 1.0 for v in c) and c.count(1.0) > n // 4 and c.count(-1.0) > n // 4
    # two call sites draw independent streams
    m = method("rand() - rand() + x * 0", {"x": 0})
    assert any(v != 0.0 for v in evaluate(twin, m, {"x": [0.0] * 10}, seed=1))


@pytest.mark.parametrize("twin", TWINS)
def test_rand_is_stable_per_seed_and_per_row_key(twin):
    m = method("rand() + x * 0", {"x": 0})
    cols = {"x": [0.0] * 50}
    a, b, c = (evaluate(twin, m, cols, seed=s) for s in (1, 1, 2))
    assert a == b and a != c
    keys = [bytes([i]) * 16 for i in range(51)]
    full = evaluate(twin, m, {"x": [0.0] * 51}, seed=5, rowids=b"".join(keys))
    shifted = evaluate(twin, m, {"x": [0.0] * 50}, seed=5, rowids=b"".join(keys[1:]))
    assert shifted == full[1:]  # an activity keeps its value when a newer one enters the window


@pytest.mark.parametrize("twin", TWINS)
@pytest.mark.parametrize("expr,arity", [("ln()", 0), ("ln(1, 2)", 2), ("min(1)", 1), ("rand(1)", 1),
                                        ("rand_normal(1, 2)", 2), ("dist(1, 2, 3)", 3), ("decay_gauss()", 0)])
def test_wrong_arity_is_a_config_error(twin, expr, arity):
    from feedline.ranking import RankingConfigError

    with pytest.raises(RankingConfigError, match="argument"):
        method(expr)
