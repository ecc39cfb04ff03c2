"""Mail in full: how fast `tandem import` stores a realistic mailbox, and how fast a long
conversation's messages are read back, on SQLite and on PostgreSQL + Redis.

1. `import`: a seeded mbox (`bench.app_mail_corpus`: 10,000 messages, 2,000 with `--quick`)
   fed to `tandem import` in a fresh process pinned to CPU 0, timed end to end (start-up
   included), into an organization made for the run; the import result's counts are
   reported next to what the mbox was built to hold, so a silent drop shows (`unaccounted`).
2. `messages_page`: a 400-message thread imported the same way into the same account, then
   a real `tandem serve` on CPU 0 and sequential authenticated requests from this process
   (CPU 1): the first page (`limit=50`), a full page (`limit=200`), and walks of every page
   at `limit=50`, each timed on the monotonic clock."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.app_load import percentiles
from bench.app_mail_corpus import ADDRESS, Mailbox, build_mailbox, build_thread
from bench.app_users import backend_settings, free_port
from bench.inbox import PG_URL
from bench.procstat import ProcStat, cpu_s, stop, tandem_env, wait_listening
from server.credentials import new_api_token
from server.settings import Settings
from server.storage import open_storage

ROOT = Path(__file__).resolve().parent.parent
THREAD = 400
TEAM = 5  # agents on the team whose inbox the account feeds


@dataclass(frozen=True)
class Corpus:
    """The two mbox files of a run, written once and imported on each backend."""

    mailbox: Mailbox
    mailbox_path: Path
    thread_path: Path
    requests: int  # per page shape; walks are a fifth of it
    quick: bool


@contextlib.contextmanager
def written(quick: bool) -> Iterator[Corpus]:
    started = time.perf_counter()
    mailbox = build_mailbox(2_000 if quick else 10_000, seed=11)
    thread = build_thread(THREAD, seed=12)
    with tempfile.TemporaryDirectory(prefix="bench-mail-") as tmp:
        mailbox_path, thread_path = Path(tmp, "archive.mbox"), Path(tmp, "thread.mbox")
        mailbox_path.write_bytes(mailbox.data)
        thread_path.write_bytes(thread.data)
        print(
            f"(mail corpus: {mailbox.messages} + {thread.messages} messages,"
            f" {len(mailbox.data) / 1e6:.0f} MB, in {time.perf_counter() - started:.0f} s)",
            file=sys.stderr,
        )
        yield Corpus(mailbox, mailbox_path, thread_path, 100 if quick else 500, quick)


async def _organization(settings: Settings) -> str:
    """An organization whose team inbox is fed by ADDRESS; the first agent's API token."""
    storage = await open_storage(settings)
    try:
        await storage.migrate()
        org = await storage.create_organization("Bench mail")
        agents = []
        for n in range(TEAM):
            user = await storage.create_user(f"agent{n}@bench.test", f"Agent {n}", None)
            await storage.add_membership(org.id, user.id, "owner" if n == 0 else "member")
            agents.append(user.id)
        team = await storage.create_team(org.id, "Support", agents, [], True)
        await storage.create_account(org.id, ADDRESS, agents[0], "team_inbox", team.id, [])
        token, token_hash = new_api_token()
        await storage.create_api_token(agents[0], token_hash, "bench")
        return token
    finally:
        await storage.close()


def _import(settings: Settings, path: Path, log: Path) -> dict[str, Any]:
    """`tandem import ADDRESS path --json` on CPU 0: its result, wall and CPU seconds."""
    command = [sys.executable, "-m", "server.cli", "import", ADDRESS, str(path), "--json"]
    started = time.perf_counter()
    with log.open("ab") as err:
        proc = subprocess.Popen(
            ["taskset", "-c", "0", *command],
            cwd=ROOT,
            env=tandem_env(settings),
            stdout=subprocess.PIPE,
            stderr=err,
        )
        assert proc.stdout is not None
        out = proc.stdout.read()
        proc.stdout.close()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        tail = log.read_text(errors="replace").strip().splitlines()[-3:]
        raise RuntimeError(f"tandem import exited with {proc.returncode}: {tail}")
    result: dict[str, Any] = orjson.loads(out)
    result.update(wall_s=wall, cpu_s=usage.ru_utime + usage.ru_stime, rss_kb=usage.ru_maxrss)
    return result


async def _database_cpu_s(database: str, done: asyncio.Event) -> float:
    """CPU seconds of the PostgreSQL backends serving `database` until `done`, each read
    every 0.2 s while it lives (a backend's last fifth of a second can be missed)."""
    import asyncpg

    conn = await asyncpg.connect(PG_URL)
    seen: dict[int, float] = {}
    try:
        while not done.is_set():
            query = "SELECT pid FROM pg_stat_activity WHERE datname = $1"
            for pid in [int(row["pid"]) for row in await conn.fetch(query, database)]:
                seen[pid] = max(seen.get(pid, 0.0), cpu_s(pid))
            await asyncio.sleep(0.2)
    finally:
        await conn.close()
    return sum(seen.values())


async def _import_metered(
    settings: Settings, path: Path, log: Path, database: str | None
) -> dict[str, Any]:
    """`_import`, and on PostgreSQL the CPU its database backends spent meanwhile."""
    if database is None:
        return await asyncio.to_thread(_import, settings, path, log)
    done = asyncio.Event()
    async with asyncio.TaskGroup() as group:
        meter = group.create_task(_database_cpu_s(database, done))
        try:
            result = await asyncio.to_thread(_import, settings, path, log)
        finally:
            done.set()
    return {**result, "database_cpu_s": meter.result()}


def _import_figures(result: dict[str, Any], mailbox: Mailbox, log: Path) -> dict[str, Any]:
    counted = result["imported"] + result["duplicates"] + result["rejected"]
    logged = [line for line in log.read_text(errors="replace").splitlines() if " ERROR " in line]
    database_cpu = result.get("database_cpu_s")  # PostgreSQL only
    return {
        "messages": mailbox.messages,
        "mbox_mb": round(len(mailbox.data) / 1e6, 1),
        "wall_s": round(result["wall_s"], 1),
        "messages_per_s": round(mailbox.messages / result["wall_s"], 1),
        "importer_cpu_s": round(result["cpu_s"], 1),
        "importer_rss_mb": round(result["rss_kb"] / 1024),
        "database_cpu_s": None if database_cpu is None else round(database_cpu, 1),
        **{key: result[key] for key in ("total", "imported", "duplicates", "rejected", "joined")},
        "conversations": len(result["conversations"]),
        "unaccounted": mailbox.messages - counted,
        "planted": {
            "duplicates": mailbox.duplicates,
            "rejects": mailbox.rejects,
            "lenient_malformed": mailbox.lenient,
            "threads": mailbox.threads,
        },
        "errors": result["errors"][:8],
        "logged_errors": len(logged),
        "logged_examples": logged[:3],
    }


def _start_server(settings: Settings, port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "server.cli", "serve", "--host", "127.0.0.1"]
    return subprocess.Popen(  # its output to stderr: stdout carries the JSON lines
        ["taskset", "-c", "0", *command, "--port", str(port)],
        cwd=ROOT,
        env=tandem_env(settings),
        stdout=sys.stderr,
    )


class _Pages:
    """Sequential requests for one conversation's messages, each checked and timed."""

    def __init__(self, client: httpx.AsyncClient, conv_id: str) -> None:
        self.client, self.url = client, f"/api/conversations/{conv_id}/messages"
        self.errors: list[str] = []
        self.sizes: dict[int, int] = {}

    async def page(self, limit: int, cursor: str | None = None) -> tuple[float, dict[str, Any]]:
        params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        started = time.perf_counter()
        response = await self.client.get(self.url, params=params)
        ms = (time.perf_counter() - started) * 1e3
        if response.status_code != 200:
            self.errors.append(f"{response.status_code} {response.text[:200]}")
            return ms, {"messages": [], "next": None}
        self.sizes.setdefault(limit, len(response.content))
        body: dict[str, Any] = orjson.loads(response.content)
        return ms, body

    async def walk(self, limit: int) -> tuple[float, list[float], list[dict[str, Any]]]:
        pages, messages, cursor = [], [], None
        while True:
            ms, body = await self.page(limit, cursor)
            pages.append(ms)
            messages += body["messages"]
            cursor = body["next"]
            if cursor is None:
                return sum(pages), pages, messages


def _distinct(messages: list[dict[str, Any]]) -> bool:
    return len({m["id"] for m in messages}) == len(messages)


async def _read_pages(base_url: str, token: str, conv_id: str, runs: int) -> dict[str, Any]:
    async with httpx.AsyncClient(
        base_url=base_url, headers={"authorization": f"Bearer {token}"}, timeout=60.0
    ) as client:
        pages = _Pages(client, conv_id)
        _, _, every = await pages.walk(200)
        for _ in range(10):  # warm: caches, the connection, the directory
            await pages.page(50)
            await pages.page(200)
        first = [(await pages.page(50))[0] for _ in range(runs)]
        full = [(await pages.page(200))[0] for _ in range(runs)]
        walks, walk_pages = [], []
        for _ in range(max(20, runs // 5)):
            total, each, walked = await pages.walk(50)
            walks.append(total)
            walk_pages += each
        return {
            "conversation_messages": len(every),
            "distinct_and_complete": _distinct(every) and len(walked) == len(every),
            "first_page_50": {**percentiles(first), "kb": pages.sizes.get(50, 0) // 1024},
            "page_200": {**percentiles(full), "kb": pages.sizes.get(200, 0) // 1024},
            f"walk_{len(walk_pages) // len(walks)}_pages_of_50": percentiles(walks),
            "walk_each_page": percentiles(walk_pages),
            "errors": len(pages.errors),
            "error_examples": pages.errors[:3],
        }


async def _measure(
    settings: Settings, corpus: Corpus, log: Path, database: str | None = None
) -> dict[str, Any]:
    token = await _organization(settings)
    archive = await _import_metered(settings, corpus.mailbox_path, log, database)
    thread = await _import_metered(settings, corpus.thread_path, log, database)
    figures: dict[str, Any] = {
        "quick": corpus.quick,
        "import": _import_figures(archive, corpus.mailbox, log),
        "thread_import": {
            key: thread[key] for key in ("total", "imported", "duplicates", "rejected")
        }
        | {"wall_s": round(thread["wall_s"], 1), "conversations": len(thread["conversations"])},
    }
    if not thread["conversations"]:
        raise RuntimeError(f"the {THREAD}-message thread made no conversation: {thread}")
    port = free_port()
    server = _start_server(settings, port)
    try:
        await wait_listening(port, server)
        stat = ProcStat(server.pid)
        stat.start()
        page = await _read_pages(
            f"http://127.0.0.1:{port}", token, thread["conversations"][0], corpus.requests
        )
        cpu = stat.stop()
        requests = page["first_page_50"]["n"] + page["page_200"]["n"]
        requests += page["walk_each_page"]["n"]
        page["server_cpu_pct"] = round(cpu["cpu_pct"], 1)
        page["server_cpu_ms_per_request"] = round(1e3 * cpu["cpu_s"] / requests, 2)
        figures["messages_page"] = page
        return figures
    finally:
        stop(server)


async def measure(backend: str, corpus: Corpus) -> dict[str, Any]:
    """One backend: `sqlite` (a fresh data dir), or `postgres` with Redis (a database made
    and dropped for this run)."""
    head: dict[str, Any] = {"scenario": "mail", "backend": backend}
    async with backend_settings(backend, "bench_mail") as (settings, database):
        log = Path(settings.data_dir, "tandem.log")
        if database is None:
            return {**head, **await _measure(settings, corpus, log)}
        return {**head, "redis": True, **await _measure(settings, corpus, log, database)}


def print_result(result: dict[str, Any]) -> None:
    name = result["backend"] + ("+redis" if result.get("redis") else "")
    if "failed" in result:
        print(f"mail {name}: FAILED {result['failed']}")
        return
    got = result["import"]
    quick = " (--quick: a smaller mailbox, fewer requests)" if result["quick"] else ""
    print(
        f"mail {name}{quick}: import of {got['messages']} messages ({got['mbox_mb']} MB) in "
        f"{got['wall_s']} s = {got['messages_per_s']} messages/s, importer CPU "
        f"{got['importer_cpu_s']} s"
        + (f", its database's {got['database_cpu_s']} s" if got["database_cpu_s"] else "")
        + f"; imported {got['imported']}, duplicates "
        f"{got['duplicates']} (planted {got['planted']['duplicates']}), rejected "
        f"{got['rejected']} (planted {got['planted']['rejects']}), unaccounted "
        f"{got['unaccounted']}, logged errors {got['logged_errors']}"
    )
    for error in got["errors"] + got["logged_examples"]:
        print(f"  {error[:200]}")
    page = result["messages_page"]
    print(
        f"  {page['conversation_messages']}-message conversation, p50/p99 ms:"
        + "".join(
            f"  {key} {figures['p50_ms']}/{figures['p99_ms']} (n {figures['n']})"
            for key, figures in page.items()
            if isinstance(figures, dict)
        )
        + f"; server {page['server_cpu_ms_per_request']} ms CPU a request, errors {page['errors']}"
    )
