"""Canned response rows."""

from __future__ import annotations

from dataclasses import dataclass, field

import orjson

from server.errors import Unprocessable
from server.storage.accounts import new_id, now_ms
from server.storage.database import Database

MAX_PERSONAL = 1_000  # per user (CR-17)
MAX_SHARED = 1_000  # organization and team responses, per organization


@dataclass(frozen=True)
class ResponseRecord:
    id: str
    org_id: str
    scope: str  # personal, team, organization
    user_id: str | None
    team_id: str | None
    title: str
    subject: str
    body: str
    recipients: dict[str, list[dict[str, str]]] = field(default_factory=dict)  # to/cc/bcc
    created_by: str = ""
    updated_at: int = 0


COLUMNS = "id, org_id, scope, user_id, team_id, title, subject, body, recipients, created_by,"
COLUMNS += " updated_at"


def _record(row: tuple[object, ...]) -> ResponseRecord:
    values = list(row)
    values[8] = orjson.loads(str(values[8]))
    values[10] = int(str(values[10]))
    return ResponseRecord(*values)  # type: ignore[arg-type]


class ResponseStore:
    db: Database

    async def create_response(self, record: ResponseRecord) -> ResponseRecord:
        saved = ResponseRecord(
            new_id(), record.org_id, record.scope, record.user_id, record.team_id,
            record.title, record.subject, record.body, record.recipients, record.created_by,
            now_ms(),
        )  # fmt: skip
        async with self.db.transaction() as tx:
            await tx.fetchone(
                f"SELECT 1 FROM organizations WHERE id = ?{self.db.lock_for_update}", saved.org_id
            )
            if saved.scope == "personal":
                row = await tx.fetchone(
                    "SELECT COUNT(*) FROM responses WHERE org_id = ? AND user_id = ?",
                    saved.org_id,
                    saved.user_id,
                )
                limit = MAX_PERSONAL
            else:
                row = await tx.fetchone(
                    "SELECT COUNT(*) FROM responses WHERE org_id = ? AND scope <> 'personal'",
                    saved.org_id,
                )
                limit = MAX_SHARED
            if row is not None and int(row[0]) >= limit:
                raise Unprocessable(f"at most {limit} {saved.scope} responses")
            await tx.execute(
                f"INSERT INTO responses ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                saved.id, saved.org_id, saved.scope, saved.user_id, saved.team_id, saved.title,
                saved.subject, saved.body, orjson.dumps(saved.recipients).decode(),
                saved.created_by, saved.updated_at,
            )  # fmt: skip
        return saved

    async def responses(self, org_id: str) -> list[ResponseRecord]:
        async with self.db.transaction(readonly=True) as tx:
            rows = await tx.fetchall(
                f"SELECT {COLUMNS} FROM responses WHERE org_id = ? ORDER BY title, id", org_id
            )
        return [_record(tuple(row)) for row in rows]

    async def response(self, response_id: str) -> ResponseRecord | None:
        async with self.db.transaction(readonly=True) as tx:
            row = await tx.fetchone(f"SELECT {COLUMNS} FROM responses WHERE id = ?", response_id)
        return _record(tuple(row)) if row is not None else None

    async def update_response(self, record: ResponseRecord) -> ResponseRecord:
        saved = ResponseRecord(**{**record.__dict__, "updated_at": now_ms()})
        async with self.db.transaction() as tx:
            await tx.execute(
                "UPDATE responses SET title = ?, subject = ?, body = ?, recipients = ?,"
                " updated_at = ? WHERE id = ?",
                saved.title, saved.subject, saved.body, orjson.dumps(saved.recipients).decode(),
                saved.updated_at, saved.id,
            )  # fmt: skip
        return saved

    async def delete_response(self, response_id: str) -> None:
        async with self.db.transaction() as tx:
            await tx.execute("DELETE FROM responses WHERE id = ?", response_id)
