-- Database definitions (issue 12): the databases an organization's data tools connect to,
-- SlashDB's databases.cfg entries. `db_id` is as typed, `db_id_key` its lower-case form,
-- unique per organization (ids are case-insensitive, as usernames). `engine` and `tls` hold
-- the stable names of app/src/domain/databases.rs. The default login is what super admins
-- without a mapping of their own use (SlashDB's admin fallback); its password is sealed with
-- the instance key and bound to the row's id, never stored in the clear.
CREATE TABLE databases (
    id               INTEGER PRIMARY KEY,
    org_id           INTEGER NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    db_id            TEXT NOT NULL,
    db_id_key        TEXT NOT NULL,
    engine           TEXT NOT NULL,
    -- empty for SQLite (a file)
    host             TEXT NOT NULL DEFAULT '',
    -- NULL for SQLite (an empty port on input means the engine's default, stored as such)
    port             INTEGER,
    -- the database's name on its server, or the SQLite file's path inside the configured folder
    name             TEXT NOT NULL,
    tls              TEXT NOT NULL,
    description      TEXT NOT NULL DEFAULT '',
    default_login    TEXT,
    default_password BLOB,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    -- pages list an organization's definitions by key, after a cursor (keyset)
    UNIQUE (org_id, db_id_key)
);
