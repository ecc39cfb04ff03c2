"""Loads, serves and unloads rooms: load → ready → serve under one load per document,
write-ahead persistence with group commit, cross-process fan-out, awareness expiry,
compaction and unloading after a grace period. Also holds the feeds (`crdt.feeds`), which
share the broker with the rooms."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import anyio
from anyio.abc import TaskGroup
from pycrdt import Doc

from crdt.broker import Broker
from crdt.compaction import CompactionRefused, merge_with_doc
from crdt.errors import CloseCode, ProtocolError
from crdt.feeds import FeedHub
from crdt.room import Peer, Room
from crdt.store import UpdateLog
from crdt.trim import give_back_memory, trim_after_full_collections
from crdt.wal import GroupCommitter

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RoomLimits:
    max_document_bytes: int = 16 * 1024 * 1024
    max_connections: int = 500
    unload_grace_s: float = 30.0
    awareness_timeout_s: float = 30.0
    compact_after_updates: int = 500
    compact_after_bytes: int = 1024 * 1024
    catchup_interval_s: float = 2.0


class RoomManager:
    def __init__(
        self,
        store: UpdateLog,
        broker: Broker,
        limits: RoomLimits,
        make_doc: Callable[[str], Doc[Any]],
    ) -> None:
        self.store = store
        self.broker = broker
        self.limits = limits
        self.rooms: dict[str, Room] = {}
        self.feeds = FeedHub(broker)
        self.committer = GroupCommitter(store, self._committed)
        self._make_doc = make_doc
        self._loading: dict[str, asyncio.Future[Room]] = {}
        self._catching_up: set[str] = set()
        self._compacting: set[str] = set()
        # one compaction at a time: a burst of unloads must not queue a long line of
        # storage transactions ahead of clients opening documents
        self._compactor = anyio.Lock()
        self._trim_due = False
        self._tg: TaskGroup | None = None
        self.loads = 0
        self.unloaded = 0

    async def __aenter__(self) -> RoomManager:
        trim_after_full_collections()
        self._tg = anyio.create_task_group()
        await self._tg.__aenter__()
        self._tg.start_soon(self.committer.run)
        self._tg.start_soon(self.broker.run, self)
        self._tg.start_soon(self.feeds.run)
        self._tg.start_soon(self._sweep_forever)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._tg is not None
        self._tg.cancel_scope.cancel()
        await self._tg.__aexit__(exc_type, exc, tb)
        self._tg = None
        for room in list(self.rooms.values()):
            room.close()
        self.rooms.clear()

    # --- joining and leaving ------------------------------------------------------------

    async def join(self, name: str, peer: Peer) -> Room:
        room = await self._room(name)
        if len(room.members) >= self.limits.max_connections:
            log.warning("room %s is full (%d connections)", name, len(room.members))
            raise ProtocolError(CloseCode.ROOM_FULL, f"document {name} has too many connections")
        room.join(peer)
        return room

    def leave(self, room: Room, peer: Peer) -> None:
        room.leave(peer)

    @contextlib.asynccontextmanager
    async def hold(self, name: str) -> AsyncIterator[Room]:
        """The loaded room, kept loaded while a server-side writer uses it."""
        room = await self._room(name)
        room.holds += 1
        try:
            yield room
        finally:
            room.holds -= 1
            if not room.busy:
                room.idle_since = time.monotonic()

    async def apply_committed(self, room: Room, seq: int, update: bytes) -> None:
        """An update a server-side writer has just committed to the log: serve it to every
        local holder and tell the other processes."""
        room.apply_remote(update)
        if seq == room.seq + 1:
            room.seq = seq
        elif seq > room.seq:
            self._start_catch_up(room)
        room.log_entries += 1
        room.log_bytes += len(update)
        if self.broker.distributed:
            await self.broker.publish_update(room.name, seq, update)

    async def evict(self, name: str, error: ProtocolError) -> None:
        """Drop a loaded document now (it was deleted): every peer is told why."""
        room = self.rooms.pop(name, None)
        if room is None:
            return
        log.info("evicting %s: %s", name, error.reason)
        for peer in list(room.members.values()):
            room.leave(peer)
            peer.evict(error)
        room.close()
        await self.broker.unsubscribe(name)

    async def _room(self, name: str) -> Room:
        room = self.rooms.get(name)
        if room is not None:
            return room
        loading = self._loading.get(name)
        if loading is None:
            loading = asyncio.get_running_loop().create_future()
            self._loading[name] = loading
            assert self._tg is not None
            self._tg.start_soon(self._load, name, loading)
        return await asyncio.shield(loading)

    async def _load(self, name: str, loading: asyncio.Future[Room]) -> None:
        started = time.perf_counter()
        self.loads += 1
        try:
            state = await self.store.load_document(name)
            doc = self._make_doc(name)
            with doc.transaction():
                if state.snapshot is not None:
                    doc.apply_update(state.snapshot)
                for _, update in state.updates:
                    doc.apply_update(update)
            size = len(state.snapshot or b"") + sum(len(u) for _, u in state.updates)
            room = Room(name, doc, state.last_seq, size, self, self.limits.max_document_bytes)
            room.log_entries = len(state.updates)
            room.log_bytes = size - len(state.snapshot or b"")
            await self.broker.subscribe(name)
        except Exception as exc:  # a failed load is an error for every waiter, never a blank doc
            log.exception("loading document %s failed", name)
            loading.set_exception(ProtocolError(CloseCode.LOAD_FAILED, f"{name}: {exc}"))
            loading.exception()  # retrieved: waiters re-raise it themselves
            del self._loading[name]
            return
        self.rooms[name] = room
        del self._loading[name]
        loading.set_result(room)
        log.debug(
            "loaded %s (seq %d) in %.1f ms", name, room.seq, (time.perf_counter() - started) * 1e3
        )
        if self.broker.distributed:
            self._start_catch_up(room)

    # --- RoomHooks ----------------------------------------------------------------------

    def persist(self, room: Room, update: bytes) -> asyncio.Future[int]:
        return self.committer.append(room.name, update)

    def barrier(self) -> asyncio.Future[None]:
        return self.committer.barrier()

    def awareness_changed(self, room: Room, payload: bytes) -> None:
        if self.broker.distributed and self._tg is not None:
            self._tg.start_soon(self.broker.publish_awareness, room.name, payload)

    async def _committed(self, batch: Sequence[tuple[str, int, bytes]]) -> None:
        for name, seq, update in batch:
            if seq == 0:
                continue  # its document was deleted; nothing was stored
            room = self.rooms.get(name)
            if room is not None:
                room.log_entries += 1
                room.log_bytes += len(update)
                if seq == room.seq + 1:
                    room.seq = seq
                elif seq > room.seq:
                    self._start_catch_up(room)  # another process wrote in between
                if self._wants_compaction(room):
                    self._start_compaction(name)
            if self.broker.distributed:
                await self.broker.publish_update(name, seq, update)

    # --- BrokerHandler ------------------------------------------------------------------

    def on_remote_update(self, name: str, seq: int, update: bytes) -> None:
        room = self.rooms.get(name)
        if room is None or seq <= room.seq:
            return
        try:
            room.apply_remote(update)
        except ProtocolError:
            log.exception("remote update %s#%d could not be applied; re-reading the log", name, seq)
            self._start_catch_up(room)
            return
        if seq == room.seq + 1:
            room.seq = seq
        else:
            self._start_catch_up(room)

    def on_remote_awareness(self, name: str, payload: bytes) -> None:
        room = self.rooms.get(name)
        if room is None:
            return
        try:
            room.apply_remote_awareness(payload)
        except ProtocolError:
            log.warning("ignored malformed awareness relayed for %s", name)

    def on_remote_stateless(self, name: str, payload: str) -> None:
        self.feeds.deliver(name, payload)

    # --- catching up from the log -------------------------------------------------------

    def _start_catch_up(self, room: Room) -> None:
        if room.name not in self._catching_up and self._tg is not None:
            self._catching_up.add(room.name)
            self._tg.start_soon(self._catch_up, room)

    async def _catch_up(self, room: Room) -> None:
        try:
            with anyio.CancelScope(shield=True):
                state = await self.store.read_updates_since(room.name, room.seq)
            if state.snapshot is not None:
                room.apply_remote(state.snapshot)
            for _, update in state.updates:
                room.apply_remote(update)
            room.seq = max(room.seq, state.last_seq)
        except Exception:
            log.exception("catching up %s from the log failed", room.name)
        finally:
            self._catching_up.discard(room.name)

    # --- compaction ---------------------------------------------------------------------

    def _wants_compaction(self, room: Room) -> bool:
        return (
            room.log_entries >= self.limits.compact_after_updates
            or room.log_bytes >= self.limits.compact_after_bytes
        )

    @property
    def compacting(self) -> bool:
        return bool(self._compacting)

    def _start_compaction(self, name: str) -> None:
        if name not in self._compacting and self._tg is not None:
            self._compacting.add(name)
            self._tg.start_soon(self.compact, name)

    async def compact(self, name: str) -> None:
        try:
            async with self._compactor:
                with anyio.CancelScope(shield=True):  # never abandon a transaction half-way
                    await self.store.compact_document(name, merge_with_doc)
            room = self.rooms.get(name)
            if room is not None:
                room.log_entries = room.log_bytes = 0
        except CompactionRefused as exc:
            log.warning("compaction of %s skipped: %s", name, exc)
        except Exception:
            log.exception("compaction of %s failed; the log is intact", name)
        finally:
            self._compacting.discard(name)

    # --- sweeping: unload idle rooms, expire awareness, poll the log --------------------

    async def _sweep_forever(self) -> None:
        interval = max(0.05, min(1.0, self.limits.unload_grace_s / 2))
        last_poll = time.monotonic()
        while True:
            await anyio.sleep(interval)
            now = time.monotonic()
            await self.sweep(now)
            if self.broker.distributed and now - last_poll >= self.limits.catchup_interval_s:
                last_poll = now
                await self._poll_log()

    async def sweep(self, now: float) -> None:
        expire_before = now - self.limits.awareness_timeout_s
        for room in list(self.rooms.values()):
            room.expire_awareness(expire_before)
            idle = room.idle_since
            if room.busy or idle is None or now - idle < self.limits.unload_grace_s:
                continue
            if self.committer.pending_for(room.name) or room.name in self._compacting:
                continue
            await self._unload(room)
        if self._trim_due and not self._compacting:
            self._trim_due = False
            give_back_memory()  # once the burst of unloads and their compactions is over

    async def _unload(self, room: Room) -> None:
        del self.rooms[room.name]
        room.close()
        self.unloaded += 1
        self._trim_due = True
        await self.broker.unsubscribe(room.name)
        if room.log_entries > 1:
            self._start_compaction(room.name)

    async def _poll_log(self) -> None:
        rooms = [room for room in self.rooms.values() if room.members]
        if not rooms:
            return
        try:
            with anyio.CancelScope(shield=True):
                latest = await self.store.latest_seqs([room.name for room in rooms])
        except Exception:
            log.exception("polling the log for missed updates failed")
            return
        for room in rooms:
            if room.name not in latest:
                await self.evict(room.name, ProtocolError(CloseCode.NOT_FOUND, "deleted"))
            elif latest[room.name] > room.seq:
                log.info(
                    "room %s missed updates (have %d, log has %d)",
                    room.name,
                    room.seq,
                    latest[room.name],
                )
                self._start_catch_up(room)
