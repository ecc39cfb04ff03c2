-- A member's @handle in one organization, set by an owner or admin (NULL means the local
-- part of their email). Lowercase, unique among the set handles of the organization: the
-- application also keeps it clear of email-derived handles, team names and groups.
ALTER TABLE memberships ADD COLUMN handle TEXT;
CREATE UNIQUE INDEX memberships_handle ON memberships(org_id, handle)
