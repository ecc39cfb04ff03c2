"""Inbox page and counts for one user in an organization of N conversations, on SQLite and
PostgreSQL: `python -m bench inbox [--quick] [--json]`.

The index rows are bulk-loaded (the documents do not matter to a page query); the user has
access to a tenth of the conversations, a third of those in the Inbox.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from server.settings import Settings
from server.storage import open_storage
from server.storage.base import Storage
from server.storage.mailboxes import MailboxQuery

PG_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


async def _load(storage: Storage, total: int) -> tuple[str, str]:
    org = await storage.create_organization(f"Bench {time.time()}")
    me = await storage.create_user(f"me-{time.time()}@bench.test", "Me", None)
    others = [
        await storage.create_user(f"u{i}-{time.time()}@bench.test", "U", None) for i in range(20)
    ]
    await storage.add_membership(org.id, me.id, "member")
    rng = random.Random(7)
    now = int(time.time() * 1000)
    db = storage.db  # type: ignore[attr-defined]
    batch = 5000
    for start in range(0, total, batch):
        convs, users = [], []
        for i in range(start, min(total, start + batch)):
            cid = f"b{org.id[:8]}{i}"
            at = now - i * 1000
            status = "open" if i % 5 else "closed"
            flags = (False, False, False, None, None)  # team inbox, trashed, spam, snooze, merged
            convs.append((cid, org.id, "thread", f"subject {i}", status, None, *flags,
                          f"preview {i}", "", at, at))  # fmt: skip
            owner = me.id if i % 10 == 0 else rng.choice(others).id
            users.append((cid, owner, i % 30 == 0, i % 7 == 0, False, False, False, False,
                          None, False, False, at, at))  # fmt: skip
        async with db.transaction() as tx:
            await tx.executemany(
                "INSERT INTO conversations (id, org_id, kind, subject, status, team_id,"
                " in_team_inbox, trashed_for_everyone, spam, snoozed_until, merged_into, preview,"
                " assignee_ids, last_activity_at, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                convs,
            )
            await tx.executemany(
                "INSERT INTO conversation_users (conversation_id, user_id, inbox, unread,"
                " chat_unread, watching, starred, trashed, snoozed_until, snooze_hides, assigned,"
                " bumped_at, activity_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                users,
            )
    async with db.transaction() as tx:  # statistics, as autovacuum would have them
        await tx.execute("ANALYZE")
    return org.id, me.id


async def _time(coro_factory: Any, runs: int) -> dict[str, float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await coro_factory()
        samples.append((time.perf_counter() - started) * 1e3)
    samples.sort()
    return {
        "p50_ms": statistics.median(samples),
        "p99_ms": samples[min(len(samples) - 1, int(0.99 * len(samples)))],
    }


def pg_url(name: str) -> str:
    return PG_URL.rsplit("/", 1)[0] + "/" + name


async def create_database(name: str) -> str:
    """A new database for this run, so an older schema elsewhere cannot interfere."""
    import asyncpg

    conn = await asyncpg.connect(PG_URL)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return pg_url(name)


async def drop_database(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_URL)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def measure(backend: str, total: int, runs: int) -> dict[str, Any]:
    database = f"tandem_bench_{os.getpid()}"
    with tempfile.TemporaryDirectory() as tmp:
        settings = (
            Settings(database_url=await create_database(database), secret_key="bench")
            if backend == "postgres"
            else Settings(data_dir=Path(tmp), secret_key="bench")
        )
        try:
            return await _measure(settings, backend, total, runs)
        finally:
            if backend == "postgres":
                await drop_database(database)


async def _measure(settings: Settings, backend: str, total: int, runs: int) -> dict[str, Any]:
    storage = await open_storage(settings)
    try:
        await storage.migrate()
        loaded = time.perf_counter()
        org_id, user_id = await _load(storage, total)
        load_s = time.perf_counter() - loaded
        now = int(time.time() * 1000)
        query = MailboxQuery(user_id=user_id, org_id=org_id, mailbox="inbox", now=now, limit=50)
        page = await _time(lambda: storage.mailbox_page(query), runs)
        deep = (await storage.mailbox_page(query))[1]
        later = MailboxQuery(
            user_id=user_id, org_id=org_id, mailbox="all", now=now, limit=50, cursor=deep
        )
        next_page = await _time(lambda: storage.mailbox_page(later), runs)
        counts = await _time(lambda: storage.unread_counts(user_id, org_id, now), runs)
        return {
            "scenario": "inbox",
            "backend": backend,
            "conversations": total,
            "load_s": round(load_s, 1),
            "inbox_page": page,
            "all_next_page": next_page,
            "counts": counts,
        }
    finally:
        await storage.close()


def run(quick: bool) -> list[dict[str, Any]]:
    total = 20_000 if quick else 200_000
    runs = 50 if quick else 200
    return [asyncio.run(measure(backend, total, runs)) for backend in ("sqlite", "postgres")]
