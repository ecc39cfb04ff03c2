"""Rooms follow their members: the organization room holds every member of the
organization, a team room the team's members (active and observers). Pure: the caller
reads who belongs and runs `sync_room_access` inside the conversation's change.

A 1-1 room is left alone: its two people are fixed by its id."""

from __future__ import annotations

import hashlib
from collections.abc import Collection

from server.conversations.machine_base import grant
from server.conversations.model import Conversation

ROOM_VIA = "room"  # `UserState.via` of access a room gave for belonging
SYNCED_KINDS = frozenset({"org_room", "team_room"})


def room_id(*parts: str) -> str:
    """The id of a room, derived from what it joins: `(org, "org")`, `(org, "team", team)`,
    `(org, "dm", a, b)` with a < b. Two processes asking at once name the same room."""
    return "room-" + hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]


def sync_room_access(
    conv: Conversation, belong: Collection[str], org_members: Collection[str], now: int
) -> tuple[list[str], list[str]]:
    """Give every user in `belong` access (archived: the room is in their All, not pushed
    into their Inbox) and take it from those the room had let in who no longer belong —
    and from anyone who left the organization, however they got in (a mention, say).
    Someone brought in by a mention who still belongs to the organization keeps access.
    Returns (joined, left); a repeat changes nothing."""
    if conv.kind not in SYNCED_KINDS:
        return [], []
    joined = sorted(set(belong) - set(conv.users))
    for user in joined:
        grant(conv, user, ROOM_VIA).bumped_at = now
    left = sorted(
        user
        for user, state in conv.users.items()
        if user not in belong and (state.via == ROOM_VIA or user not in org_members)
    )
    for user in left:
        del conv.users[user]
    if left:
        conv.assignees = [user for user in conv.assignees if user not in left]
        for task in conv.tasks:
            task.assignees = [user for user in task.assignees if user not in left]
    return joined, left
