"""The durable job table: scheduled work that survives restarts and runs once.

A job is claimed by setting `claimed_until` (a lease) inside a transaction that, on
PostgreSQL, skips rows other workers hold (`FOR UPDATE SKIP LOCKED`); a worker that dies
mid-job lets the lease run out and the job is claimed again. Finishing deletes the row.
Each job has a caller-chosen unique `key`, so scheduling the same thing twice replaces it
(a snooze moved to a new time) and cancelling is by key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from server.storage.accounts import new_id, now_ms
from server.storage.database import Database

LEASE_MS = 60_000


@dataclass(frozen=True)
class Job:
    id: str
    key: str
    kind: str
    due_at: int
    payload: dict[str, Any]
    attempts: int


class JobStore:
    db: Database

    async def schedule_job(self, key: str, kind: str, due_at: int, payload: dict[str, Any]) -> str:
        job_id = new_id()
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO jobs (id, key, kind, due_at, payload, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET"
                " kind = excluded.kind, due_at = excluded.due_at, payload = excluded.payload,"
                " attempts = 0, claimed_until = 0, last_error = NULL",
                job_id,
                key,
                kind,
                due_at,
                orjson.dumps(payload).decode(),
                now_ms(),
            )
        return job_id

    async def cancel_job(self, key: str) -> bool:
        async with self.db.transaction() as tx:
            row = await tx.fetchone("DELETE FROM jobs WHERE key = ? RETURNING id", key)
        return row is not None

    async def claim_due_jobs(self, now: int, limit: int) -> list[Job]:
        # Most polls find nothing: look first without taking the write lock, which the
        # update log's group commits need far more often than the scheduler does.
        async with self.db.transaction(readonly=True) as tx:
            due = await tx.fetchone(
                "SELECT 1 FROM jobs WHERE due_at <= ? AND claimed_until <= ? LIMIT 1", now, now
            )
        if due is None:
            return []
        async with self.db.transaction() as tx:
            skip = " SKIP LOCKED" if self.db.lock_for_update else ""
            rows = await tx.fetchall(
                "SELECT id, key, kind, due_at, payload, attempts FROM jobs"
                " WHERE due_at <= ? AND claimed_until <= ? ORDER BY due_at LIMIT ?"
                f"{self.db.lock_for_update}{skip}",
                now,
                now,
                limit,
            )
            for row in rows:
                await tx.execute(
                    "UPDATE jobs SET claimed_until = ?, attempts = attempts + 1 WHERE id = ?",
                    now + LEASE_MS,
                    row[0],
                )
        return [
            Job(str(r[0]), str(r[1]), str(r[2]), int(r[3]), orjson.loads(r[4]), int(r[5]) + 1)
            for r in rows
        ]

    async def finish_job(self, job: Job) -> None:
        async with self.db.transaction() as tx:
            # only this claim: a job rescheduled meanwhile (new due_at) must stay
            await tx.execute("DELETE FROM jobs WHERE id = ? AND due_at = ?", job.id, job.due_at)

    async def retry_job(self, job: Job, at: int, error: str) -> None:
        async with self.db.transaction() as tx:
            await tx.execute(
                "UPDATE jobs SET claimed_until = ?, last_error = ? WHERE id = ? AND due_at = ?",
                at,
                error[:1000],
                job.id,
                job.due_at,
            )

    async def pending_jobs(self) -> list[Job]:
        async with self.db.transaction(readonly=True) as tx:
            rows = await tx.fetchall(
                "SELECT id, key, kind, due_at, payload, attempts FROM jobs ORDER BY due_at"
            )
        return [
            Job(str(r[0]), str(r[1]), str(r[2]), int(r[3]), orjson.loads(r[4]), int(r[5]))
            for r in rows
        ]
