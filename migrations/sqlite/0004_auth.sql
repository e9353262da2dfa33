-- Strong authentication: TOTP, recovery codes, the second-factor step, recent
-- re-authentication (sudo mode), API keys and personal access tokens.

-- When the session's owner last proved who they are (sign-in or re-authentication).
ALTER TABLE sessions ADD COLUMN auth_at INTEGER NOT NULL DEFAULT 0;
UPDATE sessions SET auth_at = created_at;

-- One TOTP seed per account, encrypted (XChaCha20-Poly1305, bound to the account id).
-- confirmed = 0 while enrolment waits for the first code. last_step: the newest time step
-- accepted, consumed with a conditional UPDATE so a code works once.
CREATE TABLE totp (
    user_id     INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret      BLOB NOT NULL,
    confirmed   INTEGER NOT NULL DEFAULT 0 CHECK (confirmed IN (0, 1)),
    last_step   INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL
);

-- SHA-256 of each single-use recovery code.
CREATE TABLE recovery_codes (
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  BLOB NOT NULL,
    used_at    INTEGER,
    PRIMARY KEY (user_id, code_hash)
) WITHOUT ROWID;

-- Password accepted, second factor pending: reaches nothing but the second-factor step.
-- Single-use (deleted when it succeeds) and short-lived.
CREATE TABLE mfa_challenges (
    token_hash  BLOB PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX mfa_challenges_user ON mfa_challenges (user_id);

-- API keys (SlashDB style: header or query parameter) and personal access tokens (Bearer).
-- Only SHA-256 of the token is kept; `prefix` is its public, identifiable start.
-- abilities: NULL = whatever the owner holds; otherwise ability codes (never wider than the
-- owner's: intersected with the owner's current abilities on every request).
CREATE TABLE api_tokens (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('api_key', 'pat')),
    prefix        TEXT NOT NULL,
    token_hash    BLOB NOT NULL UNIQUE,
    abilities     TEXT,
    created_at    INTEGER NOT NULL,
    -- 0: never expires / never used / not revoked.
    expires_at    INTEGER NOT NULL DEFAULT 0,
    last_used_at  INTEGER NOT NULL DEFAULT 0,
    revoked_at    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX api_tokens_user ON api_tokens (user_id, id);

-- Organizations may require two-factor authentication of their members; the instance-wide
-- switch lives in `settings`.
ALTER TABLE orgs ADD COLUMN require_2fa INTEGER NOT NULL DEFAULT 0 CHECK (require_2fa IN (0, 1));
CREATE TABLE settings (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
) WITHOUT ROWID;
