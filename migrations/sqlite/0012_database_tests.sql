-- The last Test Connection of each database definition (issue 12), shown on the Databases
-- page: when (Unix ms; 0 = never), its outcome (a stable name of TestOutcome in
-- app/src/domain/databases.rs), the driver's sanitised message and how long it took (ms).
ALTER TABLE databases ADD COLUMN last_test_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE databases ADD COLUMN last_test_outcome TEXT NOT NULL DEFAULT '';
ALTER TABLE databases ADD COLUMN last_test_message TEXT NOT NULL DEFAULT '';
ALTER TABLE databases ADD COLUMN last_test_millis INTEGER NOT NULL DEFAULT 0;
