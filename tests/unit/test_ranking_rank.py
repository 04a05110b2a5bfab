"""Top-k selection, paging, score_vars, the window's columns (blobs and the byte-scanning fallback)
and input strictness, on both twins."""

from __future__ import annotations

import json
import math
import random
from array import array

import pytest

from feedline.activities.model import build
from feedline.ranking import FieldLayout, rank, with_score
from feedline.ranking._scan_py import parse_time

from .ranking_helpers import method
from .twins import twin_params

TWINS = twin_params("feedline.ranking._rank")
SCAN_TWINS = twin_params("feedline.ranking._scan")


def reference_order(scores: list[float]) -> list[int]:
    """Written out independently: NaN last, higher first, ties by lower index."""
    return sorted(range(len(scores)), key=lambda i: (math.isnan(scores[i]), -scores[i] if not math.isnan(scores[i]) else 0, i))


@pytest.mark.parametrize("twin", TWINS)
@pytest.mark.parametrize("shape", ["random", "rising", "falling", "ties", "constant", "nan", "zeros"])
@pytest.mark.parametrize("n,k", [(0, 5), (1, 1), (10, 3), (1000, 25), (1000, 1), (1000, 300), (997, 1000), (500, 0)])
def test_top_k(twin, shape, n, k):
    rnd = random.Random(n * 31 + k)
    scores = {
        "random": lambda: [rnd.uniform(-5, 5) for _ in range(n)],
        "rising": lambda: [float(i) for i in range(n)],
        "falling": lambda: [float(-i) for i in range(n)],
        "ties": lambda: [float(rnd.randrange(4)) for _ in range(n)],
        "constant": lambda: [1.0] * n,
        "nan": lambda: [math.nan if rnd.random() < 0.3 else rnd.choice([-math.inf, math.inf, 1.0, 2.0]) for _ in range(n)],
        "zeros": lambda: [rnd.choice([0.0, -0.0]) for _ in range(n)],
    }[shape]()
    assert twin.top_k(array("d", scores), k) == reference_order(scores)[:k]


@pytest.mark.parametrize("twin", TWINS)
def test_rank_pages_are_slices_of_one_order(twin):
    m = method("x * 0 + round(rand() * 5)", {"x": 0})  # many ties
    p = m.program
    n = 300
    data = array("d", [0.0] * n)
    prog = twin.Program(p.code, p.nregs, p.result)
    sc = p.scalars([], 0.0)
    scores = list(prog.evaluate(sc, data, n, [0], 1, n, 77))
    full = reference_order(scores)
    for offset, limit in ((0, 25), (25, 25), (290, 25), (0, 300), (300, 10)):
        idx, got = prog.rank(sc, data, n, [0], 1, n, 77, None, offset + limit)
        assert idx[offset:] == full[offset:offset + limit]
        assert got[offset:] == [scores[i] for i in full[offset:offset + limit]]


def activities(n: int, now_us: int = 1_750_000_000_000_000):
    out = []
    for i in range(n):
        data = {"actor": f"user:{i}", "verb": "post", "object": f"o:{i}", "popularity": (i * 37) % 100,
                "meta": {"likes": i % 7, "flag": True}, "note": "x\"y\\z {not: 1}"}
        if i % 5 == 0:
            data.pop("popularity")
        if i % 11 == 0:
            data["popularity"] = "lots"  # wrong type: the default applies
        out.append(build(data, now_us - i * 3_600_000_000))
    return out


def test_rank_end_to_end_from_blobs_and_from_bodies():
    now_us = 1_750_000_000_000_000
    acts = activities(200, now_us)
    m = method("decay_exp(time) * (popularity + 1) + meta.likes / 10", {"popularity": 2, "meta": {"likes": 0}})
    layout = FieldLayout.of([m])
    assert layout.fields == ("meta.likes", "popularity", "time")
    blobs = [layout.extract(a.body) for a in acts]
    now = now_us / 1e6

    def expected_score(i: int) -> float:
        pop = 2 if i % 5 == 0 or i % 11 == 0 else (i * 37) % 100
        return 0.5 ** (i * 3600 / 86400) * (pop + 1) + (i % 7) / 10

    order = sorted(range(200), key=lambda i: (-expected_score(i), i))
    for cols in (layout.columns(blobs), layout.scan([a.body for a in acts]),
                 layout.columns([None if i % 3 else b for i, b in enumerate(blobs)], [a.body for a in acts])):
        r = rank(m, cols, offset=10, limit=20, now=now, with_vars=True)
        assert r.indices == order[10:30]
        assert r.scores == pytest.approx([expected_score(i) for i in order[10:30]], rel=1e-12)
        i = r.indices[0]
        assert r.score_vars[0] == {"time": acts[i].time_us / 1e6, "popularity": float(2 if i % 5 == 0 or i % 11 == 0 else (i * 37) % 100),
                                   "meta": {"likes": float(i % 7)}}


def test_blobs_of_another_layout_fall_back_to_the_bodies():
    acts = activities(30)
    old = FieldLayout(["time"])
    new = FieldLayout(["time", "popularity"])
    assert old.tag != new.tag
    blobs = [old.extract(a.body) for a in acts]
    with pytest.raises(ValueError, match="bodies are needed"):
        new.columns(blobs)
    cols = new.columns(blobs, [a.body for a in acts])
    scanned = new.scan([a.body for a in acts])
    for i in range(30):
        for f in new.fields:
            a, b = cols.value(f, i), scanned.value(f, i)
            assert a == b or (math.isnan(a) and math.isnan(b))


def test_extract_values():
    [a] = activities(1)
    layout = FieldLayout(["time", "popularity", "meta.likes", "meta.flag", "note", "missing", "meta.missing.deep"])
    blob = layout.extract(a.body)
    vals = dict(zip(layout.fields, array("d", blob[8:])))
    assert vals["time"] == a.time_us / 1e6
    assert vals["meta.likes"] == 0.0
    assert math.isnan(vals["popularity"])  # "lots" is not a number
    for f in ("meta.flag", "note", "missing", "meta.missing.deep"):
        assert math.isnan(vals[f])


@pytest.mark.parametrize("twin", SCAN_TWINS)
def test_scanner_reads_what_a_json_decoder_reads(twin):
    bodies = [
        b'{"a":1,"b":{"c":-2.5e3,"d":[1,{"c":9}]},"e":"{\\"a\\":7}","f":null,"g":true,"time":"2020-01-01T00:00:00.500000"}',
        b'{"b":{"d":{"c":1}},"a":12345678901234567890,"b.c":5}',
        b'{"a":"1","b":5}',
        b'{"a":[1],"b":{"c":{"x":1}}}',
        b'{}',
        b'[1,2]',
        b'{"a":1',  # damaged bodies (never written by the write path): no crash, twins may differ
        b'{"a" 1}',
        b'',
        b'{"a":0.1,"time":"2020-13-01T00:00:00.000000"}',
        b'{"a":01}',
        b'{"a":-}',
        b'{"a":1e}',
        b'{"a":"\\\\","b":{"c":3}}',
    ]
    sc = twin.Scanner(("a", "b.c", "time"))
    out = sc.scan(bodies)
    n = len(bodies)

    def got(i, j):
        return out[j * n + i]

    assert (got(0, 0), got(0, 1), got(0, 2)) == (1.0, -2500.0, 1577836800.5)
    assert got(1, 0) == 12345678901234567890.0 and math.isnan(got(1, 1))
    assert math.isnan(got(2, 0)) and math.isnan(got(2, 1))
    assert math.isnan(got(3, 0)) and math.isnan(got(3, 1))
    for i in (4, 5, 7, 8):  # 6, 10-12: damaged numbers; ujson is lenient there, the scanner is not
        assert all(math.isnan(got(i, j)) for j in range(3)), i
    assert got(9, 0) == 0.1 and math.isnan(got(9, 2))
    assert got(13, 1) == 3.0
    assert list(sc.scan_one(bodies[0])) == [1.0, -2500.0, 1577836800.5]
    with pytest.raises(TypeError):
        sc.scan([b"{}", "not bytes"])
    with pytest.raises(TypeError):
        sc.scan_one(bytearray(b"{}"))
    with pytest.raises(ValueError):
        twin.Scanner(("a..b",))


@pytest.mark.parametrize("text,expected", [("1970-01-01T00:00:00.000000", 0.0), ("2020-02-29T23:59:59.999999", 1583020799.999999),
                                           ("1969-12-31T23:59:59.000000", -1.0), ("0001-01-01T00:00:00.000000", -62135596800.0)])
def test_time_parse(text, expected):
    assert parse_time(text) == expected
    for twin in SCAN_TWINS:
        mod = twin.values[0]
        if mod is not None:
            assert list(mod.Scanner(("time",)).scan_one(b'{"time":"' + text.encode() + b'"}')) == [expected]


def test_with_score_splices_valid_json():
    body = b'{"id":"x","n":1}'
    out = with_score(body, 1.5, {"time": 2.0, "external": {"x": math.nan}})
    assert json.loads(out) == {"id": "x", "n": 1, "score": 1.5, "score_vars": {"time": 2.0, "external": {"x": None}}}
    assert json.loads(with_score(body, math.nan)) == {"id": "x", "n": 1, "score": None}
    assert json.loads(with_score(body, 1e300))["score"] == 1e300


@pytest.mark.parametrize("twin", TWINS)
def test_inputs_are_checked_alike(twin):
    m = method("x + rand()", {"x": 0})
    p = m.program
    prog = twin.Program(p.code, p.nregs, p.result)
    sc = p.scalars([], 0.0)
    data = array("d", [1.0, 2.0, 3.0])
    good = (sc, data, 3, [0], 1, 3, 1, None)
    assert len(prog.evaluate(*good)) == 3

    def call(**kw):
        args = dict(zip(("scalars", "data", "n", "colmap", "rs", "cs", "seed", "rowids"), good))
        args.update(kw)
        return prog.evaluate(*args.values())

    for kw, exc in [({"scalars": [0.0] * 9}, TypeError), ({"scalars": array("f", [0.0] * 9)}, TypeError),
                    ({"scalars": array("d")}, ValueError), ({"data": b"\0" * 24}, TypeError),
                    ({"data": memoryview(array("d", [0.0] * 6))[::2]}, TypeError), ({"data": [1.0, 2.0, 3.0]}, TypeError),
                    ({"n": 4}, ValueError), ({"n": -1}, ValueError), ({"rs": -1}, ValueError),
                    ({"colmap": []}, ValueError), ({"colmap": [-1]}, ValueError), ({"colmap": [1]}, ValueError),
                    ({"rs": 2}, ValueError), ({"seed": -1}, ValueError), ({"seed": 1 << 64}, ValueError),
                    ({"rowids": b"x" * 47}, ValueError), ({"rowids": "x" * 48}, TypeError)]:
        with pytest.raises(exc):
            call(**kw)
    with pytest.raises(ValueError):
        prog.rank(*good, -1)
    for bad in ([1.0, 2.0], array("f", [1.0]), memoryview(array("d", [1.0, 2.0, 3.0]))[::2], b"\0" * 16):
        with pytest.raises(TypeError):
            twin.top_k(bad, 1)
    bad = array("q", p.code)
    bad[0] = 999
    with pytest.raises(ValueError):
        twin.Program(bad, p.nregs, p.result)
    bad = array("q", p.code)
    bad[1] = p.nregs
    with pytest.raises(ValueError):
        twin.Program(bad, p.nregs, p.result)
    with pytest.raises(TypeError):
        twin.Program(list(p.code), p.nregs, p.result)
    with pytest.raises(ValueError):
        twin.Program(p.code, p.nregs, p.nregs)
    # a program whose scalar slot is beyond the scalars given is refused per call, not read
    assert len(prog.evaluate(sc, data, 0, [0], 1, 3, 1, None)) == 0


def test_rank_argument_checks():
    m = method("x", {"x": 0})
    cols = FieldLayout(["x"]).scan([b'{"x":1}'])
    with pytest.raises(ValueError):
        rank(m, cols, offset=-1)
    with pytest.raises(ValueError, match="no column"):
        rank(method("y", {"y": 0}), cols)
    assert rank(m, cols, offset=5).indices == []


@pytest.mark.parametrize("twin", SCAN_TWINS)
def test_tagged(twin):
    tag = b"T" * 8
    assert twin.tagged(tag + b"x" * 8 + tag + b"y" * 8, tag, 16)
    assert twin.tagged(b"", tag, 16)
    assert not twin.tagged(tag + b"x" * 8 + b"T" * 7 + b"U" + b"y" * 8, tag, 16)
    assert not twin.tagged(tag + b"x" * 9, tag, 16)
    with pytest.raises(TypeError):
        twin.tagged(bytearray(tag), tag, 8)
    with pytest.raises(ValueError):
        twin.tagged(tag, tag, 4)
