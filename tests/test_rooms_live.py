"""The document server end to end, on both storage backends: drafts created over HTTP,
edited over both protocols, acknowledged only when durable, reloaded after a restart."""

from __future__ import annotations

import asyncio

from pycrdt import Map

from crdt.errors import CloseCode
from tests.fixtures.server import LiveServer, Person, make_person, run_server
from tests.yclient import hocus, yws


async def new_draft(live: LiveServer, person: Person, body: str = "Hello there") -> str:
    async with live.client(person.token) as http:
        response = await http.post(
            "/v1/drafts",
            json={
                "drafts": {
                    "subject": "Re: your order",
                    "body": body,
                    "to_fields": [{"address": "customer@example.com", "name": "Cus"}],
                }
            },
        )
    assert response.status_code == 201, response.text
    draft = response.json()["drafts"]
    assert draft["document"] == f"draft:{draft['id']}"
    return str(draft["document"])


async def test_seeded_draft_is_there_before_anyone_connects(live_server: LiveServer) -> None:
    alice = await make_person(live_server.services, "alice@acme.test")
    name = await new_draft(live_server, alice, "<p>Hello <b>there</b></p><p>Second</p>")
    async with yws(live_server.ws, name, alice.token) as client:
        await asyncio.wait_for(client.synced.wait(), 5)
        assert client.text() == "Hello there\nSecond"
        headers = client.doc.get("headers", type=Map).to_py()
        assert headers["subject"] == "Re: your order"
        assert headers["to_fields"] == [{"address": "customer@example.com", "name": "Cus"}]


async def test_both_protocols_co_edit_and_every_update_is_acknowledged(
    live_server: LiveServer,
) -> None:
    alice = await make_person(live_server.services, "alice@acme.test")
    name = await new_draft(live_server, alice)
    async with (
        yws(live_server.ws, name, alice.token) as a,
        hocus(live_server.ws, name, alice.token) as b,
    ):
        await asyncio.wait_for(asyncio.gather(a.synced.wait(), b.synced.wait()), 5)
        for i in range(20):
            a.write_paragraph(f"from yws {i}")
            b.write_paragraph(f"from hocuspocus {i}")
            await a.flush()
            await b.flush()

        def converged() -> bool:
            return a.text() == b.text() and a.text().count("from ") == 40

        await a.wait_for(converged)
        await b.wait_for(converged)
        await a.wait_saved()
        await b.wait_saved()
        assert all(a.acks) and all(b.acks)
        assert a.saved == b.saved == 20
        text = a.text()

    # a fresh process on the same database serves exactly what was acknowledged
    async with run_server(live_server.settings) as again, yws(again.ws, name, alice.token) as c:
        await asyncio.wait_for(c.synced.wait(), 5)
        assert c.text() == text


async def test_other_users_and_strangers_are_refused(live_server: LiveServer) -> None:
    alice = await make_person(live_server.services, "alice@acme.test")
    bob = await make_person(live_server.services, "bob@acme.test")
    name = await new_draft(live_server, alice)

    async with yws(live_server.ws, name, bob.token) as client:
        assert (await client.wait_closed())[0] == CloseCode.FORBIDDEN
    async with yws(live_server.ws, name, None) as client:
        assert (await client.wait_closed())[0] == CloseCode.UNAUTHORIZED
    async with yws(live_server.ws, name, "tdm_not-a-real-token") as client:
        assert (await client.wait_closed())[0] == CloseCode.UNAUTHORIZED
    async with yws(live_server.ws, "draft:doesnotexist", alice.token) as client:
        assert (await client.wait_closed())[0] == CloseCode.NOT_FOUND
    async with hocus(live_server.ws, name, bob.token) as client:
        await asyncio.wait_for(client.authenticated.wait(), 5)
        assert client.denied is not None and client.denied.startswith("4403")
        assert not client.synced.is_set()


async def test_read_only_connection_cannot_write_but_shares_presence(
    live_server: LiveServer,
) -> None:
    from server.conversations.model import Conversation, UserState

    alice = await make_person(live_server.services, "alice@acme.test")
    bob = await make_person(live_server.services, "bob@acme.test")
    storage = live_server.services.storage
    users = {alice.user.id: UserState(inbox=True), bob.user.id: UserState(inbox=True)}
    await live_server.services.conversations.create(
        Conversation(id="c1", org_id=alice.org.id, kind="chat", subject="s", users=users)
    )
    async with (
        yws(live_server.ws, "conv:c1", alice.token) as a,
        yws(live_server.ws, "conv:c1", bob.token) as b,
    ):
        await asyncio.wait_for(asyncio.gather(a.synced.wait(), b.synced.wait()), 5)
        a.write_paragraph("forged")
        await a.flush()
        # the empty SyncStep2 of the handshake is fine; the forged update is refused
        await a.wait_for(lambda: a.acks == [True, False] and len(a.denials) == 1)
        assert "read-only" in a.denials[0]
        await a.set_awareness(a.doc.client_id, 1, {"viewing": True})
        await b.wait_for(lambda: a.doc.client_id in b.awareness)
        assert b.awareness[a.doc.client_id][1]["user"]["id"] == alice.user.id
        assert "forged" not in b.text()
    record = await storage.load_document("conv:c1")
    assert len(record.updates) == 1


async def test_abrupt_disconnect_removes_presence_for_everyone(live_server: LiveServer) -> None:
    alice = await make_person(live_server.services, "alice@acme.test")
    name = await new_draft(live_server, alice)
    async with (
        yws(live_server.ws, name, alice.token) as watcher,
        yws(live_server.ws, name, alice.token) as leaver,
    ):
        await asyncio.wait_for(asyncio.gather(watcher.synced.wait(), leaver.synced.wait()), 5)
        await leaver.set_awareness(4242, 1, {"user": {"name": "Mallory"}, "cursor": 1})
        await watcher.wait_for(lambda: 4242 in watcher.awareness)
        assert watcher.awareness[4242][1]["user"]["name"] == "Alice"
        assert leaver.ws is not None
        leaver.ws.transport.abort()  # no close frame, no null state
        await watcher.wait_for(lambda: 4242 not in watcher.awareness, timeout=2.0)


async def test_deleting_an_open_draft_closes_it_for_everyone_and_it_stays_deleted(
    live_server: LiveServer,
) -> None:
    alice = await make_person(live_server.services, "alice@acme.test")
    name = await new_draft(live_server, alice)
    draft_id = name.split(":", 1)[1]
    async with (
        yws(live_server.ws, name, alice.token) as a,
        hocus(live_server.ws, name, alice.token) as b,
    ):
        await asyncio.wait_for(asyncio.gather(a.synced.wait(), b.synced.wait()), 5)
        async with live_server.client(alice.token) as http:
            assert (await http.delete(f"/v1/drafts/{draft_id}")).status_code == 204
        assert (await a.wait_closed())[0] == CloseCode.NOT_FOUND
        await b.wait_for(lambda: b.closed_reason is not None)
        assert b.closed_reason is not None and b.closed_reason.startswith("4404")
    assert await live_server.services.storage.get_document(name) is None
    assert name not in live_server.services.rooms.rooms


async def test_a_token_from_another_organization_opens_nothing_here(
    live_server: LiveServer,
) -> None:
    from crdt.schemas import draft_seed

    alice = await make_person(live_server.services, "alice@acme.test")
    mallory = await make_person(live_server.services, "mallory@other.test", org_name="Other")
    draft = await new_draft(live_server, alice)
    storage = live_server.services.storage
    await storage.create_document("conv:acme1", "conv", alice.org.id, None, draft_seed("s", [], {}))
    for name in (draft, "conv:acme1"):
        async with yws(live_server.ws, name, mallory.token) as client:
            assert (await client.wait_closed())[0] == CloseCode.FORBIDDEN
        async with hocus(live_server.ws, name, mallory.token) as client:
            await asyncio.wait_for(client.authenticated.wait(), 5)
            assert client.denied is not None and client.denied.startswith("4403")
