"""Versioned schema migrations: `server/migrations/<backend>/NNNN_name.sql`, applied in
order, each in its own transaction, recorded in `schema_migrations`.

On PostgreSQL every migrating transaction first takes one advisory lock, so processes that
migrate at once apply each version exactly once. A migration file is split on `;`: keep
semicolons out of string literals and bodies (no triggers or functions written inline)."""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path

from server.storage.database import Database, Tx

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
_FILE = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
_ADVISORY_KEY = 0x7A4D_0001  # any constant; serialises concurrent `tandem migrate` runs


class MigrationError(Exception):
    """The migration files themselves are wrong (two files share a version)."""


@dataclass(frozen=True)
class Migration:
    version: int
    path: Path

    def statements(self) -> list[str]:
        return [part.strip() for part in self.path.read_text().split(";") if part.strip()]


def migrations_for(backend: str) -> list[Migration]:
    found: list[Migration] = []
    for path in sorted((MIGRATIONS / backend).iterdir()):
        match = _FILE.match(path.name)
        if match is None:
            continue
        if found and found[-1].version == int(match[1]):
            raise MigrationError(f"{found[-1].path.name} and {path.name} share a version")
        found.append(Migration(int(match[1]), path))
    return found


def latest_version(backend: str) -> int:
    return max((m.version for m in migrations_for(backend)), default=0)


_TABLE_EXISTS = {
    "sqlite": "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
    "postgres": "SELECT 1 FROM information_schema.tables"
    " WHERE table_schema = current_schema() AND table_name = 'schema_migrations'",
}


async def schema_version(db: Database) -> int:
    """The last version up to which every migration file is applied, 0 on an empty
    database: a database that skipped a file numbered below its newest (two branches
    landing out of order) reads as outdated until `tandem migrate` applies it. Read-only
    and lock-free: the health check asks on every probe."""
    async with db.transaction(readonly=True) as tx:
        if await tx.fetchone(_TABLE_EXISTS[db.backend]) is None:
            return 0
        rows = await tx.fetchall("SELECT version FROM schema_migrations")
    applied = {int(version) for (version,) in rows}
    current = 0
    for migration in migrations_for(db.backend):
        if migration.version not in applied:
            break
        current = migration.version
    return current


async def migrate(db: Database) -> list[int]:
    applied = []
    for migration in migrations_for(db.backend):
        async with db.transaction() as tx:
            if db.backend == "postgres":
                await tx.execute("SELECT pg_advisory_xact_lock(?)", _ADVISORY_KEY)
            await _ensure_table(tx)
            done = await tx.fetchone(
                "SELECT 1 FROM schema_migrations WHERE version = ?", migration.version
            )
            if done:
                continue
            for statement in migration.statements():
                await tx.execute(statement)
            await tx.execute(
                "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
                migration.version,
                int(time.time() * 1000),
            )
        log.info("applied migration %04d (%s)", migration.version, migration.path.name)
        applied.append(migration.version)
    return applied


async def _ensure_table(tx: Tx) -> None:
    await tx.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations"
        " (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)"
    )
