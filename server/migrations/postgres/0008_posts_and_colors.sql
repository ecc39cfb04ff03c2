-- The ids the Missive-compatible API finds a conversation by (a projection of its posts):
-- kind 'post' (a post's id) and 'reference' (a reference a post carried).
CREATE TABLE conversation_keys (
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    org_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('post', 'reference')),
    ref TEXT NOT NULL,
    PRIMARY KEY (kind, ref, conversation_id)
);
CREATE INDEX conversation_keys_conversation ON conversation_keys(conversation_id);

ALTER TABLE labels ADD COLUMN color TEXT;
ALTER TABLE teams ADD COLUMN color TEXT;
ALTER TABLE teams ADD COLUMN emoji TEXT;
