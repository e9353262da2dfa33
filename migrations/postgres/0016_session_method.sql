-- How a session was signed in; see migrations/sqlite/0016_session_method.sql.
ALTER TABLE sessions ADD COLUMN method TEXT COLLATE "C" NOT NULL DEFAULT '';
