-- Passkey ceremonies started from an invitation page (issue 14): the account they register
-- a passkey for is made only when the passkey is verified, so the ceremony has no user yet
-- and a purpose of its own. Unfinished ceremonies are deleted when a new one is stored (by
-- age: the index). See migrations/sqlite/0023_invitation_sign_ins.sql.
ALTER TABLE webauthn_ceremonies DROP CONSTRAINT webauthn_ceremonies_purpose_check;
ALTER TABLE webauthn_ceremonies ADD CONSTRAINT webauthn_ceremonies_purpose_check
    CHECK (purpose IN ('register', 'sign_in', 'second_factor', 'invite'));
CREATE INDEX webauthn_ceremonies_by_age ON webauthn_ceremonies (created_at);

-- A single sign-on begun from an invitation page carries the SHA-256 of the invitation's
-- token: a new account made at the callback accepts that invitation.
ALTER TABLE sso_flows ADD COLUMN invitation_hash BYTEA;
