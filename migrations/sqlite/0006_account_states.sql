-- Version 6: account states (SQLite). The state each account's running
-- adapter last reported (connecting, syncing, live, failing…), kept by the
-- replica that runs the account, so that every replica's API can tell it
-- (a replica on standby for an account knows only that it is not its own).
-- The pairing code is never stored.

CREATE TABLE account_states (
    account_id INTEGER PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    state      TEXT NOT NULL,
    updated_at DATETIME NOT NULL
);
