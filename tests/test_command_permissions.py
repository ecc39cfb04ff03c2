"""Every command of the commands API, sent by someone who may not: a member of another
organization (404, as if it did not exist) and a member of the same organization without
access (403). Nothing changes either way — the conversation reads as it did — and
neither can open the conversation's document over a websocket."""

from __future__ import annotations

import asyncio
from typing import Any

from server.conversations.params import SCHEMAS
from tests.fixtures.server import LiveServer, make_person
from tests.yclient import yws


def valid_params(me: str, other_conv: str) -> dict[str, dict[str, Any]]:
    """A well-formed body for every command, so only permission can refuse it."""
    ids = {"users": [me]}
    special: dict[str, dict[str, Any]] = {
        "assign": ids, "set_assignees": ids, "unassign": ids, "add_people": ids,
        "snooze": {"until": "tomorrow"},
        "move_to_team": {"team": "no-team"},
        "comment": {"body": "let me in"},
        "react": {"comment": "k1", "emoji": "+1"},
        "edit_comment": {"comment": "k1", "body": "changed"},
        "delete_comment": {"comment": "k1"},
        "rename": {"subject": "mine now"},
        "add_labels": {"labels": ["l1"]}, "remove_labels": {"labels": ["l1"]},
        "merge_into": {"target": other_conv},
        "move_message": {"message": "m1"},
        "add_task": {"title": "do it"},
        "update_task": {"task": "t1", "done": True}, "delete_task": {"task": "t1"},
    }  # fmt: skip
    return {name: special.get(name, {}) for name in SCHEMAS}


async def test_outsiders_can_run_no_command_and_open_no_document(live_server: LiveServer) -> None:
    services = live_server.services
    alice = await make_person(services, "alice@acme.test")
    carol = await make_person(services, "carol@acme.test")  # same organization, no access
    mallory = await make_person(services, "mallory@other.test", org_name="Other")
    async with live_server.client(alice.token) as http:
        convs = []
        for subject in ("Refund", "Other"):
            created = await http.post("/api/conversations", json={"subject": subject})
            convs.append(created.json()["conversation"]["id"])
        await http.post(
            f"/api/conversations/{convs[0]}/commands", json={"command": "comment", "body": "hi"}
        )
    conv, other = convs
    before = await services.conversations.read(conv)
    for person, status in ((carol, 403), (mallory, 404)):
        mine = valid_params(person.user.id, other)
        async with live_server.client(person.token) as http:
            assert (await http.get(f"/api/conversations/{conv}")).status_code == status
            for name, params in mine.items():
                answer = await http.post(
                    f"/api/conversations/{conv}/commands", json={"command": name, **params}
                )
                assert answer.status_code == status, (person.user.email, name, answer.text)
        async with yws(live_server.ws, f"conv:{conv}", person.token) as intruder:
            code, _ = await asyncio.wait_for(intruder.wait_closed(), 5)
            assert code == 4403, person.user.email
    assert await services.conversations.read(conv) == before


async def test_comments_are_edited_by_their_author_and_deleted_by_author_or_admin(
    live_server: LiveServer,
) -> None:
    services = live_server.services
    alice = await make_person(services, "alice@acme.test")
    bob = await make_person(services, "bob@acme.test")
    erin = await make_person(services, "erin@acme.test")
    async with services.storage.db.transaction() as tx:  # type: ignore[attr-defined]
        await tx.execute("UPDATE memberships SET role = 'admin' WHERE user_id = ?", erin.user.id)
    async with live_server.client(alice.token) as http:
        created = await http.post(
            "/api/conversations",
            json={"subject": "Refund", "users": [bob.user.id, erin.user.id], "body": "Refund?"},
        )
        conv = created.json()["conversation"]["id"]
    [comment] = (await services.conversations.read(conv)).comments

    async def command(person: Any, **body: Any) -> int:
        async with live_server.client(person.token) as http:
            answer = await http.post(f"/api/conversations/{conv}/commands", json=body)
        return answer.status_code

    assert await command(bob, command="edit_comment", comment=comment.id, body="mine") == 403
    assert await command(bob, command="delete_comment", comment=comment.id) == 403
    assert await command(alice, command="edit_comment", comment=comment.id, body="Refund!") == 200
    assert (await services.conversations.read(conv)).comments[0].body == "Refund!"
    assert await command(erin, command="delete_comment", comment=comment.id) == 200
    assert (await services.conversations.read(conv)).comments[0].deleted
