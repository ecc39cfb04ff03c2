"""The ingestion path for received mail: the same for `tandem import`, the HTTP import
endpoint and (next) the IMAP worker.

For each raw message: parse it (a message that is not an email is rejected, counted and
named, never blocking the rest), skip it if the organization already has it (one mail
received by several accounts is stored once), thread it by Message-ID, In-Reply-To and
References (a full conversation starts a new one), and deliver it through the state
machine in one transaction with its message row. Mail from the account's own address is what the
account sent (an archive's Sent folder): it joins its thread as history and moves nobody.

A mail received through a team-inbox account and addressed to other teams' team-inbox
accounts too (row 4) is, in the organization's "duplicate" mode, delivered once per team:
each copy threads into that team's own conversation (or starts one), has its own message
row and de-duplication key, and notes the other copies. In "single" mode it is stored
once and the state machine picks the team (`server.actions.mail_routing`).
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from server.actions import sending
from server.actions.directory import load_directory
from server.actions.mail_routing import (
    addressed_teams,
    copy_key,
    is_key_of,
    pick_conversation,
)
from server.conversations.machine_mail import receive_message, record_sent
from server.conversations.model import (
    MAX_MESSAGES,
    Conversation,
    Delivery,
    Directory,
    MessageSummary,
)
from server.services import Services
from server.storage.base import Storage
from server.storage.conversations import ConversationTx, StoredMessage
from server.storage.mail import Account, ThreadCandidate
from sync.mime import MalformedMessage, ParsedMessage, parse_message
from sync.threading import apply_message_cap, dedupe_key, resolve_thread, thread_keys


@dataclass
class ImportResult:
    imported: int = 0
    duplicates: int = 0
    rejected: int = 0
    conversations: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "imported": self.imported,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "conversations": self.conversations,
            "errors": self.errors,
        }


def sent_by_account(msg: ParsedMessage, account: Account) -> bool:
    """Mail from the account's own address is mail it sent (a Sent folder in an archive,
    or a copy to itself): history, not an arrival."""
    return msg.from_address.strip().lower() == account.address.strip().lower()


def delivery_for(account: Account, msg: ParsedMessage) -> Delivery:
    shared = {user for user, _ in account.shared_with}
    if account.delivery == "team_inbox" and account.team_id:
        return Delivery(team=account.team_id, owner=account.owner_id)
    if not shared:
        return Delivery(owner=account.owner_id)
    archived = {user for user, auto_archive in account.shared_with if auto_archive}
    inbox = (shared - archived) | ({account.owner_id} if account.owner_id else set())
    return Delivery(inbox_users=frozenset(inbox), archived_users=frozenset(archived))


@dataclass(frozen=True)
class _Copy:
    """One conversation's copy of a received mail: its key, the account it came through,
    how it is delivered, and the conversation it joins (else `new_id` is started)."""

    key: str
    account: Account
    delivery: Delivery
    joins: str | None
    new_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def conversation_id(self) -> str:
        return self.joins or self.new_id


async def ingest(services: Services, account: Account, raws: Iterable[bytes]) -> ImportResult:
    result = ImportResult()
    directory = await load_directory(services.storage, account.org_id)
    accounts = await services.storage.accounts_of(account.org_id)
    for index, raw in enumerate(raws, 1):
        try:
            msg = parse_message(raw)
        except MalformedMessage as exc:
            result.rejected += 1
            result.errors.append(f"message {index}: {exc}")
            continue
        copies = await _plan(services.storage, account, accounts, directory, msg)
        delivered = [await _deliver(services, directory, msg, raw, copy) for copy in copies]
        conv_ids = [conv_id for conv_id in delivered if conv_id is not None]
        if not conv_ids:
            result.duplicates += 1
            continue
        result.imported += 1
        result.conversations += [c for c in conv_ids if c not in result.conversations]
    return result


async def _plan(
    storage: Storage,
    account: Account,
    accounts: list[Account],
    directory: Directory,
    msg: ParsedMessage,
) -> list[_Copy]:
    """The copies of one mail still to deliver: none for a mail the organization has."""
    base = dedupe_key(msg)
    stored = {
        key: conv
        for key, conv in (await storage.stored_copies(account.org_id, msg.message_id)).items()
        if is_key_of(key, base)
    }
    if base in stored:
        return []
    teams = addressed_teams(account, msg, accounts, directory)
    candidates = await storage.thread_candidates(account.org_id, thread_keys(msg))
    duplicate = directory.multi_team_delivery == "duplicate"
    if duplicate and len(teams) >= 2:
        return await _plan_copies(storage, msg, base, stored, teams, candidates)
    if stored:
        return []  # stored as per-team copies (the setting or the accounts changed since)
    delivery = delivery_for(account, msg)
    if teams:
        delivery = dataclasses.replace(delivery, addressed_teams=frozenset(teams))
    own_copy = duplicate and delivery.team is not None
    joins, elsewhere = await _thread(storage, msg, candidates, delivery.team, own_copy)
    if joins is None and elsewhere:
        delivery = dataclasses.replace(delivery, copies=tuple(elsewhere.items()))
    return [_Copy(base, account, delivery, joins)]


async def _plan_copies(
    storage: Storage,
    msg: ParsedMessage,
    base: str,
    stored: dict[str, str],
    teams: dict[str, Account],
    candidates: dict[str, list[ThreadCandidate]],
) -> list[_Copy]:
    """Row 4, "duplicate" mode: one copy per team, each into its own team's conversation of
    the thread or a new one. A copy whose conversation already holds the mail is skipped;
    every copy names all the others (stored before or made now) for its note."""
    done = {team: stored[copy_key(base, team)] for team in teams if copy_key(base, team) in stored}
    used = set(stored.values())
    planned: list[tuple[str, Account, str | None]] = []
    linked: dict[str, str] = {conv: team for team, conv in done.items()}  # conversation -> team
    for team, team_account in teams.items():
        if team in done:
            continue
        joins, elsewhere = await _thread(storage, msg, candidates, team, True)
        if joins is not None and joins in used:
            continue  # the conversation this team's copy would join holds the mail already
        if joins is not None:
            used.add(joins)
        planned.append((team, team_account, joins))
        linked |= {conv: other for other, conv in elsewhere.items()}
    copies = []
    for team, team_account, joins in planned:
        delivery = delivery_for(team_account, msg)
        delivery = dataclasses.replace(delivery, addressed_teams=frozenset(teams))
        copy = _Copy(copy_key(base, team), team_account, delivery, joins)
        linked[copy.conversation_id] = team
        copies.append(copy)
    return [_with_notes(copy, linked) for copy in copies]


def _with_notes(copy: _Copy, linked: dict[str, str]) -> _Copy:
    others = tuple((team, conv) for conv, team in linked.items() if conv != copy.conversation_id)
    return dataclasses.replace(copy, delivery=dataclasses.replace(copy.delivery, copies=others))


async def _thread(
    storage: Storage,
    msg: ParsedMessage,
    candidates: dict[str, list[ThreadCandidate]],
    team: str | None,
    own_copy: bool,
) -> tuple[str | None, dict[str, str]]:
    """The conversation a copy for `team` joins (None: a new one, also when the thread's is
    full), and, when it joins none because the thread lives only in other teams'
    conversations, those conversations as team -> conversation."""
    elsewhere: dict[str, str] = {}

    def lookup(ids: list[str]) -> str | None:
        options = candidates.get(ids[0], []) if ids else []
        chosen = pick_conversation(options, team, own_copy=own_copy)
        if chosen is None and own_copy:
            for option in options:
                if option.team is not None:
                    elsewhere.setdefault(option.team, option.conversation_id)
        return chosen

    decision = resolve_thread(msg, lookup)
    if decision.conversation_id is not None:
        count = await storage.message_count(decision.conversation_id)
        decision = apply_message_cap(decision, count)
        return decision.conversation_id, {}
    return None, elsewhere


async def _deliver(
    services: Services, directory: Directory, msg: ParsedMessage, raw: bytes, copy: _Copy
) -> str | None:
    """Deliver one copy; the conversation it went to, or None when it was stored meanwhile."""
    now = int(time.time() * 1000)
    org_id = directory.org_id
    direction: Literal["in", "out"] = "out" if sent_by_account(msg, copy.account) else "in"
    summary = MessageSummary(
        id=str(uuid.uuid4()),
        direction=direction,
        from_address=msg.from_address,
        subject=msg.subject,
        preview=msg.preview,
        at=msg.date or now,
        account_id=copy.account.id,
        rfc_message_id=msg.message_id,
        from_name=msg.from_name,
    )

    async def store(tx: ConversationTx, conv: Conversation) -> None:
        row = StoredMessage(
            summary.id, org_id, conv.id, copy.account.id, msg.message_id, copy.key, direction,
            msg.from_address, msg.subject, msg.date, raw,
        )  # fmt: skip
        if not await tx.insert_message(row):
            raise _AlreadyStored  # another worker stored it meanwhile: roll back

    discarded: list[str] = []

    def receive(conv: Conversation) -> None:
        if direction == "out":
            if conv.messages and conv.message_count >= MAX_MESSAGES:
                raise _Full
            record_sent(conv, summary, copy.delivery, now=now, directory=directory)
            return
        receipt = receive_message(conv, summary, copy.delivery, now=now, directory=directory)
        if receipt.needs_new_conversation:
            raise _Full  # filled up since we counted: start a new one
        discarded[:] = receipt.discarded_sends

    try:
        if copy.joins is not None:
            try:
                await services.conversations.change(copy.joins, receive, store)
                for outbox_id in discarded:  # row 10: a reply came before Send Later
                    await sending.cancel_scheduled(services, outbox_id)
                return copy.joins
            except _Full:
                pass
        conv = Conversation(
            id=copy.new_id, org_id=org_id, subject=msg.subject, last_activity_at=summary.at
        )
        receive(conv)
        await services.conversations.create(conv, store)
        return conv.id
    except _AlreadyStored:
        return None


class _AlreadyStored(Exception):
    """The organization got this mail through another path during this import."""


class _Full(Exception):
    """The conversation reached its message cap between counting and delivering."""
