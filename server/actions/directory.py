"""The organization as the state machine needs it, for one action: cached per process and
organization, and read again when the organization's directory version has moved (every
write to what it is built from bumps it in the same transaction, from any process)."""

from __future__ import annotations

import dataclasses
import os
import weakref

from server.conversations.handles import member_handles
from server.conversations.model import Directory, Preferences, TeamInfo
from server.storage.base import Storage
from server.storage.organization import LabelRecord

VERIFY_ENV = "TANDEM_VERIFY_DIRECTORY_CACHE"  # tests: every cache hit is checked

_cached: weakref.WeakKeyDictionary[Storage, dict[str, tuple[int, Directory]]] = (
    weakref.WeakKeyDictionary()
)


class StaleDirectory(AssertionError):
    """A cached directory differed from storage at the same version: some write to it does
    not bump the version (or a caller changed a shared directory)."""


async def load_directory(storage: Storage, org_id: str) -> Directory:
    """The organization's directory. Callers share it and must not change it."""
    version = await storage.directory_version(org_id)
    per_org = _cached.setdefault(storage, {})
    hit = per_org.get(org_id)
    if version is not None and hit is not None and hit[0] == version:
        if os.environ.get(VERIFY_ENV):
            fresh = await read_directory(storage, org_id)
            if fresh != hit[1]:
                raise StaleDirectory(f"organization {org_id}: the cached directory is stale")
        return hit[1]
    directory = await read_directory(storage, org_id)
    if version is not None:  # read after the version, so never filed under a newer one
        per_org[org_id] = (version, directory)
    return directory


async def read_directory(storage: Storage, org_id: str) -> Directory:
    members = await storage.org_members(org_id)
    teams = {
        team.id: TeamInfo(
            id=team.id,
            name=team.name,
            active=frozenset(team.active),
            observers=frozenset(team.observers),
            has_inbox=team.has_inbox,
            reply_assigns_replier=team.reply_assigns_replier,
            inbound_reply_on_assigned=(
                "team_inbox" if team.inbound_reply_on_assigned == "team_inbox" else "assignee_inbox"
            ),
            mention_adds_observers=team.mention_adds_observers,
        )
        for team in await storage.teams(org_id)
    }
    records = await storage.labels(org_id)
    labels = {label.id: frozenset(label.auto_share) for label in records}
    stored = await storage.preferences(list(members))
    preferences = {uid: preferences_from(data) for uid, data in stored.items()}
    people = await storage.org_people(org_id)
    handles = member_handles((p.id, p.email, p.handle) for p in people)
    settings = await storage.org_settings(org_id)
    return Directory(
        org_id=org_id,
        members=members,
        teams=teams,
        labels=labels,
        restricted_labels=frozenset(r.id for r in records if r.visibility == "delegates"),
        preferences=preferences,
        handles=handles,
        account_owners={
            account.id: account.owner_id
            for account in await storage.accounts_of(org_id)
            if account.owner_id is not None
        },
        groups={
            name: frozenset(users) for name, users in (await storage.mention_groups(org_id)).items()
        },
        multi_team_delivery="single" if settings.multi_team_delivery == "single" else "duplicate",
    )


async def visible_labels(storage: Storage, org_id: str, user_id: str) -> list[LabelRecord]:
    """The organization labels `user_id` sees, applies and lists (label visibility)."""
    role = (await storage.org_members(org_id)).get(user_id)
    return [label for label in await storage.labels(org_id) if label.visible_to(user_id, role)]


def preferences_from(data: dict[str, object]) -> Preferences:
    known = {f.name for f in dataclasses.fields(Preferences)}
    return Preferences(**{k: v for k, v in data.items() if k in known})  # type: ignore[arg-type]
