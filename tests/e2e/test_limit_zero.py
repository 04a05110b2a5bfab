"""``limit=0`` on a non-empty flat feed: an empty page, not a 500 (issue 15's first finding)."""

from __future__ import annotations


def test_limit_zero_on_a_non_empty_flat_feed(client, uid):
    feed = client.feed("user", uid)
    feed.add_activity({"actor": uid, "verb": "post", "object": "o:1"})
    page = feed.get(limit=0)
    assert page["results"] == [] and page["next"] == ""
    assert len(feed.get(limit=1)["results"]) == 1
