-- Substring search over username, full name and email without scanning the table: a GIN
-- trigram index over the same lower-cased key columns the list query compares with
-- `LIKE ... ESCAPE '\'` (SQLite uses an FTS5 trigram table for this). Queries of three
-- characters or more use it; shorter ones give no trigrams and fall back to a bounded scan.
-- pg_trgm is a trusted extension: the database owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX users_search ON users USING gin (
    username_key gin_trgm_ops, full_name_key gin_trgm_ops, email_key gin_trgm_ops
);
