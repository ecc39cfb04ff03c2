"""What a member leaving the organization does to a conversation they were working on.

Access itself needs no change here: only members of a conversation's organization can
read it, so their entry in `users` stops counting the moment the membership goes (and
counts again if they are added back). Their work does not go with them."""

from __future__ import annotations

from server.conversations.machine_base import record, remove_assignees
from server.conversations.model import Conversation, Directory


def release_member(
    conv: Conversation, user: str, actor: str | None, *, now: int, directory: Directory
) -> None:
    """Unassign `user` (recorded as `unassigned` by whoever removed them; None from the
    command line) and take them off the tasks not done yet. An open team conversation left
    with nobody assigned returns to its team inbox, as when it is reopened or woken."""
    removed = remove_assignees(conv, [user])
    for task in conv.tasks:
        if not task.done and user in task.assignees:
            task.assignees.remove(user)
    if not removed:
        return
    record(conv, "unassigned", actor, now, users=removed)
    team = directory.teams.get(conv.team) if conv.team is not None else None
    if (
        team is not None
        and team.has_inbox
        and conv.status == "open"
        and not conv.assignees
        and not conv.spam
        and not conv.trashed_for_everyone
        and not conv.is_room
    ):
        conv.in_team_inbox = True
