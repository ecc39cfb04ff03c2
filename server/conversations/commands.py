"""The commands API's table: each command name, its parameters (`params.SCHEMAS`) and the
state-machine function it runs. Parsing happens before anything is loaded; the machine
validates against the conversation and raises before changing it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from server.conversations import (
    machine_chat,
    machine_labels,
    machine_personal,
    machine_sharing,
    machine_snooze,
    machine_trash,
    machine_triage,
)
from server.conversations.handles import mentions_in
from server.conversations.model import Conversation, Directory
from server.conversations.params import SCHEMAS, Command, parse_command
from server.conversations.times import resolve
from server.errors import Unprocessable

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


def _not_yet(name: str) -> CommandSpec:
    def run(conv: Conversation, actor: str, params: dict[str, Any], now: int, d: Directory) -> None:
        raise Unprocessable(f"{name} is not available yet", field="command")

    return CommandSpec(run)


COMMANDS: dict[str, CommandSpec] = {
    "assign": _direct(machine_triage.assign),
    "set_assignees": _direct(machine_triage.set_assignees),
    "unassign": _direct(machine_triage.unassign),
    "close": _direct(machine_triage.close),
    "reopen": _direct(machine_triage.reopen),
    "archive": _direct(machine_triage.archive),
    "move_to_inbox": _direct(machine_triage.move_to_inbox),
    "move_to_team": _direct(machine_triage.move_to_team),
    "trash": _direct(machine_trash.trash),
    "restore": _direct(machine_trash.restore),
    "snooze": CommandSpec(_snooze),
    "unsnooze": _direct(machine_snooze.unsnooze),
    "mark_read": _direct(machine_personal.mark_read),
    "mark_unread": _direct(machine_personal.mark_unread),
    "star": _direct(machine_personal.star),
    "unstar": _direct(machine_personal.unstar),
    "watch": _direct(machine_personal.watch),
    "unwatch": _direct(machine_personal.unwatch),
    "add_people": _direct(machine_sharing.add_people),
    "comment": CommandSpec(_comment),
    "react": _direct(machine_chat.react),
    "rename": _direct(machine_labels.rename),
    "add_labels": _direct(machine_labels.add_labels),
    "remove_labels": _direct(machine_labels.remove_labels),
    **{name: _not_yet(name) for name in ("merge_into", "move_message", "delete_forever")},
    **{name: _not_yet(name) for name in ("mark_spam", "not_spam")},
}
assert set(COMMANDS) == set(SCHEMAS), set(COMMANDS) ^ set(SCHEMAS)

__all__ = ["COMMANDS", "Command", "parse_command"]
