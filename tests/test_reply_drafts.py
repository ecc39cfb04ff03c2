"""Reply drafts (state machine rows 45, 47): the pure rows, and over HTTP and websockets on
both backends — seeded once, co-written by everyone with access, in everyone's Drafts,
discarded for everyone and restorable, and closed to outsiders."""

from __future__ import annotations

import asyncio
import copy
import dataclasses
from typing import Any

import httpx
import pytest
from pycrdt import Map

from server.conversations.machine_drafts import add_draft, discard_draft, restore_draft
from server.conversations.mailboxes import in_mailbox
from server.conversations.model import Preferences
from server.errors import AppError, Conflict, InvalidInput, Unprocessable
from tests.fixtures.desk import support_desk
from tests.fixtures.machine import DIRECTORY, NOW, looks, make
from tests.fixtures.server import LiveServer, Person, make_person
from tests.yclient import yws


def test_row_45_a_reply_draft_is_in_everyones_drafts_and_its_author_watches() -> None:
    conv = make({"alice": "inbox", "bob": ""})
    add_draft(conv, "alice", draft_id="d1", now=NOW, directory=DIRECTORY)
    assert conv.drafts == ["d1"] and conv.events == []
    assert looks(conv, "alice") == "inbox watching" and looks(conv, "bob") == "archived"
    assert in_mailbox(conv, "bob", "drafts", DIRECTORY, NOW)
    quiet = dataclasses.replace(DIRECTORY, preferences={"bob": Preferences(auto_watch_draft=False)})
    add_draft(conv, "bob", draft_id="d2", now=NOW, directory=quiet)
    assert looks(conv, "bob") == "archived"


def test_row_47_discard_takes_it_out_of_everyones_drafts_and_can_be_undone() -> None:
    conv = make({"alice": "inbox", "bob": ""})
    add_draft(conv, "alice", draft_id="d1", now=NOW, directory=DIRECTORY)
    discard_draft(conv, "bob", draft_id="d1", now=NOW, directory=DIRECTORY)
    assert conv.drafts == [] and not in_mailbox(conv, "alice", "drafts", DIRECTORY, NOW)
    assert [(e.type, e.actor, e.data) for e in conv.events] == [
        ("draft_discarded", "bob", {"draft": "d1"})
    ]
    restore_draft(conv, "alice", draft_id="d1", now=NOW, directory=DIRECTORY)
    assert conv.drafts == ["d1"]


@pytest.mark.parametrize(
    ("act", "error", "field_name"),
    [
        pytest.param(lambda c: add_draft(c, "alice", draft_id="d0", now=NOW, directory=DIRECTORY),
                     Conflict, "draft", id="twice"),
        pytest.param(lambda c: discard_draft(c, "alice", draft_id="nope", now=NOW,
                                             directory=DIRECTORY), InvalidInput, "draft",
                     id="discard-unknown"),
        pytest.param(lambda c: restore_draft(c, "alice", draft_id="d9", now=NOW,
                                             directory=DIRECTORY), InvalidInput, "draft",
                     id="restore-never-discarded"),
    ],
)  # fmt: skip
def test_draft_refusals_change_nothing(act: Any, error: type[AppError], field_name: str) -> None:
    conv = make({"alice": "inbox"})
    conv.drafts = ["d0"]
    before = copy.deepcopy(conv)
    with pytest.raises(error) as refused:
        act(conv)
    assert refused.value.field == field_name and conv == before


def test_rooms_take_no_email_drafts() -> None:
    conv = make({"alice": "inbox"}, messages=0, kind="org_room")
    with pytest.raises(Unprocessable):
        add_draft(conv, "alice", draft_id="d1", now=NOW, directory=DIRECTORY)


async def _setup(live: LiveServer) -> tuple[Person, Person, Person, str]:
    desk = await support_desk(live)
    carol = await make_person(live.services, "carol@acme.test")
    return desk.alice, desk.bob, carol, desk.conversation


async def _ids(http: httpx.AsyncClient, mailbox: str) -> list[str]:
    rows = (await http.get(f"/api/mailboxes/{mailbox}")).json()["conversations"]
    return [row["id"] for row in rows]


async def test_a_reply_draft_is_co_written_and_discarded_for_everyone(
    live_server: LiveServer,
) -> None:
    alice, bob, carol, conv = await _setup(live_server)
    async with live_server.client(alice.token) as http:
        started = await http.post(f"/api/conversations/{conv}/drafts")
        assert started.status_code == 201, started.text
        draft = started.json()["draft"]
        assert draft["subject"] == "Re: Where is my order?"
        assert draft["to"] == ["carla@example.com"]
    async with live_server.client(bob.token) as http:
        assert await _ids(http, "drafts") == [conv]
    assert draft["document"] == f"draft:{draft['id']}"
    async with (
        yws(live_server.ws, draft["document"], alice.token) as mine,
        yws(live_server.ws, draft["document"], bob.token) as theirs,
    ):
        await asyncio.wait_for(asyncio.gather(mine.synced.wait(), theirs.synced.wait()), 5)
        headers = theirs.doc.get("headers", type=Map)
        assert headers.get("subject") == "Re: Where is my order?"  # seeded once, before us
        mine.write_paragraph("Hello Carla,")
        theirs.write_paragraph("It ships today.")
        await mine.flush()
        await theirs.flush()

        def both() -> bool:
            return "Hello Carla," in mine.text() and "It ships today." in mine.text()

        await mine.wait_for(both)
        await theirs.wait_for(both)
        assert mine.text() == theirs.text()
    async with yws(live_server.ws, draft["document"], carol.token) as outsider:
        code, _ = await asyncio.wait_for(outsider.wait_closed(), 5)
        assert code == 4403
    async with live_server.client(carol.token) as http:
        assert (await http.post(f"/api/drafts/{draft['id']}/discard")).status_code == 403
        assert (await http.post(f"/api/conversations/{conv}/drafts")).status_code == 403
    async with live_server.client(bob.token) as http:
        assert (await http.post(f"/api/drafts/{draft['id']}/discard")).status_code == 200
        assert await _ids(http, "drafts") == []
    async with live_server.client(alice.token) as http:
        assert await _ids(http, "drafts") == []
        restored = await http.post(f"/api/drafts/{draft['id']}/restore")
        assert restored.status_code == 200
        assert await _ids(http, "drafts") == [conv]
    events = [e.type for e in (await live_server.services.conversations.read(conv)).events]
    assert events[-2:] == ["draft_discarded", "draft_restored"]
