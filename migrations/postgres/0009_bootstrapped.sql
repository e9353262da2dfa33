-- One-time facts about the instance, one row each. 'bootstrapped': the first account was
-- created by sign-up. Its primary key backs the "only the first sign-up becomes super admin"
-- rule on its own, whatever the transaction isolation: a second claim inserts nothing.
CREATE TABLE instance_flags (
    key TEXT COLLATE "C" NOT NULL,
    CONSTRAINT instance_flags_pkey PRIMARY KEY (key)
);
-- An instance that already has people is past its first sign-up.
INSERT INTO instance_flags (key) SELECT 'bootstrapped' WHERE EXISTS (SELECT 1 FROM users WHERE kind = 'person');
