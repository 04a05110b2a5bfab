"""FeedService.place into grouped feeds of several groups at once: each kind renders its feeds'
entries in one call (``Feed.entries``): the body parsed once, the group key rendered once when
the format does not name the feed, once per feed when it does. The stored entries must be what
rendering the format for each feed on its own gives."""

from __future__ import annotations

import json

import pytest

from feedline.aggregation.template import compile_format
from feedline.config import AppConfig, FeedGroup
from feedline.feeds.service import FeedService
from feedline.feeds.store import Entry
from feedline.models import ids
from feedline.storage.sqlite import open_stores

GROUPS = {
    "user": FeedGroup("user"),
    "agg": FeedGroup("agg", "aggregated"),
    "note": FeedGroup("note", "notification", aggregation_format="{{ verb }}-{{ object }}"),
    "mine": FeedGroup("mine", "aggregated", aggregation_format="{{ verb }}@{{ feed.user_id }}"),
    "slug": FeedGroup("slug", "notification",
                      aggregation_format="{% if feed.group == 'slug' %}{{ actor }}{% else %}x{% endif %}"),
}


@pytest.fixture
def stores(tmp_path):
    s = open_stores(tmp_path / "f.db")
    yield s
    s.close()


def test_place_renders_each_feeds_own_entry(stores):
    app = AppConfig("k", "s", groups=GROUPS)
    service = FeedService(app, stores)
    key = ids.key_from_time(1_714_557_600_000_000, b"\x80\x80\x00\x00\x00\x00\x00\x01")
    body = json.dumps({"id": ids.key_to_uuid(key), "actor": "user:9", "verb": "like", "object": "photo:3"}).encode()
    feeds = ["agg:1", "mine:1", "note:1", "user:1", "agg:2", "slug:7", "mine:2", "note:2", "gone:1"]
    service.place(key, feeds, "user:src", body)

    doc = json.loads(body)
    for fid in feeds:
        slug, _, uid = fid.partition(":")
        window = stores.timelines.read_window(fid, 10)
        if slug in ("user", "gone"):  # flat, or a group no longer configured: a plain entry
            assert stores.timelines.read_entries(fid, 10) == [Entry(key, "user:src")]
            continue
        want = compile_format(GROUPS[slug].aggregation_format).render(doc, ids.key_time_us(key), slug, uid)
        assert window == ([key], ["user:src"], [want], ["user:9"], ["like"]), fid
    assert stores.timelines.read_window("slug:7", 10)[2] == ["user:9"]
    assert stores.timelines.read_window("mine:1", 10)[2] == ["like@1"]
    assert stores.timelines.read_window("mine:2", 10)[2] == ["like@2"]


def test_entries_of_a_kind_share_one_entry_unless_the_format_names_the_feed(stores):
    service = FeedService(AppConfig("k", "s", groups=GROUPS), stores)
    key = ids.key_from_time(1_714_557_600_000_000, b"\x80\x80\x00\x00\x00\x00\x00\x02")
    body = b'{"actor":"a","verb":"share","object":"o"}'
    agg = service.kind("agg:x").entries(["agg:1", "agg:2", "agg:3"], key, body, None)
    assert [f for f, _ in agg] == ["agg:1", "agg:2", "agg:3"]
    assert len({id(e) for _, e in agg}) == 1 and agg[0][1] == Entry(key, None, "share_2024-05-01", "a", "share")
    mine = service.kind("mine:x").entries(["mine:1", "mine:2"], key, body, None)
    assert [e.group for _, e in mine] == ["share@1", "share@2"]
    assert service.kind("agg:x").entries([], key, body, None) == []
    # the one-feed form is the same entry
    assert service.kind("mine:x").entry("mine:5", key, body, "user:s") == Entry(key, "user:s", "share@5", "a", "share")
