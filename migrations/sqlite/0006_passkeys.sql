-- Passkeys (WebAuthn). The stored passkey (JSON from webauthn-rs) holds the public key and
-- the signature counter; nothing in it is secret, but it is updated after every use.
CREATE TABLE passkeys (
    id             INTEGER PRIMARY KEY,
    user_id        INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    -- A credential belongs to one account only.
    credential_id  BLOB NOT NULL UNIQUE,
    passkey        TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    last_used_at   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX passkeys_user ON passkeys (user_id, id);

-- The random user handle authenticators store (never the username or the row id).
CREATE TABLE webauthn_handles (
    user_id  INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    handle   BLOB NOT NULL UNIQUE
);

-- Ceremony state between "start" and "finish", server-side, keyed by SHA-256 of an opaque
-- id the browser holds; deleted when used (single-use) and refused when older than minutes.
CREATE TABLE webauthn_ceremonies (
    id_hash     BLOB PRIMARY KEY,
    purpose     TEXT NOT NULL CHECK (purpose IN ('register', 'sign_in', 'second_factor')),
    user_id     INTEGER REFERENCES users (id) ON DELETE CASCADE,
    label       TEXT NOT NULL DEFAULT '',
    state       TEXT NOT NULL,
    created_at  INTEGER NOT NULL
) WITHOUT ROWID;
