CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    address TEXT NOT NULL,
    owner_id TEXT REFERENCES users(id) ON DELETE SET NULL,
    delivery TEXT NOT NULL CHECK (delivery IN ('inbox', 'team_inbox')),
    team_id TEXT REFERENCES teams(id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (org_id, address)
);
CREATE INDEX accounts_address ON accounts(address);

CREATE TABLE account_access (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    auto_archive BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (account_id, user_id)
);

CREATE TABLE messages (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    conversation_id TEXT NOT NULL,
    account_id TEXT REFERENCES accounts(id) ON DELETE SET NULL,
    rfc_message_id TEXT NOT NULL,
    dedupe_key TEXT NOT NULL,
    direction TEXT NOT NULL,
    from_address TEXT NOT NULL,
    subject TEXT NOT NULL,
    sent_at BIGINT,
    raw BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (org_id, dedupe_key)
);
CREATE INDEX messages_rfc_id ON messages(org_id, rfc_message_id);
CREATE INDEX messages_conversation ON messages(conversation_id, created_at);
