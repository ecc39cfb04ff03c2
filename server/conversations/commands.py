"""The commands API's table: each command name, its parameters (`params.SCHEMAS`) and the
state-machine function it runs. Parsing happens before anything is loaded; the machine
validates against the conversation and raises before changing it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from server.conversations import machine, machine_sharing, machine_snooze, machine_tasks
from server.conversations.handles import mentions_in
from server.conversations.model import Conversation, Directory
from server.conversations.params import SCHEMAS, Command, parse_command
from server.conversations.times import resolve

Run = Callable[[Conversation, str, dict[str, Any], int, Directory], None]


@dataclass(frozen=True)
class CommandSpec:
    run: Run


def _direct(fn: Callable[..., None]) -> CommandSpec:
    def run(conv: Conversation, actor: str, params: dict[str, Any], now: int, d: Directory) -> None:
        fn(conv, actor, **params, now=now, directory=d)

    return CommandSpec(run)


def _snooze(conv: Conversation, actor: str, params: dict[str, Any], now: int, d: Directory) -> None:
    until = resolve(params["until"], now, d.prefs(actor).time_zone)
    machine_snooze.snooze(conv, actor, **{**params, "until": until}, now=now, directory=d)


def _comment(
    conv: Conversation, actor: str, params: dict[str, Any], now: int, d: Directory
) -> None:
    machine_sharing.comment(
        conv,
        actor,
        comment_id=str(uuid.uuid4()),
        body=params["body"],
        mentions=[*params["mentions"], *mentions_in(params["body"], d)],
        now=now,
        directory=d,
    )


def _add_task(
    conv: Conversation, actor: str, params: dict[str, Any], now: int, d: Directory
) -> None:
    due = params["due"]
    machine_tasks.add_task(
        conv,
        actor,
        task_id=str(uuid.uuid4()),
        title=params["title"],
        assignees=params["assignees"],
        due_at=resolve(due, now, d.prefs(actor).time_zone, field="due") if due else None,
        now=now,
        directory=d,
    )


COMMANDS: dict[str, CommandSpec] = {
    **{name: _direct(action) for name, action in machine.COMMANDS.items() if name in SCHEMAS},
    "snooze": CommandSpec(_snooze),
    "comment": CommandSpec(_comment),
    "add_task": CommandSpec(_add_task),
}
"""Commands on one conversation; `machine.MULTI` (merge, move an email out) span two and
are run by the route through `ConversationWriter.change_many`."""
assert set(COMMANDS) | machine.MULTI == set(SCHEMAS), set(COMMANDS) ^ set(SCHEMAS)

__all__ = ["COMMANDS", "Command", "parse_command"]
