-- 0002_reactions: reactions stored once by id (core/feedline/reactions/store.py), with the
-- indexes of each listing: by activity, by user, by parent (each with and without a kind) and
-- the children of a parent by one user (own_children). Counts are COUNT(*) over an index.
CREATE TABLE IF NOT EXISTS reactions (
    id TEXT PRIMARY KEY,
    key BLOB NOT NULL,
    kind TEXT NOT NULL,
    activity_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    parent TEXT NOT NULL DEFAULT '',
    body BLOB NOT NULL,
    children BLOB,
    created_us INTEGER NOT NULL,
    updated_us INTEGER NOT NULL,
    deleted_us INTEGER,
    target_feeds TEXT NOT NULL DEFAULT '',
    extra BLOB NOT NULL DEFAULT '{}'
) WITHOUT ROWID;
-- Activity listings are of top-level reactions (parent = ''): the parent is part of their
-- indexes, so a listing is an equality prefix read in key order, never a walk of (parent, key).
CREATE INDEX IF NOT EXISTS reactions_by_activity_kind ON reactions (activity_id, parent, kind, key);
CREATE INDEX IF NOT EXISTS reactions_by_activity ON reactions (activity_id, parent, key);
CREATE INDEX IF NOT EXISTS reactions_by_user_kind ON reactions (user_id, kind, key);
CREATE INDEX IF NOT EXISTS reactions_by_user ON reactions (user_id, key);
CREATE INDEX IF NOT EXISTS reactions_by_parent_kind ON reactions (parent, kind, key);
CREATE INDEX IF NOT EXISTS reactions_by_parent ON reactions (parent, key);
CREATE INDEX IF NOT EXISTS reactions_by_parent_user ON reactions (parent, user_id, key);
