-- Version 16: the phone region of an account and of an entry point (ISO
-- 3166 alpha-2, '' : the next one out applies). A client's number written
-- the national way ("8 029 123-45-67" on the Belarusian site) is read with
-- the entry point's region, else the account's, else the server's
-- SWITCHBOARD_REGION; a web form's own country comes before all of them.

ALTER TABLE accounts ADD COLUMN region TEXT NOT NULL DEFAULT '';
ALTER TABLE entry_points ADD COLUMN region TEXT NOT NULL DEFAULT '';
