-- The schema of the first release: activities stored once, timelines, marks, follows.
CREATE TABLE IF NOT EXISTS activities (
    key BLOB PRIMARY KEY,
    body BLOB NOT NULL,
    foreign_id TEXT NOT NULL DEFAULT '',
    feed TEXT,
    actor TEXT NOT NULL DEFAULT '',
    verb TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS activities_foreign_id ON activities (foreign_id) WHERE foreign_id != '';
CREATE TABLE IF NOT EXISTS timeline (
    feed TEXT NOT NULL,
    key BLOB NOT NULL,
    origin TEXT,
    grp TEXT,
    actor TEXT,
    verb TEXT,
    PRIMARY KEY (feed, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS marks (
    feed TEXT PRIMARY KEY,
    state BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS timeline_by_key ON timeline (key);
CREATE TABLE IF NOT EXISTS follows (
    source TEXT NOT NULL,
    target TEXT NOT NULL,
    created_us INTEGER NOT NULL,
    PRIMARY KEY (source, target)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS follows_by_target ON follows (target, source);
