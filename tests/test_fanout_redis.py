"""Two `tandem serve` processes, one PostgreSQL, one Redis: edits cross processes, and a
process that misses a Redis message catches up from the log."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

import pytest
from pycrdt import Doc, XmlElement, XmlFragment, XmlText

from crdt.schemas import draft_seed
from server.services import open_services
from server.settings import Settings
from tests.fixtures.procs import ServerProcess
from tests.fixtures.server import Person, make_person
from tests.yclient import hocus, yws


@pytest.fixture
async def two_servers(
    pg_app_settings: Settings, redis_url: str
) -> AsyncIterator[tuple[ServerProcess, ServerProcess, Settings]]:
    settings = dataclasses.replace(pg_app_settings, redis_url=redis_url, catchup_interval_s=0.3)
    first, second = ServerProcess(settings), ServerProcess(settings)
    try:
        await asyncio.gather(first.start(), second.start())
        yield first, second, settings
    finally:
        first.stop()
        second.stop()


async def _shared_draft(settings: Settings, draft_id: str) -> tuple[Person, str]:
    async with open_services(settings) as services:
        alice = await make_person(services, "alice@acme.test")
        seed = draft_seed("s", [], {})
        await services.storage.create_draft(draft_id, alice.org.id, alice.user.id, "s", seed)
    return alice, f"draft:{draft_id}"


async def test_an_edit_through_one_process_reaches_a_client_of_the_other(
    two_servers: tuple[ServerProcess, ServerProcess, Settings],
) -> None:
    first, second, settings = two_servers
    alice, name = await _shared_draft(settings, "x1")
    async with yws(first.ws, name, alice.token) as a, hocus(second.ws, name, alice.token) as b:
        await asyncio.wait_for(asyncio.gather(a.synced.wait(), b.synced.wait()), 5)
        a.write_paragraph("typed on process one")
        await a.flush()
        await b.wait_for(lambda: "typed on process one" in b.text())
        b.write_paragraph("typed on process two")
        await b.flush()
        await a.wait_for(lambda: "typed on process two" in a.text())
        await a.set_awareness(a.doc.client_id, 1, {"cursor": 5})
        await b.wait_for(lambda: a.doc.client_id in b.awareness)


async def test_a_missed_redis_message_is_repaired_from_the_log(
    two_servers: tuple[ServerProcess, ServerProcess, Settings],
) -> None:
    first, second, settings = two_servers
    alice, name = await _shared_draft(settings, "x2")
    async with yws(first.ws, name, alice.token) as a, yws(second.ws, name, alice.token) as b:
        await asyncio.wait_for(asyncio.gather(a.synced.wait(), b.synced.wait()), 5)
        # An update that reached the log but whose Redis message never arrived, as when a
        # publisher dies between commit and publish or pub/sub drops the message.
        ghost = Doc()
        ghost.apply_update(a.doc.get_update())
        paragraph = ghost.get("body", type=XmlFragment).children.append(XmlElement("paragraph"))
        paragraph.children.append(XmlText("never announced"))
        update = ghost.get_update(a.doc.get_state())
        async with open_services(settings) as services:
            await services.storage.append_updates([(name, update)])
        # no further traffic: the periodic log check alone must bring it to both processes
        await a.wait_for(lambda: "never announced" in a.text(), timeout=5)
        await b.wait_for(lambda: "never announced" in b.text(), timeout=5)
        # and a gap noticed through a later message is repaired too
        async with open_services(settings) as services:
            await services.storage.append_updates([(name, _paragraph(b, "silent two"))])
        a.write_paragraph("announced")
        await a.flush()
        await b.wait_for(lambda: "silent two" in b.text() and "announced" in b.text(), timeout=5)


def _paragraph(client: object, text: str) -> bytes:
    from tests.yclient import YClient

    assert isinstance(client, YClient)
    ghost = Doc()
    ghost.apply_update(client.doc.get_update())
    paragraph = ghost.get("body", type=XmlFragment).children.append(XmlElement("paragraph"))
    paragraph.children.append(XmlText(text))
    return ghost.get_update(client.doc.get_state())
