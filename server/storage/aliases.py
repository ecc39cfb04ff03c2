"""Aliases, their shares, each user's settings on them, and each user's default sender.

An account's default alias is the account itself (id and address); it has no row, so
`aliases_of` and `alias` read it from `accounts`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from server.errors import Unprocessable
from server.identity.senders import SenderPreferences
from server.storage.accounts import new_id, now_ms
from server.storage.database import Database, Row, Tx

MAX_PER_ACCOUNT = 100  # extra aliases on one account


@dataclass(frozen=True)
class AliasRow:
    id: str
    org_id: str
    account_id: str
    address: str
    description: str
    is_default: bool
    created_at: int
    shared_with: tuple[str, ...] = ()


@dataclass(frozen=True)
class AliasSettings:
    """One user's own settings on one alias (AL-3, AL-6, SG-1)."""

    name: str = ""
    description: str = ""
    never_auto_select: bool = False
    signature_id: str | None = None


_DEFAULTS = "SELECT id, org_id, id, address, '', created_at FROM accounts"
_EXTRAS = "SELECT id, org_id, account_id, address, description, created_at FROM aliases"


def _row(row: Row, is_default: bool, shares: dict[str, list[str]]) -> AliasRow:
    alias_id = str(row[0])
    return AliasRow(
        alias_id, str(row[1]), str(row[2]), str(row[3]), str(row[4]), is_default, int(row[5]),
        tuple(sorted(shares.get(alias_id, []))),
    )  # fmt: skip


async def _shares(tx: Tx, where: str, value: str) -> dict[str, list[str]]:
    shares: dict[str, list[str]] = {}
    for alias_id, user_id in await tx.fetchall(
        f"SELECT s.alias_id, s.user_id FROM alias_shares s JOIN accounts a"
        f" ON a.id = s.account_id WHERE {where} = ?",
        value,
    ):
        shares.setdefault(str(alias_id), []).append(str(user_id))
    return shares


class AliasStore:
    db: Database

    async def aliases_of(self, org_id: str) -> list[AliasRow]:
        """Every alias of the organization, defaults included, in creation order (an
        account's default before the aliases added to it)."""
        async with self.db.transaction(readonly=True) as tx:
            shares = await _shares(tx, "a.org_id", org_id)
            defaults = await tx.fetchall(f"{_DEFAULTS} WHERE org_id = ?", org_id)
            extras = await tx.fetchall(f"{_EXTRAS} WHERE org_id = ?", org_id)
        found = [_row(r, True, shares) for r in defaults] + [_row(r, False, shares) for r in extras]
        return sorted(found, key=lambda a: (a.created_at, not a.is_default, a.id))

    async def alias(self, alias_id: str) -> AliasRow | None:
        async with self.db.transaction(readonly=True) as tx:
            row = await tx.fetchone(f"{_EXTRAS} WHERE id = ?", alias_id)
            is_default = row is None
            if row is None:
                row = await tx.fetchone(f"{_DEFAULTS} WHERE id = ?", alias_id)
            if row is None:
                return None
            shares = await _shares(tx, "s.alias_id", alias_id)
        return _row(row, is_default, shares)

    async def create_alias(
        self, account_id: str, address: str, description: str, created_by: str
    ) -> AliasRow:
        async with self.db.transaction() as tx:
            account = await tx.fetchone(
                f"SELECT org_id FROM accounts WHERE id = ?{self.db.lock_for_update}", account_id
            )
            if account is None:
                raise Unprocessable("the account is gone", field="account")
            count = await tx.fetchone(
                "SELECT COUNT(*) FROM aliases WHERE account_id = ?", account_id
            )
            if count is not None and int(count[0]) >= MAX_PER_ACCOUNT:
                raise Unprocessable(
                    f"an account has at most {MAX_PER_ACCOUNT} aliases", field="address"
                )
            alias = AliasRow(
                new_id(), str(account[0]), account_id, address.strip().lower(), description,
                False, now_ms(),
            )  # fmt: skip
            await tx.execute(
                "INSERT INTO aliases (id, org_id, account_id, address, description, created_by,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                alias.id, alias.org_id, account_id, alias.address, description, created_by,
                alias.created_at,
            )  # fmt: skip
        return alias

    async def delete_alias(self, alias_id: str) -> None:
        """An extra alias, with its shares and everyone's settings on it."""
        async with self.db.transaction() as tx:
            for table in ("alias_shares", "alias_user_settings"):
                await tx.execute(f"DELETE FROM {table} WHERE alias_id = ?", alias_id)
            await tx.execute("DELETE FROM aliases WHERE id = ?", alias_id)

    async def set_alias_shares(
        self, alias_id: str, account_id: str, user_ids: Sequence[str]
    ) -> None:
        async with self.db.transaction() as tx:
            await tx.execute("DELETE FROM alias_shares WHERE alias_id = ?", alias_id)
            if user_ids:
                await tx.executemany(
                    "INSERT INTO alias_shares (alias_id, account_id, user_id) VALUES (?, ?, ?)",
                    [(alias_id, account_id, user) for user in dict.fromkeys(user_ids)],
                )

    async def alias_settings(self, org_id: str, user_id: str) -> dict[str, AliasSettings]:
        """Alias id -> `user_id`'s settings on it, for the aliases they set anything on."""
        async with self.db.transaction(readonly=True) as tx:
            rows = await tx.fetchall(
                "SELECT s.alias_id, s.name, s.description, s.never_auto_select, s.signature_id"
                " FROM alias_user_settings s JOIN accounts a ON a.id = s.account_id"
                " WHERE a.org_id = ? AND s.user_id = ?",
                org_id,
                user_id,
            )
        return {str(r[0]): AliasSettings(str(r[1]), str(r[2]), bool(r[3]), r[4]) for r in rows}

    async def save_alias_settings(
        self, alias: AliasRow, user_id: str, settings: AliasSettings
    ) -> None:
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO alias_user_settings (alias_id, user_id, account_id, name,"
                " description, never_auto_select, signature_id, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (alias_id, user_id) DO UPDATE"
                " SET name = excluded.name, description = excluded.description,"
                " never_auto_select = excluded.never_auto_select,"
                " signature_id = excluded.signature_id, updated_at = excluded.updated_at",
                alias.id, user_id, alias.account_id, settings.name, settings.description,
                settings.never_auto_select, settings.signature_id, now_ms(),
            )  # fmt: skip

    async def sender_preferences(self, org_id: str, user_id: str) -> SenderPreferences:
        async with self.db.transaction(readonly=True) as tx:
            row = await tx.fetchone(
                "SELECT default_alias_id, always_reply_from_default FROM sender_preferences"
                " WHERE org_id = ? AND user_id = ?",
                org_id,
                user_id,
            )
        return SenderPreferences(row[0], bool(row[1])) if row is not None else SenderPreferences()

    async def save_sender_preferences(
        self, org_id: str, user_id: str, preferences: SenderPreferences
    ) -> None:
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO sender_preferences (org_id, user_id, default_alias_id,"
                " always_reply_from_default, updated_at) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (org_id, user_id) DO UPDATE"
                " SET default_alias_id = excluded.default_alias_id,"
                " always_reply_from_default = excluded.always_reply_from_default,"
                " updated_at = excluded.updated_at",
                org_id, user_id, preferences.default_alias_id,
                preferences.always_reply_from_default, now_ms(),
            )  # fmt: skip

    async def message_raw(self, message_id: str) -> bytes | None:
        """A stored message's bytes (the From of a reply reads who it was sent to)."""
        async with self.db.transaction(readonly=True) as tx:
            row = await tx.fetchone("SELECT raw FROM messages WHERE id = ?", message_id)
        return bytes(row[0]) if row is not None else None
