"""Every CQL statement of the Cassandra backend, as text, by name.

``CassandraSession.prepared(name)`` prepares each once per session; data only ever travels as bound
values. Table names are written unqualified here and qualified with the session's keyspace when
prepared (``qualified``): Cassandra warns about (and a shared driver session could misroute)
unqualified statements prepared on a session bound to a keyspace. The tables are created by
``storage/cassandra/migrations`` (see ``infra/cassandra/DESIGN.md``).

Reads of a timeline take a cursor range (``id_lt``/``id_lte`` above, ``id_gt``/``id_gte`` below):
one statement per combination of bounds, named ``<base>:<upper>:<lower>`` (``range_name``).
"""

from __future__ import annotations

import re

#: every table the migrations create (tests empty them between cases)
TABLES = (
    "activities", "activities_by_foreign_id", "timeline", "timeline_by_origin", "activity_feeds",
    "follows_by_source", "follows_by_target", "following_by_time", "followers_by_time", "marks",
    "realtime_connections", "realtime_subscribers", "realtime_channels",
    "reactions", "reactions_by_activity", "reactions_by_user", "reactions_by_parent", "reactions_by_parent_user",
    "reaction_counts", "reactions_by_activity_user",
    "users", "collection_items", "events_by_user", "files",
    "feed_groups", "groups_by_time", "group_log",
)

CQL: dict[str, str] = {
    # ---- activities ----------------------------------------------------------------------------
    # `feed` is bound to UNSET_VALUE when the record has none: the stored feed is kept (no null,
    # hence no tombstone), as SQLite's COALESCE does.
    # Written at an explicit timestamp (the driver's own monotonic clock): that timestamp is the
    # activity's version, the one its copies in timelines are written at (see timelines.py).
    # `refs` (0006): where the body's reference strings are; a null means "not computed" (old rows).
    # `rank` (0007): the ranking field blob, replaced with the body on every put.
    "activity_put": ("INSERT INTO activities (id, body, foreign_id, feed, actor, verb, refs, rank) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?) USING TIMESTAMP ?"),
    # sessions without body copies (Amazon Keyspaces): no explicit timestamp
    "activity_put_unversioned": ("INSERT INTO activities (id, body, foreign_id, feed, actor, verb, refs, rank) "
                                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
    # bodies with their version: WRITETIME(body) is the timestamp the row was written at
    "activity_versions": "SELECT id, body, WRITETIME(body), refs, rank FROM activities WHERE id IN ?",
    # a few partitions by IN: one request (the coordinator fans out) instead of one per id; a
    # Python client on a small Lambda is CPU-bound per request. Chunked to IN_CHUNK ids.
    "activity_get": "SELECT id, body, foreign_id, feed, actor, verb, refs, rank FROM activities WHERE id IN ?",
    "bodies_get": "SELECT id, body FROM activities WHERE id IN ?",
    "bodies_refs_get": "SELECT id, body, refs FROM activities WHERE id IN ?",
    # a ranked read: the window's ranking blobs, without the bodies
    "ranks_get": "SELECT id, rank FROM activities WHERE id IN ?",
    "activity_delete": "DELETE FROM activities WHERE id = ?",
    "foreign_id_put": "INSERT INTO activities_by_foreign_id (foreign_id, key) VALUES (?, ?)",
    "foreign_id_keys": "SELECT key FROM activities_by_foreign_id WHERE foreign_id = ?",
    "foreign_id_delete": "DELETE FROM activities_by_foreign_id WHERE foreign_id = ? AND key = ?",
    # ---- timelines -----------------------------------------------------------------------------
    # Entries without group/actor/verb (flat feeds, fan-out copies) do not name those columns:
    # nothing is written to them (no null, no tombstone) and an existing value is kept.
    "timeline_put": "INSERT INTO timeline (feed, key, origin) VALUES (?, ?, ?)",
    "timeline_put_grouped": ("INSERT INTO timeline (feed, key, origin, grp, actor, verb) "
                             "VALUES (?, ?, ?, ?, ?, ?)"),
    # The body copy of an entry, at the version of the activity it was copied from: the newest
    # version wins whatever order the writes arrive in. An UPDATE, not an INSERT: it writes no row
    # marker, so it never makes an entry appear by itself; a copy refreshed after its entry was
    # deleted is a row without an origin, which every read skips ("ghost").
    # a copy: body, reference offsets and ranking blob at the activity's version (0010)
    "copy_body_put": ("UPDATE timeline USING TIMESTAMP ? SET body = ?, refs = ?, rank = ? "
                      "WHERE feed = ? AND key = ?"),
    "timeline_delete": "DELETE FROM timeline WHERE feed = ? AND key = ?",
    "timeline_has": "SELECT origin FROM timeline WHERE feed = ? AND key = ?",
    "timeline_rows": "SELECT key, origin, grp, actor, verb FROM timeline WHERE feed = ? AND key IN ?",
    # the body copies of some entries of one feed: one partition, a clustering IN (aggregated pages)
    "timeline_bodies": "SELECT key, origin, body FROM timeline WHERE feed = ? AND key IN ?",
    # ... or, when they are dense in the feed (consecutive members), one contiguous slice
    "timeline_bodies_range": ("SELECT key, origin, body FROM timeline WHERE feed = ? AND key <= ? AND key >= ? "
                              "LIMIT ?"),
    "by_origin_put": "INSERT INTO timeline_by_origin (feed, origin, key) VALUES (?, ?, ?)",
    "by_origin_delete": "DELETE FROM timeline_by_origin WHERE feed = ? AND origin = ? AND key = ?",
    "by_origin_keys": "SELECT key FROM timeline_by_origin WHERE feed = ? AND origin = ?",
    "activity_feeds_put": "INSERT INTO activity_feeds (id, feed, origin) VALUES (?, ?, ?)",
    "activity_feeds_delete": "DELETE FROM activity_feeds WHERE id = ? AND feed = ?",
    "activity_feeds_get": "SELECT feed, origin FROM activity_feeds WHERE id = ?",
    "activity_feeds_in": "SELECT feed, origin FROM activity_feeds WHERE id = ? AND feed IN ?",
    # refreshes walk the reverse index in feed order, a chunk at a time
    "activity_feeds_after": "SELECT feed, grp FROM activity_feeds WHERE id = ? AND feed > ? LIMIT ?",
    # ---- materialized groups (0008; see groups.py) -----------------------------------------------
    # a member joins or leaves its group's map: a cell write, no read, merged by Cassandra
    # ... and marks its group dirty (0011): its summary is rebuilt by the next read of it
    "group_member_add": "UPDATE feed_groups SET members = members + ?, dirty = dirty + ? WHERE feed = ? AND grp = ?",
    "group_member_remove": "UPDATE feed_groups SET members = members - ?, dirty = dirty + ? WHERE feed = ? AND grp = ?",
    # group summaries (0011): the dirty marks (changes, repairs and body refreshes add them; the read
    # that rebuilt a group's summary removes its mark, dated before its read)
    "group_dirty_add": "UPDATE feed_groups SET dirty = dirty + ? WHERE feed = ?",
    "group_dirty_clean": "UPDATE feed_groups USING TIMESTAMP ? SET dirty = dirty - ? WHERE feed = ?",
    "group_epoch_put": "UPDATE feed_groups SET epoch = ? WHERE feed = ?",
    "group_pack_put": "UPDATE groups_by_time USING TIMESTAMP ? SET packed = ? WHERE feed = ? AND newest = ? AND grp = ?",
    "group_members_in": "SELECT grp, members FROM feed_groups WHERE feed = ? AND grp IN ?",
    "group_members_all": "SELECT grp, members FROM feed_groups WHERE feed = ?",
    # repairs (reconcile), at an explicit timestamp older than any write in flight
    "group_member_add_at": "UPDATE feed_groups USING TIMESTAMP ? SET members = members + ? WHERE feed = ? AND grp = ?",
    "group_member_remove_at": ("UPDATE feed_groups USING TIMESTAMP ? SET members = members - ? "
                               "WHERE feed = ? AND grp = ?"),
    "group_index_put": "INSERT INTO groups_by_time (feed, newest, grp) VALUES (?, ?, ?)",
    "group_index_put_at": "INSERT INTO groups_by_time (feed, newest, grp) VALUES (?, ?, ?) USING TIMESTAMP ?",
    "group_index_delete": "DELETE FROM groups_by_time WHERE feed = ? AND newest = ? AND grp = ?",
    "group_index_delete_at": "DELETE FROM groups_by_time USING TIMESTAMP ? WHERE feed = ? AND newest = ? AND grp = ?",
    "group_index_all": "SELECT newest, grp FROM groups_by_time WHERE feed = ?",
    # one row per insert into a grouped feed (the size bound); the static size/checked are written
    # by the reconcile that counted the feed
    "group_log_put": "INSERT INTO group_log (feed, at, n) VALUES (?, ?, ?) USING TTL ?",
    # the feed's count, dirty marks and summary epoch (0011: statics of feed_groups), one row
    "group_size_get": "SELECT size, checked, counted, dirty, epoch FROM feed_groups WHERE feed = ? LIMIT 1",
    "group_log_read": "SELECT at, n FROM group_log WHERE feed = ? LIMIT ?",
    "group_log_since": "SELECT at, n FROM group_log WHERE feed = ? AND at > ? LIMIT ?",
    "group_size_put": ("UPDATE feed_groups USING TTL ? AND TIMESTAMP ? SET size = ?, checked = ?, counted = ? "
                       "WHERE feed = ?"),
    # the reverse index with the entry's group (grouped feeds), so removals reach the group
    "activity_feeds_put_grouped": "INSERT INTO activity_feeds (id, feed, origin, grp) VALUES (?, ?, ?, ?)",
    "activity_feeds_in_grouped": "SELECT feed, origin, grp FROM activity_feeds WHERE id = ? AND feed IN ?",
    "timeline_group_of": "SELECT grp FROM timeline WHERE feed = ? AND key = ?",
    # a grouped page's members: origin and verb with the body copy
    "group_bodies": "SELECT key, origin, verb, body, grp FROM timeline WHERE feed = ? AND key IN ?",
    "group_bodies_range": ("SELECT key, origin, verb, body, grp FROM timeline WHERE feed = ? AND key <= ? AND key >= ? "
                           "LIMIT ?"),
    # ---- notification marks --------------------------------------------------------------------
    "marks_get": "SELECT state FROM marks WHERE feed = ?",
    "marks_put": "INSERT INTO marks (feed, state) VALUES (?, ?)",
    # ---- realtime (0005): every row expires ------------------------------------------------------
    "rt_connection_put": "INSERT INTO realtime_connections (connection_id, client_id) VALUES (?, ?) USING TTL ?",
    "rt_connection_get": "SELECT client_id FROM realtime_connections WHERE connection_id = ?",
    "rt_connection_delete": "DELETE FROM realtime_connections WHERE connection_id = ?",
    "rt_subscriber_put": "INSERT INTO realtime_subscribers (channel, connection_id) VALUES (?, ?) USING TTL ?",
    "rt_subscriber_delete": "DELETE FROM realtime_subscribers WHERE channel = ? AND connection_id = ?",
    "rt_subscribers_in": "SELECT channel, connection_id FROM realtime_subscribers WHERE channel IN ?",
    "rt_channel_put": "INSERT INTO realtime_channels (connection_id, channel) VALUES (?, ?) USING TTL ?",
    "rt_channel_delete": "DELETE FROM realtime_channels WHERE connection_id = ? AND channel = ?",
    "rt_channels_get": "SELECT channel FROM realtime_channels WHERE connection_id = ?",
    "rt_channels_drop": "DELETE FROM realtime_channels WHERE connection_id = ?",
    # ---- follows -------------------------------------------------------------------------------
    "by_source_put": "INSERT INTO follows_by_source (source, target, created_us) VALUES (?, ?, ?)",
    "by_source_get": "SELECT created_us FROM follows_by_source WHERE source = ? AND target = ?",
    "by_source_in": "SELECT target, created_us FROM follows_by_source WHERE source = ? AND target IN ?",
    "by_source_delete": "DELETE FROM follows_by_source WHERE source = ? AND target = ?",
    "by_target_put": "INSERT INTO follows_by_target (target, source, created_us) VALUES (?, ?, ?)",
    "by_target_get": "SELECT created_us FROM follows_by_target WHERE target = ? AND source = ?",
    "by_target_in": "SELECT source, created_us FROM follows_by_target WHERE target = ? AND source IN ?",
    "by_target_delete": "DELETE FROM follows_by_target WHERE target = ? AND source = ?",
    "following_put": "INSERT INTO following_by_time (source, created_us, target) VALUES (?, ?, ?)",
    "following_scan": "SELECT created_us, target FROM following_by_time WHERE source = ?",
    "following_delete": "DELETE FROM following_by_time WHERE source = ? AND created_us = ? AND target = ?",
    "followers_put": "INSERT INTO followers_by_time (target, created_us, source) VALUES (?, ?, ?)",
    "followers_scan": "SELECT created_us, source FROM followers_by_time WHERE target = ?",
    "followers_delete": "DELETE FROM followers_by_time WHERE target = ? AND created_us = ? AND source = ?",
    "follower_page": "SELECT source FROM follows_by_target WHERE target = ? AND source > ? LIMIT ?",
    # Counts read the edge partition (exact, O(follows) work on the replica); a slug filter is a
    # clustering range ['slug:', 'slug;') since ';' follows ':'.
    "count_followers": "SELECT COUNT(*) FROM follows_by_target WHERE target = ?",
    "count_followers_slug": ("SELECT COUNT(*) FROM follows_by_target "
                             "WHERE target = ? AND source >= ? AND source < ?"),
    "count_following": "SELECT COUNT(*) FROM follows_by_source WHERE source = ?",
    "count_following_slug": ("SELECT COUNT(*) FROM follows_by_source "
                             "WHERE source = ? AND target >= ? AND target < ?"),
    # ---- users, collection items, analytics events (0003) --------------------------------------
    "user_put": "INSERT INTO users (id, body, created_us, updated_us) VALUES (?, ?, ?, ?)",
    "users_get": "SELECT id, body, created_us, updated_us FROM users WHERE id IN ?",
    "user_delete": "DELETE FROM users WHERE id = ?",
    "item_put": ("INSERT INTO collection_items (collection, id, user_id, body, created_us, updated_us) "
                 "VALUES (?, ?, ?, ?, ?, ?)"),
    "items_get": ("SELECT collection, id, user_id, body, created_us, updated_us FROM collection_items "
                  "WHERE collection = ? AND id IN ?"),
    "item_delete": "DELETE FROM collection_items WHERE collection = ? AND id = ?",
    "event_put": "INSERT INTO events_by_user (user_id, day, key, kind, feed_id, body) VALUES (?, ?, ?, ?, ?, ?)",
    "user_events": ("SELECT key, kind, user_id, feed_id, body FROM events_by_user "
                    "WHERE user_id = ? AND day = ? AND key >= ? AND key < ? LIMIT ?"),
    # ---- uploaded files (0009): the record in static columns, the bytes in chunk rows ----------
    "file_chunk_put": "INSERT INTO files (id, chunk, data) VALUES (?, ?, ?)",
    "file_record_put": ("INSERT INTO files (id, kind, name, content_type, size, uploader, created_us, chunks) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
    # PER PARTITION LIMIT 1: the static columns without reading the chunks
    "file_record_get": ("SELECT id, kind, name, content_type, size, uploader, created_us, chunks FROM files "
                        "WHERE id = ? PER PARTITION LIMIT 1"),
    "file_get": ("SELECT id, kind, name, content_type, size, uploader, created_us, chunks, chunk, data FROM files "
                 "WHERE id = ?"),
    "file_delete": "DELETE FROM files WHERE id = ?",
}

# ---- reactions (tables: migrations/0002_reactions.cql) -----------------------------------------
_REACTION_COLUMNS = ("id, key, kind, activity_id, user_id, parent, body, created_us, updated_us, deleted_us, "
                     "target_feeds, extra")
CQL.update({
    # `children` is not named: an update of the reaction keeps it (the store rewrites it alone)
    "reaction_put": f"INSERT INTO reactions ({_REACTION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "reaction_get": f"SELECT {_REACTION_COLUMNS}, children FROM reactions WHERE id IN ?",
    "reaction_delete": "DELETE FROM reactions WHERE id = ?",
    # rewritten from the exact set; the write timestamp is when the rewrite started reading
    "reaction_children_put": "UPDATE reactions USING TIMESTAMP ? SET children = ? WHERE id = ?",
    "rx_activity_put": "INSERT INTO reactions_by_activity (activity_id, kind, key, id) VALUES (?, ?, ?, ?)",
    "rx_activity_delete": "DELETE FROM reactions_by_activity WHERE activity_id = ? AND kind = ? AND key = ?",
    "rx_user_put": "INSERT INTO reactions_by_user (user_id, kind, key, id) VALUES (?, ?, ?, ?)",
    "rx_user_delete": "DELETE FROM reactions_by_user WHERE user_id = ? AND kind = ? AND key = ?",
    "rx_parent_put": "INSERT INTO reactions_by_parent (parent, kind, key, id, child_kind) VALUES (?, ?, ?, ?, ?)",
    "rx_parent_delete": "DELETE FROM reactions_by_parent WHERE parent = ? AND kind = ? AND key = ?",
    "rx_parent_all": "SELECT key, id, child_kind FROM reactions_by_parent WHERE parent = ? AND kind = '*'",
    "rx_parent_user_put": "INSERT INTO reactions_by_parent_user (parent, user_id, key, id) VALUES (?, ?, ?, ?)",
    "rx_parent_user_delete": "DELETE FROM reactions_by_parent_user WHERE parent = ? AND user_id = ? AND key = ?",
    "rx_parent_user_get": "SELECT key, id FROM reactions_by_parent_user WHERE parent = ? AND user_id = ?",
    "rx_count": "SELECT COUNT(*) FROM reactions_by_activity WHERE activity_id = ? AND kind = ?",
    "reaction_counts_put": "INSERT INTO reaction_counts (activity_id, kind, count) VALUES (?, ?, ?) USING TIMESTAMP ?",
    "reaction_counts_get": "SELECT kind, count FROM reaction_counts WHERE activity_id = ?",
    # enriched reads (0006): a page's counts in one request, the latest of one (activity, kind),
    # a user's own top-level reactions to one activity
    "rx_counts_in": "SELECT activity_id, kind, count FROM reaction_counts WHERE activity_id IN ?",
    # the latest of many (activity, kind) partitions in one request: multi-partition IN bounded to
    # LATEST_IN_PARTITIONS partitions (reactions.py), each cut by PER PARTITION LIMIT
    "rx_latest_in": ("SELECT activity_id, kind, key, id FROM reactions_by_activity WHERE activity_id IN ? "
                     "AND kind IN ? PER PARTITION LIMIT ?"),
    "rx_activity_user_put": "INSERT INTO reactions_by_activity_user (activity_id, user_id, key, id) VALUES (?, ?, ?, ?)",
    "rx_activity_user_delete": "DELETE FROM reactions_by_activity_user WHERE activity_id = ? AND user_id = ? AND key = ?",
    "rx_own_in": "SELECT activity_id, key, id FROM reactions_by_activity_user WHERE activity_id IN ? AND user_id = ?",
})
#: listing tables and their partition key's first column
REACTION_LISTINGS = {"activity_id": ("reactions_by_activity", "activity_id"),
                     "user_id": ("reactions_by_user", "user_id"),
                     "reaction_id": ("reactions_by_parent", "parent")}

_UPPER = {"": "", "lt": " AND key < ?", "lte": " AND key <= ?"}
_LOWER = {"": "", "gt": " AND key > ?", "gte": " AND key >= ?"}


def range_name(base: str, upper: str, lower: str) -> str:
    """Name of the ``base`` read with an upper bound ``''|'lt'|'lte'`` and a lower ``''|'gt'|'gte'``."""
    return f"{base}:{upper}:{lower}"


def reaction_range_name(field: str, upper: str, lower: str, order: str) -> str:
    """Name of a reaction listing of ``field`` (a scope) with bounds and ``order`` (DESC/ASC)."""
    return f"reactions:{field}:{upper}:{lower}:{order}"


# Timeline reads, newest first (the clustering order): LIMIT bounds offset + limit rows.
# Own-entry reads page through timeline_by_origin (no LIMIT: rows are checked, some may be skipped).
for _u, _uc in _UPPER.items():
    for _l, _lc in _LOWER.items():
        CQL[range_name("timeline_read", _u, _l)] = (
            f"SELECT key, origin, grp, actor, verb FROM timeline WHERE feed = ?{_uc}{_lc} LIMIT ?")
        # a flat page: the entries with their body copies, one slice of one partition
        CQL[range_name("page_read", _u, _l)] = (
            f"SELECT key, origin, body FROM timeline WHERE feed = ?{_uc}{_lc} LIMIT ?")
        # an enriched flat page: the same slice with the copies' reference offsets
        CQL[range_name("page_refs_read", _u, _l)] = (
            f"SELECT key, origin, body, refs FROM timeline WHERE feed = ?{_uc}{_lc} LIMIT ?")
        CQL[range_name("by_origin_read", _u, _l)] = (
            f"SELECT key FROM timeline_by_origin WHERE feed = ? AND origin = ?{_uc}{_lc}")
        # reaction listings: newest first (the clustering order) or oldest first (ORDER BY key ASC)
        for _field, (_table, _col) in REACTION_LISTINGS.items():
            for _order in ("DESC", "ASC"):
                CQL[reaction_range_name(_field, _u, _l, _order)] = (
                    f"SELECT key, id FROM {_table} WHERE {_col} = ? AND kind = ?{_uc}{_lc} "
                    f"ORDER BY key {_order} LIMIT ?")
        # the groups of a feed by their newest member (group id), newest first
        CQL[range_name("group_index_read", _u, _l)] = (
            f"SELECT newest, grp FROM groups_by_time WHERE feed = ?{_uc.replace('key', 'newest')}"
            f"{_lc.replace('key', 'newest')} LIMIT ?")
        # ... with the groups' summaries (0011): a grouped page in one slice
        CQL[range_name("group_page_read", _u, _l)] = (
            f"SELECT newest, grp, packed FROM groups_by_time WHERE feed = ?{_uc.replace('key', 'newest')}"
            f"{_lc.replace('key', 'newest')} LIMIT ?")
del _u, _uc, _l, _lc, _field, _table, _col, _order
# an aggregated read: the newest entries of a feed as columns, no cursor
CQL[range_name("timeline_window", "", "")] = "SELECT key, origin, grp, actor, verb FROM timeline WHERE feed = ? LIMIT ?"
# a ranked read: the newest entries with their copied ranking blobs (0010), no bodies
CQL[range_name("ranked_window", "", "")] = "SELECT key, origin, rank FROM timeline WHERE feed = ? LIMIT ?"


_TABLE_REF = re.compile(r"\b(FROM|INTO|UPDATE)\s+(" + "|".join(TABLES) + r")\b")


_KEYSPACE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,47}")


def qualified(text: str, keyspace: str) -> str:
    """``text`` with every table of ``TABLES`` named as ``keyspace.table``."""
    if not _KEYSPACE.fullmatch(keyspace):
        raise ValueError(f"keyspace name {keyspace!r}: letters, digits and _, 48 at most")
    return _TABLE_REF.sub(lambda m: f"{m.group(1)} {keyspace}.{m.group(2)}", text)
