"""Send Later (rows 34 and 10): a reply scheduled in words leaves Drafts for Send Later,
can be unscheduled, fires at its time through the outbox, and is discarded — never sent —
when a reply arrives first and the sender asked for that. Pure rows, then HTTP on both
backends against a real SMTP server."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx

from server.conversations.machine import receive_message
from server.conversations.machine_drafts import schedule_send
from server.conversations.mailboxes import in_mailbox
from server.conversations.model import Delivery
from tests.fixtures.machine import DIRECTORY, HOUR, NOW, inbound, make
from tests.fixtures.mail import REPLY
from tests.fixtures.server import LiveServer
from tests.fixtures.smtp import SmtpFixture
from tests.test_sending import RFC822, _setup, _until


def test_row_34_a_scheduled_draft_moves_from_drafts_to_send_later() -> None:
    conv = make({"alice": "inbox"}, drafts=["d1"])
    schedule_send(conv, "alice", draft_id="d1", outbox_id="o1", at=NOW + HOUR,
                  discard_if_reply=False, now=NOW, directory=DIRECTORY)  # fmt: skip
    assert conv.drafts == [] and [s.draft_id for s in conv.scheduled] == ["d1"]
    assert in_mailbox(conv, "alice", "send_later", DIRECTORY, NOW)
    assert not in_mailbox(conv, "alice", "drafts", DIRECTORY, NOW)


def test_row_10_a_reply_discards_only_the_drafts_set_to_discard() -> None:
    conv = make({"alice": "inbox"}, drafts=["keep", "drop"])
    for draft, discard in (("keep", False), ("drop", True)):
        schedule_send(conv, "alice", draft_id=draft, outbox_id=f"o-{draft}", at=NOW + HOUR,
                      discard_if_reply=discard, now=NOW, directory=DIRECTORY)  # fmt: skip
    receipt = receive_message(conv, inbound(5), Delivery(), now=NOW, directory=DIRECTORY)
    assert receipt.discarded_sends == ("o-drop",)
    assert [s.draft_id for s in conv.scheduled] == ["keep"]
    assert conv.events[-1].type == "draft_discarded"


async def _ids(http: httpx.AsyncClient, mailbox: str) -> list[str]:
    rows = (await http.get(f"/api/mailboxes/{mailbox}")).json()["conversations"]
    return [row["id"] for row in rows]


async def test_send_later_unschedule_and_fire(
    live_server: LiveServer, loopback_smtp: SmtpFixture
) -> None:
    alice, _, conv, draft = await _setup(live_server, loopback_smtp)
    async with live_server.client(alice.token) as http:
        past = await http.post(f"/api/drafts/{draft}/send", json={"send_at": "2001-01-01"})
        assert (past.status_code, past.json()["error"]["field"]) == (400, "send_at")
        later = await http.post(f"/api/drafts/{draft}/send", json={"send_at": "in 2 hours"})
        assert later.status_code == 202, later.text
        item = later.json()["outbox"]
        assert (await _ids(http, "send_later"), await _ids(http, "drafts")) == ([conv], [])
        unscheduled = await http.post(f"/api/outbox/{item['id']}/recall")
        assert unscheduled.json()["outbox"]["status"] == "recalled"
        assert (await _ids(http, "send_later"), await _ids(http, "drafts")) == ([], [conv])
        soon = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
        fired = await http.post(f"/api/drafts/{draft}/send", json={"send_at": soon})
        assert fired.status_code == 202, fired.text
        await _until(http, fired.json()["outbox"]["id"], "sent")
        assert await _ids(http, "send_later") == [] and await _ids(http, "sent") == [conv]
    assert len(loopback_smtp.sink.received) == 1


async def test_a_reply_first_discards_a_send_later_draft(
    live_server: LiveServer, loopback_smtp: SmtpFixture
) -> None:
    alice, _, _, draft = await _setup(live_server, loopback_smtp)
    async with live_server.client(alice.token) as http:
        later = await http.post(
            f"/api/drafts/{draft}/send",
            json={"send_at": "tomorrow", "discard_if_anyone_replies": True},
        )
        item = later.json()["outbox"]["id"]
        await http.post(
            "/api/admin/accounts/support@acme.test/import", content=REPLY, headers=RFC822
        )
        assert (await http.get(f"/api/outbox/{item}")).json()["outbox"]["status"] == "recalled"
        assert await _ids(http, "send_later") == [] and await _ids(http, "drafts") == []
    await asyncio.sleep(0.3)
    assert loopback_smtp.sink.received == []
    assert (await live_server.services.storage.get_draft(draft)).status == "discarded"  # type: ignore[union-attr]
