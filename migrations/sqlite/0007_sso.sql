-- Single sign-on through OpenID Connect.
-- Providers: the client secret is sealed with the instance key (XChaCha20-Poly1305, bound
-- to the provider's slug), never stored in the clear.
CREATE TABLE sso_providers (
    id              INTEGER PRIMARY KEY,
    slug            TEXT NOT NULL UNIQUE,
    display_name    TEXT NOT NULL,
    issuer          TEXT NOT NULL,
    client_id       TEXT NOT NULL,
    client_secret   BLOB,
    scopes          TEXT NOT NULL,
    username_claim  TEXT NOT NULL,
    email_claim     TEXT NOT NULL,
    name_claim      TEXT NOT NULL,
    auto_create     INTEGER NOT NULL DEFAULT 0,
    -- Where accounts created on first sign-in go; a deleted organization or role stops
    -- creation (never a silent fallback).
    org_id          INTEGER REFERENCES orgs (id) ON DELETE SET NULL,
    role_id         INTEGER REFERENCES roles (id) ON DELETE SET NULL,
    allowed_domains TEXT NOT NULL DEFAULT '',
    enabled         INTEGER NOT NULL DEFAULT 1,
    created_at      INTEGER NOT NULL
);

-- Accounts are linked by (issuer, subject), never by email or name.
CREATE TABLE sso_links (
    id            INTEGER PRIMARY KEY,
    provider_id   INTEGER NOT NULL REFERENCES sso_providers (id) ON DELETE CASCADE,
    issuer        TEXT NOT NULL,
    subject       TEXT NOT NULL,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email         TEXT,
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER NOT NULL DEFAULT 0,
    UNIQUE (issuer, subject),
    -- one identity per provider and account
    UNIQUE (provider_id, user_id)
);
CREATE INDEX sso_links_user ON sso_links (user_id);

-- An authorization request in flight, keyed by SHA-256 of its `state`; bound to the browser
-- that started it (SHA-256 of a cookie value), single-use (deleted when the callback comes)
-- and refused after minutes. The PKCE verifier and nonce live only here.
CREATE TABLE sso_flows (
    state_hash    BLOB PRIMARY KEY,
    browser_hash  BLOB NOT NULL,
    provider_id   INTEGER NOT NULL REFERENCES sso_providers (id) ON DELETE CASCADE,
    -- set when a signed-in account links this provider from its profile
    link_user_id  INTEGER REFERENCES users (id) ON DELETE CASCADE,
    nonce         TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    created_at    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sso_flows_age ON sso_flows (created_at);
