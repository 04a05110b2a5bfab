-- Uploaded files and images (docs/api.md §17): one row per file, its bytes in a BLOB. A rowid
-- table (not WITHOUT ROWID): rows this large belong in overflow pages, not in the index b-tree.
CREATE TABLE IF NOT EXISTS files (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    uploader TEXT NOT NULL DEFAULT '',
    created_us INTEGER NOT NULL,
    data BLOB NOT NULL
);
