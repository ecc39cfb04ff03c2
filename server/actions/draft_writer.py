"""Server-side edits to a draft document (inserting a canned response): one Yjs update,
appended to the draft's log in a transaction that holds the document row, then served to
everyone editing it — the same path the conversation writer takes, for a document clients
also write. Concurrent client edits merge as they always do."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pycrdt import Doc

from server.errors import NotFound

if TYPE_CHECKING:
    from server.services import Services

DraftChange = Callable[[Doc[Any]], None]


async def change_draft(services: Services, draft_id: str, change: DraftChange) -> bool:
    """Apply `change` to the draft as one update; False when it changed nothing."""
    name = f"draft:{draft_id}"
    async with services.rooms.hold(name) as room:
        async with services.storage.conversation_transaction(name) as tx:
            if not tx.exists:
                raise NotFound(f"no draft {draft_id}")
            for seq, missed in await tx.tail(room.seq):
                room.apply_remote(missed)
                room.seq = seq
            scratch: Doc[Any] = Doc()
            scratch.apply_update(room.doc.get_update())
            updates: list[bytes] = []
            subscription = scratch.observe(lambda event: updates.append(event.update))
            with scratch.transaction():
                change(scratch)
            scratch.unobserve(subscription)
            if not updates:
                return False
            seq = await tx.append(updates[0])
        await services.rooms.apply_committed(room, seq, updates[0])
    return True
