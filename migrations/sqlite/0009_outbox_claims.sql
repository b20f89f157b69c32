-- Version 9: how often an outbox job was claimed. A job left "sending"
-- (its sender died, or the send went out but its result could not be
-- recorded) is claimed again when its lease runs out; claims beyond its
-- attempts count those interruptions, and after a few the job fails
-- instead of sending the client the same message again and again.

ALTER TABLE outbox ADD COLUMN claims INTEGER NOT NULL DEFAULT 0;
