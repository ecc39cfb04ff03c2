"""What a protocol session needs from a websocket, and the lifecycle both protocols share:
one outbox and sender per socket, fatal errors that close with a named code."""

from __future__ import annotations

import itertools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

import anyio
from anyio.abc import TaskGroup

from crdt.awareness import Identity
from crdt.errors import CloseCode, ProtocolError
from crdt.manager import RoomManager
from crdt.outbox import Outbox

log = logging.getLogger(__name__)

_peer_ids = itertools.count(1)
CLOSE_TIMEOUT_S = 10.0


def next_peer_id() -> int:
    return next(_peer_ids)


class Channel(Protocol):
    """A websocket as the room layer sees it; `server/` adapts Starlette's to this."""

    remote: str

    def frames(self) -> AsyncIterator[bytes]:
        """Binary frames until the peer goes away; raises ProtocolError on a bad frame."""
        ...

    async def send(self, data: bytes) -> None: ...

    async def close(self, code: int, reason: str) -> None: ...


@dataclass(frozen=True)
class Grant:
    identity: Identity
    read_only: bool
    feed: bool = False  # a feed (`crdt.feeds`): stateless messages only, no room, /ws only


Authorize = Callable[[str, str | None], Awaitable[Grant]]
"""(document name, token or None) → Grant, or raises AccessDenied."""


@dataclass(frozen=True)
class SocketLimits:
    send_queue_messages: int = 2048
    max_bytes_before_auth: int = 1024 * 1024
    max_documents_per_socket: int = 100
    auth_timeout_s: float = 10.0


class SocketSession:
    """Runs one socket: a sender task, the receive loop of the subclass, a named close."""

    def __init__(self, manager: RoomManager, channel: Channel, limits: SocketLimits) -> None:
        self.manager = manager
        self.channel = channel
        self.limits = limits
        self.outbox = Outbox(channel.send, limits.send_queue_messages, self._slow_consumer)
        self._fatal: ProtocolError | None = None
        self._tg: TaskGroup | None = None

    async def run(self) -> None:
        try:
            async with anyio.create_task_group() as tg:
                self._tg = tg
                tg.start_soon(self._send_forever)
                try:
                    await self.receive()
                except ProtocolError as exc:
                    self._fatal = exc
                finally:
                    self.leave_all()
                    self.outbox.close()
                    tg.cancel_scope.cancel()
        finally:
            self._tg = None
            await self._close()
            self._fatal = None  # its traceback holds this frame, which holds self: a cycle

    async def receive(self) -> None:
        raise NotImplementedError

    def leave_all(self) -> None:
        raise NotImplementedError

    def fail(self, error: ProtocolError) -> None:
        """End the session from a callback (outside the receive loop)."""
        if self._fatal is None:
            self._fatal = error
        if self._tg is not None:
            self._tg.cancel_scope.cancel()

    async def _send_forever(self) -> None:
        try:
            await self.outbox.run()
        except (OSError, RuntimeError, anyio.BrokenResourceError, anyio.ClosedResourceError):
            log.debug("socket %s: peer went away while sending", self.channel.remote)
            if self._tg is not None:
                self._tg.cancel_scope.cancel()

    def _slow_consumer(self) -> None:
        self.fail(
            ProtocolError(
                CloseCode.SLOW_CONSUMER,
                f"more than {self.limits.send_queue_messages} messages waiting to be sent",
            )
        )

    async def _close(self) -> None:
        error = self._fatal
        if error is None:
            code, reason = CloseCode.NORMAL, ""
        else:
            code, reason = error.code, error.reason
            log.warning("closing socket %s: %s", self.channel.remote, error)
        # A slow consumer reads its close frame only after what is already in flight, so
        # give the close a while; a peer that never reads is dropped when this runs out.
        with anyio.move_on_after(CLOSE_TIMEOUT_S, shield=True):
            await self.channel.close(int(code), reason[:120])
