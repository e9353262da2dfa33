-- Profile pictures, already normalised by the server (256x256 PNG, no metadata).
CREATE TABLE avatars (
    user_id     BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    image       BYTEA NOT NULL,
    updated_at  BIGINT NOT NULL
);
