"""Documents, drafts, the update log and snapshots (the `UpdateLog` the rooms use)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from itertools import groupby

from crdt.store import Merge, StoredState
from server.errors import Conflict
from server.storage.accounts import now_ms
from server.storage.base import DocumentRecord, Draft
from server.storage.database import Database, Tx, UniqueViolation

DOC_COLUMNS = "name, kind, org_id, owner_id, created_at"
IN_CHUNK = 500


class DocumentStore:
    db: Database

    # --- documents and drafts -----------------------------------------------------------

    async def create_document(
        self,
        name: str,
        kind: str,
        org_id: str | None,
        owner_id: str | None,
        initial_update: bytes | None,
    ) -> DocumentRecord:
        record = DocumentRecord(name, kind, org_id, owner_id, now_ms())
        try:
            async with self.db.transaction() as tx:
                await _insert_document(tx, record, initial_update)
        except UniqueViolation:
            raise Conflict(f"document {name} exists", field="name") from None
        return record

    async def document_names(self, kind: str) -> list[str]:
        async with self.db.transaction(readonly=True) as tx:
            rows = await tx.fetchall(
                "SELECT name FROM documents WHERE kind = ? ORDER BY name", kind
            )
        return [str(name) for (name,) in rows]

    async def get_document(self, name: str) -> DocumentRecord | None:
        async with self.db.transaction(readonly=True) as tx:
            row = await tx.fetchone(f"SELECT {DOC_COLUMNS} FROM documents WHERE name = ?", name)
        return DocumentRecord(*row) if row is not None else None

    async def create_draft(
        self,
        draft_id: str,
        org_id: str,
        author_id: str,
        subject: str,
        initial_update: bytes,
        conversation_id: str | None = None,
    ) -> Draft:
        draft = Draft(draft_id, org_id, author_id, subject, now_ms(), conversation_id)
        document = DocumentRecord(f"draft:{draft_id}", "draft", org_id, author_id, draft.created_at)
        try:
            async with self.db.transaction() as tx:
                await tx.execute(
                    "INSERT INTO drafts (id, org_id, author_id, subject, created_at,"
                    " conversation_id) VALUES (?, ?, ?, ?, ?, ?)",
                    draft.id,
                    org_id,
                    author_id,
                    subject,
                    draft.created_at,
                    conversation_id,
                )
                await _insert_document(tx, document, initial_update)
        except UniqueViolation:
            raise Conflict(f"draft {draft_id} exists", field="id") from None
        return draft

    async def get_draft(self, draft_id: str) -> Draft | None:
        async with self.db.transaction(readonly=True) as tx:
            row = await tx.fetchone(
                "SELECT id, org_id, author_id, subject, created_at, conversation_id, status"
                " FROM drafts WHERE id = ?",
                draft_id,
            )
        return Draft(*row) if row is not None else None

    async def set_draft_status(self, draft_id: str, status: str) -> None:
        async with self.db.transaction() as tx:
            await tx.execute("UPDATE drafts SET status = ? WHERE id = ?", status, draft_id)

    async def delete_draft(self, draft_id: str) -> bool:
        async with self.db.transaction() as tx:
            row = await tx.fetchone("SELECT 1 FROM drafts WHERE id = ?", draft_id)
            if row is None:
                return False
            await tx.execute("DELETE FROM documents WHERE name = ?", f"draft:{draft_id}")
            await tx.execute("DELETE FROM drafts WHERE id = ?", draft_id)
        return True

    # --- the update log -----------------------------------------------------------------

    async def load_document(self, name: str) -> StoredState:
        return await self.read_updates_since(name, -1)

    async def read_updates_since(self, name: str, after_seq: int) -> StoredState:
        async with self.db.transaction(readonly=True) as tx:
            snapshot = await tx.fetchone(
                "SELECT seq, data FROM doc_snapshots WHERE doc_name = ?", name
            )
            snapshot_seq = int(snapshot[0]) if snapshot is not None else 0
            include = snapshot is not None and snapshot_seq > after_seq
            rows = await tx.fetchall(
                "SELECT seq, data FROM doc_updates WHERE doc_name = ? AND seq > ? ORDER BY seq",
                name,
                max(after_seq, snapshot_seq),
            )
        return StoredState(
            snapshot=bytes(snapshot[1]) if include and snapshot is not None else None,
            snapshot_seq=snapshot_seq if include else max(after_seq, 0),
            updates=[(int(seq), bytes(data)) for seq, data in rows],
        )

    async def append_updates(self, batch: Sequence[tuple[str, bytes]]) -> list[int]:
        order = sorted(range(len(batch)), key=lambda i: batch[i][0])  # lock rows in name order
        seqs = [0] * len(batch)
        now = now_ms()
        async with self.db.transaction() as tx:
            rows = []
            for name, group in groupby(order, key=lambda i: batch[i][0]):
                indexes = list(group)
                last = await _allocate(tx, name, len(indexes), now)
                if last is None:
                    continue  # deleted: nothing is stored, the seqs stay 0
                for offset, index in enumerate(indexes):
                    seqs[index] = last - len(indexes) + 1 + offset
                    rows.append((name, seqs[index], batch[index][1], now))
            await tx.executemany(
                "INSERT INTO doc_updates (doc_name, seq, data, created_at) VALUES (?, ?, ?, ?)",
                rows,
            )
        return seqs

    async def latest_seqs(self, names: Sequence[str]) -> dict[str, int]:
        latest: dict[str, int] = {}
        async with self.db.transaction(readonly=True) as tx:
            for start in range(0, len(names), IN_CHUNK):
                chunk = list(names[start : start + IN_CHUNK])
                marks = ", ".join("?" * len(chunk))
                rows = await tx.fetchall(
                    f"SELECT name, last_seq FROM documents WHERE name IN ({marks})", *chunk
                )
                latest.update((name, int(seq)) for name, seq in rows)
        return latest

    async def compact_document(self, name: str, merge: Merge) -> int:
        """Read, merge, then write: the merge runs in a worker thread with no transaction
        open, so appends (this document's included) and readers carry on meanwhile. The
        write only deletes the entries that were merged, and gives way if another process
        compacted the document in between."""
        async with self.db.transaction(readonly=True) as tx:
            snapshot = await tx.fetchone(
                "SELECT seq, data FROM doc_snapshots WHERE doc_name = ?", name
            )
            snapshot_seq = int(snapshot[0]) if snapshot is not None else 0
            rows = await tx.fetchall(
                "SELECT seq, data FROM doc_updates WHERE doc_name = ? AND seq > ? ORDER BY seq",
                name,
                snapshot_seq,
            )
        if not rows:
            return snapshot_seq
        merged = await asyncio.to_thread(
            merge,
            bytes(snapshot[1]) if snapshot is not None else None,
            [bytes(data) for _, data in rows],
        )
        upto = int(rows[-1][0])
        async with self.db.transaction() as tx:
            exists = await tx.fetchone(
                f"SELECT 1 FROM documents WHERE name = ?{self.db.lock_for_update}", name
            )
            if exists is None:
                return 0  # deleted meanwhile
            current = await tx.fetchone("SELECT seq FROM doc_snapshots WHERE doc_name = ?", name)
            current_seq = int(current[0]) if current is not None else 0
            if current_seq != snapshot_seq:
                return current_seq  # another process compacted it first
            await tx.execute("DELETE FROM doc_snapshots WHERE doc_name = ?", name)
            await tx.execute(
                "INSERT INTO doc_snapshots (doc_name, seq, data, created_at) VALUES (?, ?, ?, ?)",
                name,
                upto,
                merged,
                now_ms(),
            )
            await tx.execute("DELETE FROM doc_updates WHERE doc_name = ? AND seq <= ?", name, upto)
        return upto

    async def log_size(self, name: str) -> tuple[int, int]:
        async with self.db.transaction(readonly=True) as tx:
            row = await tx.fetchone(
                "SELECT COUNT(*), COALESCE(SUM(LENGTH(data)), 0) FROM doc_updates"
                " WHERE doc_name = ?",
                name,
            )
        return (int(row[0]), int(row[1])) if row else (0, 0)


async def _insert_document(tx: Tx, record: DocumentRecord, initial_update: bytes | None) -> None:
    await tx.execute(
        "INSERT INTO documents (name, kind, org_id, owner_id, last_seq, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        record.name,
        record.kind,
        record.org_id,
        record.owner_id,
        1 if initial_update is not None else 0,
        record.created_at,
        record.created_at,
    )
    if initial_update is not None:
        await tx.execute(
            "INSERT INTO doc_updates (doc_name, seq, data, created_at) VALUES (?, 1, ?, ?)",
            record.name,
            initial_update,
            record.created_at,
        )


async def _allocate(tx: Tx, name: str, count: int, now: int) -> int | None:
    """Reserve `count` seqs for `name` and return the last one; None if it does not exist
    (deleted while someone still held it open: it must not come back)."""
    row = await tx.fetchone(
        "UPDATE documents SET last_seq = last_seq + ?, updated_at = ? WHERE name = ?"
        " RETURNING last_seq",
        count,
        now,
        name,
    )
    return int(row[0]) if row is not None else None
