"""The ingestion path for received mail: the same for `tandem import`, the HTTP import
endpoint and (next) the IMAP worker.

For each raw message: parse it (a message that is not an email is rejected, counted and
named, never blocking the rest), skip it if the organization already has it (one mail
received by several accounts is stored once), thread it by Message-ID, In-Reply-To and
References (a full conversation starts a new one), and deliver it through the state
machine in one transaction with its message row.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from server.actions.directory import load_directory
from server.conversations.machine_mail import receive_message
from server.conversations.model import Conversation, Delivery, Directory, MessageSummary
from server.services import Services
from server.storage.conversations import ConversationTx, StoredMessage
from server.storage.mail import Account
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


def delivery_for(account: Account, msg: ParsedMessage) -> Delivery:
    shared = {user for user, _ in account.shared_with}
    if account.delivery == "team_inbox" and account.team_id:
        return Delivery(team=account.team_id, owner=account.owner_id)
    if not shared:
        return Delivery(owner=account.owner_id)
    archived = {user for user, auto_archive in account.shared_with if auto_archive}
    inbox = (shared - archived) | ({account.owner_id} if account.owner_id else set())
    return Delivery(inbox_users=frozenset(inbox), archived_users=frozenset(archived))


async def ingest(services: Services, account: Account, raws: Iterable[bytes]) -> ImportResult:
    result = ImportResult()
    directory = await load_directory(services.storage, account.org_id)
    for index, raw in enumerate(raws, 1):
        try:
            msg = parse_message(raw)
        except MalformedMessage as exc:
            result.rejected += 1
            result.errors.append(f"message {index}: {exc}")
            continue
        conv_id = await _ingest_one(services, account, directory, msg, raw)
        if conv_id is None:
            result.duplicates += 1
            continue
        result.imported += 1
        if conv_id not in result.conversations:
            result.conversations.append(conv_id)
    return result


async def _ingest_one(
    services: Services, account: Account, directory: Directory, msg: ParsedMessage, raw: bytes
) -> str | None:
    """Deliver one parsed mail; the conversation it went to, or None for a duplicate."""
    storage = services.storage
    key = dedupe_key(msg)
    if await storage.message_seen(account.org_id, key):
        return None
    found = await storage.conversations_for_message_ids(account.org_id, thread_keys(msg))
    decision = resolve_thread(msg, lambda ids: found.get(ids[0]) if ids else None)
    if decision.conversation_id is not None:
        count = await storage.message_count(decision.conversation_id)
        decision = apply_message_cap(decision, count)
    now = int(time.time() * 1000)
    summary = MessageSummary(
        id=str(uuid.uuid4()),
        direction="in",
        from_address=msg.from_address,
        subject=msg.subject,
        preview=msg.preview,
        at=msg.date or now,
        account_id=account.id,
    )
    delivery = delivery_for(account, msg)

    async def store(tx: ConversationTx, conv: Conversation) -> None:
        row = StoredMessage(
            summary.id, account.org_id, conv.id, account.id, msg.message_id, key, "in",
            msg.from_address, msg.subject, msg.date, raw,
        )  # fmt: skip
        if not await tx.insert_message(row):
            raise _AlreadyStored  # another worker stored it meanwhile: roll back

    def receive(conv: Conversation) -> None:
        receipt = receive_message(conv, summary, delivery, now=now, directory=directory)
        if receipt.needs_new_conversation:
            raise _Full  # filled up since we counted: start a new one

    try:
        if decision.conversation_id is not None:
            try:
                await services.conversations.change(decision.conversation_id, receive, store)
                return decision.conversation_id
            except _Full:
                pass
        conv = Conversation(
            id=str(uuid.uuid4()),
            org_id=account.org_id,
            subject=msg.subject,
            last_activity_at=summary.at,
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
