"""Stored mail as people read it: a conversation's messages page by page, one message, its
attachments and raw bytes; and the dead-letter rows of mail that could not be stored.

The parsed columns are filled when a message is stored (`ConversationTx.insert_message`);
rows stored before they existed are filled by `fill_message_body` (`tandem migrate`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from server.storage.accounts import new_id, now_ms
from server.storage.database import Database, Row, Tx

Address = tuple[str, str]  # (display name, address)
RECIPIENT_FIELDS = ("to", "cc", "bcc", "reply_to")


@dataclass(frozen=True)
class AttachmentMeta:
    id: str
    filename: str | None
    content_type: str
    size: int
    sha256: str
    inline: bool
    content_id: str | None


@dataclass(frozen=True)
class StoredAttachment:
    meta: AttachmentMeta
    data: bytes


@dataclass(frozen=True)
class MessageBody:
    """What a message's raw bytes parse into, ready to store."""

    from_name: str
    recipients: dict[str, list[Address]]  # RECIPIENT_FIELDS -> addresses
    in_reply_to: str | None
    references: list[str]
    text: str
    html: str | None  # sanitised
    content_sha256: str
    received_at: int
    sort_at: int
    links: list[tuple[str, str]]  # (Message-ID, "self" | "ref")
    attachments: list[StoredAttachment]
    parsed: int  # the parser version that made it


@dataclass(frozen=True)
class MessageRecord:
    id: str
    org_id: str
    conversation_id: str
    account_id: str | None
    account_address: str | None
    rfc_message_id: str
    direction: str  # "in" | "out"
    from_address: str
    from_name: str
    subject: str
    date: int | None  # the mail's own Date, Unix ms
    received_at: int
    sort_at: int
    stored_at: int  # when Tandem stored it: orders messages shown at the same time
    recipients: dict[str, list[Address]]
    in_reply_to: str | None
    references: list[str]
    text: str
    html: str | None
    attachments: list[AttachmentMeta] = field(default_factory=list)


@dataclass(frozen=True)
class RejectedMail:
    id: str
    org_id: str
    account_id: str
    reason: str
    source: str
    size: int
    sha256: str
    created_at: int
    retried_at: int | None


_RECORD_COLUMNS = (
    "m.id, m.org_id, m.conversation_id, m.account_id, a.address, m.rfc_message_id,"
    " m.direction, m.from_address, m.from_name, m.subject, m.sent_at,"
    " COALESCE(m.received_at, m.created_at), COALESCE(m.sort_at, m.sent_at, m.created_at),"
    " m.recipients, m.in_reply_to, m.refs, m.body_text, m.body_html, m.created_at"
)
_RECORD_FROM = " FROM messages m LEFT JOIN accounts a ON a.id = m.account_id"
_ATTACHMENT_COLUMNS = "id, filename, content_type, size, sha256, inline, content_id"
_REJECTED_COLUMNS = "id, org_id, account_id, reason, source, size, sha256, created_at, retried_at"


BODY_COLUMNS = (
    "from_name, recipients, in_reply_to, refs, body_text, body_html, content_sha256,"
    " received_at, sort_at, parsed"
)


def body_values(body: MessageBody) -> tuple[object, ...]:
    """The values of BODY_COLUMNS for `body`."""
    return (
        body.from_name,
        orjson.dumps(body.recipients).decode(),
        body.in_reply_to,
        orjson.dumps(body.references).decode(),
        body.text,
        body.html,
        body.content_sha256,
        body.received_at,
        body.sort_at,
        body.parsed,
    )


async def write_body(tx: Tx, org_id: str, message_id: str, body: MessageBody) -> None:
    """Fill a stored message's parsed columns, its attachments and its thread links."""
    assignments = ", ".join(f"{column.strip()} = ?" for column in BODY_COLUMNS.split(","))
    await tx.execute(
        f"UPDATE messages SET {assignments} WHERE id = ?", *body_values(body), message_id
    )
    await tx.execute("DELETE FROM message_attachments WHERE message_id = ?", message_id)
    await tx.execute("DELETE FROM message_links WHERE message_id = ?", message_id)
    await write_parts(tx, org_id, message_id, body)


async def write_parts(tx: Tx, org_id: str, message_id: str, body: MessageBody) -> None:
    """Store a message's files and thread links (the message row exists)."""
    if body.attachments:
        await tx.executemany(
            "INSERT INTO message_attachments (id, org_id, message_id, position, filename,"
            " content_type, size, sha256, inline, content_id, data)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (a.meta.id, org_id, message_id, position, a.meta.filename, a.meta.content_type,
                 a.meta.size, a.meta.sha256, int(a.meta.inline), a.meta.content_id, a.data)
                for position, a in enumerate(body.attachments)
            ],
        )  # fmt: skip
    kinds: dict[str, str] = {}
    for link, kind in body.links:
        kinds.setdefault(link, kind)  # its own id is listed first
    if kinds:
        await tx.executemany(
            "INSERT INTO message_links (org_id, link_id, message_id, kind) VALUES (?, ?, ?, ?)",
            [(org_id, link, message_id, kind) for link, kind in kinds.items()],
        )


def _addresses(raw: Any) -> list[Address]:
    return [(str(name), str(address)) for name, address in raw or []]


def _record(row: Row, attachments: list[AttachmentMeta]) -> MessageRecord:
    recipients = orjson.loads(row[13]) if row[13] else {}
    return MessageRecord(
        id=str(row[0]),
        org_id=str(row[1]),
        conversation_id=str(row[2]),
        account_id=row[3],
        account_address=row[4],
        rfc_message_id=str(row[5]),
        direction=str(row[6]),
        from_address=str(row[7]),
        from_name=str(row[8] or ""),
        subject=str(row[9]),
        date=int(row[10]) if row[10] is not None else None,
        received_at=int(row[11]),
        sort_at=int(row[12]),
        stored_at=int(row[18]),
        recipients={name: _addresses(recipients.get(name)) for name in RECIPIENT_FIELDS},
        in_reply_to=row[14],
        references=[str(r) for r in orjson.loads(row[15])] if row[15] else [],
        text=str(row[16] or ""),
        html=row[17],
        attachments=attachments,
    )


def _attachment(row: Row) -> AttachmentMeta:
    return AttachmentMeta(
        str(row[0]), row[1], str(row[2]), int(row[3]), str(row[4]), bool(row[5]), row[6]
    )


def _rejected(row: Row) -> RejectedMail:
    return RejectedMail(
        str(row[0]), str(row[1]), str(row[2]), str(row[3]), str(row[4]), int(row[5]),
        str(row[6]), int(row[7]), int(row[8]) if row[8] is not None else None,
    )  # fmt: skip


class MessageStore:
    db: Database

    async def _with_attachments(self, tx: Tx, rows: list[Row]) -> list[MessageRecord]:
        by_message: dict[str, list[AttachmentMeta]] = {str(row[0]): [] for row in rows}
        ids = list(by_message)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            found = await tx.fetchall(
                f"SELECT message_id, {_ATTACHMENT_COLUMNS} FROM message_attachments"
                f" WHERE message_id IN ({', '.join('?' * len(chunk))})"
                " ORDER BY message_id, position",
                *chunk,
            )
            for row in found:
                by_message[str(row[0])].append(_attachment(row[1:]))
        return [_record(row, by_message[str(row[0])]) for row in rows]

    async def message_page(
        self, conversation_id: str, after: tuple[int, int, str] | None, limit: int
    ) -> list[MessageRecord]:
        """A conversation's messages oldest first — by the time shown, then the order they
        were stored, then id — from just after `after` (those three of a message)."""
        where, args = "m.conversation_id = ?", list[object]([conversation_id])
        if after is not None:
            # sort_at is filled for every row by the time it is served (`tandem migrate`)
            where += (
                " AND (m.sort_at > ? OR (m.sort_at = ? AND (m.created_at > ?"
                " OR (m.created_at = ? AND m.id > ?))))"
            )
            args += [after[0], after[0], after[1], after[1], after[2]]
        async with self.db.transaction(readonly=True) as tx:
            rows = await tx.fetchall(
                f"SELECT {_RECORD_COLUMNS}{_RECORD_FROM} WHERE {where}"
                " ORDER BY m.sort_at, m.created_at, m.id LIMIT ?",
                *args,
                limit,
            )
            return await self._with_attachments(tx, rows)

    async def messages_before(
        self, conversation_id: str, before: int | None, limit: int
    ) -> list[MessageRecord]:
        """A conversation's messages newest first, shown before `before` (Unix ms)."""
        where, args = "m.conversation_id = ?", list[object]([conversation_id])
        if before is not None:
            where += " AND m.sort_at < ?"
            args.append(before)
        async with self.db.transaction(readonly=True) as tx:
            rows = await tx.fetchall(
                f"SELECT {_RECORD_COLUMNS}{_RECORD_FROM} WHERE {where}"
                " ORDER BY m.sort_at DESC, m.created_at DESC, m.id DESC LIMIT ?",
                *args,
                limit,
            )
            return await self._with_attachments(tx, rows)

    async def message_records(self, message_ids: Sequence[str]) -> list[MessageRecord]:
        """The stored messages among `message_ids`, in the order asked."""
        ids = list(dict.fromkeys(message_ids))[:500]
        if not ids:
            return []
        async with self.db.transaction(readonly=True) as tx:
            rows = await tx.fetchall(
                f"SELECT {_RECORD_COLUMNS}{_RECORD_FROM}"
                f" WHERE m.id IN ({', '.join('?' * len(ids))})",
                *ids,
            )
            records = {r.id: r for r in await self._with_attachments(tx, rows)}
        return [records[i] for i in ids if i in records]

    async def messages_with_rfc_id(self, org_id: str, rfc_message_id: str) -> list[str]:
        """Ids of the stored messages carrying one Message-ID, newest first."""
        async with self.db.transaction(readonly=True) as tx:
            rows = await tx.fetchall(
                "SELECT id FROM messages WHERE org_id = ? AND rfc_message_id = ?"
                " ORDER BY sort_at DESC, created_at DESC, id DESC",
                org_id,
                rfc_message_id,
            )
        return [str(row[0]) for row in rows]

    async def message_attachment(
        self, attachment_id: str
    ) -> tuple[AttachmentMeta, str, bytes] | None:
        """A received file: its description, the conversation holding it, its bytes."""
        async with self.db.transaction(readonly=True) as tx:
            row = await tx.fetchone(
                f"SELECT {', '.join('f.' + c for c in _ATTACHMENT_COLUMNS.split(', '))},"
                " m.conversation_id, f.data FROM message_attachments f"
                " JOIN messages m ON m.id = f.message_id WHERE f.id = ?",
                attachment_id,
            )
        if row is None:
            return None
        return _attachment(row[:7]), str(row[7]), bytes(row[8])

    async def unparsed_messages(self, below: int, limit: int) -> list[tuple[str, str, bytes, int]]:
        """(id, org, raw, stored at) of stored messages whose parsed columns were made by a
        parser older than `below`."""
        async with self.db.transaction(readonly=True) as tx:
            rows = await tx.fetchall(
                "SELECT id, org_id, raw, created_at FROM messages WHERE parsed < ?"
                " ORDER BY id LIMIT ?",
                below,
                limit,
            )
        return [(str(r[0]), str(r[1]), bytes(r[2]), int(r[3])) for r in rows]

    async def fill_message_body(self, org_id: str, message_id: str, body: MessageBody) -> None:
        async with self.db.transaction() as tx:
            await write_body(tx, org_id, message_id, body)

    async def add_rejected(
        self, org_id: str, account_id: str, reason: str, source: str, raw: bytes, sha256: str
    ) -> str:
        """Keep a mail that could not be stored; the same bytes again keep the first row
        (with the newest reason). Its id."""
        async with self.db.transaction() as tx:
            row = await tx.fetchone(
                "SELECT id FROM rejected_mail WHERE account_id = ? AND sha256 = ?",
                account_id,
                sha256,
            )
            if row is not None:
                await tx.execute("UPDATE rejected_mail SET reason = ? WHERE id = ?", reason, row[0])
                return str(row[0])
            rejected_id = new_id()
            await tx.execute(
                f"INSERT INTO rejected_mail ({_REJECTED_COLUMNS}, raw)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rejected_id, org_id, account_id, reason, source, len(raw), sha256, now_ms(),
                None, raw,
            )  # fmt: skip
        return rejected_id

    async def rejected_mail(self, account_id: str) -> list[RejectedMail]:
        async with self.db.transaction(readonly=True) as tx:
            rows = await tx.fetchall(
                f"SELECT {_REJECTED_COLUMNS} FROM rejected_mail WHERE account_id = ?"
                " ORDER BY created_at, id",
                account_id,
            )
        return [_rejected(row) for row in rows]

    async def rejected_item(self, rejected_id: str) -> tuple[RejectedMail, bytes] | None:
        async with self.db.transaction(readonly=True) as tx:
            row = await tx.fetchone(
                f"SELECT {_REJECTED_COLUMNS}, raw FROM rejected_mail WHERE id = ?", rejected_id
            )
        return (_rejected(row[:9]), bytes(row[9])) if row is not None else None

    async def retried_rejected(self, rejected_id: str, reason: str | None) -> None:
        """A retry stored the mail (`reason` None: the row goes) or rejected it again."""
        async with self.db.transaction() as tx:
            if reason is None:
                await tx.execute("DELETE FROM rejected_mail WHERE id = ?", rejected_id)
            else:
                await tx.execute(
                    "UPDATE rejected_mail SET reason = ?, retried_at = ? WHERE id = ?",
                    reason,
                    now_ms(),
                    rejected_id,
                )
