"""Feeds: what a feed is (flat, aggregated, notification), its timeline entries and page reads.

``base.Feed`` is the interface, ``factory.feed_kind`` the one place a group's type is looked at,
``service.FeedService`` places activities into feeds and reads pages, ``store`` holds the
timeline and mark store contracts, ``routes`` the HTTP routes (the feed read, the mark).
"""
