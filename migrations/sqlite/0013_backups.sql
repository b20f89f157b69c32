-- Version 13: every finished backup (switchboard backup), so that monitoring
-- can tell how old the newest one is (switchboard_last_backup_timestamp_seconds
-- is SELECT MAX(finished_at) FROM backups). The row is written after the
-- archive is complete; it is not in the archive itself.

CREATE TABLE backups (
    id          INTEGER PRIMARY KEY,
    finished_at DATETIME NOT NULL,
    archive     TEXT NOT NULL,           -- the archive's path as given to --out
    bytes       BIGINT NOT NULL          -- the archive's size
);
