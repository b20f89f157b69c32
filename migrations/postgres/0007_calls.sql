-- Version 7: calls. A user's phone extension names the manager who
-- answered or placed a call; a call's recording is fetched from the PBX in
-- the background into the blob store, one job per call touch.

ALTER TABLE users ADD COLUMN extension TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX users_extension ON users (extension) WHERE extension <> '';

CREATE TABLE recordings (
    id         BIGSERIAL PRIMARY KEY,
    touch_id   BIGINT NOT NULL UNIQUE REFERENCES touches (id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    url        TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('pending', 'stored', 'failed')),
    attempts   INTEGER NOT NULL DEFAULT 0,
    next_at    TIMESTAMPTZ NOT NULL,
    error      TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX recordings_due ON recordings (status, next_at);
