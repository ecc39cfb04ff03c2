-- Organization settings. `multi_team_delivery`: mail addressed to the accounts of several
-- teams gets one conversation per team inbox ('duplicate', the product's default) or one
-- conversation in the team inbox of the alphabetically-first team ('single').
ALTER TABLE organizations ADD COLUMN multi_team_delivery TEXT NOT NULL DEFAULT 'duplicate'
    CHECK (multi_team_delivery IN ('duplicate', 'single'))
