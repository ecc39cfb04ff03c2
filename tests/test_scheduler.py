"""Durable jobs: they survive restarts, run once with several workers, retry on failure,
and move or vanish when rescheduled or cancelled."""

from __future__ import annotations

import asyncio
import time

from server.scheduler import Scheduler
from server.settings import Settings
from server.storage import open_storage
from server.storage.base import Storage
from server.storage.jobs import Job


def now_ms() -> int:
    return int(time.time() * 1000)


async def test_a_job_scheduled_before_a_restart_runs_after_it(
    storage: Storage, app_settings: Settings
) -> None:
    await storage.schedule_job("snooze:c1:u1", "test", now_ms() - 1, {"conv": "c1"})
    await storage.close()
    reopened = await open_storage(app_settings)
    try:
        ran: list[dict[str, object]] = []

        async def handler(job: Job) -> None:
            ran.append(job.payload)

        assert await Scheduler(reopened, {"test": handler}).run_due(now_ms()) == 1
        assert ran == [{"conv": "c1"}]
        assert await reopened.pending_jobs() == []
    finally:
        await reopened.close()


async def test_each_job_runs_once_with_two_workers(
    storage: Storage, app_settings: Settings
) -> None:
    for i in range(40):
        await storage.schedule_job(f"k{i}", "test", now_ms() - 1, {"i": i})
    other = await open_storage(app_settings)
    ran: list[int] = []

    async def handler(job: Job) -> None:
        await asyncio.sleep(0)
        ran.append(int(job.payload["i"]))  # type: ignore[arg-type]

    try:
        first, second = Scheduler(storage, {"test": handler}), Scheduler(other, {"test": handler})
        while await storage.pending_jobs():
            await asyncio.gather(first.run_due(now_ms()), second.run_due(now_ms()))
    finally:
        await other.close()
    assert sorted(ran) == list(range(40))


async def test_jobs_wait_for_their_time_and_can_move_or_be_cancelled(storage: Storage) -> None:
    ran: list[str] = []

    async def handler(job: Job) -> None:
        ran.append(job.key)

    scheduler = Scheduler(storage, {"test": handler})
    await storage.schedule_job("later", "test", now_ms() + 60_000, {})
    await storage.schedule_job("moved", "test", now_ms() + 60_000, {})
    await storage.schedule_job("moved", "test", now_ms() - 1, {})  # rescheduled: same key
    await storage.schedule_job("gone", "test", now_ms() - 1, {})
    assert await storage.cancel_job("gone") is True
    await scheduler.run_due(now_ms())
    assert ran == ["moved"]
    assert [job.key for job in await storage.pending_jobs()] == ["later"]


async def test_a_failing_job_is_retried_with_its_error_kept(storage: Storage) -> None:
    attempts: list[int] = []

    async def flaky(job: Job) -> None:
        attempts.append(job.attempts)
        if job.attempts < 2:
            raise RuntimeError("provider said 451")

    scheduler = Scheduler(storage, {"test": flaky})
    await storage.schedule_job("flaky", "test", now_ms() - 1, {})
    await scheduler.run_due(now_ms())
    assert [job.key for job in await storage.pending_jobs()] == ["flaky"]
    await scheduler.run_due(now_ms() + 10_000)  # after the backoff
    assert attempts == [1, 2]
    assert await storage.pending_jobs() == []
