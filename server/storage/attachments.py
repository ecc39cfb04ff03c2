"""Attachment rows: the bytes of a draft's or a canned response's files. Whatever adds to
an owner's files locks the owner's row, checks its running total against the limit and,
for a draft, that it is still being edited — in the transaction that adds them."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace

from server.errors import Conflict, NotFound
from server.storage.accounts import new_id, now_ms
from server.storage.database import Database, Tx

COLUMNS = "id, org_id, draft_id, response_id, filename, content_type, size, sha256, inline,"
COLUMNS += " created_by, created_at"
STATUS_WORDS = {"sending": "being sent"}


@dataclass(frozen=True)
class AttachmentRecord:
    id: str
    org_id: str
    draft_id: str | None  # exactly one of draft_id and response_id is set
    response_id: str | None
    filename: str
    content_type: str
    size: int
    sha256: str
    inline: bool
    created_by: str
    created_at: int = 0


class OverLimit(Exception):
    """Adding would take the owner's files past `limit` bytes; `total` is what it holds."""

    def __init__(self, total: int, limit: int) -> None:
        super().__init__(f"{total} bytes held, at most {limit}")
        self.total = total
        self.limit = limit


def not_editing(status: str) -> Conflict:
    return Conflict(
        f"this draft is {STATUS_WORDS.get(status, status)}: its attachments change only while"
        " it is edited",
        field="draft",
    )


def _record(row: Sequence[object]) -> AttachmentRecord:
    values = list(row)
    values[6], values[8], values[10] = int(str(values[6])), bool(values[8]), int(str(values[10]))
    return AttachmentRecord(*values)  # type: ignore[arg-type]


def _owner(record: AttachmentRecord) -> tuple[str, str]:
    if record.draft_id:
        return "draft_id", record.draft_id
    return "response_id", record.response_id or ""


class AttachmentStore:
    db: Database

    async def add_attachment(
        self, record: AttachmentRecord, data: bytes, *, limit: int
    ) -> AttachmentRecord:
        column, owner = _owner(record)
        async with self.db.transaction() as tx:
            await self._lock_owner(tx, column, owner)
            total, last = await _held(tx, column, owner)
            if total + len(data) > limit:
                raise OverLimit(total, limit)
            saved = replace(
                record, id=new_id(), size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                created_at=max(now_ms(), last + 1),
            )  # fmt: skip
            await _insert(tx, saved, data)
        return saved

    async def copy_attachments(
        self, response_id: str, draft_id: str, created_by: str, *, limit: int
    ) -> list[AttachmentRecord]:
        """The response's files, copied into the draft in their order, if they fit."""
        async with self.db.transaction() as tx:
            await self._lock_owner(tx, "draft_id", draft_id)
            rows = await tx.fetchall(
                f"SELECT {COLUMNS} FROM attachments WHERE response_id = ? ORDER BY created_at, id",
                response_id,
            )
            originals = [_record(tuple(row)) for row in rows]
            if not originals:
                return []
            total, last = await _held(tx, "draft_id", draft_id)
            if total + sum(a.size for a in originals) > limit:
                raise OverLimit(total, limit)
            now, copies = max(now_ms(), last + 1), []
            for offset, original in enumerate(originals):
                copy = replace(
                    original, id=new_id(), draft_id=draft_id, response_id=None,
                    created_by=created_by, created_at=now + offset,
                )  # fmt: skip
                await tx.execute(
                    f"INSERT INTO attachments ({COLUMNS}, data) SELECT ?, org_id, ?, NULL,"
                    " filename, content_type, size, sha256, inline, ?, ?, data FROM attachments"
                    " WHERE id = ?",
                    copy.id, draft_id, created_by, copy.created_at, original.id,
                )  # fmt: skip
                copies.append(copy)
        return copies

    async def attachment(self, attachment_id: str) -> AttachmentRecord | None:
        async with self.db.transaction(readonly=True) as tx:
            row = await tx.fetchone(
                f"SELECT {COLUMNS} FROM attachments WHERE id = ?", attachment_id
            )
        return _record(tuple(row)) if row is not None else None

    async def attachment_data(self, attachment_id: str) -> bytes | None:
        async with self.db.transaction(readonly=True) as tx:
            row = await tx.fetchone("SELECT data FROM attachments WHERE id = ?", attachment_id)
        return bytes(row[0]) if row is not None else None

    async def attachments_of(
        self, *, draft_id: str | None = None, response_id: str | None = None
    ) -> list[AttachmentRecord]:
        column, owner = ("draft_id", draft_id) if draft_id else ("response_id", response_id)
        async with self.db.transaction(readonly=True) as tx:
            rows = await tx.fetchall(
                f"SELECT {COLUMNS} FROM attachments WHERE {column} = ? ORDER BY created_at, id",
                owner,
            )
        return [_record(tuple(row)) for row in rows]

    async def response_attachments(self, org_id: str) -> dict[str, list[AttachmentRecord]]:
        async with self.db.transaction(readonly=True) as tx:
            rows = await tx.fetchall(
                f"SELECT {COLUMNS} FROM attachments WHERE org_id = ?"
                " AND response_id IS NOT NULL ORDER BY created_at, id",
                org_id,
            )
        found: dict[str, list[AttachmentRecord]] = {}
        for row in rows:
            record = _record(tuple(row))
            found.setdefault(record.response_id or "", []).append(record)
        return found

    async def attachment_total(
        self, *, draft_id: str | None = None, response_id: str | None = None
    ) -> int:
        column, owner = ("draft_id", draft_id) if draft_id else ("response_id", response_id)
        async with self.db.transaction(readonly=True) as tx:
            total, _ = await _held(tx, column, owner or "")
        return total

    async def attachment_blobs(
        self, draft_id: str, ids: Sequence[str]
    ) -> list[tuple[AttachmentRecord, bytes]]:
        if not ids:
            return []
        marks = ", ".join("?" * len(ids))
        async with self.db.transaction(readonly=True) as tx:
            rows = await tx.fetchall(
                f"SELECT {COLUMNS}, data FROM attachments WHERE draft_id = ? AND id IN ({marks})"
                " ORDER BY created_at, id",
                draft_id,
                *ids,
            )
        return [(_record(tuple(row)[:-1]), bytes(row[-1])) for row in rows]

    async def delete_attachment(
        self, attachment_id: str, *, draft_id: str | None = None, response_id: str | None = None
    ) -> bool:
        column, owner = ("draft_id", draft_id) if draft_id else ("response_id", response_id)
        async with self.db.transaction() as tx:
            await self._lock_owner(tx, column, owner or "")
            row = await tx.fetchone(
                f"DELETE FROM attachments WHERE id = ? AND {column} = ? RETURNING id",
                attachment_id,
                owner,
            )
        return row is not None

    async def forget_attachments(self, ids: Sequence[str]) -> None:
        """Undo an addition whose document update failed; no checks."""
        async with self.db.transaction() as tx:
            await tx.executemany("DELETE FROM attachments WHERE id = ?", [(i,) for i in ids])

    async def _lock_owner(self, tx: Tx, column: str, owner: str) -> None:
        if column == "response_id":
            row = await tx.fetchone(
                f"SELECT 1 FROM responses WHERE id = ?{self.db.lock_for_update}", owner
            )
            if row is None:
                raise NotFound(f"no response {owner}")
            return
        row = await tx.fetchone(
            f"SELECT status FROM drafts WHERE id = ?{self.db.lock_for_update}", owner
        )
        if row is None:
            raise NotFound(f"no draft {owner}")
        if row[0] != "editing":
            raise not_editing(str(row[0]))


async def _held(tx: Tx, column: str, owner: str) -> tuple[int, int]:
    """(total bytes, latest created_at) of the owner's files."""
    row = await tx.fetchone(
        f"SELECT COALESCE(SUM(size), 0), COALESCE(MAX(created_at), 0) FROM attachments"
        f" WHERE {column} = ?",
        owner,
    )
    return (int(row[0]), int(row[1])) if row is not None else (0, 0)


async def _insert(tx: Tx, record: AttachmentRecord, data: bytes) -> None:
    await tx.execute(
        f"INSERT INTO attachments ({COLUMNS}, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        record.id, record.org_id, record.draft_id, record.response_id, record.filename,
        record.content_type, record.size, record.sha256, record.inline, record.created_by,
        record.created_at, data,
    )  # fmt: skip
