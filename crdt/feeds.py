"""Feeds: documents with no content, only stateless messages from the server.

A client opens a feed like any document on `/ws`, but nothing is ever synced into it and
nothing it sends is kept: the server pushes Hocuspocus stateless messages instead. Each
process keeps the local subscribers of each feed; with a distributed broker, a message
published in one process reaches the subscribers of every other.

A feed has no log, so delivery is best effort: what is published while a client is away
(or lost by the broker) is never replayed. Every new subscriber is therefore first told to
`resync` — refetch whatever it derives from the feed — and only once the broker is
listening for it, so nothing published after that message can be missed.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

import anyio

from crdt.broker import Broker

RESYNC = '{"type":"resync"}'


class Subscriber(Protocol):
    id: int

    def stateless(self, payload: str) -> None:
        """Queue one stateless message (the peer adds the framing of its protocol)."""
        ...


class FeedHub:
    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self.subscribers: dict[str, dict[int, Subscriber]] = {}
        self._listening: set[str] = set()  # feeds the broker delivers to this process
        self._broker_lock = asyncio.Lock()
        self._dropped = asyncio.Event()

    def wanted(self, name: str) -> bool:
        """Whether a message for `name` could reach anyone (here, or in another process)."""
        return self.broker.distributed or name in self.subscribers

    async def subscribe(self, name: str, subscriber: Subscriber) -> None:
        self.subscribers.setdefault(name, {})[subscriber.id] = subscriber
        if self.broker.distributed:
            # shielded: a subscriber that goes away mid-way must not leave the broker half-told
            with anyio.CancelScope(shield=True):
                async with self._broker_lock:
                    if name not in self._listening:
                        await self.broker.subscribe(name)
                        self._listening.add(name)
        subscriber.stateless(RESYNC)

    def unsubscribe(self, name: str, subscriber: Subscriber) -> None:
        subscribers = self.subscribers.get(name)
        if subscribers is None:
            return
        subscribers.pop(subscriber.id, None)
        if not subscribers:
            del self.subscribers[name]
            self._dropped.set()

    async def publish(self, name: str, payload: str) -> None:
        self.deliver(name, payload)
        if self.broker.distributed:
            await self.broker.publish_stateless(name, payload)

    def deliver(self, name: str, payload: str) -> None:
        for subscriber in list(self.subscribers.get(name, {}).values()):
            subscriber.stateless(payload)

    async def run(self) -> None:
        """Stop the broker delivering feeds nobody in this process holds any more."""
        while True:
            await self._dropped.wait()
            self._dropped.clear()
            async with self._broker_lock:
                for name in sorted(self._listening - self.subscribers.keys()):
                    await self.broker.unsubscribe(name)
                    self._listening.discard(name)
