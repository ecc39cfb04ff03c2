"""Signature rows: personal (an owner) or the organization's."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from server.errors import Unprocessable
from server.storage.accounts import new_id, now_ms
from server.storage.database import Database, Row

MAX_PERSONAL = 100  # per user (SF-6)
MAX_ORGANIZATION = 500  # per organization (SF-6)


@dataclass(frozen=True)
class SignatureRecord:
    id: str
    org_id: str
    scope: str  # personal, organization
    owner_id: str | None
    name: str
    format: str  # richtext, html
    body: str
    insert_in: str  # all, first, first_then_alt
    alt_body: str
    created_by: str
    created_at: int = 0
    updated_at: int = 0


COLUMNS = "id, org_id, scope, owner_id, name, format, body, insert_in, alt_body, created_by,"
COLUMNS += " created_at, updated_at"


def _record(row: Row) -> SignatureRecord:
    values = list(row)
    values[10], values[11] = int(values[10]), int(values[11])
    return SignatureRecord(*values)


class SignatureStore:
    db: Database

    async def create_signature(self, record: SignatureRecord) -> SignatureRecord:
        now = now_ms()
        saved = dataclasses.replace(record, id=new_id(), created_at=now, updated_at=now)
        async with self.db.transaction() as tx:
            await tx.fetchone(
                f"SELECT 1 FROM organizations WHERE id = ?{self.db.lock_for_update}", saved.org_id
            )
            if saved.scope == "personal":
                row = await tx.fetchone(
                    "SELECT COUNT(*) FROM signatures WHERE org_id = ? AND owner_id = ?",
                    saved.org_id,
                    saved.owner_id,
                )
                limit, per = MAX_PERSONAL, "user"
            else:
                row = await tx.fetchone(
                    "SELECT COUNT(*) FROM signatures WHERE org_id = ? AND scope = 'organization'",
                    saved.org_id,
                )
                limit, per = MAX_ORGANIZATION, "organization"
            if row is not None and int(row[0]) >= limit:
                raise Unprocessable(
                    f"at most {limit} {saved.scope} signatures per {per}", field="scope"
                )
            await tx.execute(
                f"INSERT INTO signatures ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                *dataclasses.astuple(saved),
            )
        return saved

    async def signatures(self, org_id: str) -> list[SignatureRecord]:
        async with self.db.transaction(readonly=True) as tx:
            rows = await tx.fetchall(
                f"SELECT {COLUMNS} FROM signatures WHERE org_id = ? ORDER BY name, id", org_id
            )
        return [_record(row) for row in rows]

    async def signature(self, signature_id: str) -> SignatureRecord | None:
        async with self.db.transaction(readonly=True) as tx:
            row = await tx.fetchone(f"SELECT {COLUMNS} FROM signatures WHERE id = ?", signature_id)
        return _record(row) if row is not None else None

    async def update_signature(self, record: SignatureRecord) -> SignatureRecord:
        saved = dataclasses.replace(record, updated_at=now_ms())
        async with self.db.transaction() as tx:
            await tx.execute(
                "UPDATE signatures SET name = ?, format = ?, body = ?, insert_in = ?,"
                " alt_body = ?, updated_at = ? WHERE id = ?",
                saved.name, saved.format, saved.body, saved.insert_in, saved.alt_body,
                saved.updated_at, saved.id,
            )  # fmt: skip
        return saved

    async def delete_signature(self, signature_id: str) -> None:
        """Aliases that used it are left with no signature (the column is set to NULL)."""
        async with self.db.transaction() as tx:
            await tx.execute("DELETE FROM signatures WHERE id = ?", signature_id)
