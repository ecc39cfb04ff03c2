"""Snoozing (state machine rows 11, 29–32; §5; gap §E-9).

A snooze does not touch the Inbox flags: the mailbox predicates hide a conversation while a
snooze without "leave in Inbox" is active, so lifting it shows the conversation again."""

from __future__ import annotations

from server.conversations.machine_base import (
    bring_back,
    check_actor,
    grant,
    record,
    summon,
)
from server.conversations.model import Conversation, Directory, Snooze, SnoozeScope
from server.errors import InvalidInput


def snooze(
    conv: Conversation,
    actor: str,
    *,
    until: int,
    scope: SnoozeScope = "me",
    leave_in_inbox: bool = False,
    discard_if_reply: bool = False,
    now: int,
    directory: Directory,
) -> None:
    """Rows 29, 30: for the actor alone, or for everyone (hidden from the team inbox too)."""
    state = check_actor(conv, actor, directory)
    if until <= now:
        raise InvalidInput("the snooze time has already passed", field="until")
    if scope not in ("me", "everyone"):
        raise InvalidInput('scope is "me" or "everyone"', field="scope")
    made = Snooze(until, scope, leave_in_inbox, discard_if_reply, by=actor)
    if scope == "me":
        state.snooze = made
    else:
        conv.snooze = made
    record(conv, "snoozed", actor, now, until=until, scope=scope)


def unsnooze(conv: Conversation, actor: str, *, now: int, directory: Directory) -> None:
    """Row 32, discard snooze: the actor's own snooze first, else the one for everyone;
    the conversation comes back at once."""
    state = check_actor(conv, actor, directory)
    if state.snooze is not None:
        state.snooze = None
        summon(state, now)
    elif conv.snooze is not None:
        _wake_everyone(conv, conv.snooze, now)
    else:
        return
    record(conv, "unsnoozed", actor, now)


def wake_snooze(conv: Conversation, *, user: str | None, until: int, now: int) -> bool:
    """Row 31, for the scheduler: the snooze of `user` (None: the one for everyone) that was
    due at `until` ends. A stale job (snooze gone, changed or not yet due) changes nothing
    and returns False."""
    if user is None:
        due = conv.snooze
    else:
        state = conv.users.get(user)
        due = state.snooze if state is not None else None
    if due is None or due.until != until or now < until:
        return False
    if user is None:
        _wake_everyone(conv, due, now)
    else:
        state = conv.users[user]
        state.snooze = None
        summon(state, now)
    return True


def _wake_everyone(conv: Conversation, due: Snooze, now: int) -> None:
    """Back in the team inbox when it is still the team's to triage (unassigned); else the
    assignees' Inboxes; with no team (§E-9), every participant's Inbox. The snoozer is
    always reminded in their Inbox."""
    conv.snooze = None
    if conv.team is not None and not conv.assignees:
        conv.in_team_inbox = True
    returning = set(conv.assignees) if conv.team is not None else set(conv.users)
    for uid in sorted(returning):
        bring_back(grant(conv, uid, "assignment"), now)
    if due.by in conv.users:
        summon(conv.users[due.by], now)


def discard_snoozes_on_reply(conv: Conversation, now: int) -> None:
    """Row 11: an external reply cancels every snooze set to be discarded on reply."""
    if conv.snooze is not None and conv.snooze.discard_if_reply:
        conv.snooze = None
        record(conv, "unsnoozed", None, now, reason="reply")
    for uid, state in sorted(conv.users.items()):
        if state.snooze is not None and state.snooze.discard_if_reply:
            state.snooze = None
            record(conv, "unsnoozed", None, now, reason="reply", user=uid)
