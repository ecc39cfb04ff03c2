"""Sending a co-written reply through the outbox to a real SMTP server (aiosmtpd on
loopback), on both backends: the exact merged text with threading headers, once even when
two people press Send, undo within the delay, and a refusal that leaves the draft
recoverable with the server's words on the message."""

from __future__ import annotations

import asyncio
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import httpx
from pycrdt import Map

from tests.fixtures.desk import start_reply, support_desk
from tests.fixtures.mail import OTHER, REPLY
from tests.fixtures.server import LiveServer, Person, make_person
from tests.fixtures.smtp import SmtpFixture
from tests.yclient import yws

RFC822 = {"content-type": "message/rfc822"}


async def _setup(live: LiveServer, smtp: SmtpFixture) -> tuple[Person, Person, str, str]:
    """The support desk sending through `smtp`; alice started a reply.
    (alice, bob, conversation, draft)"""
    desk = await support_desk(live, smtp)
    draft = await start_reply(live, desk.alice, desk.conversation)
    return desk.alice, desk.bob, desk.conversation, draft


async def _until(http: httpx.AsyncClient, item: str, status: str) -> dict[str, Any]:
    deadline = time.monotonic() + 15
    while True:
        current: dict[str, Any] = (await http.get(f"/api/outbox/{item}")).json()["outbox"]
        if current["status"] == status or time.monotonic() > deadline:
            assert current["status"] == status, current
            return current
        await asyncio.sleep(0.1)


def _parsed(raw: bytes) -> EmailMessage:
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


async def test_a_co_written_reply_is_sent_once_with_threading_headers(
    live_server: LiveServer, loopback_smtp: SmtpFixture
) -> None:
    alice, bob, conv, draft = await _setup(live_server, loopback_smtp)
    name = f"draft:{draft}"
    async with (
        yws(live_server.ws, name, alice.token) as a,
        yws(live_server.ws, name, bob.token) as b,
    ):
        await asyncio.wait_for(asyncio.gather(a.synced.wait(), b.synced.wait()), 5)
        a.write_paragraph("Hello Carla,")
        b.write_paragraph("Your order ships today.")
        await a.flush()
        await b.flush()
        await a.wait_saved()
        await b.wait_saved()

        def merged() -> bool:
            return "Hello Carla," in a.text() and "ships today" in a.text()

        await a.wait_for(merged)
        expected = a.text()
        async with live_server.client(alice.token) as h1, live_server.client(bob.token) as h2:
            first, second = await asyncio.gather(
                h1.post(f"/api/drafts/{draft}/send", json={}),
                h2.post(f"/api/drafts/{draft}/send", json={}),
            )
        codes = sorted([first.status_code, second.status_code])
        assert codes == [202, 409], (first.text, second.text)
        code, _ = await a.wait_closed()  # editors are let go: the draft is locked
        assert code == 4423
    item = (first if first.status_code == 202 else second).json()["outbox"]
    async with live_server.client(alice.token) as http:
        done = await _until(http, item["id"], "sent")
        assert done["smtp_code"] == 250
        [received] = loopback_smtp.sink.received
        assert received.recipients == ["carla@example.com"]
        message = _parsed(received.data)
        assert message["In-Reply-To"] == "<order-1@example.com>"
        assert message["References"] == "<order-1@example.com>"
        assert message["Message-ID"] == item["message_id"]
        assert message["Subject"] == "Re: Where is my order?"
        text = message.get_body(preferencelist=("plain",))
        assert text is not None
        sent_text = text.get_content().replace("\r\n", "\n").strip()
        assert [line for line in sent_text.split("\n") if line] == [
            line for line in expected.split("\n") if line
        ]
        state = (await http.get(f"/api/conversations/{conv}")).json()["conversation"]
        assert state["messages_count"] == 2
        rows = (await http.get("/api/mailboxes/sent")).json()["conversations"]
        assert [row["id"] for row in rows] == [conv]
        assert (await http.get("/api/mailboxes/drafts")).json()["conversations"] == []
    await asyncio.sleep(0.5)
    assert len(loopback_smtp.sink.received) == 1  # once, whoever pressed Send


async def test_undo_send_within_the_delay_sends_nothing(
    live_server: LiveServer, loopback_smtp: SmtpFixture
) -> None:
    alice, _, _, draft = await _setup(live_server, loopback_smtp)
    async with live_server.client(alice.token) as http:
        bad = await http.post(f"/api/drafts/{draft}/send", json={"undo_s": 7})
        assert (bad.status_code, bad.json()["error"]["field"]) == (400, "undo_s")
        sent = await http.post(f"/api/drafts/{draft}/send", json={"undo_s": 5})
        item = sent.json()["outbox"]["id"]
        recalled = await http.post(f"/api/outbox/{item}/recall")
        assert recalled.json()["outbox"]["status"] == "recalled"
        late = await http.post(f"/api/outbox/{item}/recall")
        assert late.status_code == 409  # recalled already: nothing left to recall
        await http.patch("/api/me/preferences", json={"undo_send_s": 10})
        again = await http.post(f"/api/drafts/{draft}/send", json={})  # editable again
        assert again.status_code == 202, again.text
        waiting = again.json()["outbox"]
        assert waiting["release_at"] >= time.time() + 8  # the sender's own undo delay
        await http.post(f"/api/outbox/{waiting['id']}/recall")
        last = await http.post(f"/api/drafts/{draft}/send", json={"undo_s": 0})
        await _until(http, last.json()["outbox"]["id"], "sent")
    assert len(loopback_smtp.sink.received) == 1


async def test_a_refusal_is_shown_and_the_draft_stays_recoverable(
    live_server: LiveServer, loopback_smtp: SmtpFixture
) -> None:
    alice, _, _, draft = await _setup(live_server, loopback_smtp)
    loopback_smtp.sink.data_reply = "554 5.7.1 Message rejected as spam"
    async with live_server.client(alice.token) as http:
        item = (await http.post(f"/api/drafts/{draft}/send", json={})).json()["outbox"]["id"]
        failed = await _until(http, item, "failed")
        assert failed["smtp_code"] == 554 and "rejected as spam" in failed["error"]
        loopback_smtp.sink.data_reply = "451 4.3.0 try again later"
        retry = (await http.post(f"/api/drafts/{draft}/send", json={})).json()["outbox"]["id"]
        await asyncio.sleep(0.6)
        loopback_smtp.sink.data_reply = None  # the server recovers: the job retries
        done = await _until(http, retry, "sent")
        assert done["attempts"] >= 2


async def test_a_bad_recipient_is_named_before_anything_is_sent(
    live_server: LiveServer, loopback_smtp: SmtpFixture
) -> None:
    alice, _, _, draft = await _setup(live_server, loopback_smtp)
    async with yws(live_server.ws, f"draft:{draft}", alice.token) as editor:
        await asyncio.wait_for(editor.synced.wait(), 5)
        editor.doc.get("headers", type=Map)["to_fields"] = [{"address": "carla@"}]
        await editor.flush()
        await editor.wait_saved()
    async with live_server.client(alice.token) as http:
        refused = await http.post(f"/api/drafts/{draft}/send", json={})
        assert (refused.status_code, refused.json()["error"]["field"]) == (400, "to[0]")
    assert (await live_server.services.storage.get_draft(draft)).status == "editing"  # type: ignore[union-attr]
    assert loopback_smtp.sink.received == []


async def test_send_and_close_and_send_and_snooze(
    live_server: LiveServer, loopback_smtp: SmtpFixture
) -> None:
    alice, _, conv, draft = await _setup(live_server, loopback_smtp)
    async with live_server.client(alice.token) as http:
        bad = await http.post(f"/api/drafts/{draft}/send", json={"then": "snooze"})
        assert (bad.status_code, bad.json()["error"]["field"]) == (400, "snooze_until")
        past = await http.post(
            f"/api/drafts/{draft}/send", json={"then": "snooze", "snooze_until": "2001-01-01"}
        )
        assert (past.status_code, past.json()["error"]["field"]) == (400, "snooze_until")
        item = await http.post(f"/api/drafts/{draft}/send", json={"then": "close"})
        await _until(http, item.json()["outbox"]["id"], "sent")
        state = (await http.get(f"/api/conversations/{conv}")).json()["conversation"]
        assert state["status"] == "closed" and state["messages_count"] == 2
        again = (await http.post(f"/api/conversations/{conv}/drafts")).json()["draft"]["id"]
        snoozed = await http.post(
            f"/api/drafts/{again}/send",
            json={"then": "snooze", "snooze_until": "tomorrow", "discard_if_reply": True},
        )
        await _until(http, snoozed.json()["outbox"]["id"], "sent")
        me = (await http.get(f"/api/conversations/{conv}")).json()["conversation"]["users"]
        assert me[alice.user.id]["snoozed_until"] is not None
        assert (await http.get("/api/mailboxes/snoozed")).json()["conversations"][0]["id"] == conv


async def test_the_guard_holds_a_send_when_new_mail_arrived_since_the_sender_looked(
    live_server: LiveServer, loopback_smtp: SmtpFixture
) -> None:
    alice, _, conv, draft = await _setup(live_server, loopback_smtp)
    async with live_server.client(alice.token) as http:
        seen = (await http.get(f"/api/conversations/{conv}")).json()["conversation"]
        await http.post(
            "/api/admin/accounts/support@acme.test/import", content=REPLY, headers=RFC822
        )
        held = await http.post(
            f"/api/drafts/{draft}/send", json={"seen_messages": seen["messages_count"]}
        )
        assert (held.status_code, held.json()["error"]["field"]) == (409, "seen_messages")
        assert loopback_smtp.sink.received == []
        now = (await http.get(f"/api/conversations/{conv}")).json()["conversation"]
        sent = await http.post(
            f"/api/drafts/{draft}/send", json={"seen_messages": now["messages_count"]}
        )
        assert sent.status_code == 202, sent.text
        await _until(http, sent.json()["outbox"]["id"], "sent")
        message = _parsed(loopback_smtp.sink.received[0].data)
        assert message["In-Reply-To"] == "<order-2@example.com>"  # the latest mail


async def test_a_new_email_is_a_private_draft_and_sends_from_an_allowed_account(
    live_server: LiveServer, loopback_smtp: SmtpFixture
) -> None:
    """Row 46: a new email starts as a draft in a new conversation only its author sees."""
    alice, bob, _, _ = await _setup(live_server, loopback_smtp)
    carol = await make_person(live_server.services, "carol@acme.test")
    async with live_server.client(alice.token) as http:
        created = await http.post(
            "/api/drafts",
            json={"from": "support@acme.test", "to": ["dan@example.com"], "subject": "Hi Dan"},
        )
        assert created.status_code == 201, created.text
        draft = created.json()["draft"]
        conv = draft["conversation"]
        state = (await http.get(f"/api/conversations/{conv}")).json()["conversation"]
        assert list(state["users"]) == [alice.user.id]  # private to its author
        drafts = (await http.get("/api/mailboxes/drafts")).json()["conversations"]
        assert conv in [row["id"] for row in drafts]
    async with live_server.client(bob.token) as http:
        assert (await http.get(f"/api/conversations/{conv}")).status_code == 403
    async with live_server.client(carol.token) as http:  # not allowed to send as support@
        body = {"from": "support@acme.test", "to": ["x@example.com"]}
        refused = await http.post("/api/drafts", json=body)  # refused before any draft exists
        assert (refused.status_code, refused.json()["error"]["field"]) == (403, "from")
        assert (await http.get("/api/mailboxes/drafts")).json()["conversations"] == []
    async with live_server.client(alice.token) as http:
        sent = await http.post(f"/api/drafts/{draft['id']}/send", json={})
        assert sent.status_code == 202, sent.text
        await _until(http, sent.json()["outbox"]["id"], "sent")
    message = _parsed(loopback_smtp.sink.received[-1].data)
    assert (message["To"], message["Subject"], message["In-Reply-To"]) == (
        "dan@example.com",
        "Hi Dan",
        None,
    )


async def test_a_reply_draft_follows_its_conversation_into_a_merge(
    live_server: LiveServer, loopback_smtp: SmtpFixture
) -> None:
    alice, _, conv, draft = await _setup(live_server, loopback_smtp)
    async with live_server.client(alice.token) as http:
        other = await http.post(
            "/api/admin/accounts/support@acme.test/import", content=OTHER, headers=RFC822
        )
        [target] = other.json()["conversations"]
        merged = await http.post(
            f"/api/conversations/{conv}/commands", json={"command": "merge_into", "target": target}
        )
        assert merged.status_code == 200, merged.text
        drafts = (await http.get("/api/mailboxes/drafts")).json()["conversations"]
        assert [row["id"] for row in drafts] == [target]
        sent = await http.post(f"/api/drafts/{draft}/send", json={})
        assert sent.status_code == 202, sent.text
        assert sent.json()["outbox"]["conversation"] == target
        await _until(http, sent.json()["outbox"]["id"], "sent")
        state = (await http.get(f"/api/conversations/{target}")).json()["conversation"]
        assert state["messages_count"] == 3
