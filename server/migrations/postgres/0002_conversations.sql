CREATE TABLE teams (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    has_inbox BOOLEAN NOT NULL DEFAULT TRUE,
    reply_assigns_replier BOOLEAN NOT NULL DEFAULT TRUE,
    inbound_reply_on_assigned TEXT NOT NULL DEFAULT 'assignee_inbox',
    mention_adds_observers BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    UNIQUE (org_id, name)
);

CREATE TABLE team_members (
    team_id TEXT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('active', 'observer')),
    PRIMARY KEY (team_id, user_id)
);

CREATE TABLE labels (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (org_id, path)
);

CREATE TABLE label_auto_share (
    label_id TEXT NOT NULL REFERENCES labels(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (label_id, user_id)
);

CREATE TABLE conversations (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    status TEXT NOT NULL,
    team_id TEXT,
    in_team_inbox BOOLEAN NOT NULL DEFAULT FALSE,
    trashed_for_everyone BOOLEAN NOT NULL DEFAULT FALSE,
    spam BOOLEAN NOT NULL DEFAULT FALSE,
    snoozed_until BIGINT,
    merged_into TEXT,
    preview TEXT NOT NULL DEFAULT '',
    assignee_ids TEXT NOT NULL DEFAULT '',
    last_activity_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX conversations_team_inbox ON conversations(team_id, in_team_inbox, last_activity_at);

CREATE TABLE conversation_users (
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    inbox BOOLEAN NOT NULL,
    unread BOOLEAN NOT NULL,
    chat_unread BOOLEAN NOT NULL,
    watching BOOLEAN NOT NULL,
    starred BOOLEAN NOT NULL,
    trashed BOOLEAN NOT NULL,
    snoozed_until BIGINT,
    snooze_hides BOOLEAN NOT NULL,
    assigned BOOLEAN NOT NULL,
    bumped_at BIGINT NOT NULL,
    activity_at BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX conversation_users_inbox
    ON conversation_users(user_id, inbox, bumped_at, conversation_id);
CREATE INDEX conversation_users_all
    ON conversation_users(user_id, activity_at, conversation_id);
CREATE INDEX conversation_users_unread ON conversation_users(user_id)
    WHERE unread OR chat_unread;

CREATE TABLE conversation_labels (
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    label_id TEXT NOT NULL REFERENCES labels(id) ON DELETE CASCADE,
    PRIMARY KEY (conversation_id, label_id)
);
CREATE INDEX conversation_labels_label ON conversation_labels(label_id);
