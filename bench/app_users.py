"""100 concurrent users performing commands against a real Tandem server process: uvicorn
(websockets-sansio) pinned to CPU 0, on SQLite or on PostgreSQL + Redis, the organization
seeded beforehand (`bench.app_seed`), the users looping from this process (`bench.app_load`).
One user alone runs first (`one_user`: the latencies without queueing); the server's CPU is
counted over the 100 users' run only. PostgreSQL's and Redis's own processes are not pinned
and not counted."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from bench.app_load import run_users
from bench.app_seed import seed
from bench.inbox import create_database, drop_database
from bench.procstat import ProcStat, stop, tandem_env, wait_listening
from server.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _start(settings: Settings, port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "bench.serve", "websockets-sansio", str(port)]
    return subprocess.Popen(  # its output to stderr: stdout carries the JSON lines
        ["taskset", "-c", "0", *command], cwd=ROOT, env=tandem_env(settings), stdout=sys.stderr
    )


def _solo(figures: dict[str, Any]) -> dict[str, Any]:
    keep = ("wall_s", "commands_per_s", "all_commands", "latency", "errors", "error_examples")
    return {key: figures[key] for key in keep}


async def _serve_and_load(
    settings: Settings, users: int, conversations: int, seconds: float
) -> dict[str, Any]:
    seeded = await seed(settings, users, conversations)
    port = free_port()
    server = _start(settings, port)
    try:
        await wait_listening(port, server)
        base_url = f"http://127.0.0.1:{port}"
        # one user alone first: the service time, without queueing behind the others
        solo = _solo(await run_users(base_url, seeded, 1, max(3.0, seconds / 5)))
        stat = ProcStat(server.pid)
        me = ProcStat(os.getpid())
        stat.start()
        me.start()
        figures = await run_users(base_url, seeded, users, seconds)
        server_cpu, load_cpu = stat.stop(), me.stop()
        return {
            "conversations": seeded.conversations,
            "messages": seeded.messages,
            "seed_s": round(seeded.seed_s, 1),
            **figures,
            "server_cpu_s": round(server_cpu["cpu_s"], 1),
            "server_cpu_pct": round(server_cpu["cpu_pct"], 1),
            "server_rss_kb": stat.rss_kb(),
            "loadgen_cpu_pct": round(load_cpu["cpu_pct"], 1),
            "one_user": solo,
        }
    finally:
        stop(server)


async def measure(backend: str, users: int, conversations: int, seconds: float) -> dict[str, Any]:
    """One backend: `sqlite`, or `postgres` (with Redis, in a database made and dropped
    for this run)."""
    head: dict[str, Any] = {"scenario": "concurrent_users", "backend": backend}
    async with backend_settings(backend, "bench_app") as (settings, database):
        if database is not None:
            head["redis"] = True
        return {**head, **await _serve_and_load(settings, users, conversations, seconds)}


@contextlib.asynccontextmanager
async def backend_settings(backend: str, prefix: str) -> AsyncIterator[tuple[Settings, str | None]]:
    """Settings for one run: `sqlite` in a fresh data directory, or `postgres` with Redis
    in a database `<prefix>_<pid>` made now and dropped after (its name is yielded too)."""
    with tempfile.TemporaryDirectory(prefix=f"{prefix}-") as tmp:
        if backend == "sqlite":
            yield Settings(data_dir=Path(tmp), secret_key="bench", log_level="WARNING"), None
            return
        database = f"{prefix}_{os.getpid()}"
        url = await create_database(database)
        try:
            yield (
                Settings(
                    data_dir=Path(tmp),
                    database_url=url,
                    redis_url=REDIS_URL,
                    secret_key="bench",
                    log_level="WARNING",
                ),
                database,
            )
        finally:
            await drop_database(database)
