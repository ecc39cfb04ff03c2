"""Threads come out the same whatever order their mail arrives in (IMAP history import
fetches newest first; an archive mixes folders), on both backends: a property test over
permutations of one mailbox, through the real ingest action.

The mailbox: a thread A ← B ← C, a bounce of A, two replies to a newsletter R that was
never received, an unrelated mail, and a mail whose parent never arrives."""

from __future__ import annotations

import itertools
import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette

from server.actions.ingest import ingest
from server.conversations.model import Conversation
from server.services import Services
from server.storage.base import Storage
from tests.fixtures.app import MakeUser, services_of_app


def mail(name: str, *, refs: tuple[str, ...] = (), subject: str = "Order 7") -> bytes:
    headers = [
        f"From: {name.lower()}@example.com",
        "To: support@acme.test",
        f"Subject: {'Re: ' if refs else ''}{subject}",
        f"Message-ID: <{name}@example.com>",
        f"Date: Tue, 24 Nov 2026 10:{ord(name[0]) - 60:02d}:00 +0000",
    ]
    if refs:
        ids = " ".join(f"<{r}@example.com>" for r in refs)
        headers += [f"In-Reply-To: <{refs[-1]}@example.com>", f"References: {ids}"]
    return ("\r\n".join(headers) + f"\r\n\r\nThis is {name}.\r\n").encode()


def bounce(of: str) -> bytes:
    return (
        "From: Mail Delivery System <mailer-daemon@mx.example.com>\r\n"
        "To: support@acme.test\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <F@mx.example.com>\r\n"
        "Date: Tue, 24 Nov 2026 11:00:00 +0000\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "--b\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.com\r\n\r\n"
        "Final-Recipient: rfc822; nobody@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "--b\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: support@acme.test\r\nMessage-ID: <{of}@example.com>\r\nSubject: Order 7\r\n"
        "--b--\r\n"
    ).encode()


MAILBOX = {
    "A": mail("A"),
    "B": mail("B", refs=("A",)),
    "C": mail("C", refs=("A", "B")),
    "F": bounce("A"),
    "D": mail("D", refs=("R",), subject="Newsletter"),
    "E": mail("E", refs=("R",), subject="Newsletter"),
    "G": mail("G", subject="Something else"),
    "H": mail("H", refs=("Lost",), subject="Newsletter"),  # its parent never comes
}
THREADS = [{"A", "B", "C", "F"}, {"D", "E"}, {"G"}, {"H"}]


async def threads_after(
    services: Services, org_name: str, make_user: MakeUser, order: list[str]
) -> list[set[str]]:
    owner = await make_user(f"owner@{org_name}.test", org=org_name, role="owner")
    account = await services.storage.create_account(
        owner.org.id, f"support@{org_name}.test", owner.user.id, "inbox", None, []
    )
    for name in order:
        result = await ingest(services, account, [MAILBOX[name]])
        assert result.imported == 1, (name, result.errors)
    rows = await services.storage.document_names("conv")
    found: list[set[str]] = []
    for doc_name in rows:
        conv_id = doc_name.split(":", 1)[1]
        if await services.storage.conversation_org(conv_id) != (owner.org.id, None):
            continue  # another organization's, or merged away
        conv: Conversation = await services.conversations.read(conv_id)
        found.append(
            {m.rfc_message_id.strip("<>").split("@")[0] for m in conv.messages if m.rfc_message_id}
        )
    return sorted(found, key=sorted)


def expected() -> list[set[str]]:
    return sorted(THREADS, key=sorted)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(order=st.permutations(sorted(MAILBOX)))
async def test_the_same_threads_whatever_the_arrival_order(
    order: list[str], app: Starlette, make_user: MakeUser
) -> None:
    org = f"org{uuid.uuid4().hex[:8]}"
    assert await threads_after(services_of_app(app), org, make_user, order) == expected()


async def test_newest_first_and_oldest_first_give_the_same_threads(
    app: Starlette, make_user: MakeUser
) -> None:
    services = services_of_app(app)
    for index, order in enumerate(
        [sorted(MAILBOX), sorted(MAILBOX, reverse=True), list(itertools.chain("HCBGEFDA"))]
    ):
        assert await threads_after(services, f"fixed{index}", make_user, order) == expected()


async def test_a_late_parent_brings_two_split_conversations_together_with_a_timeline_event(
    app: Starlette, make_user: MakeUser, storage: Storage
) -> None:
    services = services_of_app(app)
    owner = await make_user("owner@acme.test", role="owner")
    account = await storage.create_account(
        owner.org.id, "support@acme.test", owner.user.id, "inbox", None, []
    )
    c_only = await ingest(services, account, [mail("C", refs=("B",))])  # knows only B
    b_only = await ingest(services, account, [mail("X", refs=("A",))])  # another reply to A
    assert c_only.conversations != b_only.conversations
    joined = await ingest(services, account, [mail("B", refs=("A",))])  # B cites A, C cites B
    assert joined.joined == 1
    [survivor] = joined.conversations
    conv = await services.conversations.read(survivor)
    assert {m.rfc_message_id for m in conv.messages} == {
        "<C@example.com>", "<X@example.com>", "<B@example.com>",
    }  # fmt: skip
    [event] = [e for e in conv.events if e.type == "merged"]
    assert event.actor is None and event.data["by"] == "thread"
    assert event.data["link"] == "<B@example.com>"
