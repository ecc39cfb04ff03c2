"""Storage on SQLite (the embedded default) or PostgreSQL, behind one `Storage` protocol."""

from __future__ import annotations

from server.settings import Settings
from server.storage.accounts import AccountStore
from server.storage.aliases import AliasStore
from server.storage.attachments import AttachmentStore
from server.storage.base import Storage
from server.storage.conversations import ConversationStore
from server.storage.database import Database
from server.storage.documents import DocumentStore
from server.storage.jobs import JobStore
from server.storage.mail import MailStore
from server.storage.mailboxes import MailboxStore
from server.storage.members import MemberStore
from server.storage.messages import MessageStore
from server.storage.migrations import migrate, schema_version
from server.storage.organization import OrganizationStore
from server.storage.outbox import OutboxStore
from server.storage.responses import ResponseStore
from server.storage.signatures import SignatureStore


class SqlStorage(
    AccountStore,
    DocumentStore,
    ConversationStore,
    OrganizationStore,
    MailboxStore,
    JobStore,
    MailStore,
    MessageStore,
    MemberStore,
    OutboxStore,
    ResponseStore,
    AliasStore,
    SignatureStore,
    AttachmentStore,
):
    def __init__(self, db: Database) -> None:
        self.db = db
        self.backend = db.backend

    async def migrate(self) -> list[int]:
        return await migrate(self.db)

    async def schema_version(self) -> int:
        return await schema_version(self.db)

    async def ping(self) -> None:
        async with self.db.transaction(readonly=True) as tx:
            await tx.fetchone("SELECT 1")

    async def close(self) -> None:
        await self.db.close()


class StorageUnavailable(Exception):
    """The database cannot be opened; the message says which and why."""


async def open_storage(settings: Settings) -> Storage:
    if settings.is_postgres:
        import asyncpg

        from server.storage.postgres import PostgresDatabase

        try:
            return SqlStorage(await PostgresDatabase.open(settings.database_url))
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise StorageUnavailable(f"cannot open PostgreSQL at DATABASE_URL: {exc}") from exc
    import sqlite3

    from server.storage.sqlite import SQLiteDatabase

    try:
        return SqlStorage(await SQLiteDatabase.open(settings.sqlite_path))
    except (OSError, sqlite3.Error) as exc:
        raise StorageUnavailable(f"cannot open SQLite at {settings.sqlite_path}: {exc}") from exc
