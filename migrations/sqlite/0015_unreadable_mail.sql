-- Version 15: mail with no readable sender. Such a message is no touch:
-- it has no contact, no conversation and no deal, and nobody can answer
-- it. It is kept here, one row per message, with the original bytes in
-- the blob store (raw_sha256), for the owner's "Unreadable mail" list.
-- Idempotent on (account_id, external_id), like touches.

CREATE TABLE unreadable_mail (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts (id),
    external_id TEXT NOT NULL,
    folder      TEXT NOT NULL DEFAULT '',
    subject     TEXT NOT NULL DEFAULT '',
    problem     TEXT NOT NULL DEFAULT '',      -- the parse problem's code (header, no_sender, ...)
    detail      TEXT NOT NULL DEFAULT '',      -- the same in plain English, for the log and the API
    raw_sha256  TEXT NOT NULL DEFAULT '',      -- the original message (blob key)
    raw_size    BIGINT NOT NULL DEFAULT 0,
    received_at DATETIME NOT NULL,             -- when the mailbox got it
    created_at  DATETIME NOT NULL,
    UNIQUE (account_id, external_id)
);
CREATE INDEX unreadable_mail_received ON unreadable_mail (received_at);

-- Before version 15 such mail landed on one contact, unknown-sender@invalid,
-- with an open deal. No new touch goes there now; the contact stays with
-- its touches (each keeps its original message attached) but stops acting
-- like a client: it is marked no client (reason "other") and blocked (as
-- crm.SetNotClient does: its unlinked touches are stamped contact:blocked,
-- so no reminders and no unlinked flags), and
-- its conversations are closed, out of every queue; replies still queued
-- to it fail as "cannot be answered" (there is nobody to send them to).
-- Its deals are left to the owner to close.
UPDATE contacts SET not_client = 'other', blocked = TRUE
WHERE id IN (SELECT contact_id FROM identities WHERE kind = 'email' AND value = 'unknown-sender@invalid');
UPDATE touches SET not_a_sale = 'contact:blocked'
WHERE deal_id IS NULL AND not_a_sale = ''
  AND contact_id IN (SELECT contact_id FROM identities WHERE kind = 'email' AND value = 'unknown-sender@invalid');
UPDATE conversations SET status = 'closed', snoozed_until = NULL, waiting_since = NULL
WHERE contact_id IN (SELECT contact_id FROM identities WHERE kind = 'email' AND value = 'unknown-sender@invalid');
UPDATE outbox SET status = 'failed', last_error = 'the sender of the message could not be read: it cannot be answered'
WHERE status = 'queued'
  AND touch_id IN (SELECT t.id FROM touches t JOIN identities i ON i.contact_id = t.contact_id
                   WHERE i.kind = 'email' AND i.value = 'unknown-sender@invalid');
UPDATE touches SET delivery_status = 'failed'
WHERE delivery_status = 'queued'
  AND id IN (SELECT touch_id FROM outbox WHERE status = 'failed'
             AND last_error = 'the sender of the message could not be read: it cannot be answered');
