-- Access model: global roles with abilities, one role per member per organization, extra
-- grants, the built-in public account, per-account view/edit lists, and a version counter
-- that tells every server process when its in-memory copy of all this is out of date.

CREATE TABLE roles (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL
);
INSERT INTO roles (id, name, name_key, created_at) VALUES
    (1, 'Viewer', 'viewer', 0),
    (2, 'Operator', 'operator', 0),
    (3, 'Member', 'member', 0),
    (4, 'Admin', 'admin', 0);

-- Abilities are stored by their stable code (see app/src/domain/abilities.rs).
CREATE TABLE role_abilities (
    role_id  INTEGER NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    ability  TEXT NOT NULL,
    PRIMARY KEY (role_id, ability)
) WITHOUT ROWID;
INSERT INTO role_abilities (role_id, ability)
    SELECT r.id, a.code FROM roles r, (
        SELECT 'run-backups' AS code UNION ALL SELECT 'download-snapshots' UNION ALL SELECT 'operate-restores'
    ) a WHERE r.id IN (2, 3, 4);
INSERT INTO role_abilities (role_id, ability)
    SELECT r.id, a.code FROM roles r, (
        SELECT 'delete-snapshots' AS code UNION ALL SELECT 'use-adminer' UNION ALL SELECT 'manage-database-servers'
        UNION ALL SELECT 'manage-volumes' UNION ALL SELECT 'manage-agents' UNION ALL SELECT 'view-databases'
        UNION ALL SELECT 'create-databases' UNION ALL SELECT 'view-queries' UNION ALL SELECT 'create-queries'
        UNION ALL SELECT 'view-credentials' UNION ALL SELECT 'create-credentials'
    ) a WHERE r.id IN (3, 4);
INSERT INTO role_abilities (role_id, ability)
    SELECT 4, code FROM (
        SELECT 'manage-users' AS code UNION ALL SELECT 'view-users' UNION ALL SELECT 'create-users'
        UNION ALL SELECT 'manage-backup-settings' UNION ALL SELECT 'manage-notifications'
    );

-- Memberships gain their role. Existing super admins become Admins of their organizations,
-- everyone else Members (what the users admin of the previous version let them do).
-- username_key is copied from the account (usernames never change) so a member list pages
-- through one index, (org_id, username_key), however large the organization.
CREATE TABLE memberships_new (
    org_id        INTEGER NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role_id       INTEGER NOT NULL REFERENCES roles (id),
    username_key  TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (org_id, user_id)
) WITHOUT ROWID;
INSERT INTO memberships_new (org_id, user_id, role_id, username_key, created_at)
    SELECT m.org_id, m.user_id, CASE WHEN u.super_admin = 1 THEN 4 ELSE 3 END, u.username_key, m.created_at
    FROM memberships m JOIN users u ON u.id = m.user_id;
DROP TABLE memberships;
ALTER TABLE memberships_new RENAME TO memberships;
CREATE INDEX memberships_user ON memberships (user_id, org_id);
CREATE UNIQUE INDEX memberships_org_username ON memberships (org_id, username_key);
-- "Is this role still assigned?" and role replacement.
CREATE INDEX memberships_role ON memberships (role_id);

-- Abilities given to one member in one organization on top of their role.
CREATE TABLE member_abilities (
    org_id   INTEGER NOT NULL,
    user_id  INTEGER NOT NULL,
    ability  TEXT NOT NULL,
    PRIMARY KEY (org_id, user_id, ability),
    FOREIGN KEY (org_id, user_id) REFERENCES memberships (org_id, user_id) ON DELETE CASCADE
) WITHOUT ROWID;

-- 'person' accounts sign in; the one 'public' account stands for anonymous visitors.
ALTER TABLE users ADD COLUMN kind TEXT NOT NULL DEFAULT 'person' CHECK (kind IN ('person', 'public'));
CREATE UNIQUE INDEX users_one_public ON users (kind) WHERE kind = 'public';
INSERT INTO users (username, username_key, full_name, full_name_key, email, email_key, password_hash,
                   status, super_admin, created_at, updated_at, kind)
VALUES ('public', 'public', 'Anonymous visitors', 'anonymous visitors', 'public@roster.invalid',
        'public@roster.invalid', NULL, 'active', 0, 0, 0, 'public');

-- SlashDB-style lists on each account: who else may view it, and who may edit or delete it.
CREATE TABLE account_access (
    target_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    holder_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    level      TEXT NOT NULL CHECK (level IN ('view', 'edit')),
    PRIMARY KEY (target_id, holder_id)
) WITHOUT ROWID;
CREATE INDEX account_access_holder ON account_access (holder_id);

-- Bumped in every transaction that changes roles, grants, memberships, organizations or
-- accounts; a server whose copy is at another version reloads it.
CREATE TABLE access_version (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    version  INTEGER NOT NULL
);
INSERT INTO access_version (id, version) VALUES (1, 1);

-- Audit events outlive the organizations they mention: keep the id, drop the foreign key.
CREATE TABLE audit_events_new (
    id          INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    actor_id    INTEGER,
    actor       TEXT,
    target      TEXT,
    org_id      INTEGER,
    event       TEXT NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN ('success', 'failure')),
    ip          TEXT,
    user_agent  TEXT,
    before      TEXT,
    after       TEXT
);
INSERT INTO audit_events_new SELECT id, at, actor_id, actor, target, org_id, event, outcome, ip, user_agent, before, after
    FROM audit_events;
DROP TABLE audit_events;
ALTER TABLE audit_events_new RENAME TO audit_events;
CREATE INDEX audit_events_at ON audit_events (at, id);
