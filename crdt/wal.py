"""Group commit for the update log: every accepted update is durable before it is
acknowledged, and all updates that arrive while one write is in flight share the next one.

A failed write is retried with backoff and never dropped: the futures stay pending, so
nobody is told an update is saved until it is.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from crdt.store import UpdateLog

log = logging.getLogger(__name__)

MAX_BATCH = 512
BACKOFF_CAP_S = 5.0


class GroupCommitter:
    def __init__(
        self,
        store: UpdateLog,
        on_committed: Callable[[Sequence[tuple[str, int, bytes]]], Awaitable[None]] | None = None,
    ) -> None:
        self._store = store
        self._on_committed = on_committed
        self._queue: list[tuple[str, bytes, asyncio.Future[int]]] = []
        self._wakeup = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._barriers: list[asyncio.Future[None]] = []

    def append(self, name: str, update: bytes) -> asyncio.Future[int]:
        """Queue an update; the future resolves to its seq once it is durable."""
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._queue.append((name, update, future))
        self._idle.clear()
        self._wakeup.set()
        return future

    def barrier(self) -> asyncio.Future[None]:
        """A future that resolves once everything queued or in flight now is durable."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self._idle.is_set():
            future.set_result(None)
        else:
            self._barriers.append(future)
        return future

    def pending_for(self, name: str) -> bool:
        return any(item[0] == name for item in self._queue) or name in self._in_flight

    _in_flight: frozenset[str] = frozenset()

    async def run(self) -> None:
        """Write batches until cancelled; on cancellation, flush what is queued first."""
        try:
            while True:
                await self._wakeup.wait()
                self._wakeup.clear()
                await self._drain()
        finally:
            if self._queue:
                await asyncio.shield(self._drain())

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            self._in_flight = frozenset(name for name, _, _ in batch)
            seqs = await self._write_with_retry([(name, update) for name, update, _ in batch])
            for (_, _, pending), seq in zip(batch, seqs, strict=True):
                if not pending.done():
                    pending.set_result(seq)
            if self._on_committed is not None:
                committed = [
                    (name, seq, update) for (name, update, _), seq in zip(batch, seqs, strict=True)
                ]
                await self._on_committed(committed)
        self._in_flight = frozenset()
        self._idle.set()
        barriers, self._barriers = self._barriers, []
        for barrier in barriers:
            if not barrier.done():
                barrier.set_result(None)

    async def _write_with_retry(self, items: list[tuple[str, bytes]]) -> list[int]:
        delay = 0.05
        while True:
            try:
                return await self._store.append_updates(items)
            except Exception:  # drivers share no base class; nothing is dropped, so retry
                log.exception("update log write failed, retrying in %.2fs", delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, BACKOFF_CAP_S)
