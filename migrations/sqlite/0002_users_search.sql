-- Substring search over username, full name and email without scanning the table: a trigram
-- FTS5 index over the same lower-cased columns the list query compares, kept in step by
-- triggers. Queries of three characters or more use it; shorter ones fall back to LIKE.
CREATE VIRTUAL TABLE users_search USING fts5(
    username_key, full_name_key, email_key,
    content = 'users', content_rowid = 'id', tokenize = 'trigram'
);
INSERT INTO users_search (users_search) VALUES ('rebuild');

CREATE TRIGGER users_search_insert AFTER INSERT ON users BEGIN
    INSERT INTO users_search (rowid, username_key, full_name_key, email_key)
    VALUES (new.id, new.username_key, new.full_name_key, new.email_key);
END;

CREATE TRIGGER users_search_delete AFTER DELETE ON users BEGIN
    INSERT INTO users_search (users_search, rowid, username_key, full_name_key, email_key)
    VALUES ('delete', old.id, old.username_key, old.full_name_key, old.email_key);
END;

CREATE TRIGGER users_search_update AFTER UPDATE OF username_key, full_name_key, email_key ON users BEGIN
    INSERT INTO users_search (users_search, rowid, username_key, full_name_key, email_key)
    VALUES ('delete', old.id, old.username_key, old.full_name_key, old.email_key);
    INSERT INTO users_search (rowid, username_key, full_name_key, email_key)
    VALUES (new.id, new.username_key, new.full_name_key, new.email_key);
END;
