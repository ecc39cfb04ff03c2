"""`GET /api/rooms`: the organization room, one room per team and a 1-1 room for every pair
of members. They exist from the first time anyone asks (ids are derived from what they
join, so two processes asking at once create each room once). Membership changes bring
existing rooms up to date as they happen (`server.actions.members`); a listing member who
belongs to a room but is not on its access list yet (a change made by a path that does not
sync, or one interrupted) is let in here."""

from __future__ import annotations

import contextlib
import itertools
import time

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from server.actions.members import sync_rooms
from server.auth import require_user
from server.conversations.machine_rooms import ROOM_VIA, room_id
from server.conversations.model import Conversation, Kind, UserState
from server.errors import Conflict, Forbidden
from server.json import json_response
from server.services import Services, services_of


async def _ensure(
    services: Services, rid: str, org_id: str, kind: Kind, subject: str, users: set[str]
) -> bool:
    """Create the room with `users`; False when it already existed."""
    if await services.storage.conversation_org(rid) is not None:
        return False
    now = int(time.time() * 1000)
    conv = Conversation(
        id=rid,
        org_id=org_id,
        kind=kind,
        subject=subject,
        subject_custom=True,
        last_activity_at=now,
        users={uid: UserState(bumped_at=now, via=ROOM_VIA) for uid in sorted(users)},
    )
    with contextlib.suppress(Conflict):  # another request created it first
        await services.conversations.create(conv)
    return True


async def _let_in(
    services: Services, org_id: str, rid: str, user_id: str, team: str | None
) -> None:
    """Sync the room if the user, who belongs to it, is not on its access list yet."""
    if not await services.storage.conversation_access(rid, user_id):
        await sync_rooms(services, org_id, org_room=team is None, teams=[team] if team else [])


async def list_rooms(request: Request) -> Response:
    services = services_of(request)
    user = await require_user(request)
    memberships = await services.storage.memberships_for_user(user.id)
    wanted = request.query_params.get("organization")
    org_ids = [m.org_id for m in memberships if wanted in (None, m.org_id)]
    if not org_ids:
        raise Forbidden("you are not a member of that organization", field="organization")
    org_id = org_ids[0]
    org = await services.storage.get_organization(org_id)
    emails = await services.storage.member_emails(org_id)
    members = set(emails)
    rooms = [(room_id(org_id, "org"), "org_room", org.name if org else "Organization", members)]
    team_of: dict[str, str] = {}
    for team in await services.storage.teams(org_id):
        team_of[room_id(org_id, "team", team.id)] = team.id
        rooms.append((room_id(org_id, "team", team.id), "team_room", team.name,
                      set(team.active) | set(team.observers)))  # fmt: skip
    for a, b in itertools.combinations(sorted(members), 2):
        if user.id in (a, b):
            other = b if a == user.id else a
            rooms.append((room_id(org_id, "dm", a, b), "one_to_one", emails[other], {a, b}))
    listed = []
    for rid, kind, subject, users in rooms:
        if user.id not in users:
            continue
        created = await _ensure(services, rid, org_id, kind, subject, users)  # type: ignore[arg-type]
        if kind != "one_to_one" and not created:
            await _let_in(services, org_id, rid, user.id, team_of.get(rid))
        listed.append({"id": rid, "kind": kind, "subject": subject})
    return json_response({"rooms": listed})


routes: list[BaseRoute] = [Route("/api/rooms", list_rooms, methods=["GET"])]
