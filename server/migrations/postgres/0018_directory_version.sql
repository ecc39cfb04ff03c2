-- Bumped in the same transaction as every write to what an organization's directory is
-- read from (members, teams, labels, preferences, settings, accounts, mention groups), so
-- each process can keep the directory cached and check it with one read
ALTER TABLE organizations ADD COLUMN directory_version BIGINT NOT NULL DEFAULT 0
