-- The transactional outbox: a sent draft's exact bytes wait here until the worker hands
-- them to the account's SMTP server (after the sender's undo delay). The Message-ID is
-- chosen once, so a retry after a crash sends the same message again, never another.
CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    draft_id TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    actor_id TEXT NOT NULL,
    rfc_message_id TEXT NOT NULL UNIQUE,
    sender TEXT NOT NULL,
    recipients TEXT NOT NULL,
    subject TEXT NOT NULL,
    preview TEXT NOT NULL,
    raw BYTEA NOT NULL,
    then_action TEXT,
    status TEXT NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'recalled')),
    attempts INTEGER NOT NULL DEFAULT 0,
    release_at BIGINT NOT NULL,
    smtp_code INTEGER,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    sent_at BIGINT
);
CREATE INDEX outbox_draft ON outbox(draft_id)
;
-- The Send Later mailbox: how many drafts the conversation has scheduled (a projection).
ALTER TABLE conversations ADD COLUMN scheduled_count INTEGER NOT NULL DEFAULT 0
