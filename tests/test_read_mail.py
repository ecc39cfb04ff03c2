"""Reading received mail in full, on both backends: a conversation's messages page by page
with their headers, text, sanitised HTML, files and raw bytes through `/api`, the same mail
through the Missive-compatible `/v1`, who may read what, and de-duplication by Message-ID
and content."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

import httpx

from server.actions.message_bodies import fill_unparsed
from server.storage.base import Storage
from tests.fixtures.app import MadeUser, MakeUser

RFC822 = {"content-type": "message/rfc822"}
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
PDF = b"%PDF-1.4\n% a tiny file\n%%EOF\n"


def rich_mail() -> bytes:
    """A customer's mail as a real client writes it: text and HTML alternatives, an inline
    image the HTML shows by cid:, a PDF, recipients with names, and a script to drop."""
    pixel = base64.encodebytes(PIXEL).decode()
    pdf = base64.encodebytes(PDF).decode()
    return (
        'From: "Carla Customer" <Carla@Example.com>\r\n'
        'To: Support <support@acme.test>, "Doe, John" <john@example.com>\r\n'
        "Cc: Finance <finance@example.com>\r\n"
        "Reply-To: Carla at home <carla@home.example>\r\n"
        "Subject: Invoice 42 =?utf-8?q?=E2=80=94_overdue?=\r\n"
        "Message-ID: <rich-1@example.com>\r\n"
        "In-Reply-To: <earlier@example.com>\r\n"
        "References: <root@example.com> <earlier@example.com>\r\n"
        "Date: Tue, 24 Nov 2026 10:00:00 +0000\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="outer"\r\n\r\n'
        "--outer\r\n"
        'Content-Type: multipart/related; boundary="rel"\r\n\r\n'
        "--rel\r\n"
        'Content-Type: multipart/alternative; boundary="alt"\r\n\r\n'
        "--alt\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        "Hello,=0AInvoice 42 is overdue =E2=80=94 see the PDF.\r\n"
        "--alt\r\n"
        "Content-Type: text/html; charset=utf-8\r\n\r\n"
        '<p>Hello, <b>invoice 42</b> is overdue.</p><img src="cid:logo@x">'
        '<script>alert(1)</script><a href="javascript:alert(2)">pay</a>\r\n'
        "--alt--\r\n"
        "--rel\r\n"
        "Content-Type: image/png\r\n"
        "Content-ID: <logo@x>\r\n"
        "Content-Disposition: inline\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n"
        f"{pixel}\r\n"
        "--rel--\r\n"
        "--outer\r\n"
        'Content-Type: application/pdf; name="invoice-42.pdf"\r\n'
        'Content-Disposition: attachment; filename="invoice-42.pdf"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n"
        f"{pdf}\r\n"
        "--outer--\r\n"
    ).encode()


def plain_mail(number: int, *, message_id: str | None = None, body: str = "") -> bytes:
    return (
        "From: Carla Customer <carla@example.com>\r\n"
        "To: support@acme.test\r\n"
        f"Subject: Re: Invoice 42\r\n"
        f"Message-ID: {message_id or f'<plain-{number}@example.com>'}\r\n"
        "In-Reply-To: <rich-1@example.com>\r\n"
        "References: <root@example.com> <rich-1@example.com>\r\n"
        f"Date: Tue, 24 Nov 2026 11:{number:02d}:00 +0000\r\n"
        "\r\n"
        f"{body or f'Follow-up number {number}.'}\r\n"
    ).encode()


@dataclass
class Desk:
    owner: MadeUser
    agent: MadeUser
    outsider: MadeUser  # a member of the organization without access to the account


async def desk(storage: Storage, make_user: MakeUser) -> Desk:
    owner = await make_user("owner@acme.test", role="owner")
    agent = await make_user("agent@acme.test")
    outsider = await make_user("outsider@acme.test")
    await storage.create_account(
        owner.org.id, "support@acme.test", owner.user.id, "inbox", None,
        [(agent.user.id, False)],
    )  # fmt: skip
    return Desk(owner, agent, outsider)


def auth(person: MadeUser) -> dict[str, str]:
    return {"Authorization": f"Bearer {person.token}"}


async def post_mail(client: httpx.AsyncClient, who: MadeUser, raw: bytes) -> dict[str, object]:
    response = await client.post(
        "/api/admin/accounts/support@acme.test/import", content=raw, headers={**RFC822, **auth(who)}
    )
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


async def test_a_received_mail_reads_in_full(
    client: httpx.AsyncClient, storage: Storage, make_user: MakeUser
) -> None:
    people = await desk(storage, make_user)
    result = await post_mail(client, people.owner, rich_mail())
    assert (result["imported"], result["total"]) == (1, 1)
    [conv_id] = result["conversations"]  # type: ignore[misc]
    page = await client.get(f"/api/conversations/{conv_id}/messages", headers=auth(people.agent))
    assert page.status_code == 200, page.text
    [message] = page.json()["messages"]
    assert page.json()["next"] is None
    assert message["message_id"] == "<rich-1@example.com>"
    assert message["in_reply_to"] == "<earlier@example.com>"
    assert message["references"] == ["<root@example.com>", "<earlier@example.com>"]
    assert message["subject"] == "Invoice 42 — overdue"
    assert message["from"] == {"address": "carla@example.com", "name": "Carla Customer"}
    assert message["to"] == [
        {"address": "support@acme.test", "name": "Support"},
        {"address": "john@example.com", "name": "Doe, John"},
    ]
    assert message["cc"] == [{"address": "finance@example.com", "name": "Finance"}]
    assert message["bcc"] == []
    assert message["reply_to"] == [{"address": "carla@home.example", "name": "Carla at home"}]
    assert message["date"] == 1795514400  # 2026-11-24 10:00:00 UTC
    assert message["direction"] == "inbound"
    assert message["account"]["address"] == "support@acme.test"
    assert message["text"] == "Hello,\nInvoice 42 is overdue — see the PDF."
    html = message["html"]
    assert "<b>invoice 42</b>" in html
    assert "<script" not in html and "alert(1)" not in html and "javascript:" not in html
    logo, pdf = message["attachments"]
    assert (logo["content_type"], logo["inline"], logo["content_id"]) == (
        "image/png",
        True,
        "logo@x",
    )
    assert f'src="{logo["url"]}"' in html and "cid:" not in html
    assert (pdf["filename"], pdf["content_type"], pdf["inline"]) == (
        "invoice-42.pdf", "application/pdf", False,
    )  # fmt: skip
    assert (pdf["size"], pdf["sha256"]) == (len(PDF), hashlib.sha256(PDF).hexdigest())

    file = await client.get(pdf["url"], headers=auth(people.agent))
    assert file.status_code == 200 and file.content == PDF
    assert file.headers["content-type"] == "application/pdf"
    assert file.headers["content-disposition"].startswith("attachment;")
    assert file.headers["x-content-type-options"] == "nosniff"
    image = await client.get(logo["url"], headers=auth(people.agent))
    assert image.content == PIXEL and image.headers["content-disposition"].startswith("inline;")
    assert "sandbox" in image.headers["content-security-policy"]

    one = await client.get(f"/api/messages/{message['id']}", headers=auth(people.agent))
    assert one.json() == {"message": message}
    raw = await client.get(message["raw_url"], headers=auth(people.agent))
    assert raw.status_code == 200 and raw.content == rich_mail()
    assert raw.headers["content-type"] == "message/rfc822"


async def test_only_those_who_may_read_the_conversation_read_its_mail(
    client: httpx.AsyncClient, storage: Storage, make_user: MakeUser
) -> None:
    people = await desk(storage, make_user)
    [conv_id] = (await post_mail(client, people.owner, rich_mail()))["conversations"]  # type: ignore[misc]
    page = await client.get(f"/api/conversations/{conv_id}/messages", headers=auth(people.agent))
    message = page.json()["messages"][0]
    stranger = auth(people.outsider)
    listed = await client.get(f"/api/conversations/{conv_id}/messages", headers=stranger)
    assert listed.status_code == 403
    for url in (
        f"/api/messages/{message['id']}",
        message["raw_url"],
        *(a["url"] for a in message["attachments"]),
    ):
        denied = await client.get(url, headers=stranger)
        assert denied.status_code == 404, url
        assert (await client.get(url)).status_code == 401, url
    missing = await client.get("/api/messages/no-such-message", headers=auth(people.agent))
    assert missing.status_code == 404 and missing.json()["error"]["field"] == "message"


async def test_messages_page_oldest_first_and_every_one_is_reached(
    client: httpx.AsyncClient, storage: Storage, make_user: MakeUser
) -> None:
    people = await desk(storage, make_user)
    [conv_id] = (await post_mail(client, people.owner, rich_mail()))["conversations"]  # type: ignore[misc]
    for number in (5, 1, 4, 2, 3):  # arrival order is not the order shown
        result = await post_mail(client, people.owner, plain_mail(number))
        assert result["conversations"] == [conv_id]
    seen: list[str] = []
    cursor = ""
    while True:
        page = await client.get(
            f"/api/conversations/{conv_id}/messages?limit=2&cursor={cursor}",
            headers=auth(people.agent),
        )
        assert page.status_code == 200, page.text
        body = page.json()
        assert len(body["messages"]) <= 2
        seen += [m["message_id"] for m in body["messages"]]
        if body["next"] is None:
            break
        cursor = body["next"]
    assert seen == ["<rich-1@example.com>", *(f"<plain-{n}@example.com>" for n in range(1, 6))]
    for query, field in (("limit=0", "limit"), ("limit=201", "limit"), ("cursor=zzz", "cursor")):
        bad = await client.get(
            f"/api/conversations/{conv_id}/messages?{query}", headers=auth(people.agent)
        )
        assert bad.status_code == 400 and bad.json()["error"]["field"] == field


async def test_two_different_mails_sharing_a_message_id_are_both_kept(
    client: httpx.AsyncClient, storage: Storage, make_user: MakeUser
) -> None:
    people = await desk(storage, make_user)
    first = plain_mail(1, message_id="<reused@legacy.example>", body="Your order shipped.")
    second = plain_mail(2, message_id="<reused@legacy.example>", body="Your order arrived.")
    assert (await post_mail(client, people.owner, first))["imported"] == 1
    assert (await post_mail(client, people.owner, second))["imported"] == 1
    # the same mail again, through another relay and with LF line endings: a duplicate
    relayed = b"Received: from mx2.example.com by mx.acme.test\n" + second.replace(b"\r\n", b"\n")
    again = await post_mail(client, people.owner, relayed)
    assert (again["imported"], again["duplicates"]) == (0, 1)
    assert (await post_mail(client, people.owner, first))["duplicates"] == 1
    stored = await storage.stored_copies(people.owner.org.id, "<reused@legacy.example>")
    assert len(stored) == 2


async def test_v1_pages_through_every_message_with_names_and_files(
    client: httpx.AsyncClient, storage: Storage, make_user: MakeUser
) -> None:
    people = await desk(storage, make_user)
    [conv_id] = (await post_mail(client, people.owner, rich_mail()))["conversations"]  # type: ignore[misc]
    for number in range(1, 13):
        await post_mail(client, people.owner, plain_mail(number))
    seen: list[str] = []
    until = ""
    while True:
        page = await client.get(
            f"/v1/conversations/{conv_id}/messages?limit=5{until}", headers=auth(people.agent)
        )
        assert page.status_code == 200, page.text
        items = page.json()["messages"]
        seen += [m["email_message_id"] for m in items]
        assert all("body" not in m for m in items)
        if len(items) < 5:
            break
        until = f"&until={items[-1]['delivered_at']}"
    expected = [*(f"<plain-{n}@example.com>" for n in range(12, 0, -1)), "<rich-1@example.com>"]
    assert seen == expected  # newest first, each once
    convs = await client.get(f"/v1/conversations/{conv_id}", headers=auth(people.agent))
    conversation = convs.json()["conversations"][0]
    assert conversation["attachments_count"] == 1  # the PDF; the inline logo is part of the body
    assert conversation["authors"] == [{"name": "Carla Customer", "address": "carla@example.com"}]

    page = await client.get(f"/v1/conversations/{conv_id}/messages", headers=auth(people.agent))
    ids = [m["id"] for m in page.json()["messages"]][:2]
    one = await client.get(f"/v1/messages/{ids[0]}", headers=auth(people.agent))
    assert one.status_code == 200, one.text
    message = one.json()["messages"]
    assert message["id"] == ids[0] and message["conversation"]["id"] == conv_id
    assert message["body"].startswith("<div") and "Follow-up number 12." in message["body"]
    both = await client.get(f"/v1/messages/{ids[0]},{ids[1]}", headers=auth(people.agent))
    assert [m["id"] for m in both.json()["messages"]] == ids

    found = await client.get(
        "/v1/messages?email_message_id=<rich-1@example.com>", headers=auth(people.agent)
    )
    [rich] = found.json()["messages"]
    assert rich["from_field"] == {"name": "Carla Customer", "address": "carla@example.com"}
    assert rich["to_fields"][1] == {"name": "Doe, John", "address": "john@example.com"}
    assert rich["in_reply_to"] == ["<earlier@example.com>"]
    assert rich["references"] == ["<root@example.com>", "<earlier@example.com>"]
    assert "<b>invoice 42</b>" in rich["body"] and "<script" not in rich["body"]
    [_, pdf] = rich["attachments"]
    assert (pdf["filename"], pdf["extension"], pdf["media_type"], pdf["sub_type"]) == (
        "invoice-42.pdf", "pdf", "application", "pdf",
    )  # fmt: skip
    assert pdf["url"].startswith("http") and pdf["url"].endswith(f"/api/attachments/{pdf['id']}")
    stranger = await client.get(f"/v1/messages/{ids[0]}", headers=auth(people.outsider))
    assert stranger.status_code == 404
    nobody = await client.get(
        "/v1/messages?email_message_id=<rich-1@example.com>", headers=auth(people.outsider)
    )
    assert nobody.json() == {"messages": []}


async def test_a_retried_rejection_that_now_stores_leaves_the_list(
    client: httpx.AsyncClient, storage: Storage, make_user: MakeUser
) -> None:
    people = await desk(storage, make_user)
    [account] = await storage.accounts_by_address("support@acme.test")
    raw = plain_mail(1)  # rejected by an earlier version, say: it stores now
    kept = await storage.add_rejected(
        people.owner.org.id, account.id, "an older reason", "import", raw,
        hashlib.sha256(raw).hexdigest(),
    )  # fmt: skip
    base = "/api/admin/accounts/support@acme.test/rejected"
    listed = (await client.get(base, headers=auth(people.owner))).json()["rejected"]
    assert [(r["id"], r["reason"], r["size"]) for r in listed] == [
        (kept, "an older reason", len(raw))
    ]
    member = await client.post(f"{base}/{kept}/retry", headers=auth(people.agent))
    assert member.status_code == 403
    retried = await client.post(f"{base}/{kept}/retry", headers=auth(people.owner))
    assert retried.status_code == 200, retried.text
    assert (retried.json()["imported"], retried.json()["rejected"]) == (1, 0)
    assert (await client.get(base, headers=auth(people.owner))).json() == {"rejected": []}
    gone = await client.post(f"{base}/{kept}/retry", headers=auth(people.owner))
    assert gone.status_code == 404 and gone.json()["error"]["field"] == "id"


async def test_messages_stored_before_their_parsed_columns_are_filled_by_migrate(
    client: httpx.AsyncClient, storage: Storage, make_user: MakeUser
) -> None:
    people = await desk(storage, make_user)
    [conv_id] = (await post_mail(client, people.owner, plain_mail(1)))["conversations"]  # type: ignore[misc]
    legacy = rich_mail()
    async with storage.db.transaction() as tx:  # type: ignore[attr-defined]
        # a row as the previous version stored it: raw bytes, no parsed columns
        await tx.execute(
            "INSERT INTO messages (id, org_id, conversation_id, account_id, rfc_message_id,"
            " dedupe_key, direction, from_address, subject, sent_at, raw, created_at)"
            " VALUES (?, ?, ?, NULL, ?, ?, 'in', ?, ?, ?, ?, ?)",
            "legacy-1", people.owner.org.id, conv_id, "<rich-1@example.com>",
            "<rich-1@example.com>", "carla@example.com", "Invoice 42", 1795514400000, legacy,
            1795514400000,
        )  # fmt: skip
    assert await fill_unparsed(storage) == 1
    assert await fill_unparsed(storage) == 0
    one = await client.get("/api/messages/legacy-1", headers=auth(people.agent))
    message = one.json()["message"]
    assert message["text"] == "Hello,\nInvoice 42 is overdue — see the PDF."
    assert [a["filename"] for a in message["attachments"]] == [None, "invoice-42.pdf"]
    assert "<b>invoice 42</b>" in message["html"]
    page = await client.get(f"/api/conversations/{conv_id}/messages", headers=auth(people.agent))
    ids = [m["id"] for m in page.json()["messages"]]
    assert len(ids) == 2 and ids[0] == "legacy-1"  # its Date is earlier


async def test_a_conversation_without_email_has_an_empty_last_page(
    client: httpx.AsyncClient, storage: Storage, make_user: MakeUser
) -> None:
    people = await desk(storage, make_user)
    chat = await client.post(
        "/api/conversations", json={"subject": "Lunch?"}, headers=auth(people.agent)
    )
    assert chat.status_code == 201, chat.text
    page = await client.get(
        f"/api/conversations/{chat.json()['conversation']['id']}/messages",
        headers=auth(people.agent),
    )
    assert page.status_code == 200 and page.json() == {"messages": [], "next": None}
