"""One bounded queue and one sender per socket: backpressure without a task per message."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class Outbox:
    """Frames wait here until the socket takes them. A socket that falls `limit` frames
    behind is a slow consumer: `on_overflow` is called once and further frames dropped."""

    def __init__(
        self,
        send: Callable[[bytes], Awaitable[None]],
        limit: int,
        on_overflow: Callable[[], None],
    ) -> None:
        self._send = send
        self._limit = limit
        self._on_overflow = on_overflow
        self._frames: deque[bytes] = deque()
        self._wakeup = asyncio.Event()
        self._closed = False
        self.overflowed = False

    def __len__(self) -> int:
        return len(self._frames)

    def put(self, frame: bytes) -> None:
        if self._closed:
            return
        if len(self._frames) >= self._limit:
            if not self.overflowed:
                self.overflowed = True
                self._on_overflow()
            return
        self._frames.append(frame)
        self._wakeup.set()

    def close(self) -> None:
        self._closed = True
        self._on_overflow = _ignore  # it can no longer fire; and it would keep its owner in a
        self._wakeup.set()  # reference cycle that only the cyclic GC frees

    async def run(self) -> None:
        """Send frames in order until closed; returns when closed and drained or on error."""
        frames = self._frames
        while True:
            while frames:
                await self._send(frames.popleft())
            if self._closed:
                return
            self._wakeup.clear()
            await self._wakeup.wait()


def _ignore() -> None:
    pass
