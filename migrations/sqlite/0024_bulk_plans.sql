-- Bulk action plans (issue 14): a dry run's outcome per account, kept until the plan is
-- applied (once: a conditional UPDATE) or expires (deleted by age when a new plan is stored).
-- The id given out is stored as its SHA-256. See migrations/postgres/0024_bulk_plans.sql.
CREATE TABLE bulk_plans (
    id_hash     BLOB PRIMARY KEY,
    -- who made it; NULL: the command line
    actor_id    INTEGER REFERENCES users (id) ON DELETE CASCADE,
    org_id      INTEGER NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    action      TEXT NOT NULL,
    -- `id:c,id:u,id:r` (change, unchanged, refused) in selection order
    items       TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    applied_at  INTEGER
) WITHOUT ROWID;
CREATE INDEX bulk_plans_by_age ON bulk_plans (created_at);
