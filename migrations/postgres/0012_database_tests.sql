-- The last Test Connection of each definition; see migrations/sqlite/0012_database_tests.sql.
ALTER TABLE databases ADD COLUMN last_test_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE databases ADD COLUMN last_test_outcome TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE databases ADD COLUMN last_test_message TEXT NOT NULL DEFAULT '';
ALTER TABLE databases ADD COLUMN last_test_millis BIGINT NOT NULL DEFAULT 0;
