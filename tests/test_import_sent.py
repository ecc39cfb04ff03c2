"""An archive holds what the account sent as well as what it received: mail from the
account's own address joins its thread as history, moves nobody's Inbox, makes nothing
unread, and puts the conversation in Sent — on the pure machine and through the HTTP
import on both backends."""

from __future__ import annotations

import httpx

from server.conversations.machine_mail import record_sent
from server.conversations.model import Conversation, Delivery, MessageSummary
from tests.fixtures.machine import DIRECTORY, NOW, looks, make
from tests.fixtures.mail import mail, mbox
from tests.fixtures.server import LiveServer, make_person


def sent(number: int = 9) -> MessageSummary:
    return MessageSummary(f"s{number}", "out", "support@acme.test", "Hello", "hi", NOW)


def test_a_sent_mail_starts_an_archived_thread_for_the_accounts_people() -> None:
    conv = Conversation(id="c1", org_id="org")
    record_sent(conv, sent(), Delivery(owner="alice"), now=NOW, directory=DIRECTORY)
    assert looks(conv, "alice") == "archived" and conv.subject == "Hello"
    team = Conversation(id="c2", org_id="org")
    record_sent(team, sent(), Delivery(team="support"), now=NOW, directory=DIRECTORY)
    assert (team.team, team.in_team_inbox) == ("support", False)
    assert looks(team, "bob") == "archived" and looks(team, "olga") == "archived"


def test_a_sent_reply_moves_nobody() -> None:
    conv = make({"alice": "inbox", "bob": "watching"})
    record_sent(conv, sent(), Delivery(owner="alice"), now=NOW, directory=DIRECTORY)
    assert conv.message_count == 2
    assert (looks(conv, "alice"), looks(conv, "bob")) == ("inbox", "archived watching")
    assert conv.events == []


SENT_FIRST = (
    b"From: Acme Support <support@acme.test>\r\nTo: carla@example.com\r\n"
    b"Subject: Your invoice\r\nMessage-ID: <inv-1@acme.test>\r\n"
    b"Date: Mon, 23 Nov 2026 09:00:00 +0000\r\n\r\nAttached.\r\n"
)
THEIR_REPLY = mail(
    "<inv-2@example.com>", "Re: Your invoice", "Thanks!", reply_to="<inv-1@acme.test>"
)
OUR_ANSWER = (
    b"From: support@acme.test\r\nTo: carla@example.com\r\nSubject: Re: Your invoice\r\n"
    b"Message-ID: <inv-3@acme.test>\r\nIn-Reply-To: <inv-2@example.com>\r\n"
    b"References: <inv-1@acme.test> <inv-2@example.com>\r\n"
    b"Date: Tue, 24 Nov 2026 11:00:00 +0000\r\n\r\nYou are welcome.\r\n"
)


async def test_an_archive_with_sent_mail_threads_it_as_history(live_server: LiveServer) -> None:
    services = live_server.services
    owner = await make_person(services, "owner@acme.test")
    async with services.storage.db.transaction() as tx:  # type: ignore[attr-defined]
        await tx.execute("UPDATE memberships SET role = 'owner' WHERE user_id = ?", owner.user.id)
    await services.storage.create_account(
        owner.org.id, "support@acme.test", owner.user.id, "inbox", None, []
    )
    async with live_server.client(owner.token) as http:
        imported = await http.post(
            "/api/admin/accounts/support@acme.test/import",
            content=mbox(SENT_FIRST, THEIR_REPLY, OUR_ANSWER),
            headers={"content-type": "application/mbox"},
        )
        assert imported.status_code == 200, imported.text
        [conv_id] = imported.json()["conversations"]
        conv = (await http.get(f"/api/conversations/{conv_id}")).json()["conversation"]
        assert (conv["subject"], conv["messages_count"]) == ("Your invoice", 3)
        me = conv["users"][owner.user.id]
        assert me["inbox"] and me["unread"]  # the customer's reply came in; ours moved nothing
        assert await _ids(http, "sent") == [conv_id]
        directions = await _directions(live_server, conv_id)
        assert directions == ["out", "in", "out"]


async def _ids(http: httpx.AsyncClient, mailbox: str) -> list[str]:
    rows = (await http.get(f"/api/mailboxes/{mailbox}")).json()["conversations"]
    return [row["id"] for row in rows]


async def _directions(live: LiveServer, conv_id: str) -> list[str]:
    """The document's summaries and the stored rows agree on who sent what."""
    conv = await live.services.conversations.read(conv_id)
    in_doc = [m.direction for m in sorted(conv.messages, key=lambda m: m.at)]
    async with live.services.storage.db.transaction(readonly=True) as tx:  # type: ignore[attr-defined]
        rows = await tx.fetchall(
            "SELECT direction FROM messages WHERE conversation_id = ? ORDER BY sent_at", conv_id
        )
    assert [str(r[0]) for r in rows] == in_doc
    return in_doc
