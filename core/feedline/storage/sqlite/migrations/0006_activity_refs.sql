-- 0006: where each activity's reference strings (SU:/SO:/SA:/SR:) are inside its body, found
-- once at write time (feedline.enrichment.refs) so an enriched read splices without scanning.
-- NULL for rows written before: the read path scans those bodies instead.
ALTER TABLE activities ADD COLUMN refs BLOB;
-- A user's own reactions to the activities of a page (enriched reads' own_reactions), as the
-- Cassandra table reactions_by_activity_user.
CREATE INDEX IF NOT EXISTS reactions_by_activity_user ON reactions (activity_id, user_id, key);
