"""`tandem team create`, `tandem label create`, `tandem reindex`."""

from __future__ import annotations

import argparse
from typing import Any

from server.cli_commands import CommandError, storage_for
from server.conversations.document import new_conversation_doc, read_conversation
from server.conversations.index import project
from server.settings import Settings
from server.storage.base import Storage


async def _org_id(storage: Storage, name: str) -> str:
    org = await storage.get_organization_by_name(name)
    if org is None:
        raise CommandError(f"no organization named {name!r}")
    return org.id


async def _user_ids(storage: Storage, emails: str | None, org_id: str) -> list[str]:
    members = await storage.org_members(org_id)
    ids = []
    for email in filter(None, (e.strip() for e in (emails or "").split(","))):
        user = await storage.get_user_by_email(email)
        if user is None or user.id not in members:
            raise CommandError(f"{email} is not a member of this organization")
        ids.append(user.id)
    return ids


async def team_create(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    async with storage_for(settings) as storage:
        org_id = await _org_id(storage, args.org)
        active = await _user_ids(storage, args.active, org_id)
        observers = await _user_ids(storage, args.observers, org_id)
        team = await storage.create_team(org_id, args.name, active, observers, not args.no_inbox)
    return {
        "id": team.id,
        "name": team.name,
        "has_inbox": team.has_inbox,
        "active": list(team.active),
        "observers": list(team.observers),
        "message": f"created team {team.name} ({team.id})",
    }


async def label_create(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    async with storage_for(settings) as storage:
        org_id = await _org_id(storage, args.org)
        auto_share = await _user_ids(storage, args.share_with, org_id)
        label = await storage.create_label(org_id, args.path, auto_share)
    return {"id": label.id, "path": label.path, "message": f"created label {label.path}"}


async def reindex(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    """Rebuild every conversation's index rows from its document."""
    rebuilt = 0
    async with storage_for(settings) as storage:
        for name in await storage.document_names("conv"):
            async with storage.conversation_transaction(name) as tx:
                doc = new_conversation_doc()
                snapshot = await tx.snapshot()
                if snapshot is not None:
                    doc.apply_update(snapshot)
                for _, update in await tx.tail(0):
                    doc.apply_update(update)
                await tx.save_index(project(read_conversation(doc)))
            rebuilt += 1
    return {"rebuilt": rebuilt, "message": f"rebuilt the index of {rebuilt} conversations"}
