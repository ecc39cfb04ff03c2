-- Received and sent mail in full (issue 11). Each message row keeps its raw bytes and, filled
-- from them when it is stored, the parsed headers and bodies the reading endpoints answer
-- with: `body_html` is already sanitised with its cid: images pointing at the attachments.
-- `parsed` is the version of the parser that filled them (0: not yet, read from `raw`).
-- `sort_at` is the time the conversation shows for the message (its Date when plausible,
-- else when it was delivered), and pages of a conversation's messages run on it, then on
-- the order they were stored (created_at), then on id.
-- `content_sha256` fingerprints the content without the transport headers: two mails with
-- one Message-ID are one mail only when it matches.
ALTER TABLE messages ADD COLUMN from_name TEXT;
ALTER TABLE messages ADD COLUMN recipients TEXT;
ALTER TABLE messages ADD COLUMN in_reply_to TEXT;
ALTER TABLE messages ADD COLUMN refs TEXT;
ALTER TABLE messages ADD COLUMN body_text TEXT;
ALTER TABLE messages ADD COLUMN body_html TEXT;
ALTER TABLE messages ADD COLUMN content_sha256 TEXT;
ALTER TABLE messages ADD COLUMN received_at BIGINT;
ALTER TABLE messages ADD COLUMN sort_at BIGINT;
ALTER TABLE messages ADD COLUMN parsed INTEGER NOT NULL DEFAULT 0;
CREATE INDEX messages_page ON messages(conversation_id, sort_at, created_at, id);

-- The decoded files of a stored message, in the order the mail holds them
CREATE TABLE message_attachments (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    message_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    filename TEXT,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    inline INTEGER NOT NULL DEFAULT 0,
    content_id TEXT,
    data BYTEA NOT NULL
);
CREATE INDEX message_attachments_message ON message_attachments(message_id, position);

-- The Message-IDs that thread a stored message: its own (kind 'self') and those it answers
-- or cites in In-Reply-To, References and a bounce's original (kind 'ref')
CREATE TABLE message_links (
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    link_id TEXT NOT NULL,
    message_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    PRIMARY KEY (org_id, link_id, message_id)
);
CREATE INDEX message_links_message ON message_links(message_id);

-- Mail that could not be stored, raw bytes and all, until an admin retries or deletes it
CREATE TABLE rejected_mail (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    reason TEXT NOT NULL,
    source TEXT NOT NULL,
    raw BYTEA NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    retried_at BIGINT,
    UNIQUE (account_id, sha256)
);
CREATE INDEX rejected_mail_account ON rejected_mail(account_id, created_at)
