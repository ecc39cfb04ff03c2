"""One loaded document and the connections that hold it.

The room applies updates, decides what must be persisted, and fans updates and awareness
out to its peers. Updates applied during one loop tick are coalesced and encoded once.
Persistence and cross-process publication are the manager's business (`RoomHooks`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Protocol

from pycrdt import Doc, Subscription, TransactionEvent, merge_updates

from crdt import codec
from crdt.awareness import REMOTE_OWNER, AwarenessRegistry, Identity
from crdt.codec import AwarenessEntry, SyncMessage
from crdt.errors import CloseCode, ProtocolError
from crdt.updates import has_missing_structs, is_yrs_panic

log = logging.getLogger(__name__)


class Peer(Protocol):
    """A connection as the room sees it."""

    id: int
    read_only: bool
    identity: Identity | None

    def send(self, message: bytes) -> None:
        """Queue a y-protocols message (the peer adds any framing of its protocol)."""
        ...

    def acknowledge(self, saved: bool) -> None: ...

    def deny(self, reason: str) -> None: ...

    def evict(self, error: ProtocolError) -> None:
        """The document is gone for this peer: end its connection to it with `error`."""
        ...


class RoomHooks(Protocol):
    def persist(self, room: Room, update: bytes) -> asyncio.Future[int]: ...

    def barrier(self) -> asyncio.Future[None]: ...

    def awareness_changed(self, room: Room, payload: bytes) -> None: ...


class Room:
    def __init__(
        self, name: str, doc: Doc[Any], seq: int, size: int, hooks: RoomHooks, max_bytes: int
    ) -> None:
        self.name = name
        self.doc = doc
        self.seq = seq
        self.size = size
        self.max_bytes = max_bytes
        self.awareness = AwarenessRegistry()
        self.members: dict[int, Peer] = {}
        self.synced: dict[int, Peer] = {}
        self.idle_since: float | None = time.monotonic()
        self.pending_writes = 0
        self.holds = 0  # server-side writers (actions) using the room right now
        self.log_entries = 0
        self.log_bytes = 0
        self._hooks = hooks
        self._changes: list[bytes] = []
        self._outgoing: list[tuple[bytes, Peer | None]] = []
        self._flush_scheduled = False
        self._subscription: Subscription | None = doc.observe(self._on_transaction)

    def close(self) -> None:
        if self._subscription is not None:
            self.doc.unobserve(self._subscription)
            self._subscription = None
        self.members.clear()
        self.synced.clear()

    @property
    def busy(self) -> bool:
        return (
            bool(self.members) or self.pending_writes > 0 or self.holds > 0 or bool(self._outgoing)
        )

    # --- membership ---------------------------------------------------------------------

    def join(self, peer: Peer) -> None:
        self.members[peer.id] = peer
        self.idle_since = None
        peer.send(codec.sync_step1(self.doc.get_state()))
        states = self.awareness.snapshot()
        if states:
            peer.send(codec.awareness_message(codec.encode_awareness(states)))

    def leave(self, peer: Peer) -> None:
        self.members.pop(peer.id, None)
        self.synced.pop(peer.id, None)
        removed = self.awareness.remove_owner(peer.id)
        if removed:
            self._publish_awareness(removed, exclude=None)
        if not self.members:
            self.idle_since = time.monotonic()

    # --- sync ---------------------------------------------------------------------------

    def handle_sync(self, peer: Peer, message: SyncMessage) -> None:
        if message.subtype == codec.SYNC_STEP1:
            try:
                diff = self.doc.get_update(message.payload)
            except ValueError:
                raise codec.malformed("SyncStep1 carries an invalid state vector") from None
            except BaseException as exc:
                if not is_yrs_panic(exc):
                    raise
                raise codec.malformed("SyncStep1 rejected by the CRDT engine") from None
            peer.send(codec.sync_step2(diff))
            # From the step-2 reply on, the peer has everything; later changes reach it.
            self.synced[peer.id] = peer
            return
        if peer.read_only:
            if message.payload == codec.EMPTY_UPDATE:
                peer.acknowledge(True)
            else:
                log.info("room %s: dropped an update from read-only peer %s", self.name, peer.id)
                peer.deny("read-only: this document accepts no updates from you")
            return
        self.apply_from_peer(peer, message.payload)

    def apply_from_peer(self, peer: Peer, update: bytes) -> None:
        if self.size + len(update) > self.max_bytes:
            raise ProtocolError(
                CloseCode.DOCUMENT_TOO_LARGE,
                f"document {self.name} would exceed {self.max_bytes} bytes",
            )
        changes = self._apply(update)
        if not changes and self._holds_pending(update):
            changes = [update]  # waits for missing dependencies; keep it durable all the same
        if not changes:
            barrier = self._hooks.barrier()
            barrier.add_done_callback(lambda _: peer.acknowledge(True))
            return
        for change in changes:
            self._persist_then_ack(change, peer)
            self._queue_broadcast(change, exclude=peer)

    def apply_remote(self, update: bytes) -> None:
        """An update that is already durable (from the log or another process)."""
        for change in self._apply(update):
            self._queue_broadcast(change, exclude=None)

    def _apply(self, update: bytes) -> list[bytes]:
        self._changes = []
        try:
            self.doc.apply_update(update)
        except ValueError as exc:
            raise codec.malformed(f"update cannot be applied: {exc}") from None
        except BaseException as exc:
            if not is_yrs_panic(exc):
                raise
            log.error("room %s: yrs panicked on an update; refused", self.name, exc_info=exc)
            raise codec.malformed("update rejected by the CRDT engine") from None
        changes, self._changes = self._changes, []
        return changes

    def _on_transaction(self, event: TransactionEvent) -> None:
        update: bytes = event.update
        if update != codec.EMPTY_UPDATE:
            self._changes.append(update)

    def _holds_pending(self, update: bytes) -> bool:
        return has_missing_structs(update, self.doc.get_state())

    def _persist_then_ack(self, update: bytes, peer: Peer) -> None:
        self.size += len(update)
        self.pending_writes += 1
        future = self._hooks.persist(self, update)

        def done(future: asyncio.Future[int]) -> None:
            self.pending_writes -= 1
            if not future.cancelled() and future.exception() is None:
                peer.acknowledge(future.result() > 0)

        future.add_done_callback(done)

    # --- fan-out ------------------------------------------------------------------------

    def _queue_broadcast(self, update: bytes, exclude: Peer | None) -> None:
        self._outgoing.append((update, exclude))
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        outgoing, self._outgoing = self._outgoing, []
        if not outgoing:
            return
        senders = {id(peer) for _, peer in outgoing}
        exclude = outgoing[0][1] if len(senders) == 1 else None
        if len(outgoing) == 1:
            merged = outgoing[0][0]
        else:
            merged = merge_updates(*(update for update, _ in outgoing))
        message = codec.sync_update(merged)
        for peer in list(self.synced.values()):
            if peer is not exclude:
                peer.send(message)

    # --- awareness ----------------------------------------------------------------------

    def handle_awareness(self, peer: Peer, payload: bytes) -> None:
        entries = codec.decode_awareness(payload)
        accepted = self.awareness.apply(peer.id, peer.identity, entries, time.monotonic())
        if accepted:
            self._publish_awareness(accepted, exclude=peer)

    def send_awareness_to(self, peer: Peer) -> None:
        states = self.awareness.snapshot()
        peer.send(codec.awareness_message(codec.encode_awareness(states)))

    def apply_remote_awareness(self, payload: bytes) -> None:
        entries = codec.decode_awareness(payload)
        accepted = self.awareness.apply(REMOTE_OWNER, None, entries, time.monotonic())
        if accepted:
            self._broadcast_awareness(codec.encode_awareness(accepted), exclude=None)

    def expire_awareness(self, older_than: float) -> None:
        removed = self.awareness.expire(older_than)
        if removed:
            self._broadcast_awareness(codec.encode_awareness(removed), exclude=None)

    def _publish_awareness(self, entries: list[AwarenessEntry], exclude: Peer | None) -> None:
        payload = codec.encode_awareness(entries)
        self._broadcast_awareness(payload, exclude)
        self._hooks.awareness_changed(self, payload)

    def _broadcast_awareness(self, payload: bytes, exclude: Peer | None) -> None:
        message = codec.awareness_message(payload)
        for peer in list(self.members.values()):
            if peer is not exclude:
                peer.send(message)
