"""Cassandra: a timeline row's copy carries the body's reference offsets and ranking blob (0010),
so an enriched flat page and a ranked window are read from the feed's partition alone; rows copied
before 0010 (no offsets, no blob) are completed from ``activities``."""

from __future__ import annotations

import pytest

from feedline.activities.store import ActivityRecord
from feedline.feeds.store import Entry
from feedline.models import ids
from feedline.storage.cassandra import from_settings
from feedline.storage.cassandra.base import key_uuid

pytestmark = pytest.mark.cassandra


def _key(t: int) -> bytes:
    return ids.key_from_time(1_700_000_000_000_000 + t * 1000, b"\x80\x80\x00\x00\x00\x00\x00\x07")


@pytest.fixture
def stores(cassandra_settings):
    s = from_settings(cassandra_settings)
    yield s
    s.close()


def _raw(stores):
    return stores.timelines.session._connect()


def test_reads_take_offsets_and_blobs_from_the_copies(stores):
    feed = f"timeline:c{ids.key_to_uuid(_key(0))[:8]}"
    keys = [_key(t) for t in range(3)]
    stores.activities.put_activities([ActivityRecord(k, b'{"n":%d}' % i, refs=b"\x00\x00\x00%c" % i, rank=bytes([i]) * 16)
                                      for i, k in enumerate(keys)])
    stores.timelines.add_entries(feed, [Entry(k, None) for k in keys])
    raw = _raw(stores)
    # the truth changes behind the copies' back (no refresh): reads still show the copies
    for k in keys:
        raw.execute("UPDATE activities SET refs = %s, rank = %s WHERE id = %s", (b"XXXX", b"Y" * 16, key_uuid(k)))
    page = stores.timelines.read_page(feed, 10, with_refs=True)
    assert [(r[0], r[3]) for r in page] == [(k, b"\x00\x00\x00%c" % i) for i, k in reversed(list(enumerate(keys)))]
    window = stores.timelines.read_ranked_window(feed, 10)
    assert list(window[2]) == [bytes([i]) * 16 for i in (2, 1, 0)]
    # a refresh brings the copies to the truth
    for k in keys:
        stores.timelines.refresh_copies(k)
    assert {r[3] for r in stores.timelines.read_page(feed, 10, with_refs=True)} == {b"XXXX"}


def test_copies_from_before_0010_are_completed_from_activities(stores):
    feed = f"timeline:d{ids.key_to_uuid(_key(9))[:8]}"
    keys = [_key(t) for t in range(10, 13)]
    stores.activities.put_activities([ActivityRecord(k, b'{"n":1}', refs=b"\x00\x00\x00\x01", rank=b"z" * 16)
                                      for k in keys])
    stores.timelines.add_entries(feed, [Entry(k, "user:x") for k in keys])
    raw = _raw(stores)
    for k in keys[:2]:  # as 0004's copies were written: a body only
        raw.execute("UPDATE timeline SET refs = null, rank = null WHERE feed = %s AND key = %s", (feed, k))
    page = stores.timelines.read_page(feed, 10, with_refs=True)
    assert [(r[0], r[1], r[2], r[3]) for r in page] == [(k, b'{"n":1}', "user:x", b"\x00\x00\x00\x01")
                                                         for k in reversed(keys)]
    window = stores.timelines.read_ranked_window(feed, 10)
    assert [list(c) for c in window] == [list(reversed(keys)), ["user:x"] * 3, [b"z" * 16] * 3]
    # a row whose copy has no blob and whose activity is gone: left out (a removal propagating)
    stores.activities.delete_activities([keys[0]])
    assert list(stores.timelines.read_ranked_window(feed, 10)[0]) == [keys[2], keys[1]]
