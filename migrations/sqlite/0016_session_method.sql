-- How a session was signed in (`password`, `totp`, `recovery_code`, `passkey`,
-- `password+passkey`, `sso`): the OpenID provider tells the tools (`amr`), and an application
-- may admit only sessions signed in with a second factor. Sessions from before: '' (unknown,
-- taken as a password alone).
ALTER TABLE sessions ADD COLUMN method TEXT NOT NULL DEFAULT '';
