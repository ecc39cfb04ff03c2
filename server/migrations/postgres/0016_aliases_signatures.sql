-- Aliases and signatures. Every account's default alias is the account itself (its id and
-- address, no row here): these tables hold the extra aliases, who an alias is shared with,
-- each user's settings on an alias (the virtual default's too, keyed by the account id),
-- signatures, and each user's default sender. `alias_id` is therefore not a foreign key:
-- rows follow their account through `account_id`, and deleting an alias deletes its rows.
CREATE TABLE aliases (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    address TEXT NOT NULL,
    description TEXT NOT NULL,
    created_by TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX aliases_org ON aliases(org_id, created_at);
CREATE INDEX aliases_account ON aliases(account_id);

CREATE TABLE alias_shares (
    alias_id TEXT NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (alias_id, user_id)
);
CREATE INDEX alias_shares_account ON alias_shares(account_id);

-- Signatures: personal (owner_id) or the organization's (owner_id NULL). Bodies are
-- sanitised HTML that may hold Liquid, rendered per user when used.
CREATE TABLE signatures (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    scope TEXT NOT NULL CHECK (scope IN ('personal', 'organization')),
    owner_id TEXT REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    format TEXT NOT NULL CHECK (format IN ('richtext', 'html')),
    body TEXT NOT NULL,
    insert_in TEXT NOT NULL CHECK (insert_in IN ('all', 'first', 'first_then_alt')),
    alt_body TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX signatures_org ON signatures(org_id, scope, owner_id);

CREATE TABLE alias_user_settings (
    alias_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    never_auto_select BOOLEAN NOT NULL,
    signature_id TEXT REFERENCES signatures(id) ON DELETE SET NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (alias_id, user_id)
);
CREATE INDEX alias_user_settings_account ON alias_user_settings(account_id);

CREATE TABLE sender_preferences (
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    default_alias_id TEXT,
    always_reply_from_default BOOLEAN NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, user_id)
)
