-- 0006: where each activity's reference strings (SU:/SO:/SA:/SR:) are inside its body, found
-- once at write time (feedline.enrichment.refs) so an enriched read splices without scanning.
-- NULL for rows written before: the read path scans those bodies instead.
ALTER TABLE activities ADD COLUMN refs BLOB;
