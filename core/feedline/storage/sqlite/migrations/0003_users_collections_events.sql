-- Users, collection items and analytics events (issue 11). Bodies are the canonical response bytes.
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    body BLOB NOT NULL,
    created_us INTEGER NOT NULL,
    updated_us INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS collection_items (
    collection TEXT NOT NULL,
    id TEXT NOT NULL,
    user_id TEXT NOT NULL DEFAULT '',
    body BLOB NOT NULL,
    created_us INTEGER NOT NULL,
    updated_us INTEGER NOT NULL,
    PRIMARY KEY (collection, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
    key BLOB PRIMARY KEY,
    kind TEXT NOT NULL,
    user_id TEXT NOT NULL,
    feed_id TEXT NOT NULL DEFAULT '',
    body BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS events_by_user ON events (user_id, key);
