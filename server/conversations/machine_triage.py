"""Triage: assignment, close and reopen, archive, back to the Inbox, moving to a team inbox
(state machine rows 19–22, 24–27)."""

from __future__ import annotations

from server.conversations.machine_base import (
    add_assignees,
    check_actor,
    check_team,
    check_team_member,
    check_users,
    grant,
    record,
    refuse_room,
    remove_assignees,
    summon,
)
from server.conversations.model import Conversation, Directory
from server.errors import Conflict, InvalidInput, Unprocessable


def assign(
    conv: Conversation, actor: str, *, users: list[str], now: int, directory: Directory
) -> None:
    """Row 19 (⌘⇧D): add assignees; each gets access, the top of their Inbox and watches."""
    check_actor(conv, actor, directory)
    refuse_room(conv, "assigned")
    wanted = check_users(users, directory, "users")
    if not wanted:
        raise InvalidInput("name at least one user to assign", field="users")
    added = add_assignees(conv, wanted, now)
    if added:
        record(conv, "assigned", actor, now, users=added)


def set_assignees(
    conv: Conversation, actor: str, *, users: list[str], now: int, directory: Directory
) -> None:
    """Row 20 (⌘D): the assignees become exactly `users` (empty unassigns everyone)."""
    check_actor(conv, actor, directory)
    refuse_room(conv, "assigned")
    wanted = check_users(users, directory, "users")
    removed = remove_assignees(conv, [user for user in conv.assignees if user not in wanted])
    added = add_assignees(conv, wanted, now)
    if removed:
        record(conv, "unassigned", actor, now, users=removed)
    if added:
        record(conv, "assigned", actor, now, users=added)


def unassign(
    conv: Conversation, actor: str, *, users: list[str], now: int, directory: Directory
) -> None:
    """Row 21: they leave Tasks and may now unwatch; the team inbox is left alone."""
    check_actor(conv, actor, directory)
    removed = remove_assignees(conv, check_users(users, directory, "users"))
    if removed:
        record(conv, "unassigned", actor, now, users=removed)


def close(conv: Conversation, actor: str, *, now: int, directory: Directory) -> None:
    """Row 24: closed for everyone, assignments kept, out of the team inbox and the closer's
    Inbox; out of other Inboxes only for non-watchers who chose "Remove from my Inbox"."""
    state = check_actor(conv, actor, directory)
    refuse_room(conv, "closed")
    if conv.status == "closed":
        return
    conv.status = "closed"
    conv.in_team_inbox = False
    state.inbox = False
    for uid, other in conv.users.items():
        leaves = directory.prefs(uid).remove_closed_from_inbox and not other.watching
        if leaves and uid not in conv.assignees:
            other.inbox = False
    record(conv, "closed", actor, now)


def reopen(conv: Conversation, actor: str, *, now: int, directory: Directory) -> None:
    """Way (6) into the Inbox: the assignees get it back; unassigned, it returns to its team
    inbox (inferred, else nobody would see it)."""
    check_actor(conv, actor, directory)
    refuse_room(conv, "closed or reopened")
    if conv.status == "open":
        return
    reopen_for_assignees(conv, actor, now)


def reopen_for_assignees(conv: Conversation, actor: str | None, now: int) -> None:
    conv.status = "open"
    for user in conv.assignees:
        summon(grant(conv, user, "assignment"), now)
    if not conv.assignees and conv.team is not None:
        conv.in_team_inbox = True
    record(conv, "reopened", actor, now)


def archive(
    conv: Conversation,
    actor: str,
    *,
    team: str | None = None,
    now: int,
    directory: Directory,
) -> None:
    """Rows 25, 27 (§E-3): out of the actor's Inbox (still in All). With `team`, archiving
    from that team inbox also takes it out of the team inbox for everyone, without closing."""
    state = check_actor(conv, actor, directory)
    if team is not None:
        info = check_team(team, directory)
        check_team_member(actor, info, directory)
        if conv.team != team or not conv.in_team_inbox:
            raise Conflict(f"not in the team inbox of {info.name}", field="team")
        conv.in_team_inbox = False
        record(conv, "archived", actor, now, team=team)
    state.inbox = False


def move_to_inbox(conv: Conversation, actor: str, *, now: int, directory: Directory) -> None:
    """Back to the top of the actor's own Inbox (out of their Trash if it was there)."""
    state = check_actor(conv, actor, directory)
    if state.trashed or conv.trashed_for_everyone:
        conv.trashed_for_everyone = False
        record(conv, "restored", actor, now)
    summon(state, now)


def move_to_team(
    conv: Conversation, actor: str, *, team: str, now: int, directory: Directory
) -> None:
    """Row 22: into team `team`'s inbox; its members get access to see it there."""
    check_actor(conv, actor, directory)
    refuse_room(conv, "moved to a team inbox")
    info = check_team(team, directory)
    if not info.has_inbox:
        raise Unprocessable(f"team {info.name} has no team inbox", field="team")
    if conv.team == team and conv.in_team_inbox:
        return
    previous = conv.team
    conv.team = team
    conv.in_team_inbox = True
    for member in sorted(info.members):
        grant(conv, member, "team")
    record(conv, "moved", actor, now, **{"from": previous, "to": team})
