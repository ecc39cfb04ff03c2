"""Membership changes carried into conversations, through the conversation writer like
every other action: rooms follow their members, and a member who leaves hands back the
work assigned to them."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Set

from server.actions.directory import load_directory
from server.conversations.machine_members import release_member
from server.conversations.machine_rooms import room_id, sync_room_access
from server.conversations.model import Conversation
from server.services import Services

MAX_ROUNDS = 3  # syncs of one room in one call; more would mean membership churns nonstop


def _now() -> int:
    return int(time.time() * 1000)


async def sync_rooms(
    services: Services, org_id: str, *, org_room: bool = True, teams: Collection[str] = ()
) -> None:
    """Bring the organization room (with `org_room`) and the rooms of `teams` in line with
    who belongs to them now. A room nobody has asked for yet does not exist; it is created
    with its members when it is first listed.

    Membership is read before the room is locked, so a sync racing another membership
    change may apply a set that is already stale; each room is therefore read again after
    its change and synced once more if who belongs moved meanwhile."""
    rooms = await _belonging(services, org_id, org_room, teams)
    for rid in list(rooms):
        if await services.storage.conversation_org(rid) is None:
            continue
        applied = None
        for _ in range(MAX_ROUNDS):
            wanted = rooms.get(rid)
            if wanted is None or wanted == applied:
                break
            await services.conversations.change(rid, _syncing(*wanted, _now()))
            applied = wanted
            rooms = await _belonging(services, org_id, org_room, teams)


def _syncing(belong: Set[str], members: Set[str], now: int) -> Callable[[Conversation], None]:
    def change(conv: Conversation) -> None:
        sync_room_access(conv, belong, members, now)

    return change


async def _belonging(
    services: Services, org_id: str, org_room: bool, teams: Collection[str]
) -> dict[str, tuple[frozenset[str], frozenset[str]]]:
    """Room id -> (who belongs to it, the organization's members)."""
    members = frozenset(await services.storage.org_members(org_id))
    rooms = {room_id(org_id, "org"): (members, members)} if org_room else {}
    for team in await services.storage.teams(org_id):
        if team.id in teams:
            belong = frozenset(team.active) | frozenset(team.observers)
            rooms[room_id(org_id, "team", team.id)] = (belong, members)
    return rooms


async def member_left(
    services: Services, org_id: str, user_id: str, teams: Collection[str], actor: str | None
) -> None:
    """After the membership is gone: out of the organization room and the rooms of the
    `teams` they were in, and unassigned wherever they were assigned."""
    await sync_rooms(services, org_id, teams=teams)
    directory = await load_directory(services.storage, org_id)
    for conv_id in await services.storage.assigned_conversations(org_id, user_id):
        now = _now()

        def change(conv: Conversation, now: int = now) -> None:
            release_member(conv, user_id, actor, now=now, directory=directory)

        await services.conversations.change(conv_id, change)
