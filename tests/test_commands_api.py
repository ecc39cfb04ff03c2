"""The commands API end to end: real server, real machine, real index; bad input is named
and changes nothing; access is checked for every command."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.fixtures.server import LiveServer, Person, make_person
from tests.yclient import yws


async def _chat(live: LiveServer, creator: Person, *others: Person) -> str:
    async with live.client(creator.token) as http:
        created = await http.post(
            "/api/conversations",
            json={"subject": "Refund for #1234", "users": [p.user.id for p in others]},
        )
    assert created.status_code == 201, created.text
    return str(created.json()["conversation"]["id"])


async def _command(http: httpx.AsyncClient, conv: str, **body: Any) -> httpx.Response:
    return await http.post(f"/api/conversations/{conv}/commands", json=body)


async def test_assign_comment_close_through_http_reach_a_live_viewer(
    live_server: LiveServer,
) -> None:
    alice = await make_person(live_server.services, "alice@acme.test")
    bob = await make_person(live_server.services, "bob@acme.test")
    conv = await _chat(live_server, alice, bob)
    async with yws(live_server.ws, f"conv:{conv}", bob.token) as viewer:
        await asyncio.wait_for(viewer.synced.wait(), 5)
        async with live_server.client(alice.token) as http:
            assigned = await _command(http, conv, command="assign", users=[bob.user.id])
            assert assigned.status_code == 200, assigned.text
            state = assigned.json()["conversation"]
            assert state["assignees"] == [bob.user.id]
            assert state["users"][bob.user.id]["watching"] is True
            commented = await _command(
                http, conv, command="comment", body="Can you check?", mentions=[]
            )
            assert commented.status_code == 200, commented.text
            closed = (await _command(http, conv, command="close")).json()["conversation"]
            assert closed["status"] == "closed"

        def sees_closed() -> bool:
            from pycrdt import Map

            return viewer.doc.get("conv", type=Map).get("status") == "closed"

        await viewer.wait_for(sees_closed)
    async with live_server.client(bob.token) as http:
        assert (await http.get("/api/mailboxes/closed")).json()["conversations"][0]["id"] == conv


async def test_snooze_with_a_preset_and_the_rules_the_machine_enforces(
    live_server: LiveServer,
) -> None:
    alice = await make_person(live_server.services, "alice@acme.test")
    conv = await _chat(live_server, alice)
    async with live_server.client(alice.token) as http:
        snoozed = await _command(http, conv, command="snooze", until="tomorrow")
        assert snoozed.status_code == 200, snoozed.text
        assert snoozed.json()["conversation"]["users"][alice.user.id]["snoozed_until"]
        inbox = (await http.get("/api/mailboxes/inbox")).json()["conversations"]
        assert conv not in [row["id"] for row in inbox]
        past = await _command(http, conv, command="snooze", until="2001-01-01T00:00:00Z")
        assert past.status_code in (400, 422) and past.json()["error"]["field"] == "until"
        await _command(http, conv, command="assign", users=[alice.user.id])
        refused = await _command(http, conv, command="unwatch")
        assert refused.status_code in (409, 422), refused.text


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"command": "explode"}, 400, "unknown_command", "command"),
        ({}, 400, "invalid", "command"),
        ({"command": "assign"}, 400, "invalid", "users"),
        ({"command": "assign", "users": "bob"}, 400, "invalid", "users"),
        ({"command": "snooze", "until": "tomorrow", "scope": "galaxy"}, 400, "invalid", "scope"),
        ({"command": "close", "force": True}, 400, "invalid", "force"),
        ({"command": "add_labels", "labels": ["no-such-label"]}, None, None, "labels"),
    ],
)
async def test_bad_commands_are_named_and_change_nothing(
    live_server: LiveServer,
    body: dict[str, Any],
    status: int | None,
    code: str | None,
    field: str,
) -> None:
    alice = await make_person(live_server.services, "alice@acme.test")
    conv = await _chat(live_server, alice)
    before = await live_server.services.storage.load_document(f"conv:{conv}")
    async with live_server.client(alice.token) as http:
        response = await http.post(f"/api/conversations/{conv}/commands", json=body)
    assert 400 <= response.status_code < 500
    if status is not None:
        assert response.status_code == status
    error = response.json()["error"]
    if code is not None:
        assert error["code"] == code
    assert error.get("field") == field
    after = await live_server.services.storage.load_document(f"conv:{conv}")
    assert after.updates == before.updates


async def test_who_may_see_and_command_a_conversation(live_server: LiveServer) -> None:
    alice = await make_person(live_server.services, "alice@acme.test")
    carol = await make_person(live_server.services, "carol@acme.test")  # same org, no access
    mallory = await make_person(live_server.services, "mallory@other.test", org_name="Other")
    conv = await _chat(live_server, alice)
    async with live_server.client(carol.token) as http:
        assert (await http.get(f"/api/conversations/{conv}")).status_code == 403
        assert (await _command(http, conv, command="star")).status_code == 403
    async with live_server.client(mallory.token) as http:
        assert (await http.get(f"/api/conversations/{conv}")).status_code == 404
        assert (await _command(http, conv, command="star")).status_code == 404
    async with live_server.client(alice.token) as http:
        shared = await _command(http, conv, command="add_people", users=[carol.user.id])
        assert carol.user.id in shared.json()["conversation"]["users"]
    async with live_server.client(carol.token) as http:
        assert (await http.get(f"/api/conversations/{conv}")).status_code == 200


async def test_a_snooze_wakes_by_itself_and_an_unsnooze_cancels_the_wake_up(
    live_server: LiveServer,
) -> None:
    from datetime import UTC, datetime, timedelta

    alice = await make_person(live_server.services, "alice@acme.test")
    conv = await _chat(live_server, alice)
    other = await _chat(live_server, alice)
    soon = (datetime.now(UTC) + timedelta(seconds=1.5)).isoformat()
    later = (datetime.now(UTC) + timedelta(hours=2)).isoformat()

    async def inbox(http: httpx.AsyncClient) -> list[str]:
        rows = (await http.get("/api/mailboxes/inbox")).json()["conversations"]
        return [row["id"] for row in rows]

    async with live_server.client(alice.token) as http:
        await _command(http, conv, command="snooze", until=soon)
        await _command(http, other, command="snooze", until=later)
        await _command(http, other, command="unsnooze")
        assert conv not in await inbox(http)
        keys = [job.key for job in await live_server.services.storage.pending_jobs()]
        assert keys == [f"snooze:{conv}:{alice.user.id}"]  # the unsnoozed one was cancelled
        async with asyncio.timeout(10):  # the scheduler fires the wake-up job
            while await live_server.services.storage.pending_jobs():
                await asyncio.sleep(0.2)
        state = (await http.get(f"/api/conversations/{conv}")).json()["conversation"]
        assert state["users"][alice.user.id]["snoozed_until"] is None
        assert state["users"][alice.user.id]["inbox"] is True
        assert conv in await inbox(http)


async def test_preferences_change_what_actions_do(live_server: LiveServer) -> None:
    alice = await make_person(live_server.services, "alice@acme.test")
    async with live_server.client(alice.token) as http:
        bad_zone = await http.patch("/api/me/preferences", json={"time_zone": "Mars/Base"})
        assert bad_zone.status_code == 400 and bad_zone.json()["error"]["field"] == "time_zone"
        unknown = await http.patch("/api/me/preferences", json={"colour": "blue"})
        assert unknown.json()["error"]["field"] == "colour"
        saved = await http.patch(
            "/api/me/preferences",
            json={"time_zone": "Asia/Tokyo", "remove_closed_from_inbox": True},
        )
        assert saved.json()["preferences"]["time_zone"] == "Asia/Tokyo"
        assert (await http.get("/api/me/preferences")).json()["preferences"][
            "remove_closed_from_inbox"
        ] is True
    conv = await _chat(live_server, alice)
    async with live_server.client(alice.token) as http:
        snoozed = await _command(http, conv, command="snooze", until="tomorrow")
        until = snoozed.json()["conversation"]["users"][alice.user.id]["snoozed_until"]
    from datetime import datetime
    from zoneinfo import ZoneInfo

    assert datetime.fromtimestamp(until, ZoneInfo("Asia/Tokyo")).hour == 8  # Tokyo morning
    watched = (await live_server.services.conversations.read(conv)).users[alice.user.id]
    assert watched.watching  # auto-watch on a new conversation is on by default
    async with live_server.client(alice.token) as http:
        await http.patch("/api/me/preferences", json={"auto_watch_new_conversation": False})
    quiet = await _chat(live_server, alice)
    assert not (await live_server.services.conversations.read(quiet)).users[alice.user.id].watching


async def test_handles_in_a_comment_mention_people_and_teams(live_server: LiveServer) -> None:
    alice = await make_person(live_server.services, "alice@acme.test")
    bob = await make_person(live_server.services, "bob@acme.test")
    carol = await make_person(live_server.services, "carol@acme.test")
    await live_server.services.storage.create_team(
        alice.org.id, "Tier Two", [carol.user.id], [], True
    )
    conv = await _chat(live_server, alice)
    async with live_server.client(alice.token) as http:
        response = await _command(
            http, conv, command="comment", body="@bob can you check? cc @tiertwo, not @home."
        )
    users = response.json()["conversation"]["users"]
    assert users[bob.user.id]["inbox"] is True  # mentioned: access and Inbox
    assert carol.user.id in users  # the team's active member
    async with live_server.client(bob.token) as http:
        inbox = (await http.get("/api/mailboxes/inbox")).json()["conversations"]
    assert conv in [row["id"] for row in inbox]


async def test_rooms_exist_once_and_cannot_be_assigned_or_closed(live_server: LiveServer) -> None:
    alice = await make_person(live_server.services, "alice@acme.test")
    bob = await make_person(live_server.services, "bob@acme.test")
    await live_server.services.storage.create_team(
        alice.org.id, "Support", [alice.user.id], [], True
    )
    async with live_server.client(alice.token) as http:
        first, again = await asyncio.gather(http.get("/api/rooms"), http.get("/api/rooms"))
        rooms = first.json()["rooms"]
        assert rooms == again.json()["rooms"]
        kinds = sorted(room["kind"] for room in rooms)
        assert kinds == ["one_to_one", "org_room", "team_room"]
        dm = next(room for room in rooms if room["kind"] == "one_to_one")
        assert dm["subject"] == "bob@acme.test"
        assert (
            await _command(http, dm["id"], command="assign", users=[bob.user.id])
        ).status_code == 422
        assert (await _command(http, dm["id"], command="close")).status_code == 422
        archived = await _command(http, dm["id"], command="archive")
        assert archived.status_code == 200, archived.text
    async with live_server.client(bob.token) as http:
        bob_rooms = (await http.get("/api/rooms")).json()["rooms"]
    assert dm["id"] in [room["id"] for room in bob_rooms]  # the same 1-1 room for both
    assert "team_room" not in [room["kind"] for room in bob_rooms]  # not in the team


async def test_mention_groups_reach_their_members(live_server: LiveServer) -> None:
    services = live_server.services
    alice = await make_person(services, "alice@acme.test")
    bob = await make_person(services, "bob@acme.test")
    carol = await make_person(services, "carol@acme.test")
    async with services.storage.db.transaction() as tx:  # type: ignore[attr-defined]
        await tx.execute("UPDATE memberships SET role = 'admin' WHERE user_id = ?", alice.user.id)
    conv = await _chat(live_server, alice)
    async with live_server.client(alice.token) as http:
        group = await http.put(
            "/api/admin/mention_groups",
            json={"name": "oncall", "members": [bob.user.id, carol.user.id]},
        )
        assert group.status_code == 200, group.text
        bad = await http.put("/api/admin/mention_groups", json={"name": "on call!", "members": []})
        assert bad.json()["error"]["field"] == "name"
        listed = (await http.get("/api/admin/mention_groups")).json()["mention_groups"]
        assert listed == [{"name": "oncall", "members": sorted([bob.user.id, carol.user.id])}]
        response = await _command(http, conv, command="comment", body="Paging @oncall")
    users = response.json()["conversation"]["users"]
    assert users[bob.user.id]["inbox"] and users[carol.user.id]["inbox"]
