"""Label visibility (L10023–10026, L10259): a label visible to "admins and auto-shared
users" is listed, applied, removed and browsed only by them; anyone may choose it when
creating a label, only owners and admins may change it afterwards."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import httpx
import pytest

from server.conversations.machine import COMMANDS
from server.conversations.mailboxes import in_mailbox
from server.errors import Forbidden
from tests.fixtures.machine import DIRECTORY, NOW, make
from tests.fixtures.server import LiveServer, Person, make_person

# vip auto-shares with dave (tests/fixtures/machine.py); erin is an admin
RESTRICTED = dataclasses.replace(DIRECTORY, restricted_labels=frozenset({"vip"}))


@pytest.mark.parametrize(("actor", "allowed"), [("alice", False), ("dave", True), ("erin", True)])
def test_who_may_apply_and_remove_a_restricted_label(actor: str, allowed: bool) -> None:
    conv = make({actor: "inbox"})
    before = copy.deepcopy(conv)
    for name in ("add_labels", "remove_labels"):
        if allowed:
            COMMANDS[name](conv, actor, labels=["vip"], now=NOW, directory=RESTRICTED)
            continue
        with pytest.raises(Forbidden) as refused:
            COMMANDS[name](conv, actor, labels=["vip"], now=NOW, directory=RESTRICTED)
        assert refused.value.field == "labels"
        assert conv == before
    COMMANDS["add_labels"](conv, actor, labels=["billing"], now=NOW, directory=RESTRICTED)


def test_a_restricted_label_lists_only_for_those_who_see_it() -> None:
    conv = make({"alice": "", "dave": ""}, labels=["vip"])
    assert in_mailbox(conv, "dave", "label", RESTRICTED, NOW, label="vip")
    assert not in_mailbox(conv, "alice", "label", RESTRICTED, NOW, label="vip")
    assert in_mailbox(conv, "alice", "label", DIRECTORY, NOW, label="vip")


async def _people(live: LiveServer) -> tuple[Person, Person, Person]:
    services = live.services
    admin = await make_person(services, "admin@acme.test")
    bob = await make_person(services, "bob@acme.test")
    carol = await make_person(services, "carol@acme.test")
    async with services.storage.db.transaction() as tx:  # type: ignore[attr-defined]
        await tx.execute("UPDATE memberships SET role = 'admin' WHERE user_id = ?", admin.user.id)
    return admin, bob, carol


async def _get(live: LiveServer, person: Person, path: str) -> httpx.Response:
    async with live.client(person.token) as http:
        return await http.get(path)


async def _send(live: LiveServer, person: Person, method: str, path: str, body: Any) -> int:
    async with live.client(person.token) as http:
        return (await http.request(method, path, json=body)).status_code


async def test_visibility_through_the_apis(live_server: LiveServer) -> None:
    admin, bob, carol = await _people(live_server)
    async with live_server.client(admin.token) as http:
        bad = await http.post("/api/admin/labels", json={"path": "Hush", "visibility": "some"})
        assert (bad.status_code, bad.json()["error"]["field"]) == (400, "visibility")
        created = await http.post(
            "/api/admin/labels",
            json={"path": "Board", "visibility": "delegates", "auto_share": [bob.user.id]},
        )
        assert created.status_code == 201, created.text
        label = created.json()["label"]["id"]
        chat = await http.post(
            "/api/conversations",
            json={"subject": "Budget", "users": [bob.user.id, carol.user.id], "body": "hi"},
        )
        conv = chat.json()["conversation"]["id"]
    add = {"command": "add_labels", "labels": [label]}
    assert (
        await _send(live_server, carol, "POST", f"/api/conversations/{conv}/commands", add) == 403
    )
    assert await _send(live_server, bob, "POST", f"/api/conversations/{conv}/commands", add) == 200
    for person, sees in ((bob, True), (carol, False), (admin, True)):
        listed = (await _get(live_server, person, "/api/admin/labels")).json()["labels"]
        assert (label in [item["id"] for item in listed]) is sees
        missive = (await _get(live_server, person, "/v1/shared_labels")).json()["shared_labels"]
        assert (label in [item["id"] for item in missive]) is sees
        page = await _get(live_server, person, f"/api/mailboxes/label?label={label}")
        assert page.status_code == (200 if sees else 404)
        listed_convs = await _get(live_server, person, f"/v1/conversations?shared_label={label}")
        assert listed_convs.status_code == (200 if sees else 404)
        counts = (await _get(live_server, person, "/api/counts")).json()["labels"]
        assert (label in counts) is (sees and person is not admin)  # unread for bob only
    # anyone chooses visibility when creating; only owners and admins change it later
    made = {"shared_labels": [{"name": "Mine", "organization": carol.org.id,
                               "visibility": "delegates"}]}  # fmt: skip
    assert await _send(live_server, carol, "POST", "/v1/shared_labels", made) == 201
    opened = {"shared_labels": [{"id": label, "visibility": "organization"}]}
    assert await _send(live_server, bob, "PATCH", f"/v1/shared_labels/{label}", opened) == 403
    assert await _send(live_server, admin, "PATCH", f"/v1/shared_labels/{label}", opened) == 200
    page = await _get(live_server, carol, f"/api/mailboxes/label?label={label}")
    assert [row["id"] for row in page.json()["conversations"]] == [conv]
