"""Load once under concurrent joins, unload after the grace period, release every room."""

from __future__ import annotations

import asyncio
import gc
import weakref

import pytest

from crdt.schemas import draft_seed
from crdt.store import Merge
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


async def test_unloaded_documents_are_compacted_one_at_a_time(
    live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A burst of unloads compacts every log, but one document after the other, so the
    compactions never queue a line of storage transactions ahead of clients."""
    alice = await make_person(live_server.services, "alice@acme.test")
    storage, rooms = live_server.services.storage, live_server.services.rooms
    names = [f"draft:burst{i}" for i in range(6)]
    for name in names:
        await storage.create_draft(
            name.removeprefix("draft:"), alice.org.id, alice.user.id, "s", draft_seed("s", [], {})
        )
    running, most = 0, 0
    compact = rooms.store.compact_document

    async def counting(name: str, merge: Merge) -> int:
        nonlocal running, most
        running += 1
        most = max(most, running)
        try:
            return await compact(name, merge)
        finally:
            running -= 1

    monkeypatch.setattr(rooms.store, "compact_document", counting)

    async def edit(name: str) -> None:
        async with yws(live_server.ws, name, alice.token) as client:
            await asyncio.wait_for(client.synced.wait(), 10)
            for word in ("one", "two", "three"):
                client.write_paragraph(word)
                await client.flush()
            await client.wait_saved()

    await asyncio.gather(*(edit(name) for name in names))
    async with asyncio.timeout(10):
        while rooms.rooms or rooms.compacting:
            await asyncio.sleep(0.05)
    assert most == 1
    for name in names:
        assert await storage.log_size(name) == (0, 0)
        assert (await storage.load_document(name)).snapshot is not None


async def test_a_closed_socket_is_freed_without_waiting_for_the_cyclic_gc(
    live_server: LiveServer,
) -> None:
    """A session holds no reference cycle once it ends, so reference counting frees it the
    moment its socket closes rather than at the next full collection."""
    alice = await make_person(live_server.services, "alice@acme.test")
    await live_server.services.storage.create_draft(
        "freed", alice.org.id, alice.user.id, "s", draft_seed("s", ["text"], {})
    )
    rooms = live_server.services.rooms
    gc.collect()
    gc.disable()
    try:
        async with yws(live_server.ws, "draft:freed", alice.token) as client:
            await asyncio.wait_for(client.synced.wait(), 10)
            room = rooms.rooms["draft:freed"]
            (session,) = room.members.values()
            freed = weakref.ref(session)
            del session
        async with asyncio.timeout(10):
            while room.members or freed() is not None:
                await asyncio.sleep(0.02)
    finally:
        gc.enable()
