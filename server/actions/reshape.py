"""Actions that change which conversation holds what: merging two, moving an email out
into a new one, and deleting one forever. Each is one transaction that also moves (or
erases) the stored messages, so a message row always belongs to the conversation whose
document lists it."""

from __future__ import annotations

import logging
import time
import uuid

from crdt.errors import CloseCode, ProtocolError
from server.conversations import machine
from server.conversations.model import Conversation, Directory
from server.errors import Unprocessable
from server.services import Services
from server.storage.conversations import ConversationTx, ConversationTxs

log = logging.getLogger(__name__)


async def merge(
    services: Services,
    actor: str,
    source_id: str,
    target_id: str,
    subject: str | None,
    directory: Directory,
) -> Conversation:
    """Fold `source_id` into `target_id`; the surviving conversation."""
    now = int(time.time() * 1000)

    def change(convs: dict[str, Conversation]) -> list[Conversation]:
        machine.merge(
            convs[source_id], convs[target_id], actor, subject=subject, now=now, directory=directory
        )
        return []

    async def rows(txs: ConversationTxs) -> None:
        await txs.merge_rows(source_id, target_id)

    convs = await services.conversations.change_many([source_id, target_id], change, rows)
    return convs[target_id]


async def join_threads(services: Services, source_id: str, target_id: str, link: str) -> bool:
    """Fold `source_id` into `target_id` because mail links them; False where the merge is
    refused (`machine.join_threads` says when), and nothing changes."""
    now = int(time.time() * 1000)

    def change(convs: dict[str, Conversation]) -> list[Conversation]:
        machine.join_threads(convs[source_id], convs[target_id], now=now, link=link)
        return []

    async def rows(txs: ConversationTxs) -> None:
        await txs.merge_rows(source_id, target_id)

    try:
        await services.conversations.change_many([source_id, target_id], change, rows)
    except Unprocessable as exc:
        log.info("not joining %s into %s (linked by %s): %s", source_id, target_id, link, exc)
        return False
    return True


async def move_message(
    services: Services,
    actor: str,
    conv_id: str,
    message: str,
    shared: bool,
    directory: Directory,
) -> tuple[Conversation, Conversation]:
    """Move one email of `conv_id` into a new conversation: (the original, the new one)."""
    now = int(time.time() * 1000)
    new_id = str(uuid.uuid4())

    def change(convs: dict[str, Conversation]) -> list[Conversation]:
        new = machine.move_message(
            convs[conv_id],
            actor,
            message=message,
            shared=shared,
            new_id=new_id,
            now=now,
            directory=directory,
        )
        return [new]

    async def rows(txs: ConversationTxs) -> None:
        await txs.move_messages(conv_id, new_id, [message])

    convs = await services.conversations.change_many([conv_id], change, rows)
    return convs[conv_id], convs[new_id]


async def delete_forever(
    services: Services, actor: str, conv_id: str, directory: Directory
) -> Conversation:
    """Delete for everyone (the accounts' owner: stored mail erased, holders disconnected)
    or remove the actor's own access."""
    now = int(time.time() * 1000)

    def change(conv: Conversation) -> None:
        machine.delete_forever(conv, actor, now=now, directory=directory)

    async def erase(tx: ConversationTx, conv: Conversation) -> None:
        if conv.deleted:
            await tx.erase(conv.id)

    conv = await services.conversations.change(conv_id, change, erase)
    if conv.deleted:
        gone = ProtocolError(CloseCode.NOT_FOUND, f"conversation {conv_id} was deleted")
        await services.rooms.evict(f"conv:{conv_id}", gone)
    return conv
