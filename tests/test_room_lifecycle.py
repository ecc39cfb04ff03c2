"""Load once under concurrent joins, unload after the grace period, release every room."""

from __future__ import annotations

import asyncio
import gc
import weakref

from crdt.schemas import draft_seed
from tests.fixtures.server import LiveServer, make_person
from tests.yclient import yws


async def test_fifty_simultaneous_joins_share_one_load_and_all_sync(
    live_server: LiveServer,
) -> None:
    alice = await make_person(live_server.services, "alice@acme.test")
    seed = draft_seed("s", ["the same text for everyone"], {})
    await live_server.services.storage.create_draft("fresh", alice.org.id, alice.user.id, "s", seed)
    rooms = live_server.services.rooms
    loads_before = rooms.loads

    async def join() -> str:
        async with yws(live_server.ws, "draft:fresh", alice.token) as client:
            await asyncio.wait_for(client.synced.wait(), 10)
            return client.text()

    texts = await asyncio.gather(*(join() for _ in range(50)))
    assert texts == ["the same text for everyone"] * 50
    assert rooms.loads - loads_before == 1


async def test_a_thousand_documents_are_all_released_after_the_grace_period(
    live_server: LiveServer,
) -> None:
    alice = await make_person(live_server.services, "alice@acme.test")
    storage, rooms = live_server.services.storage, live_server.services.rooms
    names = []
    for i in range(1000):
        await storage.create_draft(
            f"leak{i}", alice.org.id, alice.user.id, "s", draft_seed("s", [str(i)], {})
        )
        names.append(f"draft:leak{i}")
    refs: list[weakref.ref[object]] = []

    async def visit(name: str) -> None:
        async with yws(live_server.ws, name, alice.token) as client:
            await asyncio.wait_for(client.synced.wait(), 10)
            client.write_paragraph("visited")
            await client.flush()
            await client.wait_saved()
            room = rooms.rooms[name]
            refs.extend((weakref.ref(room), weakref.ref(room.doc)))

    for start in range(0, 1000, 50):
        await asyncio.gather(*(visit(name) for name in names[start : start + 50]))
    async with asyncio.timeout(10):
        while rooms.rooms:
            await asyncio.sleep(0.1)
    gc.collect()
    alive = [ref for ref in refs if ref() is not None]
    assert alive == [], f"{len(alive)} rooms or docs still referenced after unloading"
    # and what was written is durable after unloading
    state = await storage.load_document("draft:leak999")
    assert state.last_seq >= 2 or state.snapshot is not None
