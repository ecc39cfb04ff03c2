"""SQLite through aiosqlite: WAL, `synchronous=FULL`, one connection whose transactions
are serialised by a lock (`BEGIN IMMEDIATE` for writes)."""

from __future__ import annotations

import asyncio
import contextlib
import re
import sqlite3
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import aiosqlite

from server.storage.database import Row, UniqueViolation

_UNIQUE = re.compile(r"UNIQUE constraint failed: \w+\.(\w+)")


class SQLiteTx:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def fetchone(self, sql: str, *args: Any) -> Row | None:
        async with self._conn.execute(sql, args) as cursor:
            row = await cursor.fetchone()
        return tuple(row) if row is not None else None

    async def fetchall(self, sql: str, *args: Any) -> list[Row]:
        async with self._conn.execute(sql, args) as cursor:
            return [tuple(row) for row in await cursor.fetchall()]

    async def execute(self, sql: str, *args: Any) -> None:
        try:
            await self._conn.execute(sql, args)
        except sqlite3.IntegrityError as exc:
            raise _unique(exc) from exc

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        try:
            await self._conn.executemany(sql, rows)
        except sqlite3.IntegrityError as exc:
            raise _unique(exc) from exc


def _unique(exc: sqlite3.IntegrityError) -> Exception:
    match = _UNIQUE.search(str(exc))
    return UniqueViolation(match[1]) if match else exc


class SQLiteDatabase:
    backend = "sqlite"
    lock_for_update = ""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path) -> SQLiteDatabase:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(path, isolation_level=None)
        for pragma in (
            "journal_mode=WAL",
            "synchronous=FULL",
            "foreign_keys=ON",
            "busy_timeout=10000",
        ):
            await conn.execute(f"PRAGMA {pragma}")
        return cls(conn)

    @contextlib.asynccontextmanager
    async def transaction(self, *, readonly: bool = False) -> AsyncIterator[SQLiteTx]:
        async with self._lock:
            await self._conn.execute("BEGIN" if readonly else "BEGIN IMMEDIATE")
            try:
                yield SQLiteTx(self._conn)
            except BaseException:
                await self._conn.execute("ROLLBACK")
                raise
            await self._conn.execute("COMMIT")

    async def close(self) -> None:
        await self._conn.close()
