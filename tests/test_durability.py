"""`kill -9` of the server loses no acknowledged update, on both storage backends."""

from __future__ import annotations

import asyncio

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
            for i in range(WRITES):
                writer.write_paragraph(f"line {i}")
                await writer.flush()
                if i == WRITES // 2:
                    await writer.wait_for(lambda: writer.saved > 10)
                    server.kill_hard()  # mid-stream, with updates in flight
                    break
                await asyncio.sleep(0.002)
            acked = writer.saved
        assert acked > 10
        await server.start()
        async with yws(server.ws, name, token) as reader:
            await asyncio.wait_for(reader.synced.wait(), 5)
            lines = reader.text().split("\n")
        # acknowledgements arrive in order: the first `acked` lines must all be there
        for i in range(acked):
            assert f"line {i}" in lines, f"acknowledged update {i} was lost ({acked} acked)"
    finally:
        server.stop()
