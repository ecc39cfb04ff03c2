"""The conversation writer: changes land in the document, the log and the index in one
transaction; clients that only saw broadcasts hold what a fresh load holds; a refused
change leaves nothing behind; the index equals a rebuild from the document."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

import pytest

from server.actions.runner import Change
from server.conversations.document import read_conversation
from server.conversations.index import project
from server.conversations.model import Comment, Conversation, Event, UserState
from server.errors import Conflict
from server.services import open_services
from server.settings import Settings
from tests.fixtures.procs import ServerProcess
from tests.fixtures.server import LiveServer, Person, make_person
from tests.yclient import YClient, yws


def _conversation(alice: Person, bob: Person) -> Conversation:
    conv = Conversation(
        id="conv1",
        org_id=alice.org.id,
        kind="chat",
        subject="Refund for order 1234",
        last_activity_at=1,
        users={alice.user.id: UserState(inbox=True), bob.user.id: UserState(inbox=True)},
    )
    return conv


def _comment(author: str, body: str, at: int) -> Change:
    def change(conv: Conversation) -> None:
        conv.comments.append(Comment(f"k{at}", author, body, at))
        conv.last_activity_at = at
        for uid, state in conv.users.items():
            if uid != author:
                state.chat_unread = True
                state.inbox = True
                state.bumped_at = at

    return change


def _fresh(client: YClient) -> Conversation:
    from server.conversations.document import new_conversation_doc

    doc = new_conversation_doc()
    doc.apply_update(client.doc.get_update())
    return read_conversation(doc)


async def test_changes_reach_viewers_and_match_a_fresh_load_and_the_index(
    live_server: LiveServer,
) -> None:
    services = live_server.services
    alice = await make_person(services, "alice@acme.test")
    bob = await make_person(services, "bob@acme.test")
    await services.conversations.create(_conversation(alice, bob))
    async with yws(live_server.ws, "conv:conv1", bob.token) as viewer:
        await asyncio.wait_for(viewer.synced.wait(), 5)
        for at in range(2, 12):
            await services.conversations.change("conv1", _comment(alice.user.id, f"c{at}", at))

        def has_all() -> bool:
            return len(_fresh(viewer).comments) == 10

        await viewer.wait_for(has_all)
        seen = _fresh(viewer)
    async with yws(live_server.ws, "conv:conv1", alice.token) as late:
        await asyncio.wait_for(late.synced.wait(), 5)
        assert _fresh(late) == seen  # broadcasts alone == a fresh load
    stored = await services.storage.stored_index("conv1")
    expected = project(seen)
    assert stored == (expected.users, expected.labels)
    assert seen.users[bob.user.id].chat_unread and not seen.users[alice.user.id].chat_unread


async def test_a_refused_change_leaves_nothing_behind(live_server: LiveServer) -> None:
    services = live_server.services
    alice = await make_person(services, "alice@acme.test")
    bob = await make_person(services, "bob@acme.test")
    await services.conversations.create(_conversation(alice, bob))
    before = await services.storage.load_document("conv:conv1")

    def refuse(conv: Conversation) -> None:
        conv.subject = "half-done"
        raise Conflict("refused halfway")

    with pytest.raises(Conflict):
        await services.conversations.change("conv1", refuse)
    after = await services.storage.load_document("conv:conv1")
    assert after.updates == before.updates
    assert (await services.conversations.read("conv1")).subject == "Refund for order 1234"


async def test_concurrent_changes_are_serialised(live_server: LiveServer) -> None:
    services = live_server.services
    alice = await make_person(services, "alice@acme.test")
    bob = await make_person(services, "bob@acme.test")
    await services.conversations.create(_conversation(alice, bob))

    def add_event(at: int) -> Change:
        def change(conv: Conversation) -> None:
            conv.events.append(Event("renamed", alice.user.id, at))

        return change

    await asyncio.gather(*(services.conversations.change("conv1", add_event(i)) for i in range(30)))
    conv = await services.conversations.read("conv1")
    assert sorted(e.at for e in conv.events) == list(range(30))


@pytest.fixture
async def two_processes(
    pg_app_settings: Settings, redis_url: str
) -> AsyncIterator[tuple[ServerProcess, Settings]]:
    settings = dataclasses.replace(pg_app_settings, redis_url=redis_url)
    other = ServerProcess(settings)
    try:
        await other.start()
        yield other, settings
    finally:
        other.stop()


async def test_a_change_made_in_one_process_reaches_a_viewer_of_another(
    two_processes: tuple[ServerProcess, Settings],
) -> None:
    other, settings = two_processes
    async with open_services(settings) as services:
        alice = await make_person(services, "alice@acme.test")
        bob = await make_person(services, "bob@acme.test")
        await services.conversations.create(_conversation(alice, bob))
        async with yws(other.ws, "conv:conv1", bob.token) as viewer:
            await asyncio.wait_for(viewer.synced.wait(), 5)
            for at in range(2, 6):
                await services.conversations.change(
                    "conv1",
                    _comment(alice.user.id, f"c{at}", at),
                )
            await viewer.wait_for(lambda: len(_fresh(viewer).comments) == 4)
            assert _fresh(viewer) == await services.conversations.read("conv1")
