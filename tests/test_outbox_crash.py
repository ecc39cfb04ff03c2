"""`kill -9` of the server between the SMTP server accepting a message and the database
recording it, on both backends: after a restart the message is sent again — the same
bytes with the same Message-ID, which is all SMTP allows (at least once) — and then
recorded once; no third copy, no second message in the conversation. And a Send Later
message whose server is killed before its time fires once, after the restart."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import httpx

from crdt.schemas import draft_seed
from server.actions import smtp_accounts
from server.actions.directory import load_directory
from server.actions.ingest import ingest
from server.conversations.machine_drafts import add_draft
from server.conversations.model import Conversation
from server.services import open_services
from server.settings import Settings
from tests.fixtures.mail import ORDER
from tests.fixtures.procs import ServerProcess
from tests.fixtures.server import Person, make_person
from tests.fixtures.smtp import SmtpFixture


async def _seed(settings: Settings, smtp: SmtpFixture) -> tuple[Person, str, str]:
    async with open_services(settings) as services:
        alice = await make_person(services, "alice@acme.test")
        account = await services.storage.create_account(
            alice.org.id, "support@acme.test", alice.user.id, "inbox", None, []
        )
        relay = smtp_accounts.SmtpInput(smtp.host, smtp.port, "none")
        await smtp_accounts.configure(services.storage, services.settings, account, relay)
        [conv] = (await ingest(services, account, [ORDER])).conversations
        draft = "crash-draft"
        seed = draft_seed("Re: Where is my order?", ["It ships today."],
                          {"to_fields": [{"address": "carla@example.com"}]})  # fmt: skip
        await services.storage.create_draft(draft, alice.org.id, alice.user.id, "Re", seed, conv)
        directory = await load_directory(services.storage, alice.org.id)

        def start_reply(c: Conversation) -> None:
            add_draft(c, alice.user.id, draft_id=draft, now=0, directory=directory)

        await services.conversations.change(conv, start_reply)
        return alice, conv, draft


async def _sent(http: httpx.AsyncClient, item: str, auth: dict[str, str]) -> None:
    """Wait until the restarted server has sent and recorded outbox item `item`."""
    deadline = time.monotonic() + 20
    while True:
        state = (await http.get(f"/api/outbox/{item}", headers=auth)).json()["outbox"]
        if state["status"] == "sent" or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    assert state["status"] == "sent", state


async def test_a_crash_after_smtp_accepted_sends_the_same_message_again_and_records_it_once(
    app_settings: Settings, loopback_smtp: SmtpFixture
) -> None:
    alice, conv, draft = await _seed(app_settings, loopback_smtp)
    server = await ServerProcess(app_settings).start()
    try:
        loopback_smtp.sink.after_data = server.kill_hard  # dies before it hears "250"
        async with httpx.AsyncClient(base_url=server.http) as http:
            auth = {"Authorization": f"Bearer {alice.token}"}
            sent = await http.post(f"/api/drafts/{draft}/send", json={}, headers=auth)
            assert sent.status_code == 202, sent.text
            item = sent.json()["outbox"]["id"]
        deadline = time.monotonic() + 10
        while server.process is not None and server.process.poll() is None:
            assert time.monotonic() < deadline, "the server was not killed"
            await asyncio.sleep(0.05)
        assert len(loopback_smtp.sink.received) == 1
        loopback_smtp.sink.after_data = None
        async with open_services(app_settings) as services:  # the 60 s claim lease runs out
            db = cast(Any, services.storage).db
            async with db.transaction() as tx:
                await tx.execute("UPDATE jobs SET claimed_until = 0")
        await server.start()
        async with httpx.AsyncClient(base_url=server.http) as http:
            await _sent(http, item, auth)
            view = await http.get(f"/api/conversations/{conv}", headers=auth)
            assert view.json()["conversation"]["messages_count"] == 2  # the mail + one reply
        first, second = loopback_smtp.sink.received
        assert first.data == second.data  # the same message, Message-ID and all
        await asyncio.sleep(0.5)
        assert len(loopback_smtp.sink.received) == 2
    finally:
        server.stop()


async def test_send_later_survives_a_kill_and_fires_once_after_the_restart(
    app_settings: Settings, loopback_smtp: SmtpFixture
) -> None:
    alice, conv, draft = await _seed(app_settings, loopback_smtp)
    server = await ServerProcess(app_settings).start()
    auth = {"Authorization": f"Bearer {alice.token}"}
    try:
        at = datetime.now(UTC) + timedelta(seconds=3)
        async with httpx.AsyncClient(base_url=server.http) as http:
            later = {"send_at": at.isoformat(timespec="seconds")}
            sent = await http.post(f"/api/drafts/{draft}/send", json=later, headers=auth)
            assert sent.status_code == 202, sent.text
            item = sent.json()["outbox"]["id"]
        server.kill_hard()  # down before its time comes, and still down when it passes
        await asyncio.sleep(max(0.0, at.timestamp() - time.time()) + 1)
        assert loopback_smtp.sink.received == []
        await server.start()
        async with httpx.AsyncClient(base_url=server.http) as http:
            await _sent(http, item, auth)
            view = await http.get(f"/api/conversations/{conv}", headers=auth)
            assert view.json()["conversation"]["messages_count"] == 2
        await asyncio.sleep(0.5)
        assert len(loopback_smtp.sink.received) == 1  # fired once
    finally:
        server.stop()
