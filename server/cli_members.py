"""`tandem user list|role|handle|remove`, and the rooms a new member joins: the command-line
side of `/api/admin/users`. The operator at the command line may do anything but leave an
organization without an owner."""

from __future__ import annotations

import argparse
from typing import Any

from server import cli_commands as commands
from server.actions.directory import load_directory
from server.actions.members import member_left, sync_rooms
from server.cli_commands import CommandError, storage_for
from server.conversations.handles import handle_problem, member_handles
from server.conversations.machine_rooms import room_id
from server.services import open_services
from server.settings import Settings
from server.storage.base import Organization, Storage, User


async def _member(storage: Storage, org_name: str, email: str) -> tuple[Organization, User]:
    org = await storage.get_organization_by_name(org_name)
    if org is None:
        raise CommandError(f"no organization named {org_name!r}")
    user = await storage.get_user_by_email(email)
    if user is None or user.id not in await storage.org_members(org.id):
        raise CommandError(f"{email} is not a member of {org.name}")
    return org, user


async def _rooms_after_join(settings: Settings, org_name: str) -> None:
    """A new member enters the organization room, if anyone has opened it yet."""
    async with storage_for(settings) as storage:
        org = await storage.get_organization_by_name(org_name)
        if org is None or await storage.conversation_org(room_id(org.id, "org")) is None:
            return
    async with open_services(settings) as services:
        await sync_rooms(services, org.id)


async def user_create(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    facts = await commands.user_create(settings, args)
    await _rooms_after_join(settings, args.org)
    return facts


async def user_add_to_org(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    facts = await commands.user_add_to_org(settings, args)
    await _rooms_after_join(settings, args.org)
    return facts


async def user_list(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    async with storage_for(settings) as storage:
        org = await storage.get_organization_by_name(args.org)
        if org is None:
            raise CommandError(f"no organization named {args.org!r}")
        people = await storage.org_people(org.id)
    handles = {
        uid: h for h, uid in member_handles((p.id, p.email, p.handle) for p in people).items()
    }
    users = [
        {"id": p.id, "email": p.email, "name": p.name, "role": p.role, "handle": handles.get(p.id)}
        for p in people
    ]
    lines = [f"{u['email']}  {u['role']}  @{u['handle'] or '-'}  {u['name']}" for u in users]
    return {"users": users, "message": "\n".join(lines) or f"{org.name} has no members"}


async def user_role(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    async with storage_for(settings) as storage:
        org, user = await _member(storage, args.org, args.email)
        await storage.update_member(org.id, user.id, {"role": args.role})
    return {
        "email": user.email,
        "org": org.name,
        "role": args.role,
        "message": f"{user.email} is now {args.role} of {org.name}",
    }


async def user_handle(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    async with storage_for(settings) as storage:
        org, user = await _member(storage, args.org, args.email)
        handle = args.handle.strip().removeprefix("@").lower() if args.handle else None
        if handle is not None:
            problem = handle_problem(handle, user.id, await load_directory(storage, org.id))
            if problem is not None:
                raise CommandError(problem[0])
        await storage.update_member(org.id, user.id, {"handle": handle})
        people = await storage.org_people(org.id)
    handles = member_handles((p.id, p.email, p.handle) for p in people)
    now = next((h for h, uid in handles.items() if uid == user.id), None)
    return {
        "email": user.email,
        "org": org.name,
        "handle": now,
        "message": f"{user.email} is @{now} in {org.name}"
        if now
        else f"{user.email} has no handle",
    }


async def user_remove(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    async with storage_for(settings) as storage:
        org, user = await _member(storage, args.org, args.email)
        teams = await storage.remove_member(org.id, user.id)
    async with open_services(settings) as services:
        await member_left(services, org.id, user.id, teams, None)
    return {
        "email": user.email,
        "org": org.name,
        "teams": teams,
        "message": f"removed {user.email} from {org.name}",
    }
