"""Runs due jobs: polls the job table a few times a second, hands each job to the handler
for its kind, and retries failures with backoff. Several processes may run it at once;
each job runs once."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

import anyio

from server.storage.base import Storage
from server.storage.jobs import Job

log = logging.getLogger(__name__)

Handler = Callable[[Job], Awaitable[None]]
POLL_S = 0.25
BATCH = 50
MAX_BACKOFF_MS = 300_000


class Scheduler:
    def __init__(self, storage: Storage, handlers: dict[str, Handler] | None = None) -> None:
        self.storage = storage
        self.handlers: dict[str, Handler] = dict(handlers or {})
        self.ran = 0

    def register(self, kind: str, handler: Handler) -> None:
        self.handlers[kind] = handler

    async def run(self) -> None:
        while True:
            with anyio.CancelScope(shield=True):  # finish the batch; stop between batches
                await self.run_due(int(time.time() * 1000))
            await anyio.sleep(POLL_S)

    async def run_due(self, now: int) -> int:
        jobs = await self.storage.claim_due_jobs(now, BATCH)
        for job in jobs:
            await self._run(job)
        return len(jobs)

    async def _run(self, job: Job) -> None:
        handler = self.handlers.get(job.kind)
        if handler is None:
            log.error("job %s of unknown kind %r; retrying later", job.key, job.kind)
            await self._retry(job, f"no handler for {job.kind}")
            return
        try:
            await handler(job)
        except Exception as exc:  # a failing job must not stop the others; logged, retried
            log.exception("job %s (%s) failed", job.key, job.kind)
            await self._retry(job, repr(exc))
            return
        await self.storage.finish_job(job)
        self.ran += 1

    async def _retry(self, job: Job, error: str) -> None:
        backoff = min(MAX_BACKOFF_MS, 1000 * 2 ** min(job.attempts, 16))
        await self.storage.retry_job(job, int(time.time() * 1000) + backoff, error)
