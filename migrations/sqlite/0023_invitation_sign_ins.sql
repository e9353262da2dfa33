-- Passkey ceremonies started from an invitation page (issue 14): the account they register
-- a passkey for is made only when the passkey is verified, so the ceremony has no user yet
-- and a purpose of its own. Ceremonies live five minutes: the table is made again rather than
-- copied (SQLite cannot change a CHECK). Unfinished ceremonies are deleted when a new one is
-- stored (by age: the index). See migrations/postgres/0023_invitation_sign_ins.sql.
DROP TABLE webauthn_ceremonies;
CREATE TABLE webauthn_ceremonies (
    id_hash     BLOB PRIMARY KEY,
    purpose     TEXT NOT NULL CHECK (purpose IN ('register', 'sign_in', 'second_factor', 'invite')),
    user_id     INTEGER REFERENCES users (id) ON DELETE CASCADE,
    label       TEXT NOT NULL DEFAULT '',
    state       TEXT NOT NULL,
    created_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX webauthn_ceremonies_by_age ON webauthn_ceremonies (created_at);

-- A single sign-on begun from an invitation page carries the SHA-256 of the invitation's
-- token: a new account made at the callback accepts that invitation.
ALTER TABLE sso_flows ADD COLUMN invitation_hash BLOB;
