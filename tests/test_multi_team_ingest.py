"""Mail to the accounts of several teams through the real import path (rows 4 and 5), on
both backends: real .eml bytes posted to `/api/admin/accounts/{address}/import`, the
conversations, their notes and their team inboxes as the app then serves them, and the
stored message rows.

The organization: teams Sales (dave) and Support (bob); team-inbox accounts sales@ and
support@ and help@ (both Support); owner's personal account owner@."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from starlette.applications import Starlette

from server.conversations.model import Conversation
from server.storage.base import Storage
from tests.fixtures.app import MadeUser, MakeUser, services_of_app

RFC822 = {"content-type": "message/rfc822"}


def eml(number: int, *, to: str, cc: str = "", reply_to: int | None = None) -> bytes:
    headers = [
        "From: Carla Customer <carla@example.com>",
        f"To: {to}",
        *([f"Cc: {cc}"] if cc else []),
        f"Subject: {'Re: ' if reply_to else ''}Badges for the conference",
        f"Message-ID: <m{number}@example.com>",
        f"Date: Tue, 24 Nov 2026 10:0{number}:00 +0000",
    ]
    if reply_to is not None:  # the thread so far in References, as mail clients write it
        thread = " ".join(f"<m{n}@example.com>" for n in range(1, reply_to + 1))
        headers += [f"In-Reply-To: <m{reply_to}@example.com>", f"References: {thread}"]
    return ("\r\n".join(headers) + f"\r\n\r\nMessage {number}.\r\n").encode()


@dataclass
class Org:
    owner: MadeUser
    dave: MadeUser
    bob: MadeUser
    sales: str
    support: str


async def organization(storage: Storage, make_user: MakeUser) -> Org:
    owner = await make_user("owner@acme.test", role="owner")
    dave = await make_user("dave@acme.test")
    bob = await make_user("bob@acme.test")
    org = owner.org.id
    sales = await storage.create_team(org, "Sales", [dave.user.id], [], True)
    support = await storage.create_team(org, "Support", [bob.user.id], [], True)
    for address, team, member in (
        ("sales@acme.test", sales.id, dave),
        ("support@acme.test", support.id, bob),
        ("help@acme.test", support.id, bob),
    ):
        shares = [(member.user.id, False)]
        await storage.create_account(org, address, owner.user.id, "team_inbox", team, shares)
    await storage.create_account(org, "owner@acme.test", owner.user.id, "inbox", None, [])
    return Org(owner, dave, bob, sales.id, support.id)


def auth(person: MadeUser) -> dict[str, str]:
    return {"Authorization": f"Bearer {person.token}"}


@dataclass(frozen=True)
class Imported:
    imported: int
    duplicates: int
    conversations: list[str]


async def imported(client: httpx.AsyncClient, org: Org, address: str, raw: bytes) -> Imported:
    response = await client.post(
        f"/api/admin/accounts/{address}/import",
        content=raw,
        headers={**RFC822, **auth(org.owner)},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    return Imported(body["imported"], body["duplicates"], body["conversations"])


async def team_inbox(client: httpx.AsyncClient, member: MadeUser, team: str) -> list[str]:
    response = await client.get(f"/api/mailboxes/team_inbox?team={team}", headers=auth(member))
    assert response.status_code == 200, response.text
    return [row["id"] for row in response.json()["conversations"]]


async def read(app: Starlette, conv_id: str) -> Conversation:
    return await services_of_app(app).conversations.read(conv_id)


def notes(conv: Conversation) -> list[dict[str, object]]:
    return [event.data for event in conv.events if event.type == "duplicated"]


SALES, SUPPORT = "sales@acme.test", "support@acme.test"


async def test_duplicate_mode_gives_each_team_its_own_copy(
    app: Starlette, client: httpx.AsyncClient, storage: Storage, make_user: MakeUser
) -> None:
    org = await organization(storage, make_user)
    to_both = eml(1, to=SALES, cc=SUPPORT)
    first = await imported(client, org, SUPPORT, to_both)
    assert (first.imported, first.duplicates) == (1, 0)
    [sales_conv] = await team_inbox(client, org.dave, org.sales)
    [support_conv] = await team_inbox(client, org.bob, org.support)
    assert sorted(first.conversations) == sorted([sales_conv, support_conv])
    in_sales, in_support = await read(app, sales_conv), await read(app, support_conv)
    assert (in_sales.team, in_support.team) == (org.sales, org.support)
    assert org.bob.user.id not in in_sales.users and org.dave.user.id not in in_support.users
    [sales_note] = notes(in_sales)
    [support_note] = notes(in_support)
    assert sales_note["copies"] == [{"team": org.support, "conversation": support_conv}]
    assert support_note["copies"] == [{"team": org.sales, "conversation": sales_conv}]
    assert sales_note["message"] == in_sales.messages[0].id
    # each copy is its own message row, under its team's account and key
    stored = await storage.stored_copies(org.owner.org.id, "<m1@example.com>")
    copies = {key: conversation for key, (conversation, _) in stored.items()}
    assert copies == {
        f"<m1@example.com> team:{org.sales}": sales_conv,
        f"<m1@example.com> team:{org.support}": support_conv,
    }
    assert in_sales.messages[0].account_id != in_support.messages[0].account_id
    # the second account receiving it, or the same one again, makes no third copy
    for address in (SALES, SUPPORT):
        again = await imported(client, org, address, to_both)
        assert (again.imported, again.duplicates) == (0, 1)
    assert len(await storage.stored_copies(org.owner.org.id, "<m1@example.com>")) == 2

    # a reply to Sales alone joins Sales's copy only, without a note
    reply = await imported(client, org, SALES, eml(2, to=SALES, reply_to=1))
    assert reply.conversations == [sales_conv]
    assert (await read(app, support_conv)).message_count == 1
    # a reply to both joins each team's own copy, and each notes the other again
    both = await imported(client, org, SALES, eml(3, to=SUPPORT, cc=SALES, reply_to=2))
    assert sorted(both.conversations) == sorted([sales_conv, support_conv])
    in_sales, in_support = await read(app, sales_conv), await read(app, support_conv)
    assert (in_sales.message_count, in_support.message_count) == (3, 2)
    assert [n["copies"] for n in notes(in_support)] == [
        [{"team": org.sales, "conversation": sales_conv}]
    ] * 2


async def test_duplicate_mode_a_thread_reaching_another_team_starts_that_teams_copy(
    app: Starlette, client: httpx.AsyncClient, storage: Storage, make_user: MakeUser
) -> None:
    org = await organization(storage, make_user)
    [sales_conv] = (await imported(client, org, SALES, eml(1, to=SALES))).conversations
    # Sales replied with support@ in Cc; the customer answers support@ alone
    later = await imported(client, org, SUPPORT, eml(2, to=SUPPORT, reply_to=1))
    [support_conv] = later.conversations
    assert support_conv != sales_conv
    assert await team_inbox(client, org.bob, org.support) == [support_conv]
    in_support = await read(app, support_conv)
    assert in_support.team == org.support
    assert notes(in_support)[0]["copies"] == [{"team": org.sales, "conversation": sales_conv}]
    assert (await read(app, sales_conv)).message_count == 1


async def test_one_team_or_a_personal_account_still_stores_a_mail_once(
    app: Starlette, client: httpx.AsyncClient, storage: Storage, make_user: MakeUser
) -> None:
    org = await organization(storage, make_user)
    raw = eml(1, to=SUPPORT, cc="help@acme.test")
    first = await imported(client, org, SUPPORT, raw)
    second = await imported(client, org, "help@acme.test", raw)
    assert (first.imported, second.duplicates) == (1, 1)
    [conv] = first.conversations
    assert notes(await read(app, conv)) == []
    assert list(await storage.stored_copies(org.owner.org.id, "<m1@example.com>")) == [
        "<m1@example.com>"
    ]
    # a personal account keeps its own delivery: first come, stored once
    personal = eml(2, to="owner@acme.test", cc=f"{SALES}, {SUPPORT}")
    [private] = (await imported(client, org, "owner@acme.test", personal)).conversations
    assert (await read(app, private)).private
    for address in (SALES, SUPPORT):
        assert (await imported(client, org, address, personal)).duplicates == 1


async def test_single_mode_one_conversation_that_moves_by_message(
    app: Starlette, client: httpx.AsyncClient, storage: Storage, make_user: MakeUser
) -> None:
    org = await organization(storage, make_user)
    await storage.update_organization(org.owner.org.id, {"multi_team_delivery": "single"})
    raw = eml(1, to=SUPPORT, cc=SALES)
    [conv_id] = (await imported(client, org, SUPPORT, raw)).conversations
    assert await team_inbox(client, org.dave, org.sales) == [conv_id]  # "Sales" < "Support"
    assert await team_inbox(client, org.bob, org.support) == []
    assert (await imported(client, org, SALES, raw)).duplicates == 1
    assert list(await storage.stored_copies(org.owner.org.id, "<m1@example.com>")) == [
        "<m1@example.com>"
    ]
    # row 5: a later message addressed to Support's account alone moves it to Support
    moved = await imported(client, org, SUPPORT, eml(2, to=SUPPORT, reply_to=1))
    assert moved.conversations == [conv_id]
    conv = await read(app, conv_id)
    assert conv.team == org.support and conv.in_team_inbox
    [event] = [e for e in conv.events if e.type == "moved"]
    assert event.actor is None
    assert event.data == {"from": org.sales, "to": org.support, "by": "message"}
    assert await team_inbox(client, org.bob, org.support) == [conv_id]
    assert await team_inbox(client, org.dave, org.sales) == []
    # addressed to both teams' accounts, it stays where it is
    await imported(client, org, SALES, eml(3, to=SALES, cc=SUPPORT, reply_to=2))
    conv = await read(app, conv_id)
    assert conv.team == org.support and [e.type for e in conv.events].count("moved") == 1
    assert notes(conv) == []


async def test_duplicate_mode_a_conversation_moved_by_hand_is_that_teams_copy(
    app: Starlette, client: httpx.AsyncClient, storage: Storage, make_user: MakeUser
) -> None:
    org = await organization(storage, make_user)
    [conv_id] = (await imported(client, org, SALES, eml(1, to=SALES))).conversations
    moved = await client.post(
        f"/api/conversations/{conv_id}/commands",
        json={"command": "move_to_team", "team": org.support},
        headers=auth(org.dave),
    )
    assert moved.status_code == 200, moved.text
    # Sales's copy by its account, Support's by where it is now: one conversation, one copy
    reply_all = eml(2, to=SALES, cc=SUPPORT, reply_to=1)
    assert (await imported(client, org, SUPPORT, reply_all)).conversations == [conv_id]
    assert (await imported(client, org, SALES, reply_all)).duplicates == 1
    conv = await read(app, conv_id)
    assert conv.message_count == 2 and conv.team == org.support
    assert notes(conv) == []
    assert list(await storage.stored_copies(org.owner.org.id, "<m2@example.com>")) == [
        f"<m2@example.com> team:{org.sales}"
    ]


async def test_merging_the_duplicates_back_holds_the_mail_once(
    app: Starlette, client: httpx.AsyncClient, storage: Storage, make_user: MakeUser
) -> None:
    """The cross-link note offers to merge the copies (L9752–9760): the result shows the
    mail once, with the messages each copy had on its own."""
    org = await organization(storage, make_user)
    await imported(client, org, SUPPORT, eml(1, to=SALES, cc=SUPPORT))
    await imported(client, org, SALES, eml(2, to=SALES, reply_to=1))
    [sales_conv] = await team_inbox(client, org.dave, org.sales)
    [support_conv] = await team_inbox(client, org.bob, org.support)
    for conv, member in ((sales_conv, org.dave), (support_conv, org.bob)):
        added = await client.post(  # the owner needs access to both to merge them
            f"/api/conversations/{conv}/commands",
            json={"command": "add_people", "users": [org.owner.user.id]},
            headers=auth(member),
        )
        assert added.status_code == 200, added.text
    done = await client.post(
        f"/api/conversations/{support_conv}/commands",
        json={"command": "merge_into", "target": sales_conv},
        headers=auth(org.owner),
    )
    assert done.status_code == 200, done.text
    result = await read(app, sales_conv)
    ids = [m.rfc_message_id for m in result.messages]
    assert ids == ["<m1@example.com>", "<m2@example.com>"]
