"""Cassandra group summaries (``storage/cassandra/group_pack.py``): what ``pack`` writes, ``unpack``
reads back exactly, and anything else (truncated, extended, another version) is refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feedline.storage.cassandra.group_pack import Summary, pack, unpack

text = st.one_of(st.none(), st.text(st.characters(blacklist_characters="\n"), min_size=1, max_size=20))
member = st.tuples(st.binary(min_size=16, max_size=16), text, text, st.binary(max_size=300))


@given(members=st.lists(member, max_size=15), extra=st.integers(0, 5), epoch=st.integers(0, 2**64 - 1),
       actors=st.integers(0, 2**32 - 1), oldest=st.binary(min_size=16, max_size=16))
def test_round_trip(members, extra, epoch, actors, oldest):
    cap = len(members) + extra
    keys, origins, verbs, bodies = (list(c) for c in zip(*members)) if members else ([], [], [], [])
    s = Summary(epoch, cap, len(members) + extra, actors, oldest, keys, origins, verbs, bodies)
    got = unpack(pack(s))
    assert [getattr(got, f) for f in Summary.__slots__] == [getattr(s, f) for f in Summary.__slots__]


def test_damaged_blobs_are_refused():
    s = Summary(7, 3, 9, 2, b"o" * 16, [b"a" * 16, b"b" * 16], ["user:1", None], ["like", "post"],
                [b'{"x":1}', b"{}"])
    blob = pack(s)
    for cut in range(len(blob)):
        with pytest.raises(ValueError):
            unpack(blob[:cut])
    with pytest.raises(ValueError):
        unpack(blob + b"x")
    with pytest.raises(ValueError):
        unpack(b"\x02" + blob[1:])  # another version
    with pytest.raises(ValueError):
        unpack(blob.replace(b"user:1", b"user\xff1"))  # not UTF-8


@pytest.mark.parametrize("bad", [["a\nb", None], ["", None]])
def test_texts_it_cannot_hold_are_not_packed(bad):
    with pytest.raises(ValueError):
        pack(Summary(0, 2, 2, 1, b"o" * 16, [b"a" * 16, b"b" * 16], bad, [None, None], [b"", b""]))
