"""Versioned schema migrations: `server/migrations/<backend>/NNNN_name.sql`, applied in
order, each in its own transaction, recorded in `schema_migrations`."""

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


@dataclass(frozen=True)
class Migration:
    version: int
    path: Path

    def statements(self) -> list[str]:
        return [part.strip() for part in self.path.read_text().split(";") if part.strip()]


def migrations_for(backend: str) -> list[Migration]:
    found = []
    for path in sorted((MIGRATIONS / backend).iterdir()):
        match = _FILE.match(path.name)
        if match:
            found.append(Migration(int(match[1]), path))
    return found


def latest_version(backend: str) -> int:
    return max((m.version for m in migrations_for(backend)), default=0)


async def schema_version(db: Database) -> int:
    async with db.transaction() as tx:
        if db.backend == "postgres":
            await tx.execute("SELECT pg_advisory_xact_lock(?)", _ADVISORY_KEY)
        await _ensure_table(tx)
        row = await tx.fetchone("SELECT MAX(version) FROM schema_migrations")
    return int(row[0]) if row and row[0] is not None else 0


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
