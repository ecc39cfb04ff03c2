"""`/api/admin/users` on both backends: owners and admins manage members, only owners touch
the owner role, the last owner stays, bad input is named and changes nothing, and a
removed member loses the organization. Also the matching `tandem user` commands."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from crdt.errors import CloseCode
from server.credentials import new_api_token
from server.errors import Conflict
from server.settings import Settings
from server.storage.base import Role, Storage
from tests.fixtures.cli import tandem
from tests.fixtures.server import LiveServer, Person, make_person
from tests.yclient import yws

USERS = "/api/admin/users"


async def _person(live: LiveServer, email: str, role: Role = "member", org: str = "Acme") -> Person:
    person = await make_person(live.services, email, org_name=org)
    if role != "member":
        await live.services.storage.update_member(person.org.id, person.user.id, {"role": role})
    return person


async def _users(live: LiveServer, person: Person) -> list[dict[str, Any]]:
    async with live.client(person.token) as http:
        response = await http.get(USERS)
    assert response.status_code == 200, response.text
    users: list[dict[str, Any]] = response.json()["users"]
    return users


async def test_owners_list_and_add_people(live_server: LiveServer) -> None:
    alice = await _person(live_server, "alice@acme.test", "owner")
    assert await _users(live_server, alice) == [
        {
            "id": alice.user.id,
            "email": "alice@acme.test",
            "name": "Alice",
            "role": "owner",
            "handle": "alice",
        }
    ]
    async with live_server.client(alice.token) as http:
        carol = await http.post(USERS, json={"email": "Carol@Acme.test", "role": "admin"})
        assert carol.status_code == 201, carol.text
        body = carol.json()
        assert body["created"] is True and body["user"]["email"] == "carol@acme.test"
        assert body["user"]["name"] == "carol" and body["user"]["role"] == "admin"
        generated = body["password"]  # shown once, like `tandem user create`
        dave = await http.post(
            USERS,
            json={"email": "dave@acme.test", "name": "Dave D", "password": "a long passphrase"},
        )
        assert dave.status_code == 201, dave.text
        assert "password" not in dave.json() and dave.json()["user"]["role"] == "member"
    async with live_server.client() as http:
        for email, password in (
            ("carol@acme.test", generated),
            ("dave@acme.test", "a long passphrase"),
        ):
            signed_in = await http.post("/api/session", json={"email": email, "password": password})
            assert signed_in.status_code == 200, signed_in.text
            assert signed_in.json()["organizations"][0]["id"] == alice.org.id
    emails = [u["email"] for u in await _users(live_server, alice)]
    assert emails == ["alice@acme.test", "carol@acme.test", "dave@acme.test"]


async def test_someone_with_an_account_joins_as_they_are(live_server: LiveServer) -> None:
    alice = await _person(live_server, "alice@acme.test", "owner")
    bob = await _person(live_server, "bob@other.test", org="Other")
    async with live_server.client(alice.token) as http:
        refused = await http.post(USERS, json={"email": "bob@other.test", "password": "hijacked!!"})
        assert refused.status_code == 400 and refused.json()["error"]["field"] == "password"
        assert bob.user.id not in await live_server.services.storage.org_members(alice.org.id)
        joined = await http.post(USERS, json={"email": "bob@other.test", "name": "Not Bob"})
        assert joined.status_code == 201, joined.text
        assert joined.json()["created"] is False and "password" not in joined.json()
        assert joined.json()["user"] == {
            "id": bob.user.id,
            "email": "bob@other.test",
            "name": "Bob",
            "role": "member",
            "handle": "bob",
        }
        again = await http.post(USERS, json={"email": "bob@other.test"})
        assert again.status_code == 409 and again.json()["error"]["field"] == "email"
    memberships = await live_server.services.storage.memberships_for_user(bob.user.id)
    assert {m.org_id for m in memberships} == {alice.org.id, bob.org.id}


BAD_NEW_USERS = [
    ({"email": "not-an-address", "role": "member"}, "email"),
    ({"role": "member"}, "email"),
    ({"email": "x@acme.test", "role": "superuser"}, "role"),
    ({"email": "x@acme.test", "role": None}, "role"),
    ({"email": "x@acme.test", "name": 7}, "name"),
    ({"email": "x@acme.test", "password": "short"}, "password"),
    ({"email": "x@acme.test", "password": ["a list"]}, "password"),
    ({"email": "x@acme.test", "teams": []}, "teams"),
]


async def test_bad_input_is_named_and_changes_nothing(live_server: LiveServer) -> None:
    storage = live_server.services.storage
    alice = await _person(live_server, "alice@acme.test", "owner")
    bob = await _person(live_server, "bob@acme.test")
    await storage.create_team(alice.org.id, "Tier Two", [alice.user.id], [], True)
    await storage.set_mention_group(alice.org.id, "leads", [alice.user.id])
    before = await _users(live_server, alice)
    async with live_server.client(alice.token) as http:
        for body, field in BAD_NEW_USERS:
            response = await http.post(USERS, json=body)
            assert response.status_code == 400, (body, response.text)
            assert response.json()["error"]["field"] == field, body
        assert await storage.get_user_by_email("x@acme.test") is None
        bad_changes: list[tuple[dict[str, Any], int, str | None]] = [
            ({"role": "boss"}, 400, "role"),
            ({"handle": "two words"}, 400, "handle"),
            ({"handle": "dot."}, 400, "handle"),
            ({"handle": "x" * 65}, 400, "handle"),
            ({"handle": 12}, 400, "handle"),
            ({"handle": "all"}, 409, "handle"),
            ({"handle": "@Alice"}, 409, "handle"),  # another member's
            ({"handle": "tiertwo"}, 409, "handle"),  # a team's
            ({"handle": "leads"}, 409, "handle"),  # a mention group
            ({"role": "admin", "handle": "a b"}, 400, "handle"),  # nothing of it is applied
            ({"email": "new@acme.test"}, 400, "email"),
            ({}, 400, None),
        ]
        for body, status, field in bad_changes:
            response = await http.patch(f"{USERS}/{bob.user.id}", json=body)
            assert response.status_code == status, (body, response.text)
            assert response.json()["error"].get("field") == field, body
        not_json = await http.post(
            USERS, content=b"email=x", headers={"content-type": "text/plain"}
        )
        assert not_json.status_code == 415
    assert await _users(live_server, alice) == before


async def test_handles_are_what_mentions_use(live_server: LiveServer) -> None:
    alice = await _person(live_server, "alice@acme.test", "owner")
    bob = await _person(live_server, "bob@acme.test")
    async with live_server.client(alice.token) as http:
        changed = await http.patch(f"{USERS}/{bob.user.id}", json={"handle": "@Lead"})
        assert changed.status_code == 200, changed.text
        assert changed.json()["user"]["handle"] == "lead"
        chat = await http.post("/api/conversations", json={"subject": "Refunds", "users": []})
        conv = chat.json()["conversation"]["id"]
        old = await http.post(
            f"/api/conversations/{conv}/commands", json={"command": "comment", "body": "@bob?"}
        )
        assert bob.user.id not in old.json()["conversation"]["users"]  # bob is @lead now
        new = await http.post(
            f"/api/conversations/{conv}/commands", json={"command": "comment", "body": "@lead!"}
        )
        assert new.json()["conversation"]["users"][bob.user.id]["inbox"] is True
        reset = await http.patch(f"{USERS}/{bob.user.id}", json={"handle": None})
        assert reset.json()["user"]["handle"] == "bob"


async def test_members_are_refused_and_admins_do_not_touch_owners(
    live_server: LiveServer,
) -> None:
    alice = await _person(live_server, "alice@acme.test", "owner")
    adam = await _person(live_server, "adam@acme.test", "admin")
    bob = await _person(live_server, "bob@acme.test")
    stranger = await _person(live_server, "mallory@other.test", "owner", org="Other")
    async with live_server.client(bob.token) as http:
        assert (await http.get(USERS)).status_code == 403
        assert (await http.post(USERS, json={"email": "x@acme.test"})).status_code == 403
        assert (
            await http.patch(f"{USERS}/{bob.user.id}", json={"role": "admin"})
        ).status_code == 403
        assert (await http.delete(f"{USERS}/{alice.user.id}")).status_code == 403
    async with live_server.client(adam.token) as http:
        refusals = [
            await http.post(USERS, json={"email": "x@acme.test", "role": "owner"}),
            await http.patch(f"{USERS}/{bob.user.id}", json={"role": "owner"}),
            await http.patch(f"{USERS}/{alice.user.id}", json={"role": "member"}),
            await http.delete(f"{USERS}/{alice.user.id}"),
        ]
        for refused in refusals:
            assert refused.status_code == 403, refused.text
            assert refused.json()["error"]["field"] == "role"
        for path in (f"{USERS}/{stranger.user.id}", f"{USERS}/no-such-user"):
            assert (await http.patch(path, json={"role": "admin"})).status_code == 404
            assert (await http.delete(path)).status_code == 404
        # an owner's handle is fine, and so are members' roles
        assert (
            await http.patch(f"{USERS}/{alice.user.id}", json={"handle": "boss"})
        ).status_code == 200
        promoted = await http.patch(f"{USERS}/{bob.user.id}", json={"role": "admin"})
        assert promoted.json()["user"]["role"] == "admin"
    async with live_server.client(stranger.token) as http:
        outside = await http.get(f"{USERS}?organization={alice.org.id}")
        assert outside.status_code == 403 and outside.json()["error"]["field"] == "organization"
    roles = {u["email"]: u["role"] for u in await _users(live_server, alice)}
    assert roles == {
        "adam@acme.test": "admin",
        "alice@acme.test": "owner",
        "bob@acme.test": "admin",
    }


async def test_the_last_owner_can_neither_leave_nor_step_down(live_server: LiveServer) -> None:
    storage = live_server.services.storage
    alice = await _person(live_server, "alice@acme.test", "owner")
    async with live_server.client(alice.token) as http:
        for refused in (
            await http.patch(f"{USERS}/{alice.user.id}", json={"role": "admin"}),
            await http.delete(f"{USERS}/{alice.user.id}"),
        ):
            assert refused.status_code == 409, refused.text
            assert "owner" in refused.json()["error"]["message"]
        added = await http.post(USERS, json={"email": "carol@acme.test", "role": "owner"})
    carol = added.json()["user"]["id"]
    token, token_hash = new_api_token()
    await storage.create_api_token(carol, token_hash, "tests")
    # two owners demoting each other at once: one of them stays owner
    async with live_server.client(alice.token) as a, live_server.client(token) as c:
        first, second = await asyncio.gather(
            a.patch(f"{USERS}/{carol}", json={"role": "member"}),
            c.patch(f"{USERS}/{alice.user.id}", json={"role": "member"}),
        )
    # the loser is refused as the last owner (409), or as no longer an owner (403)
    assert sorted([first.status_code, second.status_code]) in ([200, 403], [200, 409])
    roles = await storage.org_members(alice.org.id)
    assert sorted(roles.values()) == ["member", "owner"]


async def test_owners_stepping_down_and_leaving_at_once_leave_one(storage: Storage) -> None:
    """The organization row is locked before owners are counted: without the lock, two
    transactions at once would both count two owners and both go through."""

    async def race(i: int) -> None:
        org = await storage.create_organization(f"Org {i}")
        owners = []
        for email in (f"a{i}@acme.test", f"b{i}@acme.test"):
            user = await storage.create_user(email, email[0], None)
            await storage.add_membership(org.id, user.id, "owner")
            owners.append(user.id)
        results = await asyncio.gather(
            storage.update_member(org.id, owners[0], {"role": "member"}),
            storage.remove_member(org.id, owners[1]),
            return_exceptions=True,
        )
        assert [type(result) for result in results].count(Conflict) == 1, results
        assert list((await storage.org_members(org.id)).values()).count("owner") == 1

    await asyncio.gather(*(race(i) for i in range(20)))


async def test_a_removed_member_loses_the_organization(live_server: LiveServer) -> None:
    services = live_server.services
    alice = await _person(live_server, "alice@acme.test", "owner")
    bob = await _person(live_server, "bob@acme.test")
    team = await services.storage.create_team(alice.org.id, "Support", [bob.user.id], [], True)
    await services.storage.set_mention_group(alice.org.id, "leads", [alice.user.id, bob.user.id])
    async with live_server.client(alice.token) as http:
        created = await http.post(
            "/api/conversations", json={"subject": "Refund", "users": [bob.user.id]}
        )
        conv = created.json()["conversation"]["id"]
        for command in (
            {"command": "move_to_team", "team": team.id},
            {"command": "assign", "users": [bob.user.id]},
            {
                "command": "add_task",
                "title": "Call back",
                "assignees": [bob.user.id, alice.user.id],
            },
        ):
            response = await http.post(f"/api/conversations/{conv}/commands", json=command)
            assert response.status_code == 200, response.text
    async with live_server.client(bob.token) as http:
        assert (await http.get(f"/api/conversations/{conv}")).status_code == 200
    async with live_server.client(alice.token) as http:
        removed = await http.delete(f"{USERS}/{bob.user.id}")
        assert removed.status_code == 204, removed.text
        assert (await http.delete(f"{USERS}/{bob.user.id}")).status_code == 404
        after = (await http.get(f"/api/conversations/{conv}")).json()["conversation"]
    # the work stays: unassigned, back in the team inbox, the task still Alice's
    assert after["assignees"] == [] and after["tasks"][0]["assignees"] == [alice.user.id]
    assert (await services.conversations.read(conv)).in_team_inbox
    [support] = await services.storage.teams(alice.org.id)
    assert support.active == () and support.observers == ()
    assert (await services.storage.mention_groups(alice.org.id))["leads"] == (alice.user.id,)
    # and bob reads nothing of the organization any more, by HTTP or websocket
    async with live_server.client(bob.token) as http:
        assert (await http.get(f"/api/conversations/{conv}")).status_code == 404
        assert (await http.get("/api/mailboxes/inbox")).status_code == 403
        assert (await http.get("/api/rooms")).status_code == 403
    async with yws(live_server.ws, f"conv:{conv}", bob.token) as client:
        assert (await client.wait_closed())[0] == CloseCode.FORBIDDEN
    # added back, he finds the conversation where he left it (not assigned any more)
    async with live_server.client(alice.token) as http:
        back = await http.post(USERS, json={"email": "bob@acme.test"})
        assert back.status_code == 201 and back.json()["created"] is False
    async with live_server.client(bob.token) as http:
        assert (await http.get(f"/api/conversations/{conv}")).status_code == 200


# --- the command line, on both backends ---------------------------------------------------


async def test_the_user_commands(
    cli_on_storage: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (await tandem(capsys, "org", "create", "Acme"))[0] == 0
    for email, role in (("a@acme.com", "owner"), ("b@acme.com", "member")):
        status, _, err = await tandem(
            capsys, "user", "create", email, "--org", "Acme", "--role", role
        )
        assert status == 0, err
    status, listed, _ = await tandem(capsys, "user", "list", "Acme")
    assert [(u["email"], u["role"], u["handle"]) for u in listed["users"]] == [
        ("a@acme.com", "owner", "a"),
        ("b@acme.com", "member", "b"),
    ]
    status, changed, _ = await tandem(capsys, "user", "role", "Acme", "b@acme.com", "admin")
    assert changed["role"] == "admin"
    status, handle, _ = await tandem(capsys, "user", "handle", "Acme", "b@acme.com", "@Lead")
    assert handle["handle"] == "lead"
    status, _, err = await tandem(capsys, "user", "handle", "Acme", "a@acme.com", "lead")
    assert status == 1 and "another member's handle" in err
    status, _, err = await tandem(capsys, "user", "role", "Acme", "a@acme.com", "member")
    assert status == 1 and "at least one owner" in err
    status, _, err = await tandem(capsys, "user", "remove", "Acme", "a@acme.com")
    assert status == 1 and "at least one owner" in err
    status, removed, err = await tandem(capsys, "user", "remove", "Acme", "b@acme.com")
    assert status == 0, err
    assert removed["email"] == "b@acme.com"
    status, _, err = await tandem(capsys, "user", "remove", "Acme", "b@acme.com")
    assert status == 1 and "b@acme.com is not a member of Acme" in err
