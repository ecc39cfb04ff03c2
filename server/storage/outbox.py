"""The outbox rows and the draft's send lock: every state change is one conditional
UPDATE, so two senders, or two workers, can never both win."""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from server.storage.accounts import now_ms
from server.storage.database import Database


@dataclass(frozen=True)
class OutboxItem:
    id: str
    org_id: str
    draft_id: str
    conversation_id: str
    account_id: str
    actor_id: str
    rfc_message_id: str
    sender: str
    recipients: list[str]
    subject: str
    preview: str
    raw: bytes
    status: str = "queued"  # queued, sending, sent, failed, recalled
    attempts: int = 0
    release_at: int = 0
    smtp_code: int | None = None
    last_error: str | None = None
    then: dict[str, object] | None = None  # Send & Close/Archive/Snooze: what follows the send


COLUMNS = (
    "id, org_id, draft_id, conversation_id, account_id, actor_id, rfc_message_id, sender,"
    " recipients, subject, preview, raw, status, attempts, release_at, smtp_code, last_error,"
    " then_action"
)


class OutboxStore:
    db: Database

    async def claim_draft(self, draft_id: str) -> bool:
        """editing -> sending; False when someone else is sending it (or it is gone)."""
        async with self.db.transaction() as tx:
            row = await tx.fetchone(
                "UPDATE drafts SET status = 'sending' WHERE id = ? AND status = 'editing'"
                " RETURNING id",
                draft_id,
            )
        return row is not None

    async def enqueue(self, item: OutboxItem) -> None:
        async with self.db.transaction() as tx:
            await tx.execute(
                f"INSERT INTO outbox ({COLUMNS}, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                item.id, item.org_id, item.draft_id, item.conversation_id, item.account_id,
                item.actor_id, item.rfc_message_id, item.sender,
                orjson.dumps(item.recipients).decode(), item.subject, item.preview, item.raw,
                item.status, item.attempts, item.release_at, item.smtp_code, item.last_error,
                orjson.dumps(item.then).decode() if item.then else None, now_ms(),
            )  # fmt: skip

    async def outbox_item(self, item_id: str) -> OutboxItem | None:
        async with self.db.transaction(readonly=True) as tx:
            row = await tx.fetchone(f"SELECT {COLUMNS} FROM outbox WHERE id = ?", item_id)
        if row is None:
            return None
        values = list(row)
        values[8] = orjson.loads(values[8])
        values[11] = bytes(values[11])
        values[17] = orjson.loads(values[17]) if values[17] else None
        return OutboxItem(*values)

    async def move_outbox(
        self,
        item_id: str,
        frm: tuple[str, ...],
        to: str,
        *,
        code: int | None = None,
        error: str | None = None,
    ) -> bool:
        """Change the status if it is one of `frm`; `sending` also counts an attempt."""
        places = ", ".join("?" * len(frm))
        async with self.db.transaction() as tx:
            row = await tx.fetchone(
                "UPDATE outbox SET status = ?, smtp_code = COALESCE(?, smtp_code),"
                " last_error = ?, attempts = attempts + ?,"
                " sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END"
                f" WHERE id = ? AND status IN ({places}) RETURNING id",
                to, code, error, 1 if to == "sending" else 0, to, now_ms(), item_id, *frm,
            )  # fmt: skip
        return row is not None
