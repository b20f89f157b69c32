-- Version 10: a user whose password was generated (the first owner's, or
-- one the owner reset) must choose their own at the next login.

ALTER TABLE users ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT FALSE;
