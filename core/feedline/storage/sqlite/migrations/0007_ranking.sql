-- 0007_ranking: each activity's ranking field blob (issue 13, docs/ranking.md), written with the
-- body by every put so an update never leaves a stale value; a ranked read joins it with the
-- timeline window and decodes no JSON. NULL for activities written before (read from the body).
ALTER TABLE activities ADD COLUMN rank BLOB;
