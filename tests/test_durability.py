"""`kill -9` of the server loses no acknowledged update, on both storage backends."""

from __future__ import annotations

import asyncio
import contextlib

import websockets

from crdt.schemas import draft_seed
from server.settings import Settings
from tests.fixtures.procs import ServerProcess
from tests.fixtures.server import make_person
from tests.yclient import yws

WRITES = 300


async def _seed(settings: Settings) -> tuple[str, str]:
    from server.services import open_services

    async with open_services(settings) as services:
        alice = await make_person(services, "alice@acme.test")
        await services.storage.create_draft(
            "d1", alice.org.id, alice.user.id, "s", draft_seed("s", [], {})
        )
        return alice.token, "draft:d1"


async def test_kill_9_loses_no_acknowledged_update(app_settings: Settings) -> None:
    token, name = await _seed(app_settings)
    server = await ServerProcess(app_settings).start()
    try:
        async with yws(server.ws, name, token) as writer:
            await asyncio.wait_for(writer.synced.wait(), 5)

            async def keep_writing() -> None:
                for i in range(WRITES):
                    writer.write_paragraph(f"line {i}")
                    await writer.flush()
                    await asyncio.sleep(0.002)

            typing = asyncio.get_running_loop().create_task(keep_writing())
            await writer.wait_for(lambda: writer.saved >= 50, timeout=10)
            server.kill_hard()  # mid-stream: some updates are in flight, some unsent
            with contextlib.suppress(websockets.ConnectionClosed):
                await typing
            await writer.wait_closed()
            acked, sent = writer.saved, writer.sent
        assert 50 <= acked <= sent
        await server.start()
        async with yws(server.ws, name, token) as reader:
            await asyncio.wait_for(reader.synced.wait(), 5)
            lines = set(reader.text().split("\n"))
        # acknowledgements arrive in order: the first `acked` lines must all be there
        lost = [i for i in range(acked) if f"line {i}" not in lines]
        assert lost == [], f"{len(lost)} of {acked} acknowledged updates lost ({sent} sent)"
    finally:
        server.stop()
