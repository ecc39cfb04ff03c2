"""Mailbox membership as pure predicates over one conversation (spec §B).

A snooze counts only while its time is still ahead: a snooze whose time has passed (the
scheduler has not woken it yet) hides nothing. A personal snooze also hides the
conversation from the snoozer's own view of its team inbox (row 29, "your … Team inboxes",
L7755); a snooze for everyone hides it from every view of the team inbox.
"""

from __future__ import annotations

from typing import Literal, get_args

from server.conversations.model import Conversation, Directory, Snooze, UserState
from server.errors import InvalidInput

Mailbox = Literal[
    "inbox",
    "team_inbox",
    "team_inboxes",
    "team_all",
    "team_closed",
    "assigned_to_me",
    "assigned_to_others",
    "all",
    "closed",
    "snoozed",
    "trash",
    "spam",
    "starred",
    "label",
    "sent",
    "drafts",
    "send_later",
]
MAILBOXES: frozenset[str] = frozenset(get_args(Mailbox))
TEAM_MAILBOXES: frozenset[str] = frozenset({"team_inbox", "team_all", "team_closed"})


def in_mailbox(
    conv: Conversation,
    user: str,
    mailbox: str,
    directory: Directory,
    now: int,
    *,
    team: str | None = None,
    label: str | None = None,
) -> bool:
    """Whether `user` sees `conv` in `mailbox` (`team` for team_inbox, team_all and
    team_closed; `label` for label)."""
    if mailbox not in MAILBOXES:
        raise InvalidInput(f"no mailbox {mailbox!r}", field="mailbox")
    if mailbox in TEAM_MAILBOXES and team is None:
        raise InvalidInput(f"{mailbox} needs a team", field="team")
    if mailbox == "label" and label is None:
        raise InvalidInput("label needs a label", field="label")
    state = conv.users.get(user)
    if state is None or user not in directory.members or conv.merged_into is not None:
        return False
    if mailbox == "trash":
        return state.trashed or conv.trashed_for_everyone
    if mailbox == "spam":
        return conv.spam
    if state.trashed or conv.trashed_for_everyone or conv.spam:
        return False
    return _listed(conv, user, state, mailbox, directory, now, team, label)


def _listed(
    conv: Conversation,
    user: str,
    state: UserState,
    mailbox: str,
    directory: Directory,
    now: int,
    team: str | None,
    label: str | None,
) -> bool:
    if mailbox == "inbox":
        return state.inbox and not _hides(state.snooze, now) and not _hides(conv.snooze, now)
    if mailbox == "team_inbox":
        return conv.team == team and _in_team_inbox_of(conv, user, state, directory, now)
    if mailbox == "team_inboxes":
        info = directory.teams.get(conv.team) if conv.team is not None else None
        active = info is not None and user in info.active
        return active and _in_team_inbox_of(conv, user, state, directory, now)
    if mailbox in ("team_all", "team_closed"):
        info = directory.teams.get(team) if team is not None else None
        of_team = conv.team == team and info is not None and user in info.members
        return of_team and (mailbox == "team_all" or conv.status == "closed")
    if mailbox == "assigned_to_me":
        return user in conv.assignees or conv.has_open_task_for(user)
    if mailbox == "assigned_to_others":
        return any(assignee != user for assignee in conv.assignees)
    if mailbox == "closed":
        return conv.status == "closed"
    if mailbox == "snoozed":
        return _active(state.snooze, now) or _active(conv.snooze, now)
    if mailbox == "starred":
        return state.starred
    if mailbox == "label":
        return label in conv.labels and directory.label_visible(label, user)
    if mailbox == "sent":
        return conv.has_sent
    if mailbox == "drafts":
        return bool(conv.drafts)
    if mailbox == "send_later":
        return bool(conv.scheduled)
    return True  # all


def _in_team_inbox_of(
    conv: Conversation, user: str, state: UserState, directory: Directory, now: int
) -> bool:
    info = directory.teams.get(conv.team) if conv.team is not None else None
    if info is None or not info.has_inbox or user not in info.members:
        return False
    hidden = _hides(conv.snooze, now) or _hides(state.snooze, now)
    return conv.in_team_inbox and not hidden


def unread_for(conv: Conversation, user: str) -> bool:
    """Unread external messages or unread comments for `user` (False without access)."""
    state = conv.users.get(user)
    return state is not None and (state.unread or state.chat_unread)


def _active(snooze: Snooze | None, now: int) -> bool:
    return snooze is not None and snooze.until > now


def _hides(snooze: Snooze | None, now: int) -> bool:
    return _active(snooze, now) and snooze is not None and not snooze.leave_in_inbox
