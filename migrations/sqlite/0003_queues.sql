-- Version 3: the queues (SQLite). A call's outcome as a column, for the
-- call-back queue; when the reminder of an unlinked touch went out, so it
-- goes out exactly once; indexes for the timers that wake snoozed
-- conversations and remind.

-- '' (not a call), 'answered' or 'missed'.
ALTER TABLE touches ADD COLUMN call_status TEXT NOT NULL DEFAULT '';
ALTER TABLE touches ADD COLUMN reminded_at DATETIME;

UPDATE touches SET call_status = CASE WHEN meta LIKE '%"call_answered":"true"%' THEN 'answered' ELSE 'missed' END
WHERE kind = 'call';

CREATE INDEX touches_contact_time ON touches (contact_id, occurred_at);
-- touches_contact_time serves every lookup by contact: one index less to
-- keep up on each stored touch.
DROP INDEX touches_contact;
CREATE INDEX touches_missed_calls ON touches (conversation_id) WHERE call_status = 'missed';
CREATE INDEX touches_to_remind ON touches (occurred_at) WHERE reminded_at IS NULL AND deal_id IS NULL AND not_a_sale = '';
CREATE INDEX conversations_snoozed ON conversations (snoozed_until) WHERE status = 'snoozed';
