"""Every CQL statement of the Cassandra backend, as text, by name.

``CassandraSession.prepared(name)`` prepares each once per session; data only ever travels as bound
values. Table names are unqualified: the session is bound to the configured keyspace. The tables
are created by ``storage/cassandra/migrations`` (see ``infra/cassandra/DESIGN.md``).

Reads of a timeline take a cursor range (``id_lt``/``id_lte`` above, ``id_gt``/``id_gte`` below):
one statement per combination of bounds, named ``<base>:<upper>:<lower>`` (``range_name``).
"""

from __future__ import annotations

#: every table the migrations create (tests empty them between cases)
TABLES = (
    "activities", "activities_by_foreign_id", "timeline", "timeline_by_origin", "activity_feeds",
    "follows_by_source", "follows_by_target", "following_by_time", "followers_by_time", "marks",
    "reactions", "reactions_by_activity", "reactions_by_user", "reactions_by_parent", "reactions_by_parent_user",
    "reaction_counts",
    "users", "collection_items", "events_by_user",
)

CQL: dict[str, str] = {
    # ---- activities ----------------------------------------------------------------------------
    # `feed` is bound to UNSET_VALUE when the record has none: the stored feed is kept (no null,
    # hence no tombstone), as SQLite's COALESCE does.
    # `rank` (the ranking field blob, 0007) is bound on every put: it is replaced with the body
    "activity_put": ("INSERT INTO activities (id, body, foreign_id, feed, actor, verb, rank) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?)"),
    # a few partitions by IN: one request (the coordinator fans out) instead of one per id; a
    # Python client on a small Lambda is CPU-bound per request. Chunked to IN_CHUNK ids.
    "activity_get": "SELECT id, body, foreign_id, feed, actor, verb, rank FROM activities WHERE id IN ?",
    "bodies_get": "SELECT id, body FROM activities WHERE id IN ?",
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
    "timeline_delete": "DELETE FROM timeline WHERE feed = ? AND key = ?",
    "timeline_has": "SELECT key FROM timeline WHERE feed = ? AND key = ?",
    "timeline_rows": "SELECT key, origin, grp, actor, verb FROM timeline WHERE feed = ? AND key IN ?",
    # an aggregated read: the newest entries of a feed as columns, no cursor
    "timeline_window": "SELECT key, origin, grp, actor, verb FROM timeline WHERE feed = ? LIMIT ?",
    "by_origin_put": "INSERT INTO timeline_by_origin (feed, origin, key) VALUES (?, ?, ?)",
    "by_origin_delete": "DELETE FROM timeline_by_origin WHERE feed = ? AND origin = ? AND key = ?",
    "by_origin_keys": "SELECT key FROM timeline_by_origin WHERE feed = ? AND origin = ?",
    "activity_feeds_put": "INSERT INTO activity_feeds (id, feed, origin) VALUES (?, ?, ?)",
    "activity_feeds_delete": "DELETE FROM activity_feeds WHERE id = ? AND feed = ?",
    "activity_feeds_get": "SELECT feed, origin FROM activity_feeds WHERE id = ?",
    "activity_feeds_in": "SELECT feed, origin FROM activity_feeds WHERE id = ? AND feed IN ?",
    # ---- notification marks --------------------------------------------------------------------
    "marks_get": "SELECT state FROM marks WHERE feed = ?",
    "marks_put": "INSERT INTO marks (feed, state) VALUES (?, ?)",
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
        CQL[range_name("by_origin_read", _u, _l)] = (
            f"SELECT key FROM timeline_by_origin WHERE feed = ? AND origin = ?{_uc}{_lc}")
        # reaction listings: newest first (the clustering order) or oldest first (ORDER BY key ASC)
        for _field, (_table, _col) in REACTION_LISTINGS.items():
            for _order in ("DESC", "ASC"):
                CQL[reaction_range_name(_field, _u, _l, _order)] = (
                    f"SELECT key, id FROM {_table} WHERE {_col} = ? AND kind = ?{_uc}{_lc} "
                    f"ORDER BY key {_order} LIMIT ?")
del _u, _uc, _l, _lc, _field, _table, _col, _order
