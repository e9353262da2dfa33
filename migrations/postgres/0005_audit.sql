-- Audit log viewer (see migrations/sqlite/0005_audit.sql): one index per filter, each ending
-- in the list order (at, id). SQLite compares actor and target with COLLATE NOCASE (ASCII
-- letters folded); here the query compares lower() of the "C"-collated column, which folds
-- ASCII letters only, so both backends match the same rows and these indexes answer it.
CREATE INDEX audit_events_actor ON audit_events (lower(actor), at, id);
CREATE INDEX audit_events_target ON audit_events (lower(target), at, id);
CREATE INDEX audit_events_event ON audit_events (event, at, id);
-- Event categories: the text up to and including the first dot (the list query's expression).
CREATE INDEX audit_events_category ON audit_events (substr(event, 1, strpos(event, '.')), at, id);
CREATE INDEX audit_events_org ON audit_events (org_id, at, id);
CREATE INDEX audit_events_outcome ON audit_events (outcome, at, id);
