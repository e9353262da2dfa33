-- Profile pictures, already normalised by the server (256x256 PNG, no metadata).
CREATE TABLE avatars (
    user_id     INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    image       BLOB NOT NULL,
    updated_at  INTEGER NOT NULL
);
