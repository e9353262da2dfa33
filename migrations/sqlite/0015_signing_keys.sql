-- The keys Roster signs ID tokens with as an OpenID provider (issue 13). RSA (RS256, which
-- every relying party accepts); the private key (PKCS#8) is sealed with the instance key and
-- bound to its `kid`. The newest key not retired signs; a retired key stays in the published
-- key set until every token it signed has expired, then is removed.
CREATE TABLE signing_keys (
    id          INTEGER PRIMARY KEY,
    kid         TEXT NOT NULL UNIQUE,
    alg         TEXT NOT NULL,
    private_key BLOB NOT NULL,
    -- the public half as a JSON Web Key (what /oauth/jwks publishes)
    public_jwk  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    retired_at  INTEGER
);
