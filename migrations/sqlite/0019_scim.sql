-- SCIM 2.0 provisioning (issue 14): connections an identity provider (Okta, Entra ID, any
-- SCIM client) pushes accounts through. See migrations/postgres/0019_scim.sql for the twin.
--
-- A connection acts as its own service account (`service_user_id`: an account without a
-- password, Admin in each organization the connection may touch), so every request goes
-- through the same policy as a person's: it never grants beyond that account and never
-- touches a super admin. `default_org_id`/`default_role_id` place new people; NULL once that
-- organization or role is deleted (creation then says so). `delete_mode`: what a SCIM
-- DELETE does to an account (disable by default, or delete). `adopt_existing`: whether a
-- create may take over a local account with the same user name (never a super admin).
CREATE TABLE scim_connections (
    id               INTEGER PRIMARY KEY,
    slug             TEXT NOT NULL UNIQUE,
    name             TEXT NOT NULL,
    service_user_id  INTEGER NOT NULL REFERENCES users (id),
    default_org_id   INTEGER REFERENCES orgs (id) ON DELETE SET NULL,
    default_role_id  INTEGER REFERENCES roles (id) ON DELETE SET NULL,
    delete_mode      TEXT NOT NULL DEFAULT 'disable' CHECK (delete_mode IN ('disable', 'delete')),
    adopt_existing   INTEGER NOT NULL DEFAULT 0 CHECK (adopt_existing IN (0, 1)),
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);

-- The organizations a connection may touch.
CREATE TABLE scim_connection_orgs (
    connection_id  INTEGER NOT NULL REFERENCES scim_connections (id) ON DELETE CASCADE,
    org_id         INTEGER NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    PRIMARY KEY (connection_id, org_id)
) WITHOUT ROWID;

-- Bearer tokens of a connection: SHA-256 only (the token is shown once).
CREATE TABLE scim_tokens (
    token_hash     BLOB PRIMARY KEY,
    connection_id  INTEGER NOT NULL REFERENCES scim_connections (id) ON DELETE CASCADE,
    prefix         TEXT NOT NULL,
    created_at     INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX scim_tokens_connection ON scim_tokens (connection_id);

-- The accounts a connection provisioned (or adopted), with what it sent, as sent (identity
-- providers compare what they read back with what they wrote). An account belongs to one
-- connection. `user_name_key` is the lower-cased userName (SCIM compares it ignoring case).
CREATE TABLE scim_users (
    user_id        INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    connection_id  INTEGER NOT NULL REFERENCES scim_connections (id) ON DELETE CASCADE,
    user_name      TEXT NOT NULL,
    user_name_key  TEXT NOT NULL,
    external_id    TEXT,
    -- the resource as sent (JSON), without id, meta, active and password
    attributes     TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    UNIQUE (connection_id, user_name_key)
);
-- Listing a connection's accounts in id order (startIndex paging) and the externalId filter.
CREATE INDEX scim_users_connection ON scim_users (connection_id, user_id);
CREATE INDEX scim_users_external_id ON scim_users (connection_id, external_id);
