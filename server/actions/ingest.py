"""The ingestion path for received mail: the same for `tandem import`, the HTTP import
endpoint and (next) the IMAP worker.

Each raw message ends in exactly one of three ways: stored; recognised as a duplicate
(the organization holds a mail with the same Message-ID and the same content: one mail
received by several accounts is stored once); or rejected with its reason, its bytes kept
in `rejected_mail` for an admin to download or retry. Nothing a message holds stops the
messages after it. A stored mail is threaded by In-Reply-To, References, a bounce's
original and the mail that cites it (`sync.threading`; a full conversation starts a new
one), delivered through the state machine in one transaction with its message row, body
and files; then the other conversations it links are folded into its own. Mail from the
account's own address is what the account sent (an archive's Sent folder): it joins its
thread as history and moves nobody.

A mail received through a team-inbox account and addressed to other teams' team-inbox
accounts too (row 4) is, in the organization's "duplicate" mode, delivered once per team:
each copy threads into that team's own conversation (or starts one), has its own message
row and de-duplication key, and notes the other copies. In "single" mode it is stored
once and the state machine picks the team (`server.actions.mail_routing`).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

import anyio

from server.actions import reshape, sending
from server.actions.directory import load_directory
from server.actions.mail_routing import (
    CONTENT_SCOPE,
    COPY_SCOPE,
    addressed_teams,
    copy_key,
    is_key_of,
    pick_conversation,
)
from server.actions.message_bodies import body_of
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

log = logging.getLogger(__name__)


Progress = Callable[["ImportResult"], None]
PARSE_IN_THREAD_BYTES = 256 * 1024  # larger mail is parsed off the event loop
ATTEMPTS = 3  # plans of one mail; another writer storing a copy meanwhile makes a new one


@dataclass
class ImportResult:
    total: int = 0  # messages handed in
    imported: int = 0
    duplicates: int = 0
    rejected: int = 0
    joined: int = 0  # conversations folded into another because a mail linked them
    conversations: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    rejected_ids: list[str] = field(default_factory=list)

    def add(self, other: ImportResult, label: str = "") -> None:
        self.total += other.total
        self.imported += other.imported
        self.duplicates += other.duplicates
        self.rejected += other.rejected
        self.joined += other.joined
        self.conversations += [c for c in other.conversations if c not in self.conversations]
        self.errors += [f"{label}: {error}" if label else error for error in other.errors]
        self.rejected_ids += other.rejected_ids

    def to_json(self) -> dict[str, object]:
        return {
            "total": self.total,
            "imported": self.imported,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "joined": self.joined,
            "conversations": self.conversations,
            "errors": self.errors,
            "rejected_ids": self.rejected_ids,
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
    links: tuple[str, ...] = ()  # other conversations of the thread, to fold into this one
    new_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def conversation_id(self) -> str:
        return self.joins or self.new_id


async def ingest(
    services: Services,
    account: Account,
    raws: Iterable[bytes],
    *,
    source: str = "import",
    total: int | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Each raw message ends stored, recognised as a duplicate, or rejected with a reason
    and its bytes kept (`rejected_mail`); one message never stops the ones after it."""
    result = ImportResult(total=total or 0)
    directory = await load_directory(services.storage, account.org_id)
    accounts = await services.storage.accounts_of(account.org_id)
    for index, raw in enumerate(raws, 1):
        result.total = max(result.total, index)
        try:
            outcome = await _ingest_one(services, account, accounts, directory, raw)
        except Exception as exc:  # a bug must dead-letter the mail, never lose it
            log.exception("message %d to %s could not be stored", index, account.address)
            outcome = Rejected(f"could not be stored ({type(exc).__name__}: {exc})")
        if isinstance(outcome, Rejected):
            rejected_id = await services.storage.add_rejected(
                account.org_id, account.id, outcome.reason, source, raw,
                hashlib.sha256(raw).hexdigest(),
            )  # fmt: skip
            result.rejected += 1
            result.rejected_ids.append(rejected_id)
            result.errors.append(f"message {index}: {outcome.reason}")
        elif not outcome.conversations:
            result.duplicates += 1
        else:
            result.imported += 1
            result.joined += outcome.joined
            result.conversations += [
                c for c in outcome.conversations if c not in result.conversations
            ]
        if progress is not None:
            progress(result)
    return result


@dataclass(frozen=True)
class Rejected:
    reason: str


@dataclass(frozen=True)
class Stored:
    conversations: list[str]  # empty: the organization had the mail already
    joined: int = 0


async def _ingest_one(
    services: Services,
    account: Account,
    accounts: list[Account],
    directory: Directory,
    raw: bytes,
) -> Rejected | Stored:
    now = int(time.time() * 1000)
    try:
        if len(raw) > PARSE_IN_THREAD_BYTES:
            msg = await anyio.to_thread.run_sync(functools.partial(parse_message, raw, now=now))
        else:
            msg = parse_message(raw, now=now)
    except MalformedMessage as exc:
        return Rejected(str(exc))
    for _ in range(ATTEMPTS):
        copies = await _plan(services.storage, account, accounts, directory, msg)
        if not copies:
            return Stored([])
        try:
            delivered = [await _deliver(services, directory, msg, raw, copy) for copy in copies]
        except _AlreadyStored:
            continue  # another writer stored a copy meanwhile: plan again against it
        joined = 0
        for copy, conv_id in zip(copies, delivered, strict=True):
            for other in copy.links:
                joined += await reshape.join_threads(services, other, conv_id, msg.message_id)
        return Stored(delivered, joined)
    return Stored([])


async def _plan(
    storage: Storage,
    account: Account,
    accounts: list[Account],
    directory: Directory,
    msg: ParsedMessage,
) -> list[_Copy]:
    """The copies of one mail still to deliver: none for a mail the organization has."""
    held = await storage.stored_copies(account.org_id, msg.message_id)
    base = _base_key(msg, held)
    stored = {key: conv for key, (conv, _) in held.items() if is_key_of(key, base)}
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
    joins, elsewhere, links = await _thread(storage, msg, candidates, delivery.team, own_copy)
    if joins is None and elsewhere:
        delivery = dataclasses.replace(delivery, copies=tuple(elsewhere.items()))
    return [_Copy(base, account, delivery, joins, links)]


def _base_key(msg: ParsedMessage, held: dict[str, tuple[str, str | None]]) -> str:
    """The de-duplication key of `msg` before any team scope: its Message-ID, unless a
    different mail with the same Message-ID is stored (legacy systems reuse them), then
    the Message-ID with the content's fingerprint."""
    base = dedupe_key(msg)
    if msg.message_id_is_synthetic:
        return base
    for key, (_, content) in held.items():
        if content is None or content == msg.content_sha256:  # None: stored before prints
            return key.split(COPY_SCOPE, 1)[0]
    return f"{base}{CONTENT_SCOPE}{msg.content_sha256[:32]}" if held else base


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
    planned: list[tuple[str, Account, str | None, tuple[str, ...]]] = []
    linked: dict[str, str] = {conv: team for team, conv in done.items()}  # conversation -> team
    for team, team_account in teams.items():
        if team in done:
            continue
        joins, elsewhere, links = await _thread(storage, msg, candidates, team, True)
        if joins is not None and joins in used:
            continue  # the conversation this team's copy would join holds the mail already
        if joins is not None:
            used.add(joins)
        planned.append((team, team_account, joins, links))
        linked |= {conv: other for other, conv in elsewhere.items()}
    copies = []
    for team, team_account, joins, links in planned:
        delivery = delivery_for(team_account, msg)
        delivery = dataclasses.replace(delivery, addressed_teams=frozenset(teams))
        copy = _Copy(copy_key(base, team), team_account, delivery, joins, links)
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
) -> tuple[str | None, dict[str, str], tuple[str, ...]]:
    """The conversation a copy for `team` joins (None: a new one, also when the thread's is
    full); when it joins none because the thread lives only in other teams'
    conversations, those conversations as team -> conversation; and the other
    conversations of the thread this copy links, to fold into the one it joins."""
    elsewhere: dict[str, str] = {}

    def lookup(key: str, cited_only: bool) -> list[str]:
        options = [o for o in candidates.get(key, []) if o.kind == "ref" or not cited_only]
        chosen = pick_conversation(options, team, own_copy=own_copy)
        if chosen is None:
            if own_copy:
                for option in options:
                    if option.team is not None:
                        elsewhere.setdefault(option.team, option.conversation_id)
            return []
        alike = [
            o.conversation_id for o in options if pick_conversation([o], team, own_copy=own_copy)
        ]
        return list(dict.fromkeys([chosen, *alike]))

    decision = resolve_thread(msg, lookup)
    if decision.conversation_id is not None:
        count = await storage.message_count(decision.conversation_id)
        decision = apply_message_cap(decision, count)
        return decision.conversation_id, {}, decision.linked
    return None, elsewhere, ()


async def _deliver(
    services: Services, directory: Directory, msg: ParsedMessage, raw: bytes, copy: _Copy
) -> str:
    """Deliver one copy; the conversation it went to. `_AlreadyStored` when another writer
    stored it meanwhile (nothing was written)."""
    now = int(time.time() * 1000)
    org_id = directory.org_id
    direction: Literal["in", "out"] = "out" if sent_by_account(msg, copy.account) else "in"
    body = body_of(msg, now)
    summary = MessageSummary(
        id=str(uuid.uuid4()),
        direction=direction,
        from_address=msg.from_address,
        subject=msg.subject,
        preview=msg.preview,
        at=body.sort_at,
        account_id=copy.account.id,
        rfc_message_id=msg.message_id,
        from_name=msg.from_name,
        attachments=sum(1 for a in msg.attachments if not a.inline),
    )

    async def store(tx: ConversationTx, conv: Conversation) -> None:
        row = StoredMessage(
            summary.id, org_id, conv.id, copy.account.id, msg.message_id, copy.key, direction,
            msg.from_address, msg.subject, msg.date, raw, body,
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


class _AlreadyStored(Exception):
    """The organization got this mail through another path during this import."""


class _Full(Exception):
    """The conversation reached its message cap between counting and delivering."""
