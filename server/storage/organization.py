"""Teams, labels and the organization directory the state machine reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import orjson

from server.errors import Conflict, InvalidInput, Unprocessable
from server.storage.accounts import new_id, now_ms
from server.storage.database import Database, Tx, UniqueViolation
from server.storage.directory_version import (
    bump_directories_of,
    bump_directory,
    bump_directory_of_team,
)

MAX_TEAMS = 1_000  # per organization (the product's limit)
MAX_LABELS = 10_000  # organization labels per organization


@dataclass(frozen=True)
class TeamRecord:
    id: str
    org_id: str
    name: str
    has_inbox: bool
    reply_assigns_replier: bool
    inbound_reply_on_assigned: str
    mention_adds_observers: bool
    active: tuple[str, ...]
    observers: tuple[str, ...]
    color: str | None = None
    emoji: str | None = None


@dataclass(frozen=True)
class LabelRecord:
    id: str
    org_id: str
    path: str
    auto_share: tuple[str, ...]
    color: str | None = None
    visibility: str = "organization"  # or "delegates": owners, admins, auto-shared users

    def visible_to(self, user: str, role: str | None) -> bool:
        return (
            self.visibility == "organization"
            or role in ("owner", "admin")
            or (user in self.auto_share)
        )


LABEL_VISIBILITY = ("organization", "delegates")
MULTI_TEAM_DELIVERY = ("duplicate", "single")


@dataclass(frozen=True)
class OrgSettings:
    """Organization-wide options. `multi_team_delivery`: mail addressed to the accounts of
    several teams becomes one conversation per team inbox ("duplicate") or one in the
    alphabetically-first team's inbox ("single")."""

    multi_team_delivery: str = "duplicate"


class OrganizationStore:
    db: Database

    async def org_settings(self, org_id: str) -> OrgSettings:
        async with self.db.transaction(readonly=True) as tx:
            row = await tx.fetchone(
                "SELECT multi_team_delivery FROM organizations WHERE id = ?", org_id
            )
        return OrgSettings(str(row[0])) if row is not None else OrgSettings()

    async def update_organization(self, org_id: str, changes: dict[str, object]) -> None:
        """Set `name` and/or `multi_team_delivery` (checked by the caller) in one
        transaction; `Conflict` when another organization has that name."""
        columns = [c for c in ("name", "multi_team_delivery") if c in changes]
        try:
            async with self.db.transaction() as tx:
                await bump_directory(tx, org_id)
                for column in columns:
                    await tx.execute(
                        f"UPDATE organizations SET {column} = ? WHERE id = ?",
                        changes[column],
                        org_id,
                    )
        except UniqueViolation:
            raise Conflict(
                f"an organization named {changes['name']!r} exists", field="name"
            ) from None

    async def directory_version(self, org_id: str) -> int | None:
        async with self.db.transaction(readonly=True) as tx:
            row = await tx.fetchone(
                "SELECT directory_version FROM organizations WHERE id = ?", org_id
            )
        return int(row[0]) if row is not None else None

    async def org_members(self, org_id: str) -> dict[str, str]:
        async with self.db.transaction(readonly=True) as tx:
            rows = await tx.fetchall(
                "SELECT user_id, role FROM memberships WHERE org_id = ?", org_id
            )
        return {str(user): str(role) for user, role in rows}

    async def member_emails(self, org_id: str) -> dict[str, str]:
        async with self.db.transaction(readonly=True) as tx:
            rows = await tx.fetchall(
                "SELECT u.id, u.email FROM memberships m JOIN users u ON u.id = m.user_id"
                " WHERE m.org_id = ?",
                org_id,
            )
        return {str(uid): str(email) for uid, email in rows}

    async def _below_limit(self, tx: Tx, org_id: str, table: str, limit: int) -> None:
        """Refuse the organization's `limit`+1-th row of `table`; the organization row is
        locked first, so two concurrent creations cannot both take the last place."""
        await tx.fetchone(
            f"SELECT 1 FROM organizations WHERE id = ?{self.db.lock_for_update}", org_id
        )
        row = await tx.fetchone(f"SELECT COUNT(*) FROM {table} WHERE org_id = ?", org_id)
        if row is not None and int(row[0]) >= limit:
            raise Unprocessable(f"an organization holds at most {limit} {table}")

    async def create_team(
        self,
        org_id: str,
        name: str,
        active: Sequence[str],
        observers: Sequence[str],
        has_inbox: bool,
    ) -> TeamRecord:
        team_id = new_id()
        try:
            async with self.db.transaction() as tx:
                await self._below_limit(tx, org_id, "teams", MAX_TEAMS)
                await bump_directory(tx, org_id)
                await tx.execute(
                    "INSERT INTO teams (id, org_id, name, has_inbox, created_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    team_id,
                    org_id,
                    name,
                    has_inbox,
                    now_ms(),
                )
                members = [(team_id, u, "active") for u in active]
                members += [(team_id, u, "observer") for u in observers if u not in active]
                if members:
                    await tx.executemany(
                        "INSERT INTO team_members (team_id, user_id, kind) VALUES (?, ?, ?)",
                        members,
                    )
        except UniqueViolation:
            raise Conflict(f"a team named {name!r} exists", field="name") from None
        teams = await self.teams(org_id)
        return next(team for team in teams if team.id == team_id)

    async def teams(self, org_id: str) -> list[TeamRecord]:
        async with self.db.transaction(readonly=True) as tx:
            rows = await tx.fetchall(
                "SELECT id, org_id, name, has_inbox, reply_assigns_replier,"
                " inbound_reply_on_assigned, mention_adds_observers, color, emoji FROM teams"
                " WHERE org_id = ? ORDER BY name",
                org_id,
            )
            members = await tx.fetchall(
                "SELECT m.team_id, m.user_id, m.kind FROM team_members m"
                " JOIN teams t ON t.id = m.team_id WHERE t.org_id = ?",
                org_id,
            )
        by_team: dict[str, dict[str, list[str]]] = {}
        for team_id, user_id, kind in members:
            by_team.setdefault(str(team_id), {}).setdefault(str(kind), []).append(str(user_id))
        return [
            TeamRecord(
                id=str(r[0]),
                org_id=str(r[1]),
                name=str(r[2]),
                has_inbox=bool(r[3]),
                reply_assigns_replier=bool(r[4]),
                inbound_reply_on_assigned=str(r[5]),
                mention_adds_observers=bool(r[6]),
                active=tuple(sorted(by_team.get(str(r[0]), {}).get("active", []))),
                observers=tuple(sorted(by_team.get(str(r[0]), {}).get("observer", []))),
                color=r[7],
                emoji=r[8],
            )
            for r in rows
        ]

    async def update_team(self, team_id: str, changes: dict[str, object]) -> None:
        """Set team options and, when given, replace its active members and observers."""
        options = {
            k: v
            for k, v in changes.items()
            if k
            in (
                "name",
                "has_inbox",
                "reply_assigns_replier",
                "inbound_reply_on_assigned",
                "mention_adds_observers",
                "color",
                "emoji",
            )
        }
        async with self.db.transaction() as tx:
            await bump_directory_of_team(tx, team_id)
            for column, value in options.items():
                await tx.execute(f"UPDATE teams SET {column} = ? WHERE id = ?", value, team_id)
            if "active" in changes or "observers" in changes:
                active = list(changes.get("active", ()))  # type: ignore[call-overload]
                observers = list(changes.get("observers", ()))  # type: ignore[call-overload]
                await tx.execute("DELETE FROM team_members WHERE team_id = ?", team_id)
                rows = [(team_id, u, "active") for u in active]
                rows += [(team_id, u, "observer") for u in observers if u not in active]
                if rows:
                    await tx.executemany(
                        "INSERT INTO team_members (team_id, user_id, kind) VALUES (?, ?, ?)", rows
                    )

    async def preferences(self, user_ids: Sequence[str]) -> dict[str, dict[str, object]]:
        found: dict[str, dict[str, object]] = {}
        async with self.db.transaction(readonly=True) as tx:
            for start in range(0, len(user_ids), 500):
                chunk = list(user_ids[start : start + 500])
                rows = await tx.fetchall(
                    "SELECT user_id, data FROM user_preferences WHERE user_id IN"
                    f" ({', '.join('?' * len(chunk))})",
                    *chunk,
                )
                found.update((str(uid), orjson.loads(data)) for uid, data in rows)
        return found

    async def save_preferences(self, user_id: str, data: dict[str, object]) -> None:
        async with self.db.transaction() as tx:
            await bump_directories_of(tx, user_id)
            await tx.execute(
                "INSERT INTO user_preferences (user_id, data) VALUES (?, ?)"
                " ON CONFLICT (user_id) DO UPDATE SET data = excluded.data",
                user_id,
                orjson.dumps(data).decode(),
            )

    async def set_mention_group(self, org_id: str, name: str, members: Sequence[str]) -> None:
        """Replace the members of mention group `name` (an empty list removes it)."""
        async with self.db.transaction() as tx:
            await bump_directory(tx, org_id)
            await tx.execute(
                "DELETE FROM mention_group_members WHERE org_id = ? AND name = ?", org_id, name
            )
            if members:
                await tx.executemany(
                    "INSERT INTO mention_group_members (org_id, name, user_id) VALUES (?, ?, ?)",
                    [(org_id, name, user) for user in dict.fromkeys(members)],
                )

    async def mention_groups(self, org_id: str) -> dict[str, tuple[str, ...]]:
        async with self.db.transaction(readonly=True) as tx:
            rows = await tx.fetchall(
                "SELECT name, user_id FROM mention_group_members WHERE org_id = ?"
                " ORDER BY name, user_id",
                org_id,
            )
        groups: dict[str, list[str]] = {}
        for name, user in rows:
            groups.setdefault(str(name), []).append(str(user))
        return {name: tuple(users) for name, users in groups.items()}

    async def create_label(
        self,
        org_id: str,
        path: str,
        auto_share: Sequence[str],
        color: str | None = None,
        visibility: str = "organization",
    ) -> LabelRecord:
        if visibility not in LABEL_VISIBILITY:
            raise InvalidInput(
                f"visibility is one of {', '.join(LABEL_VISIBILITY)}", field="visibility"
            )
        label = LabelRecord(new_id(), org_id, path.strip("/"), tuple(auto_share), color, visibility)
        try:
            async with self.db.transaction() as tx:
                await self._below_limit(tx, org_id, "labels", MAX_LABELS)
                await bump_directory(tx, org_id)
                await tx.execute(
                    "INSERT INTO labels (id, org_id, path, color, visibility, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    label.id,
                    org_id,
                    label.path,
                    color,
                    visibility,
                    now_ms(),
                )
                if auto_share:
                    await tx.executemany(
                        "INSERT INTO label_auto_share (label_id, user_id) VALUES (?, ?)",
                        [(label.id, user) for user in auto_share],
                    )
        except UniqueViolation:
            raise Conflict(f"a label {label.path!r} exists", field="path") from None
        return label

    async def labels(self, org_id: str) -> list[LabelRecord]:
        async with self.db.transaction(readonly=True) as tx:
            rows = await tx.fetchall(
                "SELECT id, org_id, path, color, visibility FROM labels WHERE org_id = ?"
                " ORDER BY path",
                org_id,
            )
            shares = await tx.fetchall(
                "SELECT s.label_id, s.user_id FROM label_auto_share s"
                " JOIN labels l ON l.id = s.label_id WHERE l.org_id = ?",
                org_id,
            )
        auto: dict[str, list[str]] = {}
        for label_id, user_id in shares:
            auto.setdefault(str(label_id), []).append(str(user_id))
        return [
            LabelRecord(str(i), str(o), str(p), tuple(sorted(auto.get(str(i), []))), c, str(v))
            for i, o, p, c, v in rows
        ]

    async def update_labels(self, org_id: str, changes: dict[str, dict[str, object]]) -> None:
        """In one transaction, per label id: a new `path`, `color`, `visibility` and
        `auto_share` users."""
        try:
            async with self.db.transaction() as tx:
                await bump_directory(tx, org_id)
                for label_id, change in changes.items():
                    for column in ("path", "color", "visibility"):
                        if column in change:
                            await tx.execute(
                                f"UPDATE labels SET {column} = ? WHERE id = ? AND org_id = ?",
                                change[column],
                                label_id,
                                org_id,
                            )
                    if "auto_share" in change:
                        users = list(change["auto_share"])  # type: ignore[call-overload]
                        await tx.execute(
                            "DELETE FROM label_auto_share WHERE label_id = ?", label_id
                        )
                        if users:
                            await tx.executemany(
                                "INSERT INTO label_auto_share (label_id, user_id) VALUES (?, ?)",
                                [(label_id, user) for user in users],
                            )
        except UniqueViolation:
            raise Conflict("two labels would have the same name", field="name") from None
