-- SCIM Groups (issue 14): the groups an identity provider pushes, per connection, with their
-- members (accounts the same connection provisioned). Stored as sent; they grant nothing by
-- themselves (mapping a group to an organization and role is a separate, explicit step).
-- See migrations/postgres/0020_scim_groups.sql for the twin.
CREATE TABLE scim_groups (
    id                INTEGER PRIMARY KEY,
    connection_id     INTEGER NOT NULL REFERENCES scim_connections (id) ON DELETE CASCADE,
    display_name      TEXT NOT NULL,
    -- lower-cased: displayName is unique per connection ignoring case (Entra matches on it)
    display_name_key  TEXT NOT NULL,
    external_id       TEXT,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    UNIQUE (connection_id, display_name_key)
);
CREATE INDEX scim_groups_connection ON scim_groups (connection_id, id);
CREATE INDEX scim_groups_external_id ON scim_groups (connection_id, external_id);

-- One row per member: adding and removing members are single-row writes, so parallel PATCHes
-- of one group never lose each other's changes.
CREATE TABLE scim_group_members (
    group_id  INTEGER NOT NULL REFERENCES scim_groups (id) ON DELETE CASCADE,
    user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
) WITHOUT ROWID;
CREATE INDEX scim_group_members_user ON scim_group_members (user_id, group_id);
