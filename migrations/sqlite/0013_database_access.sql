-- Shared database credentials and per-user database mappings (issue 12), SlashDB's
-- "Database Credentials" and the "Database Mapping" section of a user's configuration.
--
-- A credential is a named login and password for one database; `name_key` is its lower-case
-- name, unique per database. Its password is sealed with the instance key and bound to the
-- row's id (never in the clear). `created_by` may test it without manage-database-servers.
CREATE TABLE database_credentials (
    id                INTEGER PRIMARY KEY,
    database_id       INTEGER NOT NULL REFERENCES databases (id) ON DELETE CASCADE,
    name              TEXT NOT NULL,
    name_key          TEXT NOT NULL,
    login             TEXT NOT NULL,
    password          BLOB,
    created_by        INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    last_test_at      INTEGER NOT NULL DEFAULT 0,
    last_test_outcome TEXT NOT NULL DEFAULT '',
    last_test_message TEXT NOT NULL DEFAULT '',
    last_test_millis  INTEGER NOT NULL DEFAULT 0,
    -- the credentials of a database are listed by key, after a cursor (keyset)
    UNIQUE (database_id, name_key)
);
-- (deleting an account clears what it created)
CREATE INDEX database_credentials_created_by ON database_credentials (created_by);

-- What an account uses on one database: a login (and sealed password, bound to the row's id)
-- of its own, a shared credential, or neither (a database without logins). One per
-- (account, database). Deleting a credential removes the mappings through it (the console
-- says how many before it is deleted).
CREATE TABLE database_mappings (
    id                INTEGER PRIMARY KEY,
    user_id           INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    database_id       INTEGER NOT NULL REFERENCES databases (id) ON DELETE CASCADE,
    login             TEXT,
    password          BLOB,
    credential_id     INTEGER REFERENCES database_credentials (id) ON DELETE CASCADE,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    last_test_at      INTEGER NOT NULL DEFAULT 0,
    last_test_outcome TEXT NOT NULL DEFAULT '',
    last_test_message TEXT NOT NULL DEFAULT '',
    last_test_millis  INTEGER NOT NULL DEFAULT 0,
    UNIQUE (user_id, database_id),
    CHECK (credential_id IS NULL OR (login IS NULL AND password IS NULL))
);
-- (a database's or a credential's mappings: counted before a delete, and the foreign keys'
-- cascades)
CREATE INDEX database_mappings_database ON database_mappings (database_id);
CREATE INDEX database_mappings_credential ON database_mappings (credential_id);
-- The credentials endpoint finds a database by id across organizations.
CREATE INDEX databases_db_id_key ON databases (db_id_key);
