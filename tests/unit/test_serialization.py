from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedline import _ext
from feedline.serialization import _activity_py

from .twins import twin_params

TWINS = twin_params("feedline.serialization._activity")
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**53, 2**53) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=10,
)
names = st.text(min_size=1, max_size=10).filter(lambda s: s not in {"id", "actor", "verb", "object", "target",
                                                                     "foreign_id", "time", "to", "origin"})
fields = st.fixed_dictionaries({
    "actor": st.text(max_size=20), "verb": st.text(max_size=10), "object_": st.text(max_size=20),
    "target": st.text(max_size=10), "foreign_id": st.text(max_size=10),
    "extra": st.dictionaries(names, json_values, max_size=5),
    "to": st.lists(st.from_regex(r"[a-z]{1,5}:[a-z0-9]{1,5}", fullmatch=True), max_size=3),
})
ID = "6045bfa0-a467-11e7-8080-80005886bfee"
TIME = "2017-09-28T16:01:01.123456"


@pytest.mark.parametrize("m", TWINS)
def test_canonical_form(m):
    body = m.encode_activity(ID, "bob", "like", "photo:1", "", "", TIME, {"zeta": 1, "alpha": {"b": 2, "a": "é/"}},
                             ["user:2"])
    assert body == ('{"id":"%s","actor":"bob","verb":"like","object":"photo:1","target":"","foreign_id":"",'
                    '"time":"%s","alpha":{"a":"\\u00e9/","b":2},"zeta":1,"to":["user:2"]}' % (ID, TIME)).encode()
    assert body.isascii()


@pytest.mark.parametrize("m", TWINS)
def test_page_assembly_is_valid_json(m):
    bodies = [_activity_py.encode_activity(ID, f"a{i}", "v", "o", "", "", TIME, {"n": i}, []) for i in range(3)]
    rows = [(b"k", b, o) for b, o in zip(bodies, [None, "user:1", "tópic:x"])]
    page = json.loads(m.assemble_page(rows, "/api/v1.0/feed/user/1/?id_lt=x&limit=3", "1.00ms"))
    assert [r["origin"] for r in page["results"]] == [None, "user:1", "tópic:x"]
    assert page["next"] == "/api/v1.0/feed/user/1/?id_lt=x&limit=3" and page["duration"] == "1.00ms"
    assert json.loads(m.assemble_page([], "", "0.01ms")) == {"results": [], "next": "", "duration": "0.01ms"}
    assert m.encode_origin("user:é") == json.dumps("user:é").encode() == b'"user:\\u00e9"'
    assert m.encode_origin("user:1") == b'"user:1"' and m.encode_origin(None) == b"null"
    assert json.loads(m.with_duration(bodies[0], "2ms"))["duration"] == "2ms"


@pytest.mark.skipif("c" not in _ext.twins("feedline.serialization._activity") or _ext.NO_EXTENSIONS,
                    reason="compiled twin absent")
class TestTwinsAgree:
    c = _ext.twins("feedline.serialization._activity").get("c")

    @settings(max_examples=300, deadline=None)
    @given(fields)
    def test_encode(self, f):
        args = (ID, f["actor"], f["verb"], f["object_"], f["target"], f["foreign_id"], TIME, f["extra"], f["to"])
        body = _activity_py.encode_activity(*args)
        assert self.c.encode_activity(*args) == body
        decoded = json.loads(body)
        assert decoded["actor"] == f["actor"] and {k: decoded[k] for k in f["extra"]} == f["extra"]

    @settings(max_examples=200, deadline=None)
    @given(st.lists(fields, max_size=6), st.text(max_size=30))
    def test_assemble(self, fs, nxt):
        bodies = [_activity_py.encode_activity(ID, f["actor"], f["verb"], f["object_"], f["target"], f["foreign_id"],
                                               TIME, f["extra"], f["to"]) for f in fs]
        rows = [(b"k", b, f["to"][0] if f["to"] else None) for b, f in zip(bodies, fs)]
        out = _activity_py.assemble_page(rows, nxt, "3.14ms")
        assert self.c.assemble_page(rows, nxt, "3.14ms") == out
        assert len(json.loads(out)["results"]) == len(fs)


#: bad inputs to assemble_page, as Python source (evaluated in a child process, see below)
BAD_PAGES = {
    "empty body": "([(b'k', b'', None)], '', '1ms')",
    "str body": "([(b'k', '{}', None)], '', '1ms')",
    "None body": "([(b'k', None, None)], '', '1ms')",
    "int body": "([(b'k', 5, None)], '', '1ms')",
    "empty body after a good one": "([(b'k', b'{}', None), (b'k', b'', 'user:1')], '', '1ms')",
    "int origin": "([(b'k', b'{}', 7)], '', '1ms')",
    "bytes origin": "([(b'k', b'{}', b'user:1')], '', '1ms')",
    "row of two": "([(b'k', b'{}')], '', '1ms')",
    "row is not a tuple": "([5], '', '1ms')",
    "list row": "([[b'k', b''], None], '', '1ms')",
    "None next": "([], None, '1ms')",
    "int duration": "([], '', 5)",
    "rows not iterable": "(5, '', '1ms')",
}


@pytest.mark.parametrize("case", sorted(BAD_PAGES))
def test_assemble_page_bad_input_raises_alike_in_both_twins(case):
    """Issue 10: the compiled twin memcpy'd bodies unchecked (an empty body copied -1 bytes, a str
    was read as bytes): the process crashed. Each call runs in a child process, so a crash is a
    failed test here, not a dead test run; both twins must raise the same exception type."""
    import subprocess
    import sys

    found = _ext.twins("feedline.serialization._activity")
    names = [n for n in ("py", "c") if n in found and not (n == "c" and _ext.NO_EXTENSIONS)]
    code = (
        "import importlib, sys\n"
        f"args = {BAD_PAGES[case]}\n"
        f"for name in {names!r}:\n"
        "    m = importlib.import_module('feedline.serialization._activity_' + name)\n"
        "    try:\n"
        "        m.assemble_page(*args)\n"
        "        print(name, 'no error')\n"
        "    except Exception as exc:\n"
        "        print(name, type(exc).__name__)\n"
        "    sys.stdout.flush()\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, f"crashed (exit {proc.returncode}): {proc.stdout}{proc.stderr}"
    answers = dict(line.split(" ", 1) for line in proc.stdout.splitlines())
    assert answers["py"] in ("TypeError", "ValueError"), answers
    if "c" in answers:
        assert answers["c"] == answers["py"], answers
    else:
        pytest.skip("compiled twin not built/disabled: only the reference was checked")
