-- Who sees, applies and removes an organization label: everyone in the organization, or
-- only its owners and admins and the label's auto-shared users ("delegates").
ALTER TABLE labels ADD COLUMN visibility TEXT NOT NULL DEFAULT 'organization'
