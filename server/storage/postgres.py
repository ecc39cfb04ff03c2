"""PostgreSQL through an asyncpg pool. SQL is written with `?` placeholders and numbered
here; row locks (`FOR UPDATE`) serialise writers of one document across processes."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Sequence
from typing import Any

import asyncpg

from server.storage.database import Row, UniqueViolation

_PLACEHOLDER = re.compile(r"\?")
_KEY_COLUMN = re.compile(r"Key \((\w+)")


def numbered(sql: str) -> str:
    counter = iter(range(1, 10_000))
    return _PLACEHOLDER.sub(lambda _: f"${next(counter)}", sql)


class PostgresTx:
    def __init__(self, conn: Any) -> None:
        self._conn = conn

    async def fetchone(self, sql: str, *args: Any) -> Row | None:
        row = await self._conn.fetchrow(numbered(sql), *args)
        return tuple(row) if row is not None else None

    async def fetchall(self, sql: str, *args: Any) -> list[Row]:
        return [tuple(row) for row in await self._conn.fetch(numbered(sql), *args)]

    async def execute(self, sql: str, *args: Any) -> None:
        try:
            await self._conn.execute(numbered(sql), *args)
        except asyncpg.UniqueViolationError as exc:
            raise _unique(exc) from exc

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        try:
            await self._conn.executemany(numbered(sql), rows)
        except asyncpg.UniqueViolationError as exc:
            raise _unique(exc) from exc


def _unique(exc: asyncpg.UniqueViolationError) -> UniqueViolation:
    match = _KEY_COLUMN.search(getattr(exc, "detail", "") or "")
    return UniqueViolation(match[1] if match else "")


class PostgresDatabase:
    backend = "postgres"
    lock_for_update = " FOR UPDATE"

    def __init__(self, pool: Any) -> None:
        self._pool = pool

    @classmethod
    async def open(cls, url: str) -> PostgresDatabase:
        pool = await asyncpg.create_pool(url, min_size=1, max_size=10)
        return cls(pool)

    @contextlib.asynccontextmanager
    async def transaction(self, *, readonly: bool = False) -> AsyncIterator[PostgresTx]:
        async with self._pool.acquire() as conn:
            isolation = "repeatable_read" if readonly else "read_committed"
            async with conn.transaction(isolation=isolation, readonly=readonly):
                yield PostgresTx(conn)

    async def close(self) -> None:
        await self._pool.close()
