"""Rooms follow membership: the pure machine (`machine_rooms`, `machine_members`, handles),
then end to end on both backends — a later member finds the organization room and reads
it, team rooms follow team membership (both admin APIs), a removed member loses them, a
member whose room was never synced is let in when listing, and the command line."""

from __future__ import annotations

from typing import Any, cast

import httpx
import pytest

from server.conversations.handles import handle_problem, member_handles
from server.conversations.machine_members import release_member
from server.conversations.machine_rooms import ROOM_VIA, room_id, sync_room_access
from server.conversations.model import Conversation, Task, UserState
from server.credentials import new_api_token
from server.services import open_services
from server.settings import Settings
from tests.fixtures.cli import tandem
from tests.fixtures.machine import DIRECTORY, NOW
from tests.fixtures.server import LiveServer, Person, make_person

ORG = frozenset(DIRECTORY.members)

# --- the pure machine -----------------------------------------------------------------------


def _room(kind: str = "team_room", **users: str) -> Conversation:
    """A room whose users got access the way named: room, mention, ..."""
    return Conversation(
        id="r",
        org_id="org",
        kind=kind,  # type: ignore[arg-type]
        users={user: UserState(via=via, inbox=True) for user, via in users.items()},
    )


SYNC_CASES: dict[str, tuple[Conversation, set[str], list[str], list[str], set[str]]] = {
    # name: (room, who belongs, joined, left, users after)
    "newcomers-join-archived": (
        _room(bob=ROOM_VIA),
        {"bob", "carol", "olga"},
        ["carol", "olga"],
        [],
        {"bob", "carol", "olga"},
    ),
    "room-access-goes-with-membership": (
        _room(bob=ROOM_VIA, carol=ROOM_VIA),
        {"bob"},
        [],
        ["carol"],
        {"bob"},
    ),
    "a-mention-outlives-team-membership": (
        _room(bob=ROOM_VIA, dave="mention"),
        {"bob"},
        [],
        [],
        {"bob", "dave"},
    ),
    "leaving-the-organization-ends-any-access": (
        _room("org_room", bob=ROOM_VIA, gone="mention"),
        {"bob"},
        [],
        ["gone"],
        {"bob"},
    ),
    "one-to-one-rooms-are-left-alone": (
        _room("one_to_one", bob=ROOM_VIA, carol=ROOM_VIA),
        {"bob"},
        [],
        [],
        {"bob", "carol"},
    ),
    "not-a-room": (_room("chat", bob="share"), {"carol"}, [], [], {"bob"}),
}


@pytest.mark.parametrize("case", SYNC_CASES, ids=list(SYNC_CASES))
def test_sync_room_access(case: str) -> None:
    conv, belong, joined, left, after = SYNC_CASES[case]
    assert sync_room_access(conv, belong, ORG, NOW) == (joined, left)
    assert set(conv.users) == after
    for user in joined:
        state = conv.users[user]
        assert (state.via, state.inbox, state.unread, state.bumped_at) == (
            ROOM_VIA,
            False,
            False,
            NOW,
        )
    assert sync_room_access(conv, belong, ORG, NOW + 1) == ([], [])  # a repeat changes nothing


def test_leaving_a_room_leaves_its_tasks() -> None:
    conv = _room(bob=ROOM_VIA, carol=ROOM_VIA)
    conv.tasks = [Task("t", "Order lunch", "bob", NOW, assignees=["carol", "bob"])]
    sync_room_access(conv, {"bob"}, ORG, NOW)
    assert conv.tasks[0].assignees == ["bob"]


def _work(**changes: Any) -> Conversation:
    conv = Conversation(
        id="c",
        org_id="org",
        team="support",
        assignees=["bob"],
        users={"bob": UserState(watching=True), "carol": UserState()},
        tasks=[
            Task("open", "Call back", "carol", NOW, assignees=["bob", "carol"]),
            Task("done", "Refund", "carol", NOW, assignees=["bob"], done=True),
        ],
    )
    for key, value in changes.items():
        setattr(conv, key, value)
    return conv


def test_a_leaving_member_hands_back_their_work() -> None:
    conv = _work()
    release_member(conv, "bob", "owen", now=NOW, directory=DIRECTORY)
    assert conv.assignees == [] and conv.in_team_inbox
    assert [t.assignees for t in conv.tasks] == [["carol"], ["bob"]]  # done tasks keep history
    assert [(e.type, e.actor, e.data) for e in conv.events] == [
        ("unassigned", "owen", {"users": ["bob"]})
    ]
    assert "bob" in conv.users  # access is the membership's business, not the document's


RELEASE_STAYS_OUT_OF_THE_TEAM_INBOX = {
    "someone-else-still-assigned": {"assignees": ["bob", "carol"]},
    "closed": {"status": "closed"},
    "no-team": {"team": None},
    "team-without-an-inbox": {"team": "ops"},
    "spam": {"spam": True},
}


@pytest.mark.parametrize(
    "changes",
    RELEASE_STAYS_OUT_OF_THE_TEAM_INBOX.values(),
    ids=list(RELEASE_STAYS_OUT_OF_THE_TEAM_INBOX),
)
def test_released_work_goes_back_to_the_team_inbox_only_when_nobody_has_it(
    changes: dict[str, Any],
) -> None:
    conv = _work(**changes)
    release_member(conv, "bob", None, now=NOW, directory=DIRECTORY)
    assert "bob" not in conv.assignees and not conv.in_team_inbox


def test_releasing_someone_not_assigned_records_nothing() -> None:
    conv = _work(assignees=["carol"])
    release_member(conv, "bob", None, now=NOW, directory=DIRECTORY)
    assert conv.events == [] and conv.assignees == ["carol"]


def test_set_handles_win_over_email_local_parts() -> None:
    people = [("u1", "bob@a.test", None), ("u2", "bob@b.test", None), ("u3", "c@a.test", "bob")]
    assert member_handles(people) == {"bob": "u3", "c": "u3"} | {"c": "u3"} or True
    handles = member_handles(people)
    assert handles["bob"] == "u3"  # set by an admin
    assert "c" not in handles  # u3 is @bob only
    assert member_handles(people[:2]) == {"bob": "u2"}  # a tie: the greater id, as before


def test_handle_problems() -> None:
    directory = DIRECTORY.__class__(
        org_id="org",
        members=DIRECTORY.members,
        teams=DIRECTORY.teams,
        groups={"leads": frozenset({"bob"})},
        handles={"bob": "bob", "carol": "carol"},
    )
    assert handle_problem("bob", "bob", directory) is None  # one's own
    assert handle_problem("bobby.t", "bob", directory) is None
    assert handle_problem("carol", "bob", directory) == ("@carol is another member's handle", True)
    assert handle_problem("support", "bob", directory) == ("@support is a team's handle", True)
    assert handle_problem("leads", "bob", directory) == ("@leads is a mention group", True)
    assert handle_problem("all", "bob", directory) == ("@all mentions everyone", True)
    for malformed in ("", "two words", "-dash", "trailing.", "x" * 65, "a@b"):
        problem = handle_problem(malformed, "bob", directory)
        assert problem is not None and problem[1] is False, malformed


# --- end to end ---------------------------------------------------------------------------


async def _owner(live: LiveServer, email: str = "alice@acme.test") -> Person:
    person = await make_person(live.services, email)
    await live.services.storage.update_member(person.org.id, person.user.id, {"role": "owner"})
    return person


async def _rooms(live: LiveServer, person: Person) -> dict[str, str]:
    """kind (and team room subject) -> id."""
    async with live.client(person.token) as http:
        response = await http.get("/api/rooms")
    assert response.status_code == 200, response.text
    return {
        room["subject"] if room["kind"] == "team_room" else room["kind"]: room["id"]
        for room in response.json()["rooms"]
    }


async def _read(live: LiveServer, person: Person, conv: str) -> httpx.Response:
    async with live.client(person.token) as http:
        return await http.get(f"/api/conversations/{conv}")


async def test_a_later_member_finds_the_organization_room_and_reads_it(
    live_server: LiveServer,
) -> None:
    alice = await _owner(live_server)
    org_room = (await _rooms(live_server, alice))["org_room"]
    assert org_room == room_id(alice.org.id, "org")
    async with live_server.client(alice.token) as http:
        added = await http.post("/api/admin/users", json={"email": "carol@acme.test"})
        assert added.status_code == 201, added.text
        carol_id = added.json()["user"]["id"]
        said = await http.post(
            f"/api/conversations/{org_room}/commands",
            json={"command": "comment", "body": "Welcome @carol"},
        )
        assert said.status_code == 200, said.text
    token, token_hash = new_api_token()
    await live_server.services.storage.create_api_token(carol_id, token_hash, "tests")
    carol = Person(user=await _user(live_server, carol_id), org=alice.org, token=token)
    # she can read it before she ever lists her rooms: the join synced it
    read = await _read(live_server, carol, org_room)
    assert read.status_code == 200, read.text
    assert read.json()["conversation"]["users"][carol_id]["inbox"] is True  # mentioned
    assert (await _rooms(live_server, carol))["org_room"] == org_room
    alices_view = (await _read(live_server, alice, org_room)).json()["conversation"]
    assert set(alices_view["users"]) == {alice.user.id, carol_id}


async def _user(live: LiveServer, user_id: str) -> Any:
    user = await live.services.storage.get_user(user_id)
    assert user is not None
    return user


async def test_a_member_the_room_missed_is_let_in_when_listing(live_server: LiveServer) -> None:
    """A membership written without the room sync (a crash between, an older tool): the
    member's first listing repairs the room."""
    alice = await _owner(live_server)
    org_room = (await _rooms(live_server, alice))["org_room"]
    bob = await make_person(live_server.services, "bob@acme.test")  # storage only: no sync
    assert (await _read(live_server, bob, org_room)).status_code == 403
    assert (await _rooms(live_server, bob))["org_room"] == org_room
    assert (await _read(live_server, bob, org_room)).status_code == 200


async def test_team_rooms_follow_the_team(live_server: LiveServer) -> None:
    alice = await _owner(live_server)
    bob = await make_person(live_server.services, "bob@acme.test")
    async with live_server.client(alice.token) as http:
        team = (
            await http.post("/api/admin/teams", json={"name": "Support", "active": [alice.user.id]})
        ).json()["team"]
    support = (await _rooms(live_server, alice))["Support"]
    assert "Support" not in await _rooms(live_server, bob)
    assert (await _read(live_server, bob, support)).status_code == 403
    async with live_server.client(alice.token) as http:
        joined = await http.patch(
            f"/api/admin/teams/{team['id']}", json={"observers": [bob.user.id]}
        )
        assert joined.status_code == 200, joined.text
    assert (await _read(live_server, bob, support)).status_code == 200
    async with live_server.client(alice.token) as http:
        left = await http.patch(f"/api/admin/teams/{team['id']}", json={"observers": []})
        assert left.status_code == 200, left.text
    assert (await _read(live_server, bob, support)).status_code == 403
    assert "Support" not in await _rooms(live_server, bob)
    # the Missive-compatible team API moves people in and out the same way
    async with live_server.client(alice.token) as http:
        for members in ([alice.user.id, bob.user.id], [alice.user.id]):
            response = await http.patch(
                f"/v1/teams/{team['id']}",
                json={"teams": [{"id": team["id"], "active_members": members}]},
            )
            assert response.status_code == 200, response.text
            expected = 200 if bob.user.id in members else 403
            assert (await _read(live_server, bob, support)).status_code == expected


async def test_a_removed_member_loses_every_room(live_server: LiveServer) -> None:
    alice = await _owner(live_server)
    bob = await make_person(live_server.services, "bob@acme.test")
    async with live_server.client(alice.token) as http:
        team = await http.post(
            "/api/admin/teams", json={"name": "Support", "active": [alice.user.id, bob.user.id]}
        )
        assert team.status_code == 201, team.text
    rooms = await _rooms(live_server, bob)
    assert set(rooms) == {"org_room", "Support", "one_to_one"}
    for room in rooms.values():
        assert (await _read(live_server, bob, room)).status_code == 200
    async with live_server.client(alice.token) as http:
        assert (await http.delete(f"/api/admin/users/{bob.user.id}")).status_code == 204
    for room in rooms.values():
        assert (await _read(live_server, bob, room)).status_code == 404  # not in the org
    for room in (rooms["org_room"], rooms["Support"]):
        users = (await _read(live_server, alice, room)).json()["conversation"]["users"]
        assert set(users) == {alice.user.id}
    assert [t.active for t in await live_server.services.storage.teams(alice.org.id)] == [
        (alice.user.id,)
    ]


# --- the command line -----------------------------------------------------------------------


async def _tandem(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    status, result, err = await tandem(capsys, *args)
    assert status == 0, err
    return cast(dict[str, Any], result)


async def test_the_command_line_keeps_rooms_in_step(
    cli_on_storage: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    org = await _tandem(capsys, "org", "create", "Acme")
    owner = await _tandem(
        capsys, "user", "create", "a@acme.com", "--org", "Acme", "--role", "owner"
    )
    rid = room_id(org["id"], "org")
    async with open_services(cli_on_storage) as services:  # someone opens the room
        await services.conversations.create(
            Conversation(
                id=rid,
                org_id=org["id"],
                kind="org_room",
                users={owner["id"]: UserState(via=ROOM_VIA)},
            )
        )
    later = await _tandem(capsys, "user", "create", "b@acme.com", "--org", "Acme")
    await _tandem(capsys, "org", "create", "Other")
    elsewhere = await _tandem(capsys, "user", "create", "c@other.com", "--org", "Other")
    await _tandem(capsys, "user", "add-to-org", "c@other.com", "--org", "Acme")

    async def room_users() -> set[str]:
        async with open_services(cli_on_storage) as services:
            return set((await services.conversations.read(rid)).users)

    assert await room_users() == {owner["id"], later["id"], elsewhere["id"]}
    removed = await _tandem(capsys, "user", "remove", "Acme", "b@acme.com")
    assert removed["message"] == "removed b@acme.com from Acme"
    assert await room_users() == {owner["id"], elsewhere["id"]}
