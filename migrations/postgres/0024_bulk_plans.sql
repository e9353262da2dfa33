-- Bulk action plans (issue 14): a dry run's outcome per account, kept until the plan is
-- applied (once: a conditional UPDATE) or expires (deleted by age when a new plan is stored).
-- The id given out is stored as its SHA-256. See migrations/sqlite/0024_bulk_plans.sql.
CREATE TABLE bulk_plans (
    id_hash     BYTEA PRIMARY KEY,
    -- who made it; NULL: the command line
    actor_id    BIGINT REFERENCES users (id) ON DELETE CASCADE,
    org_id      BIGINT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    action      TEXT COLLATE "C" NOT NULL,
    -- `id:c,id:u,id:r` (change, unchanged, refused) in selection order
    items       TEXT COLLATE "C" NOT NULL,
    created_at  BIGINT NOT NULL,
    applied_at  BIGINT
);
CREATE INDEX bulk_plans_by_age ON bulk_plans (created_at);
