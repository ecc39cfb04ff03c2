"""Tasks inside conversations (state machine row 44): who watches, who comes back to their
Inbox, who finds it in Assigned to me; refusals change nothing; tasks follow a merge; and
the same through the commands API and the index on both backends. Members and helpers are
those of tests/test_state_machine.py."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import httpx
import pytest

from server.conversations.machine import COMMANDS, merge
from server.conversations.mailboxes import in_mailbox
from server.conversations.model import Conversation, Preferences
from server.errors import AppError, Conflict, Forbidden, InvalidInput
from tests.fixtures.machine import DIRECTORY, NOW, looks, make
from tests.fixtures.server import LiveServer, make_person


def add(conv: Conversation, actor: str, **params: Any) -> None:
    params = {"task_id": "t1", "title": "Send the invoice", "assignees": [], **params}
    COMMANDS["add_task"](conv, actor, now=NOW, directory=DIRECTORY, **params)


def test_row_44_creating_a_task_is_activity_and_reaches_its_assignee() -> None:
    conv = make({"alice": "inbox", "bob": "watching", "carol": ""})
    add(conv, "alice", assignees=["dave"])
    assert looks(conv, "alice") == "inbox watching"  # the creator auto-watches
    assert looks(conv, "bob") == "inbox chat watching"  # a watcher comes back
    assert looks(conv, "carol") == "archived chat"  # others: unread, not in the Inbox
    assert looks(conv, "dave") == "inbox chat"  # the task's assignee: access, Inbox
    assert in_mailbox(conv, "dave", "assigned_to_me", DIRECTORY, NOW)
    assert not in_mailbox(conv, "carol", "assigned_to_me", DIRECTORY, NOW)
    assert [e.type for e in conv.events] == ["task_added"]
    assert conv.tasks[0].assignees == ["dave"] and conv.tasks[0].created_by == "alice"


def test_the_auto_watch_on_task_preference_is_honoured() -> None:
    quiet = dataclasses.replace(
        DIRECTORY, preferences={"alice": Preferences(auto_watch_task=False)}
    )
    conv = make({"alice": "inbox"})
    COMMANDS["add_task"](
        conv, "alice", task_id="t1", title="Call back", assignees=[], now=NOW, directory=quiet
    )
    assert looks(conv, "alice") == "inbox"


def test_completing_a_task_takes_it_out_of_assigned_to_me_and_reopening_brings_it_back() -> None:
    conv = make({"alice": "inbox"})
    add(conv, "alice", assignees=["dave"])
    COMMANDS["update_task"](conv, "dave", task="t1", done=True, now=NOW, directory=DIRECTORY)
    assert conv.tasks[0].done and conv.tasks[0].done_at == NOW
    assert not in_mailbox(conv, "dave", "assigned_to_me", DIRECTORY, NOW)
    assert looks(conv, "alice") == "inbox chat watching"  # the creator watches: activity
    COMMANDS["update_task"](conv, "dave", task="t1", done=False, now=NOW, directory=DIRECTORY)
    assert in_mailbox(conv, "dave", "assigned_to_me", DIRECTORY, NOW)
    COMMANDS["update_task"](conv, "dave", task="t1", done=False, now=NOW, directory=DIRECTORY)
    assert [e.type for e in conv.events] == ["task_added", "task_updated", "task_updated"]


def test_reassigning_and_deleting_a_task() -> None:
    conv = make({"alice": "inbox"})
    add(conv, "alice", assignees=["dave"])
    COMMANDS["update_task"](
        conv, "alice", task="t1", assignees=["bob"], title=" Send it ", now=NOW, directory=DIRECTORY
    )
    assert (conv.tasks[0].title, conv.tasks[0].assignees) == ("Send it", ["bob"])
    assert looks(conv, "bob") == "inbox chat"
    assert not in_mailbox(conv, "dave", "assigned_to_me", DIRECTORY, NOW)
    COMMANDS["delete_task"](conv, "bob", task="t1", now=NOW, directory=DIRECTORY)
    assert conv.tasks == [] and not in_mailbox(conv, "bob", "assigned_to_me", DIRECTORY, NOW)


def test_tasks_follow_a_merge_into_the_target() -> None:
    source, target = make({"alice": "inbox"}), make({"alice": "inbox"})
    source.id = "s1"
    add(source, "alice", assignees=["dave"])
    merge(source, target, "alice", now=NOW, directory=DIRECTORY)
    assert [t.id for t in target.tasks] == ["t1"] and source.tasks == []
    assert in_mailbox(target, "dave", "assigned_to_me", DIRECTORY, NOW)


REFUSALS: dict[str, tuple[str, str, dict[str, Any], type[AppError], str | None]] = {
    "empty-title": ("add_task", "alice", {"title": "  "}, InvalidInput, "title"),
    "assignee-outside-the-org": (
        "add_task", "alice", {"assignees": ["mallory"]}, InvalidInput, "assignees",
    ),
    "same-id-twice": ("add_task", "alice", {"task_id": "t0"}, Conflict, "task_id"),
    "no-access": ("add_task", "carol", {}, Forbidden, None),
    "unknown-task": ("update_task", "alice", {"task": "nope", "done": True}, InvalidInput, "task"),
    "delete-unknown-task": ("delete_task", "alice", {"task": "nope"}, InvalidInput, "task"),
}  # fmt: skip


@pytest.mark.parametrize(
    ("name", "actor", "params", "error", "field_name"),
    [pytest.param(*case, id=key) for key, case in REFUSALS.items()],
)
def test_task_refusals_change_nothing(
    name: str, actor: str, params: dict[str, Any], error: type[AppError], field_name: str | None
) -> None:
    conv = make({"alice": "inbox"})
    add(conv, "alice", task_id="t0")
    before = copy.deepcopy(conv)
    if name == "add_task":
        params = {"task_id": "t1", "title": "Call", "assignees": [], **params}
    with pytest.raises(error) as refused:
        COMMANDS[name](conv, actor, now=NOW, directory=DIRECTORY, **params)
    assert refused.value.field == field_name
    assert conv == before


async def test_tasks_through_the_commands_api_and_the_index(live_server: LiveServer) -> None:
    alice = await make_person(live_server.services, "alice@acme.test")
    dave = await make_person(live_server.services, "dave@acme.test")
    async with live_server.client(alice.token) as http:
        created = await http.post("/api/conversations", json={"subject": "Invoices"})
        conv = created.json()["conversation"]["id"]

        async def command(**body: Any) -> httpx.Response:
            return await http.post(f"/api/conversations/{conv}/commands", json=body)

        bad_due = await command(command="add_task", title="Send", due="someday")
        assert (bad_due.status_code, bad_due.json()["error"]["field"]) == (400, "due")
        added = await command(
            command="add_task", title="Send the invoice", assignees=[dave.user.id], due="tomorrow"
        )
        assert added.status_code == 200, added.text
        [task] = added.json()["conversation"]["tasks"]
        assert task["assignees"] == [dave.user.id] and task["due_at"] > 0
    async with live_server.client(dave.token) as http:
        mine = (await http.get("/api/mailboxes/assigned_to_me")).json()["conversations"]
        assert [row["id"] for row in mine] == [conv]
        done = await http.post(
            f"/api/conversations/{conv}/commands",
            json={"command": "update_task", "task": task["id"], "done": True},
        )
        assert done.status_code == 200, done.text
        mine = (await http.get("/api/mailboxes/assigned_to_me")).json()["conversations"]
        assert mine == []
