"""Run one change against one conversation, the way every action does:

lock the conversation (in this process, and its document row in the database), catch the
loaded document up with the log, let the pure machine change a `Conversation`, write the
difference as one Yjs update, append it and replace the index rows in the same
transaction, commit — and only then serve the update to every holder and other processes.
A change that raises leaves nothing behind.

`change_many` does the same for an action that spans conversations (merge, moving an email
out): every conversation is locked in id order, so two such actions never deadlock, and
all of them commit in one transaction. After every commit the writer tells its listeners
which conversation changed and whose mailbox rows it touched (the per-user live stream).
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from pycrdt import Doc

from crdt.manager import RoomManager
from server.conversations.document import (
    new_conversation_doc,
    read_conversation,
    write_conversation,
)
from server.conversations.index import project
from server.conversations.model import Conversation
from server.errors import NotFound
from server.storage.base import Storage
from server.storage.conversations import ConversationTx, ConversationTxs

Change = Callable[[Conversation], None]
Extra = Callable[[ConversationTx, Conversation], Awaitable[None]]
"""More writes for the same transaction (the message row of a received mail, say)."""
ChangeMany = Callable[[dict[str, Conversation]], list[Conversation]]
"""Changes the loaded conversations in place; returns the new ones it creates."""
ExtraMany = Callable[[ConversationTxs], Awaitable[None]]
Listener = Callable[[Conversation, frozenset[str]], None]
"""Told after commit: the conversation as committed, and every user whose rows it touched
(who had access before or has it now)."""


def _update_from(doc: Doc[Any], conv: Conversation) -> bytes | None:
    """The update that turns `doc` into `conv`, computed on a scratch copy."""
    scratch: Doc[Any] = Doc()
    scratch.apply_update(doc.get_update())
    updates: list[bytes] = []
    subscription = scratch.observe(lambda event: updates.append(event.update))
    write_conversation(scratch, conv)
    scratch.unobserve(subscription)
    return updates[0] if updates else None


class ConversationWriter:
    def __init__(self, storage: Storage, rooms: RoomManager) -> None:
        self.storage = storage
        self.rooms = rooms
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self._listeners: list[Listener] = []

    def listen(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _committed(self, conv: Conversation, before: frozenset[str]) -> None:
        touched = before | frozenset(conv.users)
        for listener in self._listeners:
            listener(conv, touched)

    def _lock(self, name: str) -> asyncio.Lock:
        lock = self._locks.get(name)
        if lock is None:
            lock = self._locks[name] = asyncio.Lock()
        return lock

    async def create(self, conv: Conversation, extra: Extra | None = None) -> Conversation:
        name = f"conv:{conv.id}"
        update = _update_from(new_conversation_doc(), conv)
        assert update is not None
        async with self.storage.conversation_transaction(name) as tx:
            await tx.create(conv.org_id, None)
            await tx.append(update)
            await tx.save_index(project(conv))
            if extra is not None:
                await extra(tx, conv)
        self._committed(conv, frozenset())
        return conv

    async def read(self, conv_id: str) -> Conversation:
        name = f"conv:{conv_id}"
        if await self.storage.conversation_org(conv_id) is None:
            raise NotFound(f"no conversation {conv_id}")
        async with self.rooms.hold(name) as room:
            return read_conversation(room.doc)

    async def change(
        self, conv_id: str, change: Change, extra: Extra | None = None
    ) -> Conversation:
        name = f"conv:{conv_id}"
        lock = self._lock(name)
        async with lock, self.rooms.hold(name) as room:
            async with self.storage.conversation_transaction(name) as tx:
                if not tx.exists:
                    raise NotFound(f"no conversation {conv_id}")
                for seq, missed in await tx.tail(room.seq):
                    room.apply_remote(missed)
                    room.seq = seq
                conv = read_conversation(room.doc)
                before = frozenset(conv.users)
                change(conv)
                update = _update_from(room.doc, conv)
                if update is None:
                    return conv
                seq = await tx.append(update)
                await tx.save_index(project(conv))
                if extra is not None:
                    await extra(tx, conv)
            await self.rooms.apply_committed(room, seq, update)
            self._committed(conv, before)
            return conv

    async def change_many(
        self, conv_ids: list[str], change: ChangeMany, extra: ExtraMany | None = None
    ) -> dict[str, Conversation]:
        """One action over several conversations (and the ones it creates), one transaction."""
        names = sorted({f"conv:{conv_id}" for conv_id in conv_ids})
        async with contextlib.AsyncExitStack() as stack:
            rooms = {}
            for name in names:  # id order: two multi-conversation actions never deadlock
                await stack.enter_async_context(self._lock(name))
                rooms[name] = await stack.enter_async_context(self.rooms.hold(name))
            async with self.storage.conversations_transaction(names) as txs:
                convs: dict[str, Conversation] = {}
                before: dict[str, frozenset[str]] = {}
                for name, tx in txs.items():
                    if not tx.exists:
                        raise NotFound(f"no {name.replace(':', ' ', 1)}")
                    room = rooms[name]
                    for seq, missed in await tx.tail(room.seq):
                        room.apply_remote(missed)
                        room.seq = seq
                    conv = read_conversation(room.doc)
                    convs[conv.id], before[conv.id] = conv, frozenset(conv.users)
                created = change(convs)
                committed: list[tuple[str, int, bytes]] = []
                for name, tx in txs.items():
                    conv = convs[name.split(":", 1)[1]]
                    update = _update_from(rooms[name].doc, conv)
                    if update is not None:
                        committed.append((name, await tx.append(update), update))
                        await tx.save_index(project(conv))
                for conv in created:
                    tx = await txs.create_for(f"conv:{conv.id}")
                    await tx.create(conv.org_id, None)
                    new = _update_from(new_conversation_doc(), conv)
                    assert new is not None
                    await tx.append(new)
                    await tx.save_index(project(conv))
                    convs[conv.id], before[conv.id] = conv, frozenset()
                if extra is not None:
                    await extra(txs)
            for name, seq, update in committed:
                await self.rooms.apply_committed(rooms[name], seq, update)
        for conv in convs.values():
            self._committed(conv, before[conv.id])
        return convs
