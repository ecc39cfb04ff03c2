"""Trash and restore (state machine rows 35, 36, 39; contradiction §E-1)."""

from __future__ import annotations

from server.conversations.machine_base import (
    check_actor,
    check_team,
    check_team_member,
    record,
    remove_assignees,
)
from server.conversations.model import Conversation, Directory
from server.errors import Conflict


def trash(
    conv: Conversation,
    actor: str,
    *,
    team: str | None = None,
    now: int,
    directory: Directory,
) -> None:
    """From team `team`'s inbox (row 35): in Trash for everyone with access, out of the team
    inbox, team, organization labels and every snooze cleared. Elsewhere (row 36): only in
    the actor's own Trash. Either way the actor, and only the actor, stops being an
    assignee (§E-1: the user action removes the user; removing all is the Trash rule's)."""
    state = check_actor(conv, actor, directory)
    if team is not None:
        info = check_team(team, directory)
        check_team_member(actor, info, directory)
        if conv.team != team:
            raise Conflict(f"not in the team inbox of {info.name}", field="team")
    elif state.trashed or conv.trashed_for_everyone:
        return
    unassigned = remove_assignees(conv, [actor])
    if team is not None:
        conv.trashed_for_everyone = True
        conv.in_team_inbox = False
        conv.team = None
        conv.labels.clear()
        conv.snooze = None
        for other in conv.users.values():
            other.snooze = None
    else:
        state.trashed = True
    if unassigned:
        record(conv, "unassigned", actor, now, users=unassigned)
    record(conv, "trashed", actor, now, team=team, everyone=team is not None)


def restore(conv: Conversation, actor: str, *, now: int, directory: Directory) -> None:
    """Row 39: out of Trash, back where it was for the actor (Inbox or archived); labels
    and assignees that the trash removed stay removed."""
    state = check_actor(conv, actor, directory)
    if not (state.trashed or conv.trashed_for_everyone):
        return
    state.trashed = False
    conv.trashed_for_everyone = False
    record(conv, "restored", actor, now)
