"""Organizations, users, memberships, API tokens and sessions, in SQL both backends run."""

from __future__ import annotations

import time
import uuid
from typing import cast

from server.errors import Conflict
from server.storage.base import Membership, Organization, Role, User
from server.storage.database import Database, Row, UniqueViolation
from server.storage.directory_version import bump_directory

USER_COLUMNS = "u.id, u.email, u.name, u.password_hash, u.created_at"
TOKEN_USE_RESOLUTION_MS = 60_000


def now_ms() -> int:
    return int(time.time() * 1000)


def new_id() -> str:
    return str(uuid.uuid4())


def _user(row: Row | None) -> User | None:
    return User(*row) if row is not None else None


def _org(row: Row | None) -> Organization | None:
    return Organization(*row) if row is not None else None


class AccountStore:
    db: Database

    async def create_organization(self, name: str) -> Organization:
        org = Organization(new_id(), name.strip(), now_ms())
        try:
            async with self.db.transaction() as tx:
                await tx.execute(
                    "INSERT INTO organizations (id, name, created_at) VALUES (?, ?, ?)",
                    org.id,
                    org.name,
                    org.created_at,
                )
        except UniqueViolation:
            raise Conflict(f"an organization named {org.name!r} exists", field="name") from None
        return org

    async def get_organization(self, org_id: str) -> Organization | None:
        return await self._one_org(
            "SELECT id, name, created_at FROM organizations WHERE id = ?", org_id
        )

    async def get_organization_by_name(self, name: str) -> Organization | None:
        return await self._one_org(
            "SELECT id, name, created_at FROM organizations WHERE name = ?", name.strip()
        )

    async def list_organizations(self) -> list[Organization]:
        async with self.db.transaction(readonly=True) as tx:
            rows = await tx.fetchall("SELECT id, name, created_at FROM organizations ORDER BY name")
        return [Organization(*row) for row in rows]

    async def _one_org(self, sql: str, value: str) -> Organization | None:
        async with self.db.transaction(readonly=True) as tx:
            return _org(await tx.fetchone(sql, value))

    async def create_user(self, email: str, name: str, password_hash: str | None) -> User:
        user = User(new_id(), email.strip().lower(), name, password_hash, now_ms())
        try:
            async with self.db.transaction() as tx:
                await tx.execute(
                    "INSERT INTO users (id, email, name, password_hash, created_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    user.id,
                    user.email,
                    user.name,
                    user.password_hash,
                    user.created_at,
                )
        except UniqueViolation:
            raise Conflict(f"a user with email {user.email} exists", field="email") from None
        return user

    async def set_password_hash(self, user_id: str, password_hash: str) -> None:
        async with self.db.transaction() as tx:
            await tx.execute(
                "UPDATE users SET password_hash = ? WHERE id = ?", password_hash, user_id
            )

    async def get_user(self, user_id: str) -> User | None:
        async with self.db.transaction(readonly=True) as tx:
            return _user(
                await tx.fetchone(f"SELECT {USER_COLUMNS} FROM users u WHERE id = ?", user_id)
            )

    async def get_user_by_email(self, email: str) -> User | None:
        async with self.db.transaction(readonly=True) as tx:
            row = await tx.fetchone(
                f"SELECT {USER_COLUMNS} FROM users u WHERE email = ?", email.strip().lower()
            )
        return _user(row)

    async def count_users(self) -> int:
        async with self.db.transaction(readonly=True) as tx:
            row = await tx.fetchone("SELECT COUNT(*) FROM users")
        return int(row[0]) if row else 0

    async def add_membership(self, org_id: str, user_id: str, role: Role) -> Membership:
        try:
            async with self.db.transaction() as tx:
                await bump_directory(tx, org_id)
                await tx.execute(
                    "INSERT INTO memberships (org_id, user_id, role) VALUES (?, ?, ?)",
                    org_id,
                    user_id,
                    role,
                )
        except UniqueViolation:
            raise Conflict("the user is already a member", field="user") from None
        return Membership(org_id, user_id, role)

    async def memberships_for_user(self, user_id: str) -> list[Membership]:
        async with self.db.transaction(readonly=True) as tx:
            rows = await tx.fetchall(
                "SELECT m.org_id, m.user_id, m.role FROM memberships m"
                " JOIN organizations o ON o.id = m.org_id WHERE m.user_id = ? ORDER BY o.name",
                user_id,
            )
        return [Membership(row[0], row[1], cast(Role, row[2])) for row in rows]

    async def create_api_token(self, user_id: str, token_hash: str, label: str) -> str:
        token_id = new_id()
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO api_tokens (id, user_id, token_hash, label, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                token_id,
                user_id,
                token_hash,
                label,
                now_ms(),
            )
        return token_id

    async def user_for_token_hash(self, token_hash: str) -> User | None:
        async with self.db.transaction(readonly=True) as tx:
            row = await tx.fetchone(
                f"SELECT {USER_COLUMNS}, t.id, t.last_used_at FROM api_tokens t"
                " JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?",
                token_hash,
            )
        if row is None:
            return None
        now = now_ms()
        if row[6] is None or row[6] < now - TOKEN_USE_RESOLUTION_MS:
            # at most one write a minute per token: a bearer request must not cost a sync
            async with self.db.transaction() as tx:
                await tx.execute("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", now, row[5])
        return User(*row[:5])

    async def create_session(self, user_id: str, session_hash: str, expires_at: int) -> None:
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO sessions (session_hash, user_id, created_at, expires_at)"
                " VALUES (?, ?, ?, ?)",
                session_hash,
                user_id,
                now_ms(),
                expires_at,
            )

    async def user_for_session_hash(self, session_hash: str, now: int) -> User | None:
        async with self.db.transaction(readonly=True) as tx:
            row = await tx.fetchone(
                f"SELECT {USER_COLUMNS} FROM sessions s JOIN users u ON u.id = s.user_id"
                " WHERE s.session_hash = ? AND s.expires_at > ?",
                session_hash,
                now,
            )
        return _user(row)

    async def delete_session(self, session_hash: str) -> None:
        async with self.db.transaction() as tx:
            await tx.execute("DELETE FROM sessions WHERE session_hash = ?", session_hash)
