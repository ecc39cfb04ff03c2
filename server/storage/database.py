"""The little the SQL storage needs from a driver: transactions that run `?`-style SQL.
`sqlite.py` and `postgres.py` adapt aiosqlite and asyncpg to it."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any, Protocol

Row = tuple[Any, ...]


class UniqueViolation(Exception):
    """A UNIQUE or PRIMARY KEY constraint refused a row; `column` names it when known."""

    def __init__(self, column: str) -> None:
        super().__init__(column)
        self.column = column


class Tx(Protocol):
    async def fetchone(self, sql: str, *args: Any) -> Row | None: ...

    async def fetchall(self, sql: str, *args: Any) -> list[Row]: ...

    async def execute(self, sql: str, *args: Any) -> None: ...

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...


class Database(Protocol):
    backend: str
    lock_for_update: str  # " FOR UPDATE" where row locks exist, "" where the tx locks all

    def transaction(self, *, readonly: bool = False) -> contextlib.AbstractAsyncContextManager[Tx]:
        """Serializable enough for what the caller does: a write transaction excludes other
        writers of the rows it touches; a read-only one sees one consistent snapshot."""
        ...

    async def close(self) -> None: ...
