"""Storage on SQLite (the embedded default) or PostgreSQL, behind one `Storage` protocol."""

from __future__ import annotations

from server.settings import Settings
from server.storage.accounts import AccountStore
from server.storage.base import Storage
from server.storage.database import Database
from server.storage.documents import DocumentStore
from server.storage.migrations import migrate, schema_version


class SqlStorage(AccountStore, DocumentStore):
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


async def open_storage(settings: Settings) -> Storage:
    if settings.is_postgres:
        from server.storage.postgres import PostgresDatabase

        return SqlStorage(await PostgresDatabase.open(settings.database_url))
    from server.storage.sqlite import SQLiteDatabase

    return SqlStorage(await SQLiteDatabase.open(settings.sqlite_path))
