-- Roster as an OpenID provider (issue 13): what a person granted an application, and the codes
-- and tokens issued from it.
--
-- A grant is one sign-in into one application (an authorization code and everything obtained
-- from it); revoking it (a code used twice, a refresh token reused after rotation, revocation)
-- ends every token issued from it at once. Codes and tokens are 256 random bits, stored as
-- their SHA-256 only: a copied database holds nothing that can be presented.
CREATE TABLE oauth_grants (
    id          INTEGER PRIMARY KEY,
    client_id   INTEGER NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- the granted scopes, space-separated
    scopes      TEXT NOT NULL,
    nonce       TEXT,
    -- when and how the person signed in (auth_time, amr)
    auth_at     INTEGER NOT NULL,
    method      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);
-- (deleting an account or an application finds its grants)
CREATE INDEX oauth_grants_user ON oauth_grants (user_id);
CREATE INDEX oauth_grants_client ON oauth_grants (client_id);

-- Authorization codes: single use, a minute long, bound to the redirect URI and the PKCE
-- challenge of the request that made them.
CREATE TABLE oauth_codes (
    code_hash      BLOB PRIMARY KEY,
    grant_id       INTEGER NOT NULL REFERENCES oauth_grants (id) ON DELETE CASCADE,
    redirect_uri   TEXT NOT NULL,
    code_challenge TEXT,
    expires_at     INTEGER NOT NULL,
    used_at        INTEGER
);
CREATE INDEX oauth_codes_grant ON oauth_codes (grant_id);
CREATE INDEX oauth_codes_expires ON oauth_codes (expires_at);

-- Access and refresh tokens (opaque). A refresh token is used once: `used_at` marks it
-- rotated, and presenting it again revokes its grant.
CREATE TABLE oauth_tokens (
    token_hash  BLOB PRIMARY KEY,
    grant_id    INTEGER NOT NULL REFERENCES oauth_grants (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
);
CREATE INDEX oauth_tokens_grant ON oauth_tokens (grant_id);
CREATE INDEX oauth_tokens_expires ON oauth_tokens (expires_at);

-- What a person agreed an application may receive (asked again when it asks for more).
CREATE TABLE oauth_consents (
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id  INTEGER NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    scopes     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, client_id)
);
CREATE INDEX oauth_consents_client ON oauth_consents (client_id);
