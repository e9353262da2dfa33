-- Accounts whose password hash came from another system (sha512-crypt, bcrypt, pbkdf2,
-- scrypt) until their next sign-in replaces it with argon2id. Small and shrinking, so a
-- partial index makes both the count on the users page and its "legacy hash" filter cheap
-- at any number of accounts. Queries must repeat this exact condition to use it.
CREATE INDEX users_legacy_hash ON users (username_key, id) WHERE password_hash NOT LIKE '$argon2%';
