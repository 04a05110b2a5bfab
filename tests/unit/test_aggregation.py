"""feedline.aggregation: format templates, grouping twins, aggregated page twins."""

from __future__ import annotations

import json
import random
from collections import defaultdict
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2 import ChainableUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from feedline import _ext
from feedline.aggregation import grouping, page
from feedline.aggregation.template import DEFAULT_FORMAT, GroupFormat, compile_format
from feedline.config import DEFAULT_AGGREGATION_FORMAT
from feedline.errors import FeedConfigException
from feedline.models import ids
from feedline.serialization import _activity_py

from .twins import twin_params

GROUP_TWINS = twin_params("feedline.aggregation._group")
PAGE_TWINS = twin_params("feedline.aggregation._page")

EPOCH = datetime(1970, 1, 1)
DAY = 86_400_000_000
T = ids.parse_time("2023-11-14T22:13:20.123456")
ACT = {"id": "6045bfa0-a467-11e7-8080-80005886bfee", "actor": "user:1", "verb": "like", "object": "photo:1",
       "target": "", "foreign_id": "like:1", "time": "2023-11-14T22:13:20.123456"}


def render(fmt: str, activity: dict | None = None, time_us: int = T, group: str = "notification",
           user_id: str = "42") -> str:
    return compile_format(fmt).render(ACT if activity is None else activity, time_us, group, user_id)


# --- templates ------------------------------------------------------------------------------------


def test_default_format_groups_by_verb_and_day():
    assert DEFAULT_FORMAT == DEFAULT_AGGREGATION_FORMAT
    assert render(DEFAULT_FORMAT) == "like_2023-11-14"
    fmt = compile_format(DEFAULT_FORMAT)
    midnight = ids.parse_time("2023-11-14T00:00:00")
    same_day = {fmt.render(ACT, midnight + d, "n", "1") for d in (0, 1, DAY // 2, DAY - 1)}
    assert same_day == {"like_2023-11-14"}
    assert fmt.render(ACT, midnight + DAY, "n", "1") == "like_2023-11-15"
    assert fmt.render(ACT, midnight - 1, "n", "1") == "like_2023-11-13"
    assert fmt.render({**ACT, "verb": "follow"}, midnight, "n", "1") == "follow_2023-11-14"
    # before 1970 (negative µs): the per-day memo uses floor division
    old = ids.parse_time("1969-12-31T23:59:59.999999")
    assert fmt.render(ACT, old, "n", "1") == "like_1969-12-31"
    assert fmt.render(ACT, old + 1, "n", "1") == "like_1970-01-01"


def test_compiled_once_and_cached():
    a = compile_format('{{ actor }}-{{ verb }}')
    assert a is compile_format('{{ actor }}-{{ verb }}')
    assert isinstance(a, GroupFormat) and a.format == '{{ actor }}-{{ verb }}'


def test_if_else_groups_follows_by_actor():
    fmt = '{% if verb == "follow" %}{{ actor }}{% else %}{{ verb }}{% endif %}'
    assert render(fmt, {**ACT, "verb": "follow"}) == "user:1"
    assert render(fmt) == "like"
    fmt2 = ('{% if verb == "follow" and actor != "user:2" %}f-{{ actor }}'
            '{% elif verb == "like" or not object %}'
            'l{% elif verb == \'pin\' %}p{% else %}{{ verb }}{% endif %}_{{ time.strftime("%Y") }}')
    assert render(fmt2, {**ACT, "verb": "follow"}) == "f-user:1_2023"
    assert render(fmt2, {**ACT, "verb": "follow", "actor": "user:2"}) == "follow_2023"
    assert render(fmt2) == "l_2023"
    assert render(fmt2, {**ACT, "verb": "pin"}) == "p_2023"
    assert render(fmt2, {**ACT, "verb": "share", "object": ""}) == "l_2023"
    assert render(fmt2, {**ACT, "verb": "share"}) == "share_2023"


def test_feed_variables_and_core_fields():
    assert render("{{ feed.group }}:{{ feed.user_id }}") == "notification:42"
    assert render("{{ feed.other }}|{{ feed.group.x }}") == "|"
    assert render("{{ id }}") == ACT["id"]
    assert render("{{ object }}/{{ target }}/{{ foreign_id }}") == "photo:1//like:1"
    assert render("{{ verb.infinitive }}") == "like"
    assert render("{{ time.year }}-{{ time.month }}-{{ time.day }} {{ time.hour }}") == "2023-11-14 22"
    assert render("{{ time }}") == "2023-11-14 22:13:20.123456"
    assert render('{{ time.strftime("%H:%M:%S.%f") }}') == "22:13:20.123456"
    assert render("{% if feed.group == 'notification' %}n{% endif %}") == "n"


def test_custom_and_nested_fields():
    act = {**ACT, "popularity": 3, "data": {"kind": "photo", "meta": {"album": "trip"}, "items": "i"},
           "tags": ["a", "b"], "flag": True, "empty": None}
    assert render("{{ popularity }}", act) == "3"
    assert render("{{ data.kind }}/{{ data.meta.album }}/{{ data['kind'] }}/{{ data.items }}", act) == \
        "photo/trip/photo/i"
    assert render("{{ tags.0 }}{{ tags.1 }}{{ tags.2 }}", act) == "ab"
    assert render("{{ flag }}|{{ empty }}", act) == "True|None"
    assert render('{% if data.kind == "photo" and popularity == 3 %}yes{% endif %}', act) == "yes"
    assert render("{% if flag %}t{% endif %}{% if missing %}m{% endif %}", act) == "t"


def test_undefined_renders_empty():
    assert render("[{{ missing }}]") == "[]"
    assert render("[{{ missing.deeper.still }}][{{ verb.nope }}][{{ missing.0 }}]") == "[][][]"
    assert render("{% if missing == 'x' %}a{% else %}b{% endif %}") == "b"
    assert render("{% if missing != 'x' %}a{% endif %}") == "a"
    assert render('{{ actor.strftime("%Y") }}') == ""
    assert render("constant") == "constant"
    assert render("") == ""


@pytest.mark.parametrize("fmt, words", [
    ("{{ verb ", "syntax"),
    ("{% if verb %}x", "syntax"),
    ("{% for v in verb %}{{ v }}{% endfor %}", "loops"),
    ("{{ ''.__class__ }}", "__class__"),
    ("{{ verb.__class__.__mro__ }}", "is not allowed"),
    ("{{ __builtins__ }}", "__builtins__"),
    ("{{ data['__class__'] }}", "__class__"),
    ("{{ verb|upper }}", "filters"),
    ("{{ verb|e }}", "filters"),
    ("{% filter upper %}x{% endfilter %}", "filter"),
    ("{% set x = 1 %}{{ x }}", "set"),
    ("{% macro m() %}x{% endmacro %}", "macros"),
    ("{% include 'x' %}", "include"),
    ("{% extends 'x' %}", "extends"),
    ("{% block b %}x{% endblock %}", "block"),
    ("{{ verb.upper() }}", "calls"),
    ("{{ range(3) }}", "calls"),
    ("{{ time.strftime(verb) }}", "string literal"),
    ('{{ time.strftime("%Y", "x") }}', "string literal"),
    ("{{ verb ~ actor }}", "operator"),
    ("{{ verb + actor }}", "operator"),
    ("{{ -popularity }}", "operator"),
    ("{% if verb < 'x' %}{% endif %}", "comparison"),
    ("{% if verb in 'x' %}{% endif %}", "comparison"),
    ("{{ verb is defined }}", "tests"),
    ("{{ verb if actor else object }}", "if-expressions"),
    ("{{ [1, 2] }}", "literals"),
    ("{{ data[verb] }}", "constant keys"),
])
def test_invalid_formats_rejected(fmt, words):
    with pytest.raises(FeedConfigException) as exc:
        compile_format(fmt)
    assert words in exc.value.detail
    assert exc.value.code == 6 and exc.value.status_code == 400


def test_non_string_and_oversized_formats_rejected():
    with pytest.raises(FeedConfigException):
        compile_format(None)  # type: ignore[arg-type]
    with pytest.raises(FeedConfigException, match="longer"):
        compile_format("x" * 5000)


def test_uses_feed_marks_the_formats_that_name_the_feed():
    """A format that does not name ``feed`` renders the same in every feed (a fan-out renders it once)."""
    assert not compile_format(DEFAULT_FORMAT).uses_feed
    for fmt in ["{{ feed.group }}", "{{ feed['user_id'] }}", "{{ feed }}", "{% if feed.user_id == '1' %}x{% endif %}",
                "{% if verb %}{% elif feed %}{{ verb }}{% endif %}"]:
        assert compile_format(fmt).uses_feed, fmt
    # a key or an attribute called feed, or the word in a literal, is not the feed
    assert not compile_format("{{ data.feed }}|{{ data['feed'] }}|{{ 'feed' }}|feed").uses_feed
    for fmt in CROSS_FORMATS:
        f = compile_format(fmt)
        assert f.uses_feed == ("feed" in fmt), fmt
        if not f.uses_feed:
            assert f.render(ACT, T, "aggregated", "1") == f.render(ACT, T, "notification", "other"), fmt


# Jinja itself (sandboxed, chainable undefined) must render the supported subset the same way.
CROSS_FORMATS = [
    DEFAULT_FORMAT,
    '{% if verb == "follow" %}{{ actor }}{% else %}{{ verb }}{% endif %}',
    "{{ actor }}_{{ verb }}_{{ object }}_{{ target }}",
    '{{ time.strftime("%Y-%m-%dT%H") }}|{{ time.strftime("%j %a %U") }}|{{ time.strftime("%M:%S.%f") }}',
    "{{ time.year }}/{{ time.month }}/{{ time.minute }}/{{ time }}",
    "{{ feed.group }}.{{ feed.user_id }}.{{ feed }}",
    "{{ data.kind }}-{{ data['kind'] }}-{{ data.meta.album }}-{{ tags.0 }}-{{ tags.1 }}-{{ popularity }}",
    "{{ flag }}|{{ nothing }}|{{ missing.x.y }}|{{ 3 }}|{{ 'lit' }}|{{ none }}|{{ true }}",
    "{% if popularity == 3 or flag and not data.kind %}a{% elif tags.0 != 'x' %}b{% else %}c{% endif %}",
    "{% if verb == actor == object %}same{% endif %}{% if missing == nothing %}u{% endif %}",
    "{{ verb and actor }}|{{ missing or verb }}|{{ not flag }}|{{ verb == 'like' }}",
    "  {%- if verb -%}  trimmed  {%- endif -%}  \n{# comment #}{% raw %}{{ raw }}{% endraw %}\n",
]
_text = st.text(st.characters(codec="utf-8"), max_size=8)
_value = st.none() | st.booleans() | st.integers(-5, 5) | st.floats(allow_nan=False) | _text
_activity = st.fixed_dictionaries({
    "id": _text, "actor": st.sampled_from(["user:1", "user:2", "like"]) | _text,
    "verb": st.sampled_from(["like", "follow", "x"]) | _text, "object": _text, "target": _text,
    "foreign_id": _text, "time": _text,
}, optional={
    "popularity": _value, "flag": _value,
    "data": st.fixed_dictionaries({}, optional={"kind": _value, "meta": st.fixed_dictionaries(
        {}, optional={"album": _value}) | _value}) | _value,
    "tags": st.lists(_text | st.just("x"), max_size=3) | _value,
})


@settings(max_examples=150, deadline=None)
@given(act=_activity, time_us=st.integers(ids.parse_time("1900-01-01"), ids.parse_time("2100-01-01")),
       fg=_text, fu=_text)
@pytest.mark.slow  # hypothesis parity, seconds: `make test` runs it, `make check` does not
def test_rendering_matches_jinja(act, time_us, fg, fu):
    env = ImmutableSandboxedEnvironment(undefined=ChainableUndefined)
    ctx = {**act, "time": EPOCH + timedelta(microseconds=time_us), "feed": {"group": fg, "user_id": fu}}
    for fmt in CROSS_FORMATS:
        assert compile_format(fmt).render(act, time_us, fg, fu) == env.from_string(fmt).render(ctx), fmt


@settings(max_examples=200, deadline=None)
@given(time_us=st.integers(ids.parse_time("1600-01-01"), ids.parse_time("5000-12-31")),
       fmt=st.sampled_from(["%Y-%m-%d", "%-d/%m %a", "%Y %H", "%d %I%p", "%H:%M", "%H:%M:%S", "%G-W%V",
                            "%s", "%Y%%%m", "%f", "%Y %z!", "%c"]))
def test_strftime_memo_is_exact(time_us, fmt):
    f = compile_format('{{ time.strftime("' + fmt + '") }}')
    for t in (time_us, time_us + 1, time_us - 1, time_us + 3_600_000_000, time_us - DAY):
        assert f.render(ACT, t, "n", "1") == (EPOCH + timedelta(microseconds=t)).strftime(fmt)


# --- grouping --------------------------------------------------------------------------------------


def naive_aggregate(keys, group_keys, actors, cap):
    """Dict-based reference, written independently of both twins."""
    order = sorted(range(len(keys)), key=lambda i: keys[i], reverse=True)
    members = defaultdict(list)
    for i in order:
        members[group_keys[i]].append(i)
    groups = sorted(members.items(), key=lambda kv: keys[kv[1][0]], reverse=True)
    return [(gk, ms[:cap], len(ms), len({actors[i] for i in ms}), ms[0], ms[-1]) for gk, ms in groups]


def key(t: int, lsb: int) -> bytes:
    return t.to_bytes(8, "big") + lsb.to_bytes(8, "big")


@pytest.mark.parametrize("m", GROUP_TWINS)
def test_aggregate_example(m):
    keys = [key(9, 0), key(8, 0), key(7, 5), key(7, 1), key(5, 0), key(4, 0)]
    gks = ["like_d1", "follow_d1", "like_d1", "like_d1", "follow_d1", "like_d0"]
    actors = ["a", "b", "b", "a", "c", "a"]
    assert m.aggregate(keys, gks, actors, 2) == [
        ("like_d1", [0, 2], 3, 2, 0, 3),
        ("follow_d1", [1, 4], 2, 2, 1, 4),
        ("like_d0", [5], 1, 1, 5, 5),
    ]
    assert m.aggregate(keys, gks, actors, 15)[0] == ("like_d1", [0, 2, 3], 3, 2, 0, 3)
    assert m.aggregate(keys, gks, actors, 1)[0] == ("like_d1", [0], 3, 2, 0, 3)
    assert m.aggregate([], [], [], 15) == []
    # tuples are accepted as well as lists
    assert m.aggregate(tuple(keys), tuple(gks), tuple(actors), 2) == m.aggregate(keys, gks, actors, 2)


@pytest.mark.parametrize("m", GROUP_TWINS)
def test_aggregate_errors(m):
    with pytest.raises(ValueError):
        m.aggregate([key(1, 0)], ["g"], [], 15)
    with pytest.raises(ValueError):
        m.aggregate([key(1, 0)], ["g", "h"], ["a"], 15)
    with pytest.raises(ValueError):
        m.aggregate([key(1, 0)], ["g"], ["a"], 0)
    with pytest.raises(TypeError):
        m.aggregate([key(2, 0), key(1, 0)], [["unhashable"], "g"], ["a", "b"], 15)


@pytest.mark.parametrize("m", GROUP_TWINS)
def test_aggregate_equal_strings_distinct_objects(m):
    # equal keys/actors that are different objects (as decoded from rows), of every str kind and
    # length around the 8-byte words of the compiled hash, plus a str subclass and non-str keys
    texts = ["", "a", "abcdefg", "abcdefgh", "abcdefghi", "abcdefghijklmnop", "abcdefghijklmnopq", "é",
             "éa" * 5,
             "日本語の" * 3, "😀", "😀x" * 9, "like_2023-11-14", "like_2023-11-15"]

    class S(str):
        pass

    n = 400
    rnd = random.Random(5)
    keys = [key(n - i, 0) for i in range(n)]
    gks = ["".join(list(rnd.choice(texts))) for _ in range(n)]
    actors = [str(rnd.choice(texts)).encode().decode() for _ in range(n)]
    gks[7] = S(gks[3])
    gks[11], gks[12], gks[13] = 1, 1.0, True  # equal as Python keys
    got = m.aggregate(keys, gks, actors, 20)
    assert got == naive_aggregate(keys, gks, actors, 20)
    assert got == _ext.twins("feedline.aggregation._group")["py"].aggregate(keys, gks, actors, 20)


@pytest.mark.parametrize("m", GROUP_TWINS)
def test_aggregate_large_window(m):
    n = 6000  # indices beyond the compiled twin's table of shared ints
    keys = [key(n - i, 0) for i in range(n)]
    gks = [f"g{i % 7}" for i in range(n)]
    actors = [f"u{i % 101}" for i in range(n)]
    got = m.aggregate(keys, gks, actors, 20)
    assert got == naive_aggregate(keys, gks, actors, 20)
    assert got[0][1][-1] == 133 and got[0][5] == 5999 - 5999 % 7


@st.composite
def windows(draw):
    """A timeline window newest first: ties in time (same first 8 bytes), a subset removed."""
    n = draw(st.integers(0, 120))
    entries = draw(st.lists(
        st.tuples(st.integers(0, 40), st.integers(0, 2**64 - 1)), min_size=n, max_size=n, unique=True))
    verbs = draw(st.lists(st.sampled_from(["like", "follow", "é\"x", "comment_long_verb_name"]), min_size=n,
                          max_size=n))
    actors = draw(st.lists(st.sampled_from(["u1", "u2", "user:3", "ü", "", "a" * 20]),
                           min_size=n, max_size=n))
    keep = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    rows = sorted(((key(t, lsb), f"{v}_{t // 10}", a) for (t, lsb), v, a in zip(entries, verbs, actors)),
                  reverse=True)
    rows = [r for r, k in zip(rows, keep) if k]  # removals
    return [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]


@pytest.mark.slow  # hypothesis parity, seconds: `make test` runs it, `make check` does not
@settings(max_examples=300, deadline=None)
@given(window=windows(), cap=st.integers(1, 20))
def test_aggregate_twins_identical(window, cap):
    keys, gks, actors = window
    found = _ext.twins("feedline.aggregation._group")
    expected = naive_aggregate(keys, gks, actors, cap)
    for name, m in found.items():
        assert m.aggregate(keys, gks, actors, cap) == expected, name
        # fresh str objects (the compiled twin compares contents, not identities)
        assert m.aggregate(keys, [s.encode().decode() for s in gks], [s.encode().decode() for s in actors],
                           cap) == expected, name


@settings(max_examples=100, deadline=None)
@given(window=windows(), cap=st.integers(1, 20), seed=st.integers(0, 2**32))
def test_aggregate_unordered_input(window, cap, seed):
    keys, gks, actors = window
    perm = list(range(len(keys)))
    random.Random(seed).shuffle(perm)
    k2, g2, a2 = [keys[i] for i in perm], [gks[i] for i in perm], [actors[i] for i in perm]
    expected = naive_aggregate(k2, g2, a2, cap)
    for name, m in _ext.twins("feedline.aggregation._group").items():
        assert m.aggregate(k2, g2, a2, cap) == expected, name


def test_switch_module_and_select():
    assert grouping.aggregate is grouping._impl.aggregate
    if not _ext.NO_EXTENSIONS and "c" in _ext.twins("feedline.aggregation._group"):
        assert grouping._impl.__name__.endswith("_c")
    keys = [key(10 - i, 0) for i in range(10)]
    groups = grouping.aggregate(keys, [f"g{i // 2}" for i in range(10)], ["a"] * 10, 15)
    assert [g[0] for g in groups] == ["g0", "g1", "g2", "g3", "g4"]
    sel = grouping.select
    assert [g[0] for g in sel(groups, keys, limit=2)] == ["g0", "g1"]
    assert [g[0] for g in sel(groups, keys, offset=1, limit=2)] == ["g1", "g2"]
    assert [g[0] for g in sel(groups, keys, lt=keys[2])] == ["g2", "g3", "g4"]
    assert [g[0] for g in sel(groups, keys, lte=keys[2])] == ["g1", "g2", "g3", "g4"]
    assert [g[0] for g in sel(groups, keys, gt=keys[4])] == ["g0", "g1"]
    assert [g[0] for g in sel(groups, keys, gte=keys[4], lt=keys[0])] == ["g1", "g2"]
    assert sel(groups, keys, limit=0) == []
    with pytest.raises(ValueError):
        sel(groups, keys, offset=-1)


# --- page assembly --------------------------------------------------------------------------------


def make_window(n: int, seed: int = 1, group_text=None):
    rnd = random.Random(seed)
    t0 = ids.parse_time("2023-11-14T00:00:00")
    times = sorted((t0 + rnd.randrange(3 * DAY) for _ in range(n)), reverse=True)
    keys = sorted((ids.key_from_time(t, rnd.randbytes(8)) for t in times), reverse=True)
    uuids = [ids.key_to_uuid(k) for k in keys]
    texts = [ids.format_time(ids.key_time_us(k)) for k in keys]
    verbs = [rnd.choice(["like", "follow", "ça \"va\"", "tab\tverb"]) for _ in range(n)]
    actors = [f"user:{rnd.randrange(5)}" for _ in range(n)]
    gks = [group_text(i) if group_text else f"{v}_{t[:10]}" for i, (v, t) in enumerate(zip(verbs, texts))]
    bodies = [_activity_py.encode_activity(u, a, v, f"post:{i}", "", "", t, {"msg": "é\"\n/" * (i % 3)},
                                           None)
              for i, (u, a, v, t) in enumerate(zip(uuids, actors, verbs, texts))]
    origins = [b"null" if i % 3 else _activity_py.encode_origin("user:é1") for i in range(n)]
    return keys, uuids, texts, verbs, actors, gks, bodies, origins


@pytest.mark.parametrize("m", PAGE_TWINS)
def test_assemble_groups_aggregated(m):
    keys, uuids, texts, verbs, actors, gks, bodies, origins = make_window(60)
    groups = grouping.aggregate(keys, gks, actors, 4)
    out = m.assemble_groups(groups, bodies, origins, verbs, uuids, texts, None, None,
                            "/api/v1.0/feed/aggregated/1/?id_lt=x", "1.20ms", 0, 0)
    doc = json.loads(out)
    assert list(doc) == ["results", "next", "duration"]
    assert doc["next"] == "/api/v1.0/feed/aggregated/1/?id_lt=x" and doc["duration"] == "1.20ms"
    assert len(doc["results"]) == len(groups)
    for res, (gk, members, count, actor_count, newest, oldest) in zip(doc["results"], groups):
        assert list(res) == ["id", "group", "verb", "activity_count", "actor_count", "created_at",
                             "updated_at", "activities"]
        assert res["id"] == uuids[newest] and res["group"] == gk and res["verb"] == verbs[newest]
        assert res["activity_count"] == count and res["actor_count"] == actor_count
        assert res["created_at"] == texts[oldest] and res["updated_at"] == texts[newest]
        assert res["activities"] == [{**json.loads(bodies[i]), "origin": json.loads(origins[i])}
                                     for i in members]
    assert out.startswith(b'{"results":[{"id":"') and b"is_seen" not in out
    # bodies by key (the storage's map as it comes) give the same bytes
    by_key = dict(zip(keys, bodies))
    assert m.assemble_groups(groups, by_key, origins, verbs, uuids, texts, None, None,
                             "/api/v1.0/feed/aggregated/1/?id_lt=x", "1.20ms", 0, 0, keys=keys) == out


@pytest.mark.parametrize("m", PAGE_TWINS)
def test_assemble_groups_notification(m):
    keys, uuids, texts, verbs, actors, gks, bodies, origins = make_window(40, seed=2)
    groups = grouping.aggregate(keys, gks, actors, 15)[:5]
    seen = [1, 0, True, False, 1][: len(groups)]
    read = [0, 0, 1, 1, 0][: len(groups)]
    out = m.assemble_groups(groups, bodies, origins, verbs, uuids, texts, seen, read, "", "0.5ms", 3, 7)
    doc = json.loads(out)
    assert list(doc) == ["results", "unseen", "unread", "next", "duration"]
    assert doc["unseen"] == 3 and doc["unread"] == 7 and doc["next"] == ""
    assert [r["is_seen"] for r in doc["results"]] == [bool(s) for s in seen]
    assert [r["is_read"] for r in doc["results"]] == [bool(r) for r in read]
    assert list(doc["results"][0])[-2:] == ["is_seen", "is_read"]
    empty = m.assemble_groups([], [], [], [], [], [], [], [], "", "1ms", 0, 0)
    assert json.loads(empty) == {"results": [], "unseen": 0, "unread": 0, "next": "", "duration": "1ms"}
    assert json.loads(m.assemble_groups([], [], [], [], [], [], None, None, "", "1ms", 0, 0)) == \
        {"results": [], "next": "", "duration": "1ms"}


@pytest.mark.parametrize("m", PAGE_TWINS)
def test_assemble_groups_errors_and_lazy_sequences(m):
    keys, uuids, texts, verbs, actors, gks, bodies, origins = make_window(10)
    groups = grouping.aggregate(keys, gks, actors, 15)
    args = (bodies, origins, verbs, uuids, texts)
    with pytest.raises(ValueError):
        m.assemble_groups(groups, *args, [0] * len(groups), None, "", "1ms", 0, 0)
    with pytest.raises(ValueError):
        m.assemble_groups(groups, *args, [0], [0], "", "1ms", 0, 0)
    with pytest.raises(IndexError):
        m.assemble_groups([("g", [99], 1, 1, 0, 0)], *args, None, None, "", "1ms", 0, 0)
    with pytest.raises(ValueError):
        m.assemble_groups([("g", [0], 1, 1, 0, 0)], [b""], *args[1:], None, None, "", "1ms", 0, 0)
    # only the referenced indices are read: dicts keyed by index work as well as lists
    used = {i for g in groups for i in (*g[1], g[4], g[5])}
    lazy = [{i: seq[i] for i in used} for seq in args]
    assert m.assemble_groups(groups, *lazy, None, None, "n", "d", 0, 0) == \
        m.assemble_groups(groups, *args, None, None, "n", "d", 0, 0)


ASCII = "".join(map(chr, range(128)))


@settings(max_examples=200, deadline=None)
@given(group_texts=st.lists(st.text(max_size=12) | st.sampled_from(list(ASCII)) | st.just(ASCII), min_size=1,
                            max_size=6),
       cap=st.integers(1, 6), nxt=st.text(max_size=30) | st.just(ASCII), duration=st.text(max_size=8),
       flags=st.lists(st.booleans(), min_size=60, max_size=60), notification=st.booleans(),
       counters=st.tuples(st.integers(0, 10**12), st.integers(-5, 10**12)), seed=st.integers(0, 1000))
def test_assemble_groups_twins_identical(group_texts, cap, nxt, duration, flags, notification, counters,
                                         seed):
    keys, uuids, texts, verbs, actors, gks, bodies, origins = make_window(
        25, seed=seed, group_text=lambda i: group_texts[i % len(group_texts)])
    verbs = [group_texts[(i + 1) % len(group_texts)] for i in range(len(verbs))]
    groups = grouping.aggregate(keys, gks, actors, cap)
    seen = flags[: len(groups)] if notification else None
    read = flags[30: 30 + len(groups)] if notification else None
    outs = {name: m.assemble_groups(groups, bodies, origins, verbs, uuids, texts, seen, read, nxt, duration,
                                    *counters)
            for name, m in _ext.twins("feedline.aggregation._page").items()}
    assert len(set(outs.values())) == 1
    doc = json.loads(outs["py"])
    assert doc["next"] == nxt and doc["duration"] == duration
    assert [r["group"] for r in doc["results"]] == [g[0] for g in groups]
    assert [r["verb"] for r in doc["results"]] == [verbs[g[4]] for g in groups]
    assert page.assemble_groups(groups, bodies, origins, verbs, uuids, texts, seen, read, nxt, duration,
                                *counters) == outs["py"]


def test_ascii_shortcut_matches_json_bytes():
    # the compiled twin quotes printable ASCII without '"' and '\\' as is: that must be json_bytes' output
    for c in map(chr, range(128)):
        plain = 0x20 <= ord(c) and c not in '"\\'
        assert (_activity_py.json_bytes(c) == b'"' + c.encode() + b'"') == plain, repr(c)
