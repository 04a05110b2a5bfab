from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedline import _ext
from feedline.models import _ids_py, ids

from .twins import twin_params

TWINS = twin_params("feedline.models._ids")
times = st.integers(min_value=_ids_py.MIN_TIME_US, max_value=_ids_py.MAX_TIME_US)
lsbs = st.binary(min_size=8, max_size=8)


@pytest.mark.parametrize("m", TWINS)
def test_known_vector(m):
    t = m.parse_time("2017-09-28T16:01:01.123456")
    key = m.key_from_time(t, b"\x80\x80\x01\x02\x03\x04\x05\x06")
    text = m.key_to_uuid(key)
    u = uuid.UUID(text)
    assert u.version == 1 and text.endswith("-8080-010203040506")
    # the UUID's own timestamp is the activity time in 100 ns ticks since 1582-10-15
    assert datetime(1582, 10, 15) + timedelta(microseconds=u.time // 10) == datetime(2017, 9, 28, 16, 1, 1, 123456)
    assert m.uuid_to_key(text) == key == m.uuid_to_key(text.upper()) == m.uuid_to_key(text.replace("-", ""))
    assert m.key_time_us(key) == t
    assert m.format_time(t) == "2017-09-28T16:01:01.123456"


@pytest.mark.parametrize("m", TWINS)
@pytest.mark.parametrize("text,expected", [
    ("2017-07-01T20:30:45.123456", "2017-07-01T20:30:45.123456"),
    ("2017-07-01T20:30:45", "2017-07-01T20:30:45.000000"),
    ("2017-07-01 20:30:45.5", "2017-07-01T20:30:45.500000"),
    ("2017-07-01T20:30:45.123456789Z", "2017-07-01T20:30:45.123456"),
    ("2017-07-01T17:30:45.000001-03:00", "2017-07-01T20:30:45.000001"),
    ("2017-07-01T22:30:45+02:00", "2017-07-01T20:30:45.000000"),
    ("2017-07-01", "2017-07-01T00:00:00.000000"),
])
def test_parse_time_forms(m, text, expected):
    assert m.format_time(m.parse_time(text)) == expected


@pytest.mark.parametrize("m", TWINS)
@pytest.mark.parametrize("bad", ["", "yesterday", "2017-13-01T00:00:00", "2017-02-30T00:00:00.000000",
                                 "1000-01-01T00:00:00.000000", "2017-07-01T20:30:45.", "2017/07/01 20:30:45",
                                 "2017-07-01X20:30:45.000000", 12345, None,
                                 # the offset moves these out of datetime's years 1-9999 (was OverflowError)
                                 "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00",
                                 "9999-12-31T23:59:59.999999-00:01"])
def test_parse_time_rejects(m, bad):
    with pytest.raises((ValueError, TypeError)):
        m.parse_time(bad)


@pytest.mark.parametrize("m", TWINS)
@pytest.mark.parametrize("bad", ["", "xyz", "6045bfa0-a467-41e7-8080-80005886bfee",  # version 4
                                 "6045bfa0a467-11e7-8080-80005886bfee-", "6045bfa0-a467-11e7-8080-80005886bfeg"])
def test_uuid_rejects(m, bad):
    with pytest.raises(ValueError):
        m.uuid_to_key(bad)


@pytest.mark.skipif("c" not in _ext.twins("feedline.models._ids") or _ext.NO_EXTENSIONS, reason="compiled twin absent")
class TestTwinsAgree:
    c = _ext.twins("feedline.models._ids").get("c")

    @settings(max_examples=400, deadline=None)
    @given(times, lsbs)
    def test_keys_and_uuids(self, t, lsb):
        key = _ids_py.key_from_time(t, lsb)
        assert self.c.key_from_time(t, lsb) == key
        text = _ids_py.key_to_uuid(key)
        assert self.c.key_to_uuid(key) == text == str(uuid.UUID(text))
        assert self.c.uuid_to_key(text) == _ids_py.uuid_to_key(text) == key
        assert self.c.key_time_us(key) == _ids_py.key_time_us(key) == t

    @settings(max_examples=400, deadline=None)
    @given(times)
    def test_times(self, t):
        text = _ids_py.format_time(t)
        assert self.c.format_time(t) == text
        assert self.c.parse_time(text) == _ids_py.parse_time(text) == t

    @settings(max_examples=300, deadline=None)
    @given(st.text(min_size=20, max_size=30, alphabet="0123456789-T:. Z+"))
    def test_parse_garbage_same_verdict(self, text):
        def outcome(fn):
            try:
                return fn(text)
            except ValueError:
                return "error"
        assert outcome(self.c.parse_time) == outcome(_ids_py.parse_time)


@settings(max_examples=200, deadline=None)
@given(times, times, lsbs, lsbs)
def test_key_order_is_time_order(t1, t2, l1, l2):
    k1, k2 = ids.key_from_time(t1, l1), ids.key_from_time(t2, l2)
    if t1 < t2:
        assert k1 < k2


def test_node_hash_is_multicast_and_deterministic():
    a, b = ids.node_lsb(b"f:tweet:1"), ids.node_lsb(b"f:tweet:2")
    assert a[:2] == b"\x80\x80" and a[2] & 0x01 and a != b and a == ids.node_lsb(b"f:tweet:1")
