-- Events for integrators and webhooks (issue 13).
--
-- `events` is the outbox: every access-changing transaction (roles, organizations,
-- memberships, accounts) adds one row in the same transaction as the change, so a change
-- that rolls back leaves none, and as write transactions run one at a time (BEGIN IMMEDIATE
-- here, one advisory lock on PostgreSQL) ids grow in commit order. The event stream
-- (`/api/v1/events`, `id:` lines, `Last-Event-ID`) and the webhooks read it in id order.
-- Rows older than the retention are swept.
CREATE TABLE events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          INTEGER NOT NULL,
    -- what changed: user, role, org, or all (reload everything)
    kind        TEXT NOT NULL CHECK (kind IN ('user', 'role', 'org', 'all')),
    subject_id  INTEGER,
    -- its name at the time (username, role or organization name)
    name        TEXT,
    -- the organizations it concerns, comma-separated ids ('': every organization)
    orgs        TEXT NOT NULL DEFAULT '',
    -- the access version the change produced
    version     INTEGER NOT NULL
);
CREATE INDEX events_at ON events (at);

-- A webhook receives the events of the kinds and organizations it names, in id order, one
-- POST each, signed with its secret (sealed with the instance key: HMAC needs the secret
-- itself). `cursor` is the last event it is done with; on failure `attempts` and
-- `next_attempt_at` hold the backoff, and after too many the hook is paused (`paused`).
-- One instance delivers a hook at a time: it holds the lease (`lease_owner` until
-- `lease_until`).
CREATE TABLE webhooks (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    name             TEXT NOT NULL,
    url              TEXT NOT NULL,
    -- space-separated kinds: user role org
    kinds            TEXT NOT NULL,
    -- comma-separated organization ids ('': every organization)
    orgs             TEXT NOT NULL DEFAULT '',
    secret           BLOB NOT NULL,
    enabled          INTEGER NOT NULL DEFAULT 1,
    paused           TEXT,
    cursor           INTEGER NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL DEFAULT 0,
    lease_owner      TEXT,
    lease_until      INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);

-- The last deliveries of each hook (the newest few are kept), for the admin to see why a
-- receiver refuses.
CREATE TABLE webhook_deliveries (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id   INTEGER NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id     INTEGER NOT NULL,
    attempt      INTEGER NOT NULL,
    at           INTEGER NOT NULL,
    -- the receiver's HTTP status, or NULL when no answer came (the error says why)
    status       INTEGER,
    error        TEXT,
    -- the start of the receiver's answer
    response     TEXT,
    duration_ms  INTEGER NOT NULL
);
CREATE INDEX webhook_deliveries_hook ON webhook_deliveries (webhook_id, id);
