"""The servers `python -m bench crdt` compares. The harness starts each one itself, pinned to
CPU 0 with `taskset -c 0` (the load generator runs on CPU 1), on a free loopback port.

- tandem: Tandem (`bench.serve`, uvicorn websockets-sansio) on SQLite in a fresh data dir.
- tandem-pg: the same with a fresh PostgreSQL database and Redis fan-out on.
- pycrdt-websocket: 0.16.5's plain `ASGIServer` (`bench.serve_pycrdt`), same uvicorn.
- y-websocket-server: the Node reference, @y/websocket-server 0.1.1 + yjs 13.
- hocuspocus: @hocuspocus/server 4.7.0, no extension.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from bench.loadgen import Target
from bench.procstat import wait_listening

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "tests" / "node" / "node_modules"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/9"
TANDEM_UNLOAD_GRACE_S = 2.0  # shortened from 30 s so S3 can watch unloading
WS_IMPLEMENTATION = "websockets-sansio"


@dataclass(frozen=True)
class Seed:
    """Documents a server with storage must hold before it starts (Tandem only serves
    documents that exist): `count` drafts `<prefix><i>`, each with `updates` appended to
    its log as separate entries, compacted into a snapshot when `compact` is set."""

    prefix: str
    count: int
    updates: tuple[bytes, ...] = ()
    compact: bool = False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    name = ""
    description = ""
    hocuspocus = False
    persistent = False  # keeps documents across a restart
    acks = False  # tells the client an update is saved
    acks_mean = ""
    unload_grace_s: float | None = None  # None: documents stay loaded without clients
    tmp_dir: str | None = None  # where its working directory (and any database) lives
    scenarios: tuple[str, ...] | None = None  # None: all of them

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.workdir = Path(tempfile.mkdtemp(prefix=f"bench-{self.name}-", dir=self.tmp_dir))
        self._log: IO[bytes] | None = None

    # --- what subclasses say ------------------------------------------------------------

    def command(self) -> list[str]:
        raise NotImplementedError

    def env(self) -> dict[str, str]:
        return dict(os.environ)

    def url(self, doc: str, ack: bool) -> str:
        return f"ws://127.0.0.1:{self.port}/{doc}"

    async def setup(self, seeds: list[Seed]) -> None:
        """Before the first start."""

    async def teardown(self) -> None:
        shutil.rmtree(self.workdir, ignore_errors=True)

    async def cpu_pids(self) -> list[int]:
        """The processes whose CPU counts as this server's."""
        return [self.pid]

    # --- shared -------------------------------------------------------------------------

    def doc(self, name: str) -> str:
        return f"{self.run_id}{name}"

    def target(self, name: str, ack: bool = False) -> Target:
        doc = self.doc(name)
        return Target(self.url(doc, ack), doc, self.hocuspocus)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def _spawn(self) -> None:
        self._log = open(self.workdir / "server.log", "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            ["taskset", "-c", "0", *self.command()],
            cwd=ROOT,
            env=self.env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._log,
        )

    async def start(self) -> None:
        self._spawn()
        try:
            await self._wait_ready()
        except TimeoutError:
            raise RuntimeError(f"{self.name} did not start: {self.log_tail()}") from None

    async def _wait_ready(self) -> None:
        assert self.proc is not None
        try:
            await wait_listening(self.port, self.proc, within_s=60.0)
        except RuntimeError:
            raise RuntimeError(f"{self.name} exited: {self.log_tail()}") from None

    def log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return (self.workdir / "server.log").read_text(errors="replace")[-2000:]
        return ""

    async def kill9(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        await asyncio.to_thread(self.proc.wait)

    async def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                await asyncio.to_thread(self.proc.wait, 10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                await asyncio.to_thread(self.proc.wait)
        if self._log is not None:
            self._log.close()
            self._log = None


class Tandem(Server):
    name = "tandem"
    description = f"Tandem, SQLite on disk, uvicorn {WS_IMPLEMENTATION}"
    persistent = True
    acks = True
    acks_mean = "after the update log commit (write-ahead)"
    unload_grace_s = TANDEM_UNLOAD_GRACE_S

    def __init__(self, run_id: str) -> None:
        super().__init__(run_id)
        self.token = ""
        self.database_url = ""
        self.redis_url = ""

    def command(self) -> list[str]:
        return [sys.executable, "-m", "bench.serve", WS_IMPLEMENTATION, str(self.port)]

    def env(self) -> dict[str, str]:
        env = {
            **os.environ,
            "TANDEM_DATA_DIR": str(self.workdir / "data"),
            "SECRET_KEY": "bench",
            "TANDEM_LOG_LEVEL": "WARNING",
            "TANDEM_UNLOAD_GRACE_S": str(TANDEM_UNLOAD_GRACE_S),
            "TANDEM_MAX_CONNECTIONS_PER_DOCUMENT": "2000",
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
        }
        return env

    def doc(self, name: str) -> str:
        return f"draft:{self.run_id}{name}"

    def url(self, doc: str, ack: bool) -> str:
        query = f"token={self.token}" + ("&ack=1" if ack else "")
        return f"ws://127.0.0.1:{self.port}/yws/{doc}?{query}"

    async def setup(self, seeds: list[Seed]) -> None:
        self.token = await seed_tandem(self.workdir / "data", self.database_url, self.run_id, seeds)


class TandemMemory(Tandem):
    """Tandem with its SQLite database on tmpfs: the same code and write path, but no
    disk, like the competitors that keep documents in memory. Measured in the scenarios
    where the disk can make a difference; the others run the same code as `tandem`."""

    name = "tandem-mem"
    description = f"Tandem, SQLite on tmpfs (/dev/shm: memory only), uvicorn {WS_IMPLEMENTATION}"
    tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
    scenarios = ("S1", "S2")


class TandemPostgres(Tandem):
    name = "tandem-pg"
    description = f"Tandem, PostgreSQL + Redis, uvicorn {WS_IMPLEMENTATION}"

    def __init__(self, run_id: str) -> None:
        super().__init__(run_id)
        self.database = f"bench_{run_id}"
        self.database_url = f"postgresql://postgres@127.0.0.1:5432/{self.database}"
        self.redis_url = REDIS_URL
        self._redis_pid: int | None = None

    async def setup(self, seeds: list[Seed]) -> None:
        import asyncpg
        import redis.asyncio as aioredis

        admin = await asyncpg.connect(PG_ADMIN_URL)
        try:
            await admin.execute(f'CREATE DATABASE "{self.database}"')
        finally:
            await admin.close()
        client: Any = aioredis.Redis.from_url(REDIS_URL)
        try:
            self._redis_pid = int((await client.info("server"))["process_id"])
        finally:
            await client.aclose()
        await super().setup(seeds)

    async def teardown(self) -> None:
        import asyncpg

        admin = await asyncpg.connect(PG_ADMIN_URL)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        finally:
            await admin.close()
        await super().teardown()

    async def cpu_pids(self) -> list[int]:
        """Tandem, the PostgreSQL backends serving its database (pinned to CPU 0 here) and
        the Redis server (shared with whatever else uses it on this machine)."""
        import asyncpg

        admin = await asyncpg.connect(PG_ADMIN_URL)
        try:
            rows = await admin.fetch(
                "SELECT pid FROM pg_stat_activity WHERE datname = $1", self.database
            )
        finally:
            await admin.close()
        backends = [int(row["pid"]) for row in rows]
        for pid in backends:
            with contextlib.suppress(OSError):
                os.sched_setaffinity(pid, {0})
        extra = [self._redis_pid] if self._redis_pid else []
        return [self.pid, *backends, *extra]


class PycrdtWebsocket(Server):
    name = "pycrdt-websocket"
    description = f"pycrdt-websocket 0.16.5 ASGIServer, no store, uvicorn {WS_IMPLEMENTATION}"

    def command(self) -> list[str]:
        return [sys.executable, "-m", "bench.serve_pycrdt", str(self.port), WS_IMPLEMENTATION]


class NodeServer(Server):
    script = ""

    def command(self) -> list[str]:
        return ["node", str(ROOT / "bench" / "node" / self.script)]

    def env(self) -> dict[str, str]:
        if not NODE_MODULES.is_dir():
            raise RuntimeError("run `npm ci` in tests/node first")
        return {**os.environ, "HOST": "127.0.0.1", "PORT": str(self.port)}


class YWebsocketServer(NodeServer):
    name = "y-websocket-server"
    description = "@y/websocket-server 0.1.1 + yjs 13, Node, no persistence"
    script = "yws-server.mjs"


class Hocuspocus(NodeServer):
    name = "hocuspocus"
    description = "@hocuspocus/server 4.7.0, Node, no extension (no persistence)"
    hocuspocus = True
    acks = True
    acks_mean = "on receipt, in memory (no database extension configured)"
    unload_grace_s = 0.0
    script = "hocuspocus-server.mjs"

    def url(self, doc: str, ack: bool) -> str:
        return f"ws://127.0.0.1:{self.port}"


SERVERS: tuple[type[Server], ...] = (
    Tandem,
    TandemMemory,
    TandemPostgres,
    PycrdtWebsocket,
    YWebsocketServer,
    Hocuspocus,
)


async def seed_tandem(data_dir: Path, database_url: str, run_id: str, seeds: list[Seed]) -> str:
    """A user, an API token and every seeded draft: `<run_id><prefix><i>` for each seed."""
    from crdt.compaction import merge_with_doc
    from crdt.schemas import draft_seed
    from server.credentials import new_api_token
    from server.settings import Settings
    from server.storage import open_storage

    settings = Settings(data_dir=data_dir, secret_key="bench", database_url=database_url)
    await asyncio.to_thread(data_dir.mkdir, parents=True, exist_ok=True)
    storage = await open_storage(settings)
    try:
        await storage.migrate()
        org = await storage.create_organization("Bench")
        user = await storage.create_user("bench@example.com", "Bench", None)
        await storage.add_membership(org.id, user.id, "owner")
        token, token_hash = new_api_token()
        await storage.create_api_token(user.id, token_hash, "bench")
        seed = draft_seed("s", [], {})
        for group in seeds:
            for i in range(group.count):
                draft_id = f"{run_id}{group.prefix}{i}"
                await storage.create_draft(draft_id, org.id, user.id, "s", seed)
                if group.updates:
                    name = f"draft:{draft_id}"
                    await storage.append_updates([(name, update) for update in group.updates])
                    if group.compact:
                        await storage.compact_document(name, merge_with_doc)
    finally:
        await storage.close()
    return token
