"""An organization's directory version: bumped in the same transaction as every write to
what `server.actions.directory.load_directory` reads (memberships and handles, teams and
their members, labels and their auto-shares, preferences, organization settings, accounts,
mention groups), so a process may cache the directory and check it with one read."""

from __future__ import annotations

from server.storage.database import Tx


async def bump_directory(tx: Tx, org_id: str) -> None:
    """Say, in the writing transaction, that the organization's directory changed (its row
    is locked from here to the commit, as the limit checks lock it)."""
    await tx.execute(
        "UPDATE organizations SET directory_version = directory_version + 1 WHERE id = ?", org_id
    )


async def bump_directories_of(tx: Tx, user_id: str) -> None:
    """The same for every organization `user_id` belongs to (their preferences changed)."""
    await tx.execute(
        "UPDATE organizations SET directory_version = directory_version + 1"
        " WHERE id IN (SELECT org_id FROM memberships WHERE user_id = ?)",
        user_id,
    )


async def bump_directory_of_team(tx: Tx, team_id: str) -> None:
    """The same for the organization team `team_id` belongs to."""
    await tx.execute(
        "UPDATE organizations SET directory_version = directory_version + 1"
        " WHERE id = (SELECT org_id FROM teams WHERE id = ?)",
        team_id,
    )
