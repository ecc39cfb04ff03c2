"""The members of an organization as its administrators manage them: who they are, their
role and @handle, joining and leaving. Every change that could leave an organization
without an owner locks the organization's row first, so two owners demoting each other at
once cannot both succeed."""

from __future__ import annotations

from dataclasses import dataclass

from server.errors import Conflict, NotFound
from server.storage.accounts import new_id, now_ms
from server.storage.base import Role
from server.storage.database import Database, Tx, UniqueViolation
from server.storage.directory_version import bump_directory

LAST_OWNER = "an organization keeps at least one owner: make someone else owner first"
_MEMBER_COLUMNS = "u.id, u.email, u.name, m.role, m.handle"


@dataclass(frozen=True)
class Member:
    id: str
    email: str
    name: str
    role: Role
    handle: str | None  # set by an administrator; None: the local part of the email


class MemberStore:
    db: Database

    async def org_people(self, org_id: str) -> list[Member]:
        async with self.db.transaction(readonly=True) as tx:
            rows = await tx.fetchall(
                f"SELECT {_MEMBER_COLUMNS} FROM memberships m JOIN users u ON u.id = m.user_id"
                " WHERE m.org_id = ? ORDER BY u.email",
                org_id,
            )
        return [Member(*row) for row in rows]

    async def add_member(
        self, org_id: str, email: str, name: str, password_hash: str | None, role: Role
    ) -> tuple[Member, bool]:
        """Add the user with `email` to the organization, creating them when the email is
        new (with `name` and `password_hash`). Returns the member and whether they were
        created. `Conflict` naming `email` when they already belong to it."""
        email = email.strip().lower()
        try:
            async with self.db.transaction() as tx:
                await bump_directory(tx, org_id)
                row = await tx.fetchone("SELECT id, name FROM users WHERE email = ?", email)
                created = row is None
                if row is None:
                    row = (new_id(), name)
                    await tx.execute(
                        "INSERT INTO users (id, email, name, password_hash, created_at)"
                        " VALUES (?, ?, ?, ?, ?)",
                        row[0],
                        email,
                        name,
                        password_hash,
                        now_ms(),
                    )
                await tx.execute(
                    "INSERT INTO memberships (org_id, user_id, role) VALUES (?, ?, ?)",
                    org_id,
                    row[0],
                    role,
                )
        except UniqueViolation:
            raise Conflict(f"{email} is already a member", field="email") from None
        return Member(str(row[0]), email, str(row[1]), role, None), created

    async def update_member(self, org_id: str, user_id: str, changes: dict[str, object]) -> None:
        """Set `role` and/or `handle` (None: back to the email's local part) in one
        transaction. `Conflict` when the last owner would stop being one, or the handle is
        another member's."""
        try:
            async with self.db.transaction() as tx:
                role = await self._locked_role(tx, org_id, user_id)
                await bump_directory(tx, org_id)
                if "role" in changes and changes["role"] != "owner":
                    await _keep_an_owner(tx, org_id, role, "role")
                for column in ("role", "handle"):
                    if column in changes:
                        await tx.execute(
                            f"UPDATE memberships SET {column} = ? WHERE org_id = ? AND user_id = ?",
                            changes[column],
                            org_id,
                            user_id,
                        )
        except UniqueViolation:
            raise Conflict("another member has that handle", field="handle") from None

    async def remove_member(self, org_id: str, user_id: str) -> list[str]:
        """Take the user out of the organization: its membership, its teams, mention
        groups, label auto-shares and account shares. Returns the teams they were in."""
        async with self.db.transaction() as tx:
            role = await self._locked_role(tx, org_id, user_id)
            await _keep_an_owner(tx, org_id, role, None)
            await bump_directory(tx, org_id)
            rows = await tx.fetchall(
                "SELECT m.team_id FROM team_members m JOIN teams t ON t.id = m.team_id"
                " WHERE t.org_id = ? AND m.user_id = ? ORDER BY m.team_id",
                org_id,
                user_id,
            )
            in_org = {
                "team_members": "team_id IN (SELECT id FROM teams WHERE org_id = ?)",
                "label_auto_share": "label_id IN (SELECT id FROM labels WHERE org_id = ?)",
                "account_access": "account_id IN (SELECT id FROM accounts WHERE org_id = ?)",
                "mention_group_members": "org_id = ?",
                "memberships": "org_id = ?",
            }
            for table, where in in_org.items():
                await tx.execute(
                    f"DELETE FROM {table} WHERE user_id = ? AND {where}", user_id, org_id
                )
        return [str(team_id) for (team_id,) in rows]

    async def assigned_conversations(self, org_id: str, user_id: str) -> list[str]:
        """The organization's conversations the user is assigned to (or has an open task in)."""
        async with self.db.transaction(readonly=True) as tx:
            rows = await tx.fetchall(
                "SELECT c.id FROM conversation_users cu JOIN conversations c"
                " ON c.id = cu.conversation_id WHERE c.org_id = ? AND cu.user_id = ?"
                " AND cu.assigned AND c.merged_into IS NULL ORDER BY c.id",
                org_id,
                user_id,
            )
        return [str(conv_id) for (conv_id,) in rows]

    async def _locked_role(self, tx: Tx, org_id: str, user_id: str) -> str:
        await tx.fetchone(
            f"SELECT id FROM organizations WHERE id = ?{self.db.lock_for_update}", org_id
        )
        row = await tx.fetchone(
            "SELECT role FROM memberships WHERE org_id = ? AND user_id = ?", org_id, user_id
        )
        if row is None:
            raise NotFound(f"no member {user_id} in this organization")
        return str(row[0])


async def _keep_an_owner(tx: Tx, org_id: str, role: str, field: str | None) -> None:
    """Refuse to take the owner role from the organization's last owner."""
    if role != "owner":
        return
    row = await tx.fetchone(
        "SELECT COUNT(*) FROM memberships WHERE org_id = ? AND role = 'owner'", org_id
    )
    if row is None or int(row[0]) <= 1:
        raise Conflict(LAST_OWNER, field=field)
