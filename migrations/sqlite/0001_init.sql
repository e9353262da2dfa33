-- Roster schema v1: organizations, accounts, sessions, sign-in throttling, audit.
-- Times are unix milliseconds (UTC). *_key columns hold the lower-cased form used for
-- case-insensitive uniqueness, look-ups and sorting; every index matches a query's expression.

CREATE TABLE orgs (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL
);
-- Every instance starts with one organization; per-org tables reference it.
INSERT INTO orgs (id, name, name_key, created_at) VALUES (1, 'Default', 'default', 0);

CREATE TABLE users (
    id               INTEGER PRIMARY KEY,
    username         TEXT NOT NULL,
    username_key     TEXT NOT NULL UNIQUE,
    full_name        TEXT NOT NULL DEFAULT '',
    full_name_key    TEXT NOT NULL DEFAULT '',
    email            TEXT NOT NULL,
    email_key        TEXT NOT NULL UNIQUE,
    -- NULL: no password sign-in (service account created with a random, discarded password).
    password_hash    TEXT,
    status           TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    super_admin      INTEGER NOT NULL DEFAULT 0 CHECK (super_admin IN (0, 1)),
    two_factor       INTEGER NOT NULL DEFAULT 0 CHECK (two_factor IN (0, 1)),
    created_at       INTEGER NOT NULL,
    -- 0 = never; keeps keyset comparisons free of NULL handling.
    last_sign_in_at  INTEGER NOT NULL DEFAULT 0,
    -- Bumped whenever the password changes, so other sessions can be ended.
    updated_at       INTEGER NOT NULL
);
-- Keyset pagination: one index per sortable column, tie-broken by the primary key.
CREATE INDEX users_full_name ON users (full_name_key, id);
CREATE INDEX users_status ON users (status, id);
CREATE INDEX users_two_factor ON users (two_factor, id);
CREATE INDEX users_created ON users (created_at, id);
CREATE INDEX users_last_sign_in ON users (last_sign_in_at, id);
-- The last-super-admin rule counts these.
CREATE INDEX users_super_admins ON users (super_admin, status) WHERE super_admin = 1;

CREATE TABLE memberships (
    org_id   INTEGER NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    user_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);

CREATE TABLE sessions (
    -- SHA-256 of the cookie token; the token itself is never stored.
    token_hash    BLOB PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    org_id        INTEGER NOT NULL REFERENCES orgs (id),
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    ip            TEXT,
    user_agent    TEXT
) WITHOUT ROWID;
CREATE INDEX sessions_user ON sessions (user_id);

-- Keyed by the normalised sign-in name, whether or not an account has it, so throttling
-- behaves the same for unknown names (no enumeration through timing or lockouts).
CREATE TABLE sign_in_throttle (
    key              TEXT PRIMARY KEY,
    failures         INTEGER NOT NULL,
    next_allowed_at  INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE audit_events (
    id          INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    actor_id    INTEGER,
    actor       TEXT,
    target      TEXT,
    org_id      INTEGER REFERENCES orgs (id),
    event       TEXT NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN ('success', 'failure')),
    ip          TEXT,
    user_agent  TEXT,
    before      TEXT,
    after       TEXT
);
CREATE INDEX audit_events_at ON audit_events (at, id);
