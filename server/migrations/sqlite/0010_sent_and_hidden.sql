-- The Sent mailbox: when the conversation last had an outbound message (NULL: never).
ALTER TABLE conversations ADD COLUMN sent_at INTEGER;
-- Until when a snooze hides the conversation from this user's Inbox and team inboxes: the
-- later of their own and the one for everyone, counting only those without "leave in
-- Inbox" (snoozed_until alone could not say it when both exist).
ALTER TABLE conversation_users ADD COLUMN hidden_until INTEGER;
UPDATE conversation_users SET hidden_until = snoozed_until WHERE snooze_hides
