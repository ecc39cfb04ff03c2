-- Reply drafts belong to a conversation (everyone with access co-writes them), and a draft is
-- being edited, or was discarded (restorable from the conversation's timeline).
ALTER TABLE drafts ADD COLUMN conversation_id TEXT;
ALTER TABLE drafts ADD COLUMN status TEXT NOT NULL DEFAULT 'editing';
CREATE INDEX drafts_conversation ON drafts(conversation_id);
-- The Drafts mailbox: how many live drafts the conversation lists (a projection).
ALTER TABLE conversations ADD COLUMN drafts_count INTEGER NOT NULL DEFAULT 0
