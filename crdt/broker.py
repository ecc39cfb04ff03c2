"""Cross-process fan-out. The log in the database is the truth; the broker is the doorbell.

After an update is durable its holder publishes `(document, seq, update)`; other processes
holding the document apply it, and one that sees a gap in `seq` re-reads the log.
Awareness travels over the broker only, never through the log, and so do the stateless
messages of feeds (`crdt.feeds`).
"""

from __future__ import annotations

from typing import Protocol


class BrokerHandler(Protocol):
    def on_remote_update(self, name: str, seq: int, update: bytes) -> None: ...

    def on_remote_awareness(self, name: str, payload: bytes) -> None: ...

    def on_remote_stateless(self, name: str, payload: str) -> None: ...


class Broker(Protocol):
    distributed: bool

    async def run(self, handler: BrokerHandler) -> None:
        """Deliver remote messages to `handler` until cancelled."""
        ...

    async def subscribe(self, name: str) -> None: ...

    async def unsubscribe(self, name: str) -> None: ...

    async def publish_update(self, name: str, seq: int, update: bytes) -> None: ...

    async def publish_awareness(self, name: str, payload: bytes) -> None: ...

    async def publish_stateless(self, name: str, payload: str) -> None: ...


class LocalBroker:
    """The embedded default: one process, nobody else to tell."""

    distributed = False

    async def run(self, handler: BrokerHandler) -> None:
        return None

    async def subscribe(self, name: str) -> None:
        return None

    async def unsubscribe(self, name: str) -> None:
        return None

    async def publish_update(self, name: str, seq: int, update: bytes) -> None:
        return None

    async def publish_awareness(self, name: str, payload: bytes) -> None:
        return None

    async def publish_stateless(self, name: str, payload: str) -> None:
        return None
