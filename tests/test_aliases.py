"""Aliases on both backends: who adds, deletes and shares them (the account's owner or an
admin), who may send from them and keep their own settings on them, the default sender,
bad input named; and what a reply or a new email starts with (`server.actions.identity`)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from server.actions.identity import (
    display_name,
    new_email_identity,
    reply_identity,
    sender_alias,
    signature_for,
)
from server.conversations.model import MessageSummary
from server.errors import Forbidden, InvalidInput
from server.storage.base import Storage
from server.storage.mail import Account
from tests.fixtures.app import MadeUser, MakeUser, services_of_app


def auth(person: MadeUser) -> dict[str, str]:
    return {"Authorization": f"Bearer {person.token}"}


@dataclass(frozen=True)
class Acme:
    philippe: MadeUser  # owner of the organization and of philippe@
    rafael: MadeUser  # a member with his own account
    teammate: MadeUser  # in the Support team, whose account is help@
    admin: MadeUser
    stranger: MadeUser  # another organization's owner
    p_account: Account
    r_account: Account
    help_account: Account


@pytest.fixture
async def acme(storage: Storage, make_user: MakeUser) -> Acme:
    philippe = await make_user("philippe@acme.test", role="owner")
    rafael = await make_user("rafael@acme.test")
    teammate = await make_user("teammate@acme.test")
    admin = await make_user("admin@acme.test", role="admin")
    stranger = await make_user("eve@globex.test", org="Globex", role="owner")
    org = philippe.org.id
    team = await storage.create_team(org, "Support", [teammate.user.id], [], True)
    accounts = [
        await storage.create_account(org, address, owner, delivery, team_id, [])
        for address, owner, delivery, team_id in (
            ("philippe@acme.test", philippe.user.id, "inbox", None),
            ("rafael@acme.test", rafael.user.id, "inbox", None),
            ("help@acme.test", None, "team_inbox", team.id),
        )
    ]
    return Acme(philippe, rafael, teammate, admin, stranger, *accounts)


async def _add(client: httpx.AsyncClient, who: MadeUser, account: str, **body: Any) -> Any:
    return await client.post(f"/api/accounts/{account}/aliases", json=body, headers=auth(who))


async def _mine(client: httpx.AsyncClient, who: MadeUser) -> dict[str, dict[str, Any]]:
    answer = await client.get("/api/aliases", headers=auth(who))
    assert answer.status_code == 200, answer.text
    found: dict[str, dict[str, Any]] = {}
    for alias in answer.json()["aliases"]:
        found.setdefault(alias["address"], alias)  # of twins, the first
    return found


async def test_adding_sharing_and_deleting_aliases(client: httpx.AsyncClient, acme: Acme) -> None:
    p_account = acme.p_account.id
    created = await _add(client, acme.philippe, p_account, address=" Sales@Acme.test ",
                         description="Sales desk")  # fmt: skip
    assert created.status_code == 201, created.text
    sales = created.json()["alias"]
    assert (sales["address"], sales["is_default"], sales["shared_with"]) == (
        "sales@acme.test", False, [],
    )  # fmt: skip
    twin = await _add(client, acme.admin, p_account, address="sales@acme.test")  # AL-10
    assert twin.status_code == 201  # an admin manages any account's aliases
    for who, status, field in ((acme.rafael, 403, None), (acme.stranger, 404, "account")):
        refused = await _add(client, who, p_account, address="x@acme.test")
        assert (refused.status_code, refused.json()["error"].get("field")) == (status, field)

    mine = await _mine(client, acme.philippe)
    assert list(mine) == ["philippe@acme.test", "sales@acme.test"]  # twins: the first shown
    assert mine["philippe@acme.test"]["id"] == p_account  # the default alias is the account
    assert mine["sales@acme.test"]["description"] == "Sales desk"
    assert list(await _mine(client, acme.rafael)) == ["rafael@acme.test"]
    assert list(await _mine(client, acme.teammate)) == ["help@acme.test"]  # through the team

    shares = f"/api/aliases/{sales['id']}/shares"
    refused = await client.put(
        shares, json={"users": [acme.rafael.user.id]}, headers=auth(acme.rafael)
    )
    assert refused.status_code == 403
    shared = await client.put(
        shares, json={"users": [acme.rafael.user.id]}, headers=auth(acme.philippe)
    )
    assert shared.json()["alias"]["shared_with"] == [acme.rafael.user.id]
    rafaels = await _mine(client, acme.rafael)
    assert list(rafaels) == ["rafael@acme.test", "sales@acme.test"]
    assert "shared_with" not in rafaels["sales@acme.test"]  # he sends from it, not manages it
    listed = await client.get(f"/api/accounts/{p_account}/aliases", headers=auth(acme.rafael))
    assert listed.status_code == 403  # sharing an alias does not share the account (AL-7)

    default = f"/api/aliases/{p_account}"
    kept = await client.delete(default, headers=auth(acme.philippe))
    assert (kept.status_code, kept.json()["error"]["field"]) == (409, "alias")
    path = f"/api/aliases/{sales['id']}"
    assert (await client.delete(path, headers=auth(acme.rafael))).status_code == 403
    assert (await client.delete(path, headers=auth(acme.stranger))).status_code == 404
    assert (await client.delete(path, headers=auth(acme.philippe))).status_code == 204
    assert (await client.delete(path, headers=auth(acme.philippe))).status_code == 404
    assert list(await _mine(client, acme.rafael)) == ["rafael@acme.test"]  # its share went too
    listed = await client.get(f"/api/accounts/{p_account}/aliases", headers=auth(acme.admin))
    assert [a["id"] for a in listed.json()["aliases"]] == [p_account, twin.json()["alias"]["id"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"address": "not an address"}, "address"),
        ({"address": "a@b"}, "address"),
        ({"address": 42}, "address"),
        ({}, "address"),
        ({"address": "x@acme.test", "description": "d" * 501}, "description"),
        ({"address": "x@acme.test", "name": "X"}, "name"),
    ],
)
async def test_a_bad_alias_is_named(
    client: httpx.AsyncClient, acme: Acme, body: dict[str, Any], field: str
) -> None:
    answer = await _add(client, acme.philippe, acme.p_account.id, **body)
    assert (answer.status_code, answer.json()["error"]["field"]) == (400, field), answer.text


async def test_own_settings_and_the_default_sender(client: httpx.AsyncClient, acme: Acme) -> None:
    sales = (await _add(client, acme.philippe, acme.p_account.id, address="sales@acme.test")).json()
    settings = f"/api/aliases/{sales['alias']['id']}/settings"
    refused = await client.patch(settings, json={"name": "R"}, headers=auth(acme.rafael))
    assert (refused.status_code, refused.json()["error"]["field"]) == (403, "alias")
    hidden = await client.patch(settings, json={"name": "E"}, headers=auth(acme.stranger))
    assert hidden.status_code == 404
    signature = await client.post(
        "/api/signatures", json={"name": "Mine", "body": "<p>R</p>"}, headers=auth(acme.rafael)
    )
    rafaels = signature.json()["signature"]["id"]
    for body, field in (
        ({"never_auto_select": "yes"}, "never_auto_select"),
        ({"signature_id": "nope"}, "signature_id"),
        ({"signature_id": rafaels}, "signature_id"),  # another user's personal signature
        ({"name": "Sales\r\nBcc: x@evil.test"}, "name"),  # no header injection
        ({"name": "n" * 201}, "name"),
        ({"colour": "red"}, "colour"),
    ):
        bad = await client.patch(settings, json=body, headers=auth(acme.philippe))
        assert (bad.status_code, bad.json()["error"]["field"]) == (400, field), body
    team = await client.post(
        "/api/signatures",
        json={"name": "Team", "body": "<p>{{ user.name }}</p>", "scope": "organization"},
        headers=auth(acme.philippe),
    )
    team_id = team.json()["signature"]["id"]
    saved = await client.patch(
        settings,
        json={"name": " Philippe (Sales) ", "never_auto_select": True, "signature_id": team_id},
        headers=auth(acme.philippe),
    )
    assert saved.json()["settings"] == {
        "name": "Philippe (Sales)", "description": "", "never_auto_select": True,
        "signature_id": team_id,
    }  # fmt: skip
    partial = await client.patch(settings, json={"description": "mobile"},
                                 headers=auth(acme.philippe))  # fmt: skip
    assert partial.json()["settings"]["never_auto_select"] is True  # the rest kept
    await client.delete(f"/api/signatures/{team_id}", headers=auth(acme.philippe))
    mine = await _mine(client, acme.philippe)
    assert mine["sales@acme.test"]["settings"]["signature_id"] is None  # deleted: none
    assert mine["philippe@acme.test"]["settings"]["name"] == ""  # settings are per alias

    sender = "/api/me/sender"
    empty = await client.get(sender, headers=auth(acme.rafael))
    assert empty.json()["sender"] == {"default_alias_id": None, "always_reply_from_default": False}
    for body, field in (
        ({"default_alias_id": acme.p_account.id}, "default_alias_id"),  # not his to send from
        ({"default_alias_id": 3}, "default_alias_id"),
        ({"always_reply_from_default": "yes"}, "always_reply_from_default"),
        ({"default": "x"}, "default"),
    ):
        bad = await client.patch(sender, json=body, headers=auth(acme.rafael))
        assert (bad.status_code, bad.json()["error"]["field"]) == (400, field), body
    chosen = {"default_alias_id": acme.r_account.id, "always_reply_from_default": True}
    assert (await client.patch(sender, json=chosen, headers=auth(acme.rafael))).json()[
        "sender"] == chosen  # fmt: skip
    assert (await client.get(sender, headers=auth(acme.rafael))).json()["sender"] == chosen
    cleared = await client.patch(sender, json={"default_alias_id": None}, headers=auth(acme.rafael))
    assert cleared.json()["sender"] == {**chosen, "default_alias_id": None}


MAIL = (
    b"From: Carla <carla@example.com>\r\nTo: sales@acme.test\r\n"
    b"Delivered-To: philippe@acme.test\r\nSubject: Badges\r\n"
    b"Message-ID: <badges-1@example.com>\r\nDate: Mon, 01 Jan 2024 10:00:00 +0000\r\n"
    b"\r\nHow much for 200 badges?\r\n"
)


async def test_what_a_reply_and_a_new_email_start_with(
    app: Starlette, client: httpx.AsyncClient, acme: Acme, storage: Storage
) -> None:
    org, philippe, rafael = acme.philippe.org.id, acme.philippe.user.id, acme.rafael.user.id
    sales = (await _add(client, acme.philippe, acme.p_account.id, address="sales@acme.test")).json()
    sales_id = sales["alias"]["id"]
    team = await client.post(
        "/api/signatures",
        json={"name": "Team", "scope": "organization", "insert_in": "first_then_alt",
              "body": "<p>{{ user.first_name }} at Acme</p>",
              "alt_body": "<p>-- {{ user.name }}</p>"},
        headers=auth(acme.philippe),
    )  # fmt: skip
    team_id = team.json()["signature"]["id"]
    await client.patch(f"/api/aliases/{sales_id}/settings",
                       json={"name": "Philippe", "signature_id": team_id},
                       headers=auth(acme.philippe))  # fmt: skip
    imported = await client.post(
        "/api/admin/accounts/philippe@acme.test/import", content=MAIL,
        headers={**auth(acme.philippe), "content-type": "message/rfc822"},
    )  # fmt: skip
    [conv_id] = imported.json()["conversations"]
    conv = await services_of_app(app).conversations.read(conv_id)

    first = await reply_identity(storage, org, philippe, conv)
    assert first is not None
    assert (first.alias_id, first.account_id, first.address, first.name) == (
        sales_id, acme.p_account.id, "sales@acme.test", "Philippe",
    )  # fmt: skip
    assert (first.signature_id, first.signature_html, first.signature_text) == (
        team_id, "<p>Philippe at Acme</p>", "Philippe at Acme",
    )  # fmt: skip
    sent = MessageSummary(
        "out-1", "out", "sales@acme.test", "Re: Badges", "", conv.last_activity_at + 1
    )
    replied = dataclasses.replace(conv, messages=[*conv.messages, sent])
    second = await reply_identity(storage, org, philippe, replied)
    assert second is not None and second.signature_html == "<p>-- Philippe</p>"  # SG-3

    other = await reply_identity(storage, org, rafael, conv)  # no sales@: same domain
    assert other is not None and (other.address, other.signature_id) == ("rafael@acme.test", None)
    assert await reply_identity(storage, org, acme.stranger.user.id, conv) is None

    await client.patch(f"/api/aliases/{sales_id}/settings", json={"never_auto_select": True},
                       headers=auth(acme.philippe))  # fmt: skip
    never = await reply_identity(storage, org, philippe, conv)
    assert never is not None and never.address == "philippe@acme.test"  # Delivered-To
    await client.patch("/api/me/sender",
                       json={"default_alias_id": sales_id, "always_reply_from_default": True},
                       headers=auth(acme.philippe))  # fmt: skip
    always = await reply_identity(storage, org, philippe, conv)
    assert always is not None and always.alias_id == sales_id

    new = await new_email_identity(storage, org, philippe)
    assert new is not None and new.alias_id == sales_id and new.signature_html.startswith("<p>")
    plain = await new_email_identity(storage, org, rafael)
    assert plain is not None and (plain.alias_id, plain.signature_html) == (acme.r_account.id, "")
    assert await new_email_identity(storage, org, acme.admin.user.id) is None  # no account
    assert await display_name(storage, org, philippe, sales_id) == "Philippe"


async def test_sending_from_an_address_and_switching_signatures(
    client: httpx.AsyncClient, acme: Acme, storage: Storage
) -> None:
    org, rafael = acme.philippe.org.id, acme.rafael.user.id
    sales = (await _add(client, acme.philippe, acme.p_account.id, address="sales@acme.test")).json()
    account, alias = await sender_alias(storage, org, acme.philippe.user.id, " SALES@acme.test")
    assert (account.id, alias.id) == (acme.p_account.id, sales["alias"]["id"])
    with pytest.raises(Forbidden) as refused:
        await sender_alias(storage, org, rafael, "sales@acme.test")
    assert refused.value.field == "from"
    with pytest.raises(InvalidInput) as unknown:
        await sender_alias(storage, org, rafael, "nobody@acme.test")
    assert unknown.value.field == "from"
    await client.put(f"/api/aliases/{alias.id}/shares", json={"users": [rafael]},
                     headers=auth(acme.philippe))  # fmt: skip
    account, _ = await sender_alias(storage, org, rafael, "sales@acme.test")
    assert account.id == acme.p_account.id  # shared: sent through Philippe's account
    team_account, _ = await sender_alias(storage, org, acme.teammate.user.id, "help@acme.test")
    assert team_account.id == acme.help_account.id

    made = await client.post(
        "/api/signatures",
        json={"name": "Short", "insert_in": "first", "body": "<p>{{ user.email }}</p>"},
        headers=auth(acme.philippe),
    )
    mine = made.json()["signature"]["id"]
    philippe = acme.philippe.user.id
    assert await signature_for(storage, org, philippe, None, True) == ("", "")
    assert await signature_for(storage, org, philippe, mine, True) == (
        "<p>philippe@acme.test</p>", "philippe@acme.test",
    )  # fmt: skip
    assert await signature_for(storage, org, philippe, mine, False) == ("", "")  # replies: none
    for who, signature in ((rafael, mine), (philippe, "nope")):
        with pytest.raises(InvalidInput) as hidden:
            await signature_for(storage, org, who, signature, True)
        assert hidden.value.field == "signature_id"
