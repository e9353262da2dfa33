-- Audit log viewer: one index per filter, each ending in the list order (at, id), so a
-- filtered page — first, deep (keyset from a cursor) or within a time range — is one range
-- scan of one index, never a sort of every match, however many events there are.
-- Actor and target are compared case-insensitively with COLLATE NOCASE: the query uses the
-- same collation, so these indexes answer it (usernames are ASCII; names of roles and
-- organizations match case-insensitively for ASCII letters, exactly otherwise).
CREATE INDEX audit_events_actor ON audit_events (actor COLLATE NOCASE, at, id);
CREATE INDEX audit_events_target ON audit_events (target COLLATE NOCASE, at, id);
CREATE INDEX audit_events_event ON audit_events (event, at, id);
-- Event categories ("user." for user.created, user.deleted ...): the text up to and including
-- the first dot, the same expression the list query compares.
CREATE INDEX audit_events_category ON audit_events (substr(event, 1, instr(event, '.')), at, id);
CREATE INDEX audit_events_org ON audit_events (org_id, at, id);
CREATE INDEX audit_events_outcome ON audit_events (outcome, at, id);
