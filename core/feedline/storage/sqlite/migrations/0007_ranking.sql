-- 0007_ranking: each activity's ranking field blob (issue 13, docs/ranking.md), written with the
-- body by every put so an update never leaves a stale value; a ranked read joins it with the
-- timeline window and decodes no JSON. NULL for activities written before (read from the body).
ALTER TABLE activities ADD COLUMN rank BLOB;
-- A ranked read looks up 1,000 blobs by key: through this covering index each lookup reads a
-- small index entry instead of the activity's row with its body (measured ~2x faster on a
-- window of 1,000; the read names it with INDEXED BY, since the planner prefers the primary key).
CREATE INDEX IF NOT EXISTS activities_rank ON activities (key, rank);
