-- Version 7: calls. A user's phone extension names the manager who
-- answered or placed a call; a call's recording is fetched from the PBX in
-- the background into the blob store, one job per call touch.

ALTER TABLE users ADD COLUMN extension TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX users_extension ON users (extension) WHERE extension <> '';

CREATE TABLE recordings (
    id         INTEGER PRIMARY KEY,
    touch_id   INTEGER NOT NULL UNIQUE REFERENCES touches (id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    url        TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('pending', 'stored', 'failed')),
    attempts   INTEGER NOT NULL DEFAULT 0,
    next_at    DATETIME NOT NULL,
    error      TEXT NOT NULL DEFAULT '',
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL
);
CREATE INDEX recordings_due ON recordings (status, next_at);
