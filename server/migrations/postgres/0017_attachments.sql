-- Files attached to a draft (draft_id) or to a canned response (response_id), bytes and
-- all: at most TANDEM_MAX_ATTACHMENT_BYTES in total per draft or response, checked in the
-- transaction that adds one. A draft's document lists its files in its `attachments` map,
-- keyed by id. `inline` marks an image the body shows as cid:<id> (for a response, copied
-- into the draft it is inserted in). Uploads are ordered by created_at, kept increasing.
CREATE TABLE attachments (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    draft_id TEXT REFERENCES drafts(id) ON DELETE CASCADE,
    response_id TEXT REFERENCES responses(id) ON DELETE CASCADE,
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    inline BOOLEAN NOT NULL DEFAULT FALSE,
    data BYTEA NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    CHECK ((draft_id IS NULL) <> (response_id IS NULL))
);
CREATE INDEX attachments_draft ON attachments(draft_id, created_at);
CREATE INDEX attachments_response ON attachments(response_id, created_at)
