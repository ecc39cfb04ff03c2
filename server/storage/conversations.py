"""Conversation rows and the one-transaction write every action makes: lock the document,
catch up with its log, append the action's update, replace the index rows."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from server.conversations.index import ConversationIndex, UserRow
from server.errors import Conflict
from server.storage.accounts import now_ms
from server.storage.database import Database, Tx, UniqueViolation
from server.storage.messages import BODY_COLUMNS, MessageBody, body_values, write_parts


@dataclass(frozen=True)
class StoredMessage:
    id: str
    org_id: str
    conversation_id: str
    account_id: str | None
    rfc_message_id: str
    dedupe_key: str
    direction: str
    from_address: str
    subject: str
    sent_at: int | None
    raw: bytes
    body: MessageBody | None = None  # None: parsed later (`tandem migrate`)


_ERASED = (
    ("messages", "conversation_id"),
    ("conversation_users", "conversation_id"),
    ("conversation_labels", "conversation_id"),
    ("conversations", "id"),
)


class ConversationTx:
    """One action's transaction on one conversation document (row locked)."""

    def __init__(self, tx: Tx, name: str, exists: bool) -> None:
        self._tx = tx
        self.name = name
        self.exists = exists

    async def tail(self, after_seq: int) -> list[tuple[int, bytes]]:
        rows = await self._tx.fetchall(
            "SELECT seq, data FROM doc_updates WHERE doc_name = ? AND seq > ? ORDER BY seq",
            self.name,
            after_seq,
        )
        return [(int(seq), bytes(data)) for seq, data in rows]

    async def snapshot(self) -> bytes | None:
        row = await self._tx.fetchone(
            "SELECT data FROM doc_snapshots WHERE doc_name = ?", self.name
        )
        return bytes(row[0]) if row is not None else None

    async def append(self, update: bytes) -> int:
        now = now_ms()
        if not self.exists:
            raise RuntimeError(f"{self.name} does not exist: create() it first")
        row = await self._tx.fetchone(
            "UPDATE documents SET last_seq = last_seq + 1, updated_at = ? WHERE name = ?"
            " RETURNING last_seq",
            now,
            self.name,
        )
        assert row is not None
        seq = int(row[0])
        await self._tx.execute(
            "INSERT INTO doc_updates (doc_name, seq, data, created_at) VALUES (?, ?, ?, ?)",
            self.name,
            seq,
            update,
            now,
        )
        return seq

    async def create(self, org_id: str, owner_id: str | None) -> None:
        now = now_ms()
        try:
            await self._tx.execute(
                "INSERT INTO documents (name, kind, org_id, owner_id, last_seq, created_at,"
                " updated_at) VALUES (?, 'conv', ?, ?, 0, ?, ?)",
                self.name,
                org_id,
                owner_id,
                now,
                now,
            )
        except UniqueViolation:
            raise Conflict(f"{self.name} exists", field="id") from None
        self.exists = True

    async def insert_message(self, row: StoredMessage) -> bool:
        """Store a received or sent message with the action that adds it to the
        conversation; False if the organization already has it (de-duplicated)."""
        columns = (
            "id, org_id, conversation_id, account_id, rfc_message_id, dedupe_key, direction,"
            " from_address, subject, sent_at, raw, created_at"
        )
        values: tuple[object, ...] = (
            row.id, row.org_id, row.conversation_id, row.account_id, row.rfc_message_id,
            row.dedupe_key, row.direction, row.from_address, row.subject, row.sent_at,
            row.raw, now_ms(),
        )  # fmt: skip
        if row.body is not None:
            columns, values = f"{columns}, {BODY_COLUMNS}", values + body_values(row.body)
        try:
            await self._tx.execute(
                f"INSERT INTO messages ({columns}) VALUES ({', '.join('?' * len(values))})",
                *values,
            )
        except UniqueViolation:
            return False
        if row.body is not None:
            await write_parts(self._tx, row.org_id, row.id, row.body)
        return True

    async def record_sent(self, outbox_id: str, draft_id: str, code: int | None) -> None:
        """The outbox item was accepted: marked sent with its draft, in the transaction
        that adds the message to the conversation."""
        now = now_ms()
        await self._tx.execute(
            "UPDATE outbox SET status = 'sent', smtp_code = ?, sent_at = ?, last_error = NULL"
            " WHERE id = ?",
            code,
            now,
            outbox_id,
        )
        await self._tx.execute("UPDATE drafts SET status = 'sent' WHERE id = ?", draft_id)

    async def erase(self, conv_id: str) -> None:
        """A conversation deleted forever: its stored mail and index rows go; the document
        stays as a tombstone so holders learn what happened."""
        for table, column in _ERASED:
            await self._tx.execute(f"DELETE FROM {table} WHERE {column} = ?", conv_id)

    async def save_index(self, index: ConversationIndex) -> None:
        row = dataclasses.asdict(index.row)
        columns = list(row)
        values = [row[c] for c in columns]
        updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c != "id")
        await self._tx.execute(
            f"INSERT INTO conversations ({', '.join(columns)}, created_at)"
            f" VALUES ({', '.join('?' * len(columns))}, ?)"
            f" ON CONFLICT (id) DO UPDATE SET {updates}",
            *values,
            now_ms(),
        )
        conv_id = index.row.id
        await self._tx.execute("DELETE FROM conversation_users WHERE conversation_id = ?", conv_id)
        if index.users:
            user_columns = [f.name for f in dataclasses.fields(index.users[0])]
            await self._tx.executemany(
                f"INSERT INTO conversation_users (conversation_id, {', '.join(user_columns)})"
                f" VALUES (?, {', '.join('?' * len(user_columns))})",
                [[conv_id, *dataclasses.astuple(user)] for user in index.users],
            )
        await self._tx.execute("DELETE FROM conversation_labels WHERE conversation_id = ?", conv_id)
        if index.labels:
            await self._tx.executemany(
                "INSERT INTO conversation_labels (conversation_id, label_id) VALUES (?, ?)",
                [[conv_id, label] for label in index.labels],
            )
        await self._tx.execute("DELETE FROM conversation_keys WHERE conversation_id = ?", conv_id)
        if index.keys:
            await self._tx.executemany(
                "INSERT INTO conversation_keys (conversation_id, org_id, kind, ref)"
                " VALUES (?, ?, ?, ?)",
                [[conv_id, index.row.org_id, kind, ref] for kind, ref in index.keys],
            )


class ConversationTxs(dict[str, ConversationTx]):
    """Several conversations locked in one transaction, by document name."""

    def __init__(self, tx: Tx) -> None:
        super().__init__()
        self._tx = tx

    async def create_for(self, name: str) -> ConversationTx:
        """A transaction handle for a conversation the action creates (`create()` it)."""
        self[name] = ConversationTx(self._tx, name, exists=False)
        return self[name]

    async def merge_rows(self, source: str, target: str) -> None:
        """Everything stored against `source` now belongs to `target` (a merge): its
        messages, its reply drafts and their outbox items."""
        await self.move_messages(source, target)
        for table in ("drafts", "outbox"):
            await self._tx.execute(
                f"UPDATE {table} SET conversation_id = ? WHERE conversation_id = ?",
                target,
                source,
            )

    async def move_messages(self, source: str, target: str, ids: list[str] | None = None) -> None:
        """Re-parent stored messages (all of `source`'s, or just `ids`) to `target`."""
        if ids is None:
            await self._tx.execute(
                "UPDATE messages SET conversation_id = ? WHERE conversation_id = ?", target, source
            )
            return
        for message_id in ids:
            await self._tx.execute(
                "UPDATE messages SET conversation_id = ? WHERE conversation_id = ? AND id = ?",
                target,
                source,
                message_id,
            )


class ConversationStore:
    db: Database

    @contextlib.asynccontextmanager
    async def conversations_transaction(self, names: list[str]) -> AsyncIterator[ConversationTxs]:
        """Lock several conversation documents in the given order, in one transaction."""
        async with self.db.transaction() as tx:
            txs = ConversationTxs(tx)
            for name in names:
                row = await tx.fetchone(
                    f"SELECT last_seq FROM documents WHERE name = ?{self.db.lock_for_update}",
                    name,
                )
                txs[name] = ConversationTx(tx, name, exists=row is not None)
            yield txs

    @contextlib.asynccontextmanager
    async def conversation_transaction(self, name: str) -> AsyncIterator[ConversationTx]:
        async with self.db.transaction() as tx:
            row = await tx.fetchone(
                f"SELECT last_seq FROM documents WHERE name = ?{self.db.lock_for_update}", name
            )
            yield ConversationTx(tx, name, exists=row is not None)

    async def conversation_access(self, conv_id: str, user_id: str) -> bool:
        """On its access list and a member of its organization: someone removed from the
        organization keeps their entry (it counts again if they come back) but reads
        nothing."""
        async with self.db.transaction(readonly=True) as tx:
            row = await tx.fetchone(
                "SELECT 1 FROM conversation_users cu"
                " JOIN conversations c ON c.id = cu.conversation_id"
                " JOIN memberships m ON m.org_id = c.org_id AND m.user_id = cu.user_id"
                " WHERE cu.conversation_id = ? AND cu.user_id = ?",
                conv_id,
                user_id,
            )
        return row is not None

    async def conversation_org(self, conv_id: str) -> tuple[str, str | None] | None:
        """(organization, merged_into) of a conversation, or None if there is none."""
        async with self.db.transaction(readonly=True) as tx:
            row = await tx.fetchone(
                "SELECT org_id, merged_into FROM conversations WHERE id = ?", conv_id
            )
        return (str(row[0]), row[1]) if row is not None else None

    async def conversation_for_post(self, post_id: str) -> str | None:
        async with self.db.transaction(readonly=True) as tx:
            row = await tx.fetchone(
                "SELECT conversation_id FROM conversation_keys WHERE kind = 'post' AND ref = ?",
                post_id,
            )
        return str(row[0]) if row is not None else None

    async def conversations_for_references(
        self, org_id: str, references: Sequence[str]
    ) -> dict[str, list[str]]:
        """Reference -> the conversations (not merged away) whose posts carried it, most
        recent activity first."""
        found: dict[str, list[str]] = {}
        if not references:
            return found
        async with self.db.transaction(readonly=True) as tx:
            rows = await tx.fetchall(
                "SELECT k.ref, k.conversation_id FROM conversation_keys k"
                " JOIN conversations c ON c.id = k.conversation_id"
                " WHERE k.kind = 'reference' AND k.org_id = ? AND c.merged_into IS NULL"
                f" AND k.ref IN ({', '.join('?' * len(references))})"
                " ORDER BY c.last_activity_at DESC, c.id",
                org_id,
                *references,
            )
        for ref, conv_id in rows:
            found.setdefault(str(ref), []).append(str(conv_id))
        return found

    async def stored_index(self, conv_id: str) -> tuple[tuple[UserRow, ...], tuple[str, ...]]:
        """The stored per-user rows and labels of one conversation (reindex checks)."""
        async with self.db.transaction(readonly=True) as tx:
            users = await tx.fetchall(
                "SELECT user_id, inbox, unread, chat_unread, watching, starred, trashed,"
                " snoozed_until, snooze_hides, assigned, bumped_at, activity_at, hidden_until"
                " FROM conversation_users"
                " WHERE conversation_id = ? ORDER BY user_id",
                conv_id,
            )
            labels = await tx.fetchall(
                "SELECT label_id FROM conversation_labels WHERE conversation_id = ?"
                " ORDER BY label_id",
                conv_id,
            )
        rows = tuple(
            UserRow(
                user_id=str(r[0]),
                inbox=bool(r[1]),
                unread=bool(r[2]),
                chat_unread=bool(r[3]),
                watching=bool(r[4]),
                starred=bool(r[5]),
                trashed=bool(r[6]),
                snoozed_until=None if r[7] is None else int(r[7]),
                snooze_hides=bool(r[8]),
                assigned=bool(r[9]),
                bumped_at=int(r[10]),
                activity_at=int(r[11]),
                hidden_until=None if r[12] is None else int(r[12]),
            )
            for r in users
        )
        return rows, tuple(str(label) for (label,) in labels)
