-- Version 2: attachments in the blob store, parse errors and edits on
-- touches, and the outbox of replies (SQLite).

CREATE TABLE attachments (
    id           INTEGER PRIMARY KEY,
    touch_id     INTEGER NOT NULL REFERENCES touches (id),
    name         TEXT NOT NULL DEFAULT '',
    content_type TEXT NOT NULL DEFAULT 'application/octet-stream',
    size         BIGINT NOT NULL DEFAULT 0,
    sha256       TEXT NOT NULL DEFAULT '',      -- blob key; empty when not stored (too large)
    content_id   TEXT NOT NULL DEFAULT '',
    inline       BOOLEAN NOT NULL DEFAULT FALSE,
    created_at   DATETIME NOT NULL
);
CREATE INDEX attachments_touch ON attachments (touch_id);

ALTER TABLE touches ADD COLUMN parse_error TEXT NOT NULL DEFAULT '';
ALTER TABLE touches ADD COLUMN edit_of TEXT NOT NULL DEFAULT '';

-- A reply waiting to be sent. Written in the same transaction as its
-- outbound touch; the dispatcher claims due jobs, sends, retries with
-- backoff. message_id is fixed here so that a resend is the same message.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    touch_id        INTEGER NOT NULL UNIQUE REFERENCES touches (id),
    account_id      INTEGER NOT NULL REFERENCES accounts (id),
    status          TEXT NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at DATETIME NOT NULL,
    locked_until    DATETIME,
    last_error      TEXT NOT NULL DEFAULT '',
    message_id      TEXT NOT NULL DEFAULT '',
    payload         TEXT NOT NULL DEFAULT '{}',   -- the channels.Outbound, without attachment bytes
    created_at      DATETIME NOT NULL,
    updated_at      DATETIME NOT NULL
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
