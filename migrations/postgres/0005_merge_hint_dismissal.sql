-- Version 5: dismissed merge hints (PostgreSQL). A manager who knows two
-- suggested contacts are different people says "not a duplicate": the
-- hints between them are kept, marked with when and by whom, and the
-- contact panel no longer suggests the pair. A later message naming both
-- writes a new hint, and the pair is suggested again.

ALTER TABLE merge_hints ADD COLUMN dismissed_at TIMESTAMPTZ;
ALTER TABLE merge_hints ADD COLUMN dismissed_by BIGINT REFERENCES users (id);
