-- Invitation links (issue 14): an org admin invites an email address with a role; the link
-- carries a token stored only as its SHA-256, single-use, expiring. Consumed by the accept
-- form's POST with one conditional UPDATE (opening the link changes nothing: mail scanners
-- open links). See migrations/postgres/0022_invitations.sql for the twin.
CREATE TABLE invitations (
    id                INTEGER PRIMARY KEY,
    org_id            INTEGER NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    email             TEXT NOT NULL,
    -- no cascade: deleting a role moves pending invitations to the replacement
    role_id           INTEGER NOT NULL REFERENCES roles (id),
    -- extra ability codes, comma separated
    abilities         TEXT NOT NULL DEFAULT '',
    token_hash        BLOB NOT NULL UNIQUE,
    -- the inviter: checked again at acceptance (they may have lost the right since)
    invited_by        INTEGER REFERENCES users (id) ON DELETE SET NULL,
    invited_by_name   TEXT NOT NULL,
    created_at        INTEGER NOT NULL,
    expires_at        INTEGER NOT NULL,
    accepted_at       INTEGER,
    accepted_user_id  INTEGER REFERENCES users (id) ON DELETE SET NULL,
    revoked_at        INTEGER
);
-- An organization's invitations, newest first.
CREATE INDEX invitations_org ON invitations (org_id, id);
CREATE INDEX invitations_role ON invitations (role_id);
