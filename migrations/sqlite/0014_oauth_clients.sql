-- OAuth clients (issue 13): the data tools that sign people in through Roster, Roster being
-- their OpenID provider. Managed by super admins.
--
-- `client_id` is chosen by the admin (it goes into each tool's settings) and never changes.
-- A confidential client's secret is 256 random bits shown once: only its SHA-256 is stored
-- (a slow hash adds nothing to a secret that cannot be guessed). Public clients (a browser
-- or desktop tool that cannot keep a secret) have none and must use PKCE.
-- Redirect URIs are matched exactly, one per line (a URI holds no line break).
CREATE TABLE oauth_clients (
    id                        INTEGER PRIMARY KEY,
    client_id                 TEXT NOT NULL UNIQUE,
    name                      TEXT NOT NULL,
    public                    INTEGER NOT NULL DEFAULT 0,
    secret_hash               BLOB,
    secret_created_at         INTEGER,
    redirect_uris             TEXT NOT NULL,
    post_logout_redirect_uris TEXT NOT NULL DEFAULT '',
    -- the scopes it may ask for, space-separated
    scopes                    TEXT NOT NULL,
    -- ask the person before the first sign-in into it (first-party tools skip it)
    consent                   INTEGER NOT NULL DEFAULT 1,
    -- only people who signed in with a second factor get in
    require_two_factor        INTEGER NOT NULL DEFAULT 0,
    access_token_seconds      INTEGER NOT NULL,
    -- 0: no refresh tokens
    refresh_token_seconds     INTEGER NOT NULL,
    enabled                   INTEGER NOT NULL DEFAULT 1,
    created_at                INTEGER NOT NULL,
    updated_at                INTEGER NOT NULL
);

-- The organizations whose roles and abilities a client receives (scope `roster`). Deleting an
-- organization takes it off every client.
CREATE TABLE oauth_client_orgs (
    client_id INTEGER NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    org_id    INTEGER NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    PRIMARY KEY (client_id, org_id)
);
-- (deleting an organization finds its rows)
CREATE INDEX oauth_client_orgs_org ON oauth_client_orgs (org_id);
