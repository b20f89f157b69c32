-- Version 17: the extension last said with a phone identity ("доб. 123").
-- The identity stays the number alone, unique per kind and value, so a
-- contact is still matched by it; the extension is what a manager asks
-- for when calling back. '' : none known.

ALTER TABLE identities ADD COLUMN ext TEXT NOT NULL DEFAULT '';
