-- Switchboard schema, version 1 (SQLite).
-- Times are stored in UTC. Money is integer minor units with a currency code.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL DEFAULT '',
    role          TEXT    NOT NULL CHECK (role IN ('owner', 'lead', 'manager')),
    password_hash TEXT    NOT NULL,
    can_export    BOOLEAN NOT NULL DEFAULT FALSE,
    active        BOOLEAN NOT NULL DEFAULT TRUE,
    created_at    DATETIME NOT NULL,
    updated_at    DATETIME NOT NULL
);

CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,               -- sha256 of the cookie token
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf       TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    expires_at DATETIME NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE contacts (
    id             INTEGER PRIMARY KEY,
    name           TEXT NOT NULL DEFAULT '',
    company        TEXT NOT NULL DEFAULT '',
    note           TEXT NOT NULL DEFAULT '',
    responsible_id INTEGER REFERENCES users (id),
    search         TEXT NOT NULL DEFAULT '',     -- lower-case name, company, identities
    merged_into_id INTEGER REFERENCES contacts (id),
    created_at     DATETIME NOT NULL,
    updated_at     DATETIME NOT NULL
);
CREATE INDEX contacts_responsible ON contacts (responsible_id);
CREATE INDEX contacts_name ON contacts (name);

CREATE TABLE identities (
    id         INTEGER PRIMARY KEY,
    contact_id INTEGER NOT NULL REFERENCES contacts (id),
    kind       TEXT NOT NULL CHECK (kind IN ('phone', 'email', 'telegram', 'whatsapp')),
    value      TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    UNIQUE (kind, value)
);
CREATE INDEX identities_contact ON identities (contact_id);

CREATE TABLE pipeline_stages (
    id       INTEGER PRIMARY KEY,
    name     TEXT NOT NULL,
    position INTEGER NOT NULL UNIQUE,
    kind     TEXT NOT NULL CHECK (kind IN ('open', 'won', 'lost'))
);
INSERT INTO pipeline_stages (name, position, kind) VALUES
    ('New', 1, 'open'), ('Qualified', 2, 'open'), ('Proposal', 3, 'open'),
    ('Won', 4, 'won'), ('Lost', 5, 'lost');

CREATE TABLE ad_sources (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    archived   BOOLEAN NOT NULL DEFAULT FALSE,
    created_at DATETIME NOT NULL
);

CREATE TABLE spends (
    id           INTEGER PRIMARY KEY,
    ad_source_id INTEGER NOT NULL REFERENCES ad_sources (id),
    period_start DATE NOT NULL,
    period_end   DATE NOT NULL,
    amount       BIGINT NOT NULL CHECK (amount >= 0),
    currency     TEXT NOT NULL,
    note         TEXT NOT NULL DEFAULT '',
    created_at   DATETIME NOT NULL,
    CHECK (period_end >= period_start)
);
CREATE INDEX spends_source ON spends (ad_source_id, period_start);

CREATE TABLE accounts (
    id                INTEGER PRIMARY KEY,
    channel           TEXT NOT NULL CHECK (channel IN ('phone', 'email', 'telegram', 'whatsapp', 'web')),
    name              TEXT NOT NULL UNIQUE,
    settings          TEXT NOT NULL DEFAULT '{}',   -- JSON, no secrets
    secret            TEXT NOT NULL DEFAULT '',     -- AES-GCM sealed, base64
    default_source    TEXT NOT NULL DEFAULT '',
    enabled           BOOLEAN NOT NULL DEFAULT TRUE,
    cursor            TEXT NOT NULL DEFAULT '',
    created_at        DATETIME NOT NULL,
    updated_at        DATETIME NOT NULL
);

CREATE TABLE entry_points (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    address    TEXT NOT NULL,
    auto_deal  BOOLEAN NOT NULL DEFAULT TRUE,
    created_at DATETIME NOT NULL,
    UNIQUE (account_id, address)
);

-- An entry point's ad source over time: the binding in force at a touch's
-- time is the one with the latest valid_from not after it.
CREATE TABLE entry_point_bindings (
    id             INTEGER PRIMARY KEY,
    entry_point_id INTEGER NOT NULL REFERENCES entry_points (id),
    ad_source_id   INTEGER REFERENCES ad_sources (id),
    valid_from     DATETIME NOT NULL,
    created_by     INTEGER REFERENCES users (id),
    created_at     DATETIME NOT NULL,
    UNIQUE (entry_point_id, valid_from)
);

CREATE TABLE deals (
    id             INTEGER PRIMARY KEY,
    contact_id     INTEGER NOT NULL REFERENCES contacts (id),
    title          TEXT NOT NULL DEFAULT '',
    stage_id       INTEGER NOT NULL REFERENCES pipeline_stages (id),
    status         TEXT NOT NULL CHECK (status IN ('open', 'won', 'lost')),
    amount         BIGINT NOT NULL DEFAULT 0,
    currency       TEXT NOT NULL,
    lost_reason    TEXT NOT NULL DEFAULT '',
    ad_source_id   INTEGER REFERENCES ad_sources (id),
    responsible_id INTEGER REFERENCES users (id),
    created_at     DATETIME NOT NULL,
    updated_at     DATETIME NOT NULL,
    closed_at      DATETIME
);
CREATE INDEX deals_contact ON deals (contact_id, status);

CREATE TABLE conversations (
    id            INTEGER PRIMARY KEY,
    contact_id    INTEGER NOT NULL REFERENCES contacts (id),
    account_id    INTEGER NOT NULL REFERENCES accounts (id),
    channel       TEXT NOT NULL,
    thread_key    TEXT NOT NULL DEFAULT '',
    assignee_id   INTEGER REFERENCES users (id),
    status        TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'snoozed', 'closed')),
    snoozed_until DATETIME,
    waiting_since DATETIME,
    deal_id       INTEGER REFERENCES deals (id),
    subject       TEXT NOT NULL DEFAULT '',
    last_text     TEXT NOT NULL DEFAULT '',
    last_touch_at DATETIME NOT NULL,
    created_at    DATETIME NOT NULL,
    updated_at    DATETIME NOT NULL
);
CREATE INDEX conversations_contact ON conversations (contact_id, account_id, thread_key);
CREATE INDEX conversations_list ON conversations (last_touch_at, id);
CREATE INDEX conversations_assignee ON conversations (assignee_id, last_touch_at);

CREATE TABLE touches (
    id              INTEGER PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES accounts (id),
    channel         TEXT NOT NULL,
    kind            TEXT NOT NULL,
    direction       TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    external_id     TEXT,
    contact_id      INTEGER NOT NULL REFERENCES contacts (id),
    conversation_id INTEGER NOT NULL REFERENCES conversations (id),
    deal_id         INTEGER REFERENCES deals (id),
    not_a_sale      TEXT NOT NULL DEFAULT '',      -- reason, when marked
    entry_point_id  INTEGER REFERENCES entry_points (id),
    ad_source_id    INTEGER REFERENCES ad_sources (id),
    handle          TEXT NOT NULL DEFAULT '',      -- the identity it came from / went to
    subject         TEXT NOT NULL DEFAULT '',
    body            TEXT NOT NULL DEFAULT '',
    html            TEXT NOT NULL DEFAULT '',
    meta            TEXT NOT NULL DEFAULT '{}',
    automated       BOOLEAN NOT NULL DEFAULT FALSE,
    author_id       INTEGER REFERENCES users (id),
    delivery_status TEXT NOT NULL DEFAULT '',
    occurred_at     DATETIME NOT NULL,
    created_at      DATETIME NOT NULL,
    UNIQUE (account_id, external_id)
);
CREATE INDEX touches_conversation ON touches (conversation_id, occurred_at);
CREATE INDEX touches_contact ON touches (contact_id);
CREATE INDEX touches_deal ON touches (deal_id);
CREATE INDEX touches_source ON touches (ad_source_id, occurred_at);

-- Append-only and hash-chained: hash = sha256(prev_hash | fields).
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    at          DATETIME NOT NULL,
    actor_id    INTEGER,
    action      TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id   INTEGER NOT NULL DEFAULT 0,
    data        TEXT NOT NULL DEFAULT '{}',
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

-- Realtime events, in commit order; the WebSocket replays from an id.
CREATE TABLE events (
    id              INTEGER PRIMARY KEY,
    at              DATETIME NOT NULL,
    type            TEXT NOT NULL,
    conversation_id INTEGER,
    touch_id        INTEGER,
    data            TEXT NOT NULL DEFAULT '{}'
);
