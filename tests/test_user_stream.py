"""The per-user live stream end to end: a client holding `user:<id>` on `/ws` hears which of
its conversations changed — through commands, mail import, several conversations at once,
another server process — and nothing about conversations it cannot see."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import orjson
import pytest

from crdt import codec
from crdt.broker import LocalBroker
from crdt.errors import CloseCode
from crdt.feeds import FeedHub
from crdt.hocuspocus import STATELESS
from server.conversations.model import Conversation, UserState
from server.services import open_services
from server.settings import Settings
from server.user_stream import UserStream
from tests.fixtures.mail import ORDER, REPLY
from tests.fixtures.node import NODE_DIR
from tests.fixtures.procs import ServerProcess
from tests.fixtures.server import LiveServer, Person, make_person
from tests.yclient import YClient, yws


class FeedClient(YClient):
    """A Hocuspocus client of one feed that keeps the stateless messages it hears."""

    def __init__(self, name: str) -> None:
        super().__init__(name, hocuspocus=True)
        self.messages: list[dict[str, Any]] = []

    async def _handle(self, frame: bytes) -> None:
        decoder = codec.Decoder(frame)
        decoder.read_var_string()
        if decoder.read_var_uint() == STATELESS:
            self.messages.append(orjson.loads(decoder.read_var_string()))
            self.changed.set()
            return
        await super()._handle(frame)

    def rows(self, conv_id: str) -> list[dict[str, Any]]:
        """Every row about `conv_id` heard so far, oldest first."""
        return [
            row
            for message in self.messages
            if message["type"] == "conversations"
            for row in message["changed"]
            if row["id"] == conv_id
        ]

    async def wait_row(
        self, conv_id: str, test: Callable[[dict[str, Any]], bool] = lambda _: True
    ) -> dict[str, Any]:
        await self.wait_for(lambda: any(test(row) for row in self.rows(conv_id)))
        return [row for row in self.rows(conv_id) if test(row)][-1]

    async def ready(self) -> None:
        """Authenticated, synced and told to resync: from here on nothing is missed."""
        await self.wait_for(lambda: self.synced.is_set() and bool(self.messages))
        assert self.denied is None
        assert self.messages[0] == {"type": "resync"}


@contextlib.asynccontextmanager
async def feed(base: str, person: Person, name: str | None = None) -> AsyncIterator[FeedClient]:
    client = FeedClient(name or f"user:{person.user.id}")
    await client.connect(f"{base}/ws", person.token)
    try:
        yield client
    finally:
        await client.close()


async def _chat(http: httpx.AsyncClient, *others: Person) -> str:
    created = await http.post(
        "/api/conversations",
        json={"subject": "Refund for #1234", "users": [p.user.id for p in others]},
    )
    assert created.status_code == 201, created.text
    return str(created.json()["conversation"]["id"])


async def _own_chat(base: str, person: Person) -> str:
    headers = {"Authorization": f"Bearer {person.token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=10) as http:
        return await _chat(http)


async def _command(http: httpx.AsyncClient, conv: str, **body: Any) -> None:
    response = await http.post(f"/api/conversations/{conv}/commands", json=body)
    assert response.status_code == 200, response.text


async def test_commands_reach_everyone_with_access_and_nobody_else(
    live_server: LiveServer,
) -> None:
    services = live_server.services
    alice = await make_person(services, "alice@acme.test")
    bob = await make_person(services, "bob@acme.test")
    carol = await make_person(services, "carol@acme.test")  # same organization, no access
    async with (
        feed(live_server.ws, alice) as a,
        feed(live_server.ws, bob) as b,
        feed(live_server.ws, carol) as c,
        live_server.client(alice.token) as http,
    ):
        await asyncio.gather(a.ready(), b.ready(), c.ready())
        conv = await _chat(http, bob)
        created = await b.wait_row(conv)
        assert created["access"] is True and "all" in created["mailboxes"]
        await a.wait_row(conv)

        await _command(http, conv, command="assign", users=[bob.user.id])
        assigned = await b.wait_row(conv, lambda row: "assigned_to_me" in row["mailboxes"])
        assert assigned["team"] is None and assigned["labels"] == []
        await a.wait_row(conv, lambda row: "assigned_to_others" in row["mailboxes"])
        await _command(http, conv, command="close")
        await b.wait_row(conv, lambda row: "closed" in row["mailboxes"])

        # carol hears of her own conversation, and of alice's only once she is let in
        mine = await _own_chat(live_server.http, carol)
        await c.wait_row(mine)
        assert c.rows(conv) == []
        await _command(http, conv, command="add_people", users=[carol.user.id])
        await c.wait_row(conv, lambda row: row["access"] is True)
    assert await services.storage.get_document(f"user:{bob.user.id}") is None


async def test_imported_mail_reaches_the_inbox_of_whom_it_is_shared_with(
    live_server: LiveServer,
) -> None:
    services = live_server.services
    admin = await make_person(services, "admin@acme.test")
    bob = await make_person(services, "bob@acme.test")
    carol = await make_person(services, "carol@acme.test")
    async with services.storage.db.transaction() as tx:  # type: ignore[attr-defined]
        await tx.execute("UPDATE memberships SET role = 'owner' WHERE user_id = ?", admin.user.id)
    await services.storage.create_account(
        admin.org.id, "support@acme.test", admin.user.id, "inbox", None, [(bob.user.id, False)]
    )
    headers = {"content-type": "message/rfc822"}
    url = "/api/admin/accounts/support@acme.test/import"
    async with (
        feed(live_server.ws, bob) as b,
        feed(live_server.ws, carol) as c,
        live_server.client(admin.token) as http,
    ):
        await asyncio.gather(b.ready(), c.ready())
        first = await http.post(url, content=ORDER, headers=headers)
        assert first.status_code == 200, first.text
        [conv] = first.json()["conversations"]
        row = await b.wait_row(conv)
        assert "inbox" in row["mailboxes"] and row["unread"] is True

        async with live_server.client(bob.token) as bob_http:
            await _command(bob_http, conv, command="mark_read")
            await b.wait_row(conv, lambda row: row["unread"] is False)
            await _command(bob_http, conv, command="archive")
            await b.wait_row(conv, lambda row: "inbox" not in row["mailboxes"])
        reply = await http.post(url, content=REPLY, headers=headers)
        assert reply.json()["conversations"] == [conv]
        await b.wait_row(conv, lambda row: "inbox" in row["mailboxes"] and row["unread"])

        mine = await _own_chat(live_server.http, carol)  # a barrier for carol's feed
        await c.wait_row(mine)
        assert c.rows(conv) == []


async def test_a_feed_is_ones_own_read_only_and_only_on_ws(live_server: LiveServer) -> None:
    services = live_server.services
    alice = await make_person(services, "alice@acme.test")
    bob = await make_person(services, "bob@acme.test")
    own, other = f"user:{alice.user.id}", f"user:{bob.user.id}"

    async with feed(live_server.ws, alice, other) as client:
        await asyncio.wait_for(client.authenticated.wait(), 5)
        assert client.denied is not None and client.denied.startswith("4403")
        assert client.messages == []
    anonymous = dataclasses.replace(alice, token="")
    async with feed(live_server.ws, anonymous) as client:
        await asyncio.wait_for(client.authenticated.wait(), 5)
        assert client.denied is not None and client.denied.startswith("4401")

    async with feed(live_server.ws, alice) as client:
        await client.ready()
        client.write_paragraph("forged")
        await client.flush()
        # the empty SyncStep2 of the handshake is fine; the update is refused
        await client.wait_for(lambda: client.acks == [True, False])
        await client.set_awareness(client.doc.client_id, 1, {"cursor": 1})
        await client.send_raw(bytes((3,)))  # query awareness: nobody is there
        await client.wait_for(lambda: client.awareness == {} and len(client.messages) == 1)
    assert await services.storage.get_document(own) is None
    assert (await services.storage.load_document(own)).updates == []
    assert own not in services.rooms.rooms and own not in services.rooms.feeds.subscribers

    async with yws(live_server.ws, own, alice.token) as client:
        code, reason = await client.wait_closed()
        assert code == CloseCode.NOT_FOUND and "/ws only" in reason
    async with yws(live_server.ws, other, alice.token) as client:
        assert (await client.wait_closed())[0] == CloseCode.FORBIDDEN


async def test_changes_of_one_moment_go_in_one_message(live_server: LiveServer) -> None:
    services = live_server.services
    alice = await make_person(services, "alice@acme.test")
    async with feed(live_server.ws, alice) as a, live_server.client(alice.token) as http:
        await a.ready()
        convs = [await _chat(http) for _ in range(3)]
        await a.wait_for(lambda: all(a.rows(conv) for conv in convs))
        before = len(a.messages)

        def star(loaded: dict[str, Conversation]) -> list[Conversation]:
            for conv in loaded.values():
                conv.users[alice.user.id].starred = True
            return []

        await services.conversations.change_many(convs, star)
        await a.wait_for(lambda: len(a.messages) > before)
        [message] = a.messages[before:]
        assert sorted(row["id"] for row in message["changed"]) == sorted(convs)
        assert all("starred" in row["mailboxes"] for row in message["changed"])

        # a burst of separate requests: every change arrives, in as few messages as it can
        before = len(a.messages)
        await asyncio.gather(*(_command(http, conv, command="unstar") for conv in convs))
        await a.wait_for(
            lambda: all("starred" not in a.rows(conv)[-1]["mailboxes"] for conv in convs)
        )
        assert len(a.messages) - before <= len(convs)


async def test_the_stream_keeps_the_latest_row_of_a_conversation() -> None:
    class Subscriber:
        id = 1

        def __init__(self) -> None:
            self.heard: list[dict[str, Any]] = []

        def stateless(self, payload: str) -> None:
            self.heard.append(orjson.loads(payload))

    hub, listener = FeedHub(LocalBroker()), Subscriber()
    stream = UserStream(hub, coalesce_s=0.05)
    await hub.subscribe("user:u1", listener)
    conv = Conversation(id="c1", org_id="o", users={"u1": UserState(inbox=True)})
    other = Conversation(id="c2", org_id="o", users={"u1": UserState(), "u2": UserState()})
    async with asyncio.TaskGroup() as tg:
        task = tg.create_task(stream.run())
        stream.changed(conv, frozenset({"u1"}))
        stream.changed(other, frozenset({"u1", "u2"}))  # nobody holds user:u2: nothing kept
        conv.users["u1"].inbox, conv.users["u1"].starred = False, True
        stream.changed(conv, frozenset({"u1"}))
        async with asyncio.timeout(5):
            while len(listener.heard) < 2:
                await asyncio.sleep(0.01)
        task.cancel()
    resync, message = listener.heard
    assert resync == {"type": "resync"}
    assert [row["id"] for row in message["changed"]] == ["c1", "c2"]
    assert message["changed"][0]["mailboxes"] == ["starred", "all"]
    assert message["changed"][1]["mailboxes"] == ["all"]


@pytest.fixture
async def two_servers(
    pg_app_settings: Settings, redis_url: str
) -> AsyncIterator[tuple[ServerProcess, ServerProcess, Settings]]:
    settings = dataclasses.replace(pg_app_settings, redis_url=redis_url)
    first, second = ServerProcess(settings), ServerProcess(settings)
    try:
        await asyncio.gather(first.start(), second.start())
        yield first, second, settings
    finally:
        first.stop()
        second.stop()


async def test_a_change_in_one_process_reaches_a_subscriber_of_the_other(
    two_servers: tuple[ServerProcess, ServerProcess, Settings],
) -> None:
    first, second, settings = two_servers
    async with open_services(settings) as services:
        alice = await make_person(services, "alice@acme.test")
        bob = await make_person(services, "bob@acme.test")
        carol = await make_person(services, "carol@acme.test")
    headers = {"Authorization": f"Bearer {alice.token}"}
    async with (
        feed(second.ws, bob) as remote,
        feed(first.ws, bob) as local,
        feed(second.ws, carol) as stranger,
        httpx.AsyncClient(base_url=first.http, headers=headers) as http,
    ):
        await asyncio.gather(remote.ready(), local.ready(), stranger.ready())
        conv = await _chat(http, bob)
        await _command(http, conv, command="assign", users=[bob.user.id])
        for client in (remote, local):
            await client.wait_row(conv, lambda row: "assigned_to_me" in row["mailboxes"])
        # the process that made the change serves its own subscribers once, not again
        # through Redis
        await asyncio.sleep(0.3)
        assert len(local.rows(conv)) == len(remote.rows(conv))
        mine = await _own_chat(first.http, carol)
        await stranger.wait_row(mine)
        assert stranger.rows(conv) == []


async def test_the_hocuspocus_provider_hears_the_stream(live_server: LiveServer, node: str) -> None:
    alice = await make_person(live_server.services, "alice@acme.test")
    process = await asyncio.create_subprocess_exec(
        node,
        str(NODE_DIR / "user-stream.mjs"),
        *("--url", live_server.ws, "--name", f"user:{alice.user.id}", "--token", alice.token),
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    events: list[dict[str, Any]] = []

    async def until(test: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        assert process.stdout is not None
        async with asyncio.timeout(15):
            while True:
                line = await process.stdout.readline()
                assert line, f"the node client ended: {events}"
                events.append(json.loads(line))
                if test(events[-1]):
                    return events[-1]

    def stateless(kind: str) -> Callable[[dict[str, Any]], bool]:
        return lambda e: e["event"] == "stateless" and json.loads(e["payload"])["type"] == kind

    try:
        await until(stateless("resync"))
        async with live_server.client(alice.token) as http:
            conv = await _chat(http)
        heard = await until(stateless("conversations"))
        assert [row["id"] for row in json.loads(heard["payload"])["changed"]] == [conv]
        assert any(e["event"] == "synced" for e in events)
        assert not any(e["event"] == "denied" for e in events)
    finally:
        process.kill()
        await process.wait()
