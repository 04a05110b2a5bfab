"""The enrichment twins: reference offsets (``_refs``) and enriched pages (``_enrich``).

Both twins are run on the same inputs; hypothesis checks they agree byte for byte (or raise the
same exception type) on canonical activities, on arbitrary bytes and on bad page inputs.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedline import _ext
from feedline.enrichment import _enrich_py, _refs_py
from feedline.enrichment.refs import ranges, tokens
from feedline.serialization._activity_py import encode_activity, json_bytes

from .twins import twin_params

REFS = twin_params("feedline.enrichment._refs")
ENRICH = twin_params("feedline.enrichment._enrich")
ID = "6045bfa0-a467-11e7-8080-80005886bfee"
TIME = "2017-09-28T16:01:01.123456"

ref_strings = st.one_of(
    st.builds(lambda p, s: p + s, st.sampled_from(["SU:", "SO:", "SA:", "SR:", "SX:", "S", "su:", ""]),
              st.text(max_size=12)),
    st.text(max_size=12),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**53, 2**53) | st.floats(allow_nan=False, allow_infinity=False)
    | ref_strings,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(ref_strings, children, max_size=3),
    max_leaves=8,
)
names = st.text(min_size=1, max_size=8).filter(lambda s: s not in {"id", "actor", "verb", "object", "target",
                                                                    "foreign_id", "time", "to"})
activities = st.builds(
    lambda a, v, o, t, f, extra, to: encode_activity(ID, a, v, o, t, f, TIME, extra, to),
    ref_strings, ref_strings, ref_strings, ref_strings, ref_strings,
    st.dictionaries(names, json_values, max_size=4),
    st.lists(st.sampled_from(["user:1", "team:x"]), max_size=2),
)


def act(**extra) -> bytes:
    base = {"actor": "SU:bob", "verb": "post", "object": "SO:food:1", "target": "", "foreign_id": ""}
    base.update(extra)
    fields = {k: base.pop(k) for k in ("actor", "verb", "object", "target", "foreign_id")}
    return encode_activity(ID, fields["actor"], fields["verb"], fields["object"], fields["target"],
                           fields["foreign_id"], TIME, base, [])


# ---- refs ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("m", REFS)
def test_finds_top_level_reference_strings_only(m):
    body = act(note="SA:x", nested={"a": "SU:inner"}, listed=["SU:inner"], plain="hello", n=3)
    blob = m.find(body)
    assert [body[s:e] for s, e in ranges(blob)] == [b'"SU:bob"', b'"SO:food:1"', b'"SA:x"']
    assert tokens(body, blob) == tokens(body, None)


@pytest.mark.parametrize("m", REFS)
def test_no_references_is_an_empty_blob(m):
    assert m.find(act(actor="bob", object="photo:1")) == b""
    assert m.find(b"{}") == b""


@pytest.mark.parametrize("m", REFS)
@pytest.mark.parametrize("bad", [b"", b"[]", b"{", b'{"a":}', b'{"a":1', b'{"a":1}x', b'{"a" :1}', b'{"a":"x}',
                                 b'{"a":{"b":1}', b'{"a":[1,2}', b'{a:1}', b'{"a":1,}', b'{"a":tr ue}',
                                 b'{"a":"\\'])
def test_malformed_bodies_raise(m, bad):
    with pytest.raises(ValueError):
        m.find(bad)


@pytest.mark.parametrize("m", REFS)
def test_non_bytes_and_oversized(m):
    with pytest.raises(TypeError):
        m.find("{}")
    with pytest.raises(TypeError):
        m.find(bytearray(b"{}"))
    with pytest.raises(ValueError):
        m.find(b'{"a":"' + b"x" * 70000 + b'"}')


@pytest.mark.parametrize("m", REFS)
def test_escaped_reference_values_keep_their_stored_form(m):
    body = act(actor="SU:\u00e9\"q")
    [tok] = tokens(body, m.find(body))[:1]
    assert json.loads(tok) == "SU:\u00e9\"q"


def _same(f, *args):
    outs = []
    for impl in f:
        try:
            outs.append(("ok", impl(*args)))
        except Exception as exc:  # noqa: BLE001 - the type is what is compared
            outs.append(("err", type(exc)))
    assert outs[0] == outs[1], outs
    return outs[0]


refs_c = _ext.twins("feedline.enrichment._refs").get("c")
enrich_c = _ext.twins("feedline.enrichment._enrich").get("c")
needs_c = pytest.mark.skipif(refs_c is None or enrich_c is None or _ext.NO_EXTENSIONS, reason="compiled twin absent")


@pytest.mark.slow  # hypothesis parity, seconds: `make test` runs it, `make check` does not
@needs_c
@settings(max_examples=400, deadline=None)
@given(activities)
def test_refs_twins_agree_on_activities(body):
    kind, blob = _same([_refs_py.find, refs_c.find], body)
    assert kind == "ok"
    doc = json.loads(body)
    expected = [json_bytes(v) for v in doc.values()
                if isinstance(v, str) and v[:3] in ("SU:", "SO:", "SA:", "SR:")]
    assert tokens(body, blob) == expected


@needs_c
@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=40) | st.builds(lambda a, b: a + b, activities, st.binary(max_size=3))
       | st.builds(lambda a, i: a[:i], activities, st.integers(0, 200)))
@pytest.mark.slow  # hypothesis parity, seconds: `make test` runs it, `make check` does not
def test_refs_twins_agree_on_any_bytes(body):
    _same([_refs_py.find, refs_c.find], body)


# ---- pages ----------------------------------------------------------------------------------------

USER = b'{"id":"bob","data":{"name":"Bob"},"created_at":"2024-01-01T00:00:00.000000Z","updated_at":"x"}'
FOOD = b'{"id":"1","collection":"food","foreign_id":"food:1","data":{},"created_at":"c","updated_at":"u"}'


@pytest.mark.parametrize("m", ENRICH)
def test_page_replaces_resolved_references(m):
    bodies = [act(), act(actor="SU:ghost", note="SU:bob")]
    refs = [_refs_py.find(bodies[0]), None]  # the second one is scanned (a row stored before refs)
    resolved = {b'"SU:bob"': USER, b'"SO:food:1"': FOOD, b'"SU:ghost"': b'{"error":"ReferenceNotFound"}'}
    page = json.loads(m.enrich_page(bodies, refs, [b"null", b'"user:1"'], resolved, [b',"x":1', b""], "n", "1ms"))
    first, second = page["results"]
    assert first["actor"] == json.loads(USER) and first["object"] == json.loads(FOOD)
    assert first["origin"] is None and first["x"] == 1 and first["verb"] == "post"
    assert second["actor"] == {"error": "ReferenceNotFound"} and second["note"] == json.loads(USER)
    assert second["origin"] == "user:1" and page["next"] == "n" and page["duration"] == "1ms"
    assert json.loads(m.enrich_page([], [], [], {}, None, "", "0ms")) == {"results": [], "next": "", "duration": "0ms"}
    # unresolved tokens stay as stored
    assert json.loads(m.enrich_bodies([bodies[0]], [None], {}, None)[0]) == json.loads(bodies[0])


R1 = (b'{"id":"r1","kind":"like"}', b',"latest_children":{}')
R2 = (b'{"id":"r2","kind":"comment"}', b"")
A1, A2 = "a1", "a2"


@pytest.mark.parametrize("m", ENRICH)
def test_reaction_tails(m):
    rows = [(A1, "like", 0, "r1", "bob", *R1), (A1, "comment", 0, "r2", "ann", *R2), (A1, "like", 1, "r1", "bob", *R1),
            (A1, "share", 0, "r3", "bob", *R1), ("elsewhere", "like", 0, "r4", "bob", *R1)]
    counts = [(A1, "like", 2), (A1, "comment", 1), (A1, "share", 4), (A2, "like", 0)]
    users = {"bob": USER, "ann": b'{"id":"ann"}'}
    tails = m.reaction_tails([A1, A2], ["comment", "like"], counts, rows, users, True, True, True,
                             "/api/v1.0/reaction/activity_id/", "&limit=5")
    first = json.loads(b"{" + tails[0][1:] + b"}")
    assert first["reaction_counts"] == {"comment": 1, "like": 2}
    assert first["latest_reactions"]["like"] == [{"id": "r1", "kind": "like", "latest_children": {},
                                                  "user": json.loads(USER)}]
    assert first["latest_reactions"]["comment"][0]["user"] == {"id": "ann"}
    assert first["latest_reactions_extra"] == {"comment": {"next": ""},
                                               "like": {"next": "/api/v1.0/reaction/activity_id/a1/like/?id_lt=r1&limit=5"}}
    assert list(first["own_reactions"]) == ["like"]
    assert json.loads(b"{" + tails[1][1:] + b"}") == {"latest_reactions": {}, "latest_reactions_extra": {},
                                                      "own_reactions": {}, "reaction_counts": {}}
    assert m.reaction_tails([A1], ["like"], counts, rows, users, False, False, False, "", "") == [b""]
    assert m.reaction_tails([A1, A1], ["like"], counts, [], users, True, False, False, "", "") == [
        b',"reaction_counts":{"like":2}'] * 2


@pytest.mark.parametrize("m", ENRICH)
def test_page_tokens(m):
    bodies = [act(), act(actor="SU:ann"), act(note="SO:food:1")]
    assert m.page_tokens(bodies, [None, _refs_py.find(bodies[1]), None]) == [
        b'"SU:bob"', b'"SO:food:1"', b'"SU:ann"']


BAD_PAGES = [
    ([b"{}"], [], [b"null"], {}, None),  # lengths
    (["{}"], [None], [b"null"], {}, None),  # body not bytes
    ([b"{"], [None], [b"null"], {}, None),  # body not an object
    ([b"{}"], [None], ["null"], {}, None),  # origin not bytes
    ([b"{}"], [None], [b"null"], {}, [None]),  # tail not bytes
    ([b'{"a":"SU:x"}'], [b"\x05\x00\x0b"], [b"null"], {}, None),  # blob length
    ([b'{"a":"SU:x"}'], [b"\x05\x00\x0c\x00"], [b"null"], {}, None),  # range past the body
    ([b'{"a":"SU:x"}'], [b"\x04\x00\x0b\x00"], [b"null"], {}, None),  # not quoted
    ([b'{"a":"SU:x"}'], [b"\x05\x00\x0b\x00\x05\x00\x0b\x00"], [b"null"], {}, None),  # overlapping
    ([b'{"a":"SU:x"}'], [None], [b"null"], {b'"SU:x"': "{}"}, None),  # resolved not bytes
    ([b'{"a":"SU:x"}'], ["\x05\x00\x0b\x00"], [b"null"], {}, None),  # blob not bytes
    ([b'{"a":"SU:x"'], [None], [b"null"], {}, None),
    ([b'{"a":1}'], [None], [b"null"], [], None),  # resolved not a dict
]


@needs_c
@pytest.mark.parametrize("args", BAD_PAGES)
def test_bad_page_inputs_raise_alike(args):
    kind, err = _same([_enrich_py.enrich_page, enrich_c.enrich_page], *args, "", "0ms")
    assert kind == "err"
    bodies, refs, _origins, resolved, tails = args
    _same([_enrich_py.enrich_bodies, enrich_c.enrich_bodies], bodies, refs, resolved, tails)


GOOD_ROW = (A1, "like", 0, "r1", "bob", b"{}", b"")
BAD_TAILS = [
    ([A1], ["like"], [(A1, "like")], [], {}),  # count row shape
    ([A1], ["like"], [(A1, "like", True)], [], {}),  # count not an int
    ([A1], ["like"], [(A1, 3, 1)], [], {}),  # kind not a str
    ([1], ["like"], [], [], {}),  # activity id not a str
    ([A1], [b"like"], [], [], {}),  # kind not a str
    ([A1], ["like"], [], [GOOD_ROW[:6]], {"bob": b"{}"}),  # row shape
    ([A1], ["like"], [], [(A1, "like", "0", "r1", "bob", b"{}", b"")], {"bob": b"{}"}),  # slot not int
    ([A1], ["like"], [], [(A1, "like", 2, "r1", "bob", b"{}", b"")], {"bob": b"{}"}),  # slot out of range
    ([A1], ["like"], [], [(A1, "like", 0, "r1", "bob", "{}", b"")], {"bob": b"{}"}),  # body not bytes
    ([A1], ["like"], [], [(A1, "like", 0, "r1", "bob", b"{", b"")], {"bob": b"{}"}),  # body not an object
    ([A1], ["like"], [], [GOOD_ROW], {}),  # unknown user
    ([A1], ["like"], [], [GOOD_ROW], {"bob": "{}"}),  # user not bytes
    ([A1], ["like"], [], [GOOD_ROW], []),  # users not a dict
    ([A1], ["like"], [], [(A1, "like", 0, None, "bob", b"{}", b"")], {"bob": b"{}"}),  # id not a str
]


@needs_c
@pytest.mark.parametrize("args", BAD_TAILS)
def test_bad_tail_inputs_raise_alike(args):
    kind, _ = _same([_enrich_py.reaction_tails, enrich_c.reaction_tails], *args, True, True, True, "p", "s")
    assert kind == "err"


@st.composite
def pages(draw):
    bodies = draw(st.lists(activities, max_size=5))
    toks = sorted({t for b in bodies for t in tokens(b, None)})
    resolved = {t: json_bytes(draw(json_values)) for t in toks if draw(st.booleans())}
    refs = [None if draw(st.booleans()) else _refs_py.find(b) for b in bodies]
    origins = [draw(st.sampled_from([b"null", b'"user:1"'])) for _ in bodies]
    tails = draw(st.none() | st.just([b',"t":%d' % i for i in range(len(bodies))]))
    return bodies, refs, origins, resolved, tails


@pytest.mark.slow  # hypothesis parity, seconds: `make test` runs it, `make check` does not
@needs_c
@settings(max_examples=300, deadline=None)
@given(pages(), st.text(max_size=10))
def test_page_twins_agree(page, next_url):
    kind, out = _same([_enrich_py.enrich_page, enrich_c.enrich_page], *page, next_url, "1ms")
    assert kind == "ok"
    doc = json.loads(out)
    bodies, _refs, _origins, resolved, tails = page
    for body, got in zip(bodies, doc["results"]):
        want = json.loads(body)
        for name, value in want.items():
            if tails is not None and name == "t":
                continue  # the tail's own "t" comes last, so it wins (as reaction fields win)
            tok = json_bytes(value) if isinstance(value, str) else None
            expect = json.loads(resolved[tok]) if tok in resolved else value
            assert got[name] == expect
    bodies, refs, _origins, resolved, tails = page
    _same([_enrich_py.enrich_bodies, enrich_c.enrich_bodies], bodies, refs, resolved, tails)


@st.composite
def reaction_inputs(draw):
    aids = draw(st.lists(st.sampled_from(["a1", "a2", "a3", "é"]), max_size=4))
    kinds = draw(st.lists(st.sampled_from(["like", "comment", "vote", "ü"]), unique=True, max_size=3))
    users = {u: json_bytes({"id": u}) for u in ("bob", "ann")}
    any_aid = st.sampled_from(["a1", "a2", "a3", "é", "zz"])
    any_kind = st.sampled_from(["like", "comment", "vote", "ü", "other"])
    counts = draw(st.lists(st.tuples(any_aid, any_kind, st.integers(0, 9)), max_size=8))
    rows = draw(st.lists(st.tuples(any_aid, any_kind, st.integers(0, 1), st.sampled_from(["r1", "r2", "r3"]),
                                   st.sampled_from(list(users)),
                                   st.builds(lambda i: json_bytes({"id": i}), st.integers(0, 99)),
                                   st.sampled_from([b"", b',"own_children":{}'])), max_size=12))
    flags = draw(st.tuples(st.booleans(), st.booleans(), st.booleans()))
    return aids, kinds, counts, rows, users, *flags, "/p/", "&s=1"


@pytest.mark.slow  # hypothesis parity, seconds: `make test` runs it, `make check` does not
@needs_c
@settings(max_examples=300, deadline=None)
@given(reaction_inputs())
def test_reaction_twins_agree(args):
    kind, tails = _same([_enrich_py.reaction_tails, enrich_c.reaction_tails], *args)
    assert kind == "ok"
    assert len(tails) == len(args[0])
    for t in tails:
        json.loads(b"{" + t[1:] + b"}" if t else b"{}")
