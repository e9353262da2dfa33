-- Directory group mappings (issue 14): an admin maps a connection's SCIM group to an
-- organization and role (with extra abilities and a priority); a member's role there is the
-- highest-priority mapping among their groups. See migrations/postgres/0021 for the twin.

-- Where a membership comes from: NULL for one made by hand (or by an import, or sign-up),
-- else the SCIM connection that manages it. Provisioning changes and removes only its own,
-- never a manual one; a manual change of a managed one makes it manual. A deleted connection
-- leaves its memberships as manual ones.
ALTER TABLE memberships ADD COLUMN scim_connection_id INTEGER REFERENCES scim_connections (id) ON DELETE SET NULL;
CREATE INDEX memberships_scim ON memberships (scim_connection_id) WHERE scim_connection_id IS NOT NULL;

CREATE TABLE scim_group_mappings (
    id          INTEGER PRIMARY KEY,
    group_id    INTEGER NOT NULL REFERENCES scim_groups (id) ON DELETE CASCADE,
    org_id      INTEGER NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    -- no cascade: deleting a role moves its mappings to the replacement, as its members
    role_id     INTEGER NOT NULL REFERENCES roles (id),
    -- extra ability codes, comma separated
    abilities   TEXT NOT NULL DEFAULT '',
    priority    INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    UNIQUE (group_id, org_id)
);
CREATE INDEX scim_group_mappings_org ON scim_group_mappings (org_id);
CREATE INDEX scim_group_mappings_role ON scim_group_mappings (role_id);
