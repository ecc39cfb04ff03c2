"""Connected accounts and stored messages: the rows the ingestion path reads and writes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from server.errors import Conflict
from server.storage.accounts import new_id, now_ms
from server.storage.database import Database, UniqueViolation
from server.storage.directory_version import bump_directory

IN_CHUNK = 500


@dataclass(frozen=True)
class Account:
    id: str
    org_id: str
    address: str
    owner_id: str | None
    delivery: str  # "inbox" or "team_inbox"
    team_id: str | None
    shared_with: tuple[tuple[str, bool], ...]  # (user id, auto-archive)


@dataclass(frozen=True)
class StoredSmtp:
    """An account's SMTP server as stored: the password stays sealed (`server.sealing`)."""

    host: str
    port: int
    security: str
    username: str | None
    password_sealed: bytes | None


@dataclass(frozen=True)
class ThreadCandidate:
    """A conversation holding a stored copy of a message a new mail may thread onto."""

    conversation_id: str
    team: str | None  # the conversation's team now
    via_team: str | None  # the team whose team-inbox account the copy was delivered through
    kind: str = "self"  # the message is the one named ("self") or cites it ("ref")


class MailStore:
    db: Database

    async def set_account_smtp(self, account_id: str, smtp: StoredSmtp) -> None:
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO account_smtp (account_id, host, port, security, username,"
                " password_sealed, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (account_id) DO UPDATE SET host = excluded.host,"
                " port = excluded.port, security = excluded.security,"
                " username = excluded.username, password_sealed = excluded.password_sealed,"
                " updated_at = excluded.updated_at",
                account_id,
                smtp.host,
                smtp.port,
                smtp.security,
                smtp.username,
                smtp.password_sealed,
                now_ms(),
            )

    async def account_smtp(self, account_id: str) -> StoredSmtp | None:
        async with self.db.transaction(readonly=True) as tx:
            row = await tx.fetchone(
                "SELECT host, port, security, username, password_sealed FROM account_smtp"
                " WHERE account_id = ?",
                account_id,
            )
        if row is None:
            return None
        sealed = bytes(row[4]) if row[4] is not None else None
        return StoredSmtp(str(row[0]), int(row[1]), str(row[2]), row[3], sealed)

    async def create_account(
        self,
        org_id: str,
        address: str,
        owner_id: str | None,
        delivery: str,
        team_id: str | None,
        shared_with: Sequence[tuple[str, bool]],
    ) -> Account:
        account = Account(
            new_id(), org_id, address.strip().lower(), owner_id, delivery, team_id,
            tuple(shared_with),
        )  # fmt: skip
        try:
            async with self.db.transaction() as tx:
                await bump_directory(tx, org_id)
                await tx.execute(
                    "INSERT INTO accounts (id, org_id, address, owner_id, delivery, team_id,"
                    " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    account.id,
                    org_id,
                    account.address,
                    owner_id,
                    delivery,
                    team_id,
                    now_ms(),
                )
                if shared_with:
                    await tx.executemany(
                        "INSERT INTO account_access (account_id, user_id, auto_archive)"
                        " VALUES (?, ?, ?)",
                        [(account.id, user, archive) for user, archive in shared_with],
                    )
        except UniqueViolation:
            raise Conflict(f"an account {account.address} exists", field="address") from None
        return account

    async def accounts_by_address(self, address: str) -> list[Account]:
        async with self.db.transaction(readonly=True) as tx:
            rows = await tx.fetchall(
                "SELECT id, org_id, address, owner_id, delivery, team_id FROM accounts"
                " WHERE address = ? ORDER BY created_at",
                address.strip().lower(),
            )
            accounts = []
            for row in rows:
                shares = await tx.fetchall(
                    "SELECT user_id, auto_archive FROM account_access WHERE account_id = ?"
                    " ORDER BY user_id",
                    row[0],
                )
                accounts.append(
                    Account(
                        str(row[0]),
                        str(row[1]),
                        str(row[2]),
                        row[3],
                        str(row[4]),
                        row[5],
                        tuple((str(u), bool(a)) for u, a in shares),
                    )
                )
        return accounts

    async def accounts_of(self, org_id: str) -> list[Account]:
        async with self.db.transaction(readonly=True) as tx:
            rows = await tx.fetchall(
                "SELECT address FROM accounts WHERE org_id = ? ORDER BY address", org_id
            )
        found = []
        for (address,) in rows:
            found += [a for a in await self.accounts_by_address(str(address)) if a.org_id == org_id]
        return found

    async def conversations_for_message_ids(
        self, org_id: str, message_ids: Sequence[str]
    ) -> dict[str, str]:
        """Message-ID -> the conversation that holds it, for ids already stored."""
        found: dict[str, str] = {}
        async with self.db.transaction(readonly=True) as tx:
            for start in range(0, len(message_ids), IN_CHUNK):
                chunk = list(message_ids[start : start + IN_CHUNK])
                rows = await tx.fetchall(
                    "SELECT m.rfc_message_id, m.conversation_id FROM messages m"
                    " JOIN conversations c ON c.id = m.conversation_id"
                    f" WHERE m.org_id = ? AND m.rfc_message_id IN ({', '.join('?' * len(chunk))})"
                    " AND c.merged_into IS NULL",
                    org_id,
                    *chunk,
                )
                found.update((str(mid), str(cid)) for mid, cid in rows)
        return found

    async def thread_candidates(
        self, org_id: str, message_ids: Sequence[str]
    ) -> dict[str, list[ThreadCandidate]]:
        """Message-ID -> every conversation (not merged away) holding a message that is it
        (kind "self") or cites it (kind "ref"), oldest message first."""
        found: dict[str, list[ThreadCandidate]] = {}
        async with self.db.transaction(readonly=True) as tx:
            for start in range(0, len(message_ids), IN_CHUNK):
                chunk = list(message_ids[start : start + IN_CHUNK])
                rows = await tx.fetchall(
                    "SELECT l.link_id, m.conversation_id, c.team_id,"
                    " CASE WHEN a.delivery = 'team_inbox' THEN a.team_id END, l.kind"
                    " FROM message_links l JOIN messages m ON m.id = l.message_id"
                    " JOIN conversations c ON c.id = m.conversation_id"
                    " LEFT JOIN accounts a ON a.id = m.account_id"
                    f" WHERE l.org_id = ? AND l.link_id IN ({', '.join('?' * len(chunk))})"
                    " AND c.merged_into IS NULL ORDER BY m.created_at, m.id",
                    org_id,
                    *chunk,
                )
                for link, cid, team, via, kind in rows:
                    candidate = ThreadCandidate(str(cid), team, via, str(kind))
                    found.setdefault(str(link), []).append(candidate)
        return found

    async def stored_copies(
        self, org_id: str, rfc_message_id: str
    ) -> dict[str, tuple[str, str | None]]:
        """De-duplication key -> (conversation, content fingerprint), for every stored copy
        of one Message-ID."""
        async with self.db.transaction(readonly=True) as tx:
            rows = await tx.fetchall(
                "SELECT dedupe_key, conversation_id, content_sha256 FROM messages"
                " WHERE org_id = ? AND rfc_message_id = ?",
                org_id,
                rfc_message_id,
            )
        return {str(key): (str(conv), content) for key, conv, content in rows}

    async def message_seen(self, org_id: str, dedupe_key: str) -> bool:
        async with self.db.transaction(readonly=True) as tx:
            row = await tx.fetchone(
                "SELECT 1 FROM messages WHERE org_id = ? AND dedupe_key = ?", org_id, dedupe_key
            )
        return row is not None

    async def message_count(self, conversation_id: str) -> int:
        async with self.db.transaction(readonly=True) as tx:
            row = await tx.fetchone(
                "SELECT COUNT(*) FROM messages WHERE conversation_id = ?", conversation_id
            )
        return int(row[0]) if row else 0
