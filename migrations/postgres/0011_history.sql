-- Version 11: touches imported from a channel's history (WhatsApp's history
-- sync on first pairing). They are the record of what happened before
-- Switchboard: they never open a deal, never wait for an answer or remind,
-- never count as unlinked, and a contact whose first touch is history is
-- not a new lead in the report.

ALTER TABLE touches ADD COLUMN history BOOLEAN NOT NULL DEFAULT FALSE;
