"""Trash, restore, delete forever and spam (state machine rows 35–39, 52; §E-1)."""

from __future__ import annotations

from server.conversations.machine_base import (
    check_actor,
    check_team,
    check_team_member,
    empty,
    record,
    remove_assignees,
)
from server.conversations.model import Conversation, Directory
from server.errors import Conflict, Unprocessable


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


def delete_forever(conv: Conversation, actor: str, *, now: int, directory: Directory) -> None:
    """Row 38 (L8462–8475), from the actor's Trash. The owner of every account the
    conversation's emails came through deletes it for everyone: the conversation becomes
    a tombstone (`deleted`, nobody has access) and the caller erases its stored mail.
    Anyone else, and anyone on a conversation without emails, removes only their own
    access (and assignment)."""
    state = check_actor(conv, actor, directory)
    if not (state.trashed or conv.trashed_for_everyone):
        raise Conflict("only a conversation in your Trash can be deleted forever")
    accounts = {m.account_id for m in conv.messages}
    owner = bool(accounts) and all(
        account is not None and directory.account_owners.get(account) == actor
        for account in accounts
    )
    if owner:
        conv.deleted = True
        empty(conv)
        record(conv, "deleted", actor, now)
        return
    remove_assignees(conv, [actor])
    del conv.users[actor]


def mark_spam(conv: Conversation, actor: str, *, now: int, directory: Directory) -> None:
    """Row 52: the conversation moves to Spam for everyone and leaves its team inbox
    (L8597, L9367); Inbox flags stay as they were, so `not_spam` brings it back."""
    check_actor(conv, actor, directory)
    if conv.is_room:
        raise Unprocessable("rooms cannot be marked as spam")
    if conv.spam:
        return
    conv.spam = True
    conv.in_team_inbox = False
    record(conv, "spam", actor, now)


def not_spam(conv: Conversation, actor: str, *, now: int, directory: Directory) -> None:
    """Out of Spam: back where it was for everyone; an open, unassigned team conversation
    returns to its team inbox."""
    check_actor(conv, actor, directory)
    if not conv.spam:
        return
    conv.spam = False
    if conv.team is not None and conv.status == "open" and not conv.assignees:
        conv.in_team_inbox = True
    record(conv, "not_spam", actor, now)
