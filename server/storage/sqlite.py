"""SQLite through aiosqlite: WAL, `synchronous=FULL`, one connection whose transactions
are serialised by a lock (`BEGIN IMMEDIATE` for writes).

aiosqlite runs statements in order on one thread, and cancelling an `await` does not take
a queued statement back: a `BEGIN` whose caller was cancelled still runs. So every way out
of a transaction that is not its `COMMIT` queues a `ROLLBACK` behind whatever is in flight,
and the next transaction starts on a clean connection."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import aiosqlite

from server.storage.database import Row, UniqueViolation

log = logging.getLogger(__name__)

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
        try:
            async with conn.execute("PRAGMA journal_mode=WAL") as cursor:
                mode = await cursor.fetchone()
            if mode is None or str(mode[0]).lower() != "wal":
                log.warning("SQLite at %s refused WAL mode (journal_mode=%s)", path, mode)
            for pragma in ("synchronous=FULL", "foreign_keys=ON", "busy_timeout=10000"):
                await conn.execute(f"PRAGMA {pragma}")
        except BaseException:
            await conn.close()  # its worker thread would otherwise keep the process alive
            raise
        return cls(conn)

    @contextlib.asynccontextmanager
    async def transaction(self, *, readonly: bool = False) -> AsyncIterator[SQLiteTx]:
        async with self._lock:
            try:
                await self._conn.execute("BEGIN" if readonly else "BEGIN IMMEDIATE")
                yield SQLiteTx(self._conn)
                await self._conn.execute("COMMIT")
            except BaseException:
                await self._rollback()
                raise

    async def _rollback(self) -> None:
        """Queued behind any statement still in flight (a cancelled `BEGIN` included);
        harmless when no transaction is open (`BEGIN` failed, or `COMMIT` went through)."""
        try:
            await self._conn.execute("ROLLBACK")
        except sqlite3.OperationalError as exc:
            if "no transaction is active" not in str(exc):
                raise

    async def close(self) -> None:
        await self._conn.close()
