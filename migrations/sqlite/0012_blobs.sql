-- Version 12: the blob store in the database (SWITCHBOARD_BLOBS=database),
-- as on PostgreSQL. A blob is a row of blobs and its bytes in chunks of
-- about 1 MiB, so that neither writing nor reading a 100 MB recording holds
-- it in memory. A row whose sha256 is NULL is an upload being written (or
-- one that was interrupted: the sweep removes it after the grace period).

CREATE TABLE blobs (
    id         INTEGER PRIMARY KEY,
    sha256     TEXT UNIQUE,                 -- the key (hex SHA-256); NULL while uploading
    size       BIGINT NOT NULL DEFAULT 0,
    created_at DATETIME NOT NULL            -- written, or last put again: the sweep's clock
);

CREATE TABLE blob_chunks (
    blob_id INTEGER NOT NULL REFERENCES blobs (id) ON DELETE CASCADE,
    seq     INTEGER NOT NULL,
    bytes   BLOB NOT NULL,
    PRIMARY KEY (blob_id, seq)
);
